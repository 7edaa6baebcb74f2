//! Latency and the server span per RPC and per HTTP route, for `/metrics`: a histogram per gRPC method path
//! (`signet_rpc_duration_seconds{rpc=…}`) and per matched HTTP route
//! (`signet_http_duration_seconds{route=…}`), each with a count of failed calls.

use signet_store_client::metrics::{header, label, Histogram};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

/// Most series kept per family; calls to further paths (only a caller inventing method
/// names can make them) are counted under `other`, so memory stays bounded.
const MAX_SERIES: usize = 256;

#[derive(Default)]
struct Series {
    latency: Histogram,
    failed: AtomicU64,
}

/// One family of per-path latencies.
#[derive(Default)]
pub(crate) struct Latency {
    series: RwLock<HashMap<String, Arc<Series>>>,
}

impl Latency {
    fn series(&self, path: &str) -> Arc<Series> {
        if let Some(s) = self.series.read().expect("latency lock").get(path) {
            return s.clone();
        }
        let mut map = self.series.write().expect("latency lock");
        let key = if map.len() >= MAX_SERIES && !map.contains_key(path) {
            "other"
        } else {
            path
        };
        map.entry(key.to_string()).or_default().clone()
    }

    /// Record one call.
    pub(crate) fn record(&self, path: &str, started: Instant, failed: bool) {
        let s = self.series(path);
        s.latency.observe(started.elapsed());
        if failed {
            s.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Append the family `name` (histogram) and `{name}_failed_total` labelled `key`.
    pub(crate) fn render(&self, out: &mut String, name: &str, key: &str, help: &str) {
        let map = self.series.read().expect("latency lock");
        let mut paths: Vec<&String> = map.keys().collect();
        paths.sort();
        header(out, name, "histogram", help);
        for p in &paths {
            map[*p]
                .latency
                .render(out, name, &format!("{key}=\"{}\"", label(p)));
        }
        let failed = format!("{name}_failed_total");
        header(out, &failed, "counter", "Calls answered with an error.");
        for p in &paths {
            use std::fmt::Write as _;
            let _ = writeln!(
                out,
                "{failed}{{{key}=\"{}\"}} {}",
                label(p),
                map[*p].failed.load(Ordering::Relaxed)
            );
        }
    }
}

/// What a [`LatencyLayer`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// gRPC calls, by method path, each in a server span of the trace. A call failed when
    /// its response carries a non-zero `grpc-status` header (errors are sent
    /// trailers-only) or a non-2xx HTTP status.
    Grpc,
    /// HTTP requests, by matched route (`/{pool_id}/…`, not the concrete path, so pools do
    /// not multiply series; the layer must be a route layer). Failed = 5xx.
    Http,
}

/// Tower layer timing every call (a plain layer: axum's `from_fn` middleware cost ~3 µs a
/// request on the token endpoint).
#[derive(Clone)]
pub(crate) struct LatencyLayer(pub(crate) Arc<Latency>, pub(crate) Surface);

impl<S> tower::Layer<S> for LatencyLayer {
    type Service = LatencyService<S>;

    fn layer(&self, inner: S) -> LatencyService<S> {
        LatencyService {
            latency: self.0.clone(),
            surface: self.1,
            inner,
        }
    }
}

#[derive(Clone)]
pub(crate) struct LatencyService<S> {
    latency: Arc<Latency>,
    surface: Surface,
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for LatencyService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let latency = self.latency.clone();
        let surface = self.surface;
        let (key, span) = match surface {
            Surface::Grpc => {
                let path = req.uri().path().to_string();
                // One server span per call, continuing the caller's W3C trace context;
                // the store client passes it on (off unless traces are exported).
                let span = signet_store_client::trace::rpc_span(&path, req.headers());
                (path, span)
            }
            Surface::Http => {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |m| m.as_str())
                    .to_string();
                let span =
                    signet_store_client::trace::http_span(req.method(), &route, req.headers());
                (route, span)
            }
        };
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Box::pin(
            async move {
                let res = fut.await;
                let failed = match &res {
                    Ok(r) => match surface {
                        Surface::Grpc => {
                            !r.status().is_success()
                                || r.headers()
                                    .get("grpc-status")
                                    .is_some_and(|v| v.as_bytes() != b"0")
                        }
                        Surface::Http => r.status().is_server_error(),
                    },
                    Err(_) => true,
                };
                latency.record(&key, started, failed);
                res
            }
            .instrument(span),
        )
    }
}
