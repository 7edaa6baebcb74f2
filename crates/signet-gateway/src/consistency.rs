//! Read-your-writes across gateways. A call that wrote answers with the log index of its
//! last write in `x-signet-consistency` (an HTTP header, gRPC response metadata); a call
//! that presents that value to any gateway is served from state at least that new. Store
//! reads are linearizable already; what could be older is this gateway's caches of pools,
//! clients, identity pools and roles, which follow the change stream a few milliseconds
//! behind the log. A call whose token is ahead of what the caches have applied bypasses
//! them (`Directory::cached`).
//!
//! With pools spread over several store groups the token is not given: an index means
//! something only in its group.

use http::{HeaderValue, Request, Response};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The header (and gRPC metadata key) carrying the token.
pub const HEADER: &str = "x-signet-consistency";

struct Tracker {
    wanted: u64,
    written: AtomicU64,
}

tokio::task_local! {
    static REQUEST: Arc<Tracker>;
}

/// The index the current call asked to be served at least at (0: none).
pub(crate) fn wanted() -> u64 {
    REQUEST.try_with(|t| t.wanted).unwrap_or(0)
}

/// The current call wrote at `index`.
pub(crate) fn record(index: u64) {
    let _ = REQUEST.try_with(|t| t.written.fetch_max(index, Ordering::SeqCst));
}

/// Reads the token of a request and writes the token of its answer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ConsistencyLayer;

impl<S> tower::Layer<S> for ConsistencyLayer {
    type Service = Consistency<S>;
    fn layer(&self, inner: S) -> Consistency<S> {
        Consistency { inner }
    }
}

/// See [`ConsistencyLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Consistency<S> {
    inner: S,
}

impl<S, ReqB, ResB> tower::Service<Request<ReqB>> for Consistency<S>
where
    S: tower::Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResB>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let wanted = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let tracker = Arc::new(Tracker {
            wanted,
            written: AtomicU64::new(0),
        });
        let fut = REQUEST.scope(tracker.clone(), self.inner.call(req));
        Box::pin(async move {
            let mut resp = fut.await?;
            let written = tracker.written.load(Ordering::SeqCst);
            if written > 0 {
                resp.headers_mut()
                    .insert(HEADER, HeaderValue::from(written));
            }
            Ok(resp)
        })
    }
}
