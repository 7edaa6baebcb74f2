//! The public servers' tower stack, built in one place for both surfaces (gRPC and HTTP),
//! outermost layer first:
//!
//! 1. **trace + metrics** ([`LatencyLayer`]): one server span per request, continuing the
//!    caller's W3C trace context, and a latency histogram per method or route. Outermost,
//!    so refused and timed-out requests are counted as failed calls too.
//! 2. **rate limits** ([`RateLayer`], see `rates`): budgets per source address for the
//!    calls that take a credential or a code, create a user, send a code or issue tokens;
//!    over budget is refused at once (RESOURCE_EXHAUSTED `TooManyRequestsException` with a
//!    `retry-after` header; HTTP 429 with `Retry-After`). Budgets per app client are
//!    checked by the handlers, where the client is known ([`RateLimiter::client`]).
//! 3. **load shedding** ([`ShedLayer`]): at most `max_in_flight` requests in progress on
//!    the gateway, both surfaces together; one more is refused at once (gRPC
//!    RESOURCE_EXHAUSTED `TooManyRequestsException`, HTTP 503 with `Retry-After`). There is
//!    no queue: a queue only grows while callers give up on what waits in it. Health,
//!    readiness and metrics bypass it, so an overloaded gateway still tells the truth
//!    about itself.
//! 4. **request timeout** ([`TimeoutLayer`]): a request not answered within
//!    `request_timeout` is dropped (its work is cancelled with its future) and answered
//!    gRPC DEADLINE_EXCEEDED `RequestTimeoutException`, HTTP 503. tonic also honours a
//!    caller's shorter `grpc-timeout`.
//! 5. **size limits**: gRPC messages through each service's `max_decoding_message_size`
//!    ([`ServingLimits::max_grpc_message_bytes`], set where the services are built), HTTP
//!    bodies through axum's `DefaultBodyLimit` (413).
//! 6. gRPC only: decode errors become InvalidParameterException (`grpc::wire`).

pub(crate) use crate::rates::RateLimiter;

use crate::error::OAuthError;
use crate::metrics::latency::{Latency, LatencyLayer, Surface};
use crate::{AppError, ServingLimits};
use signet_store_client::metrics::header;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::layer::util::{Identity, Stack};
use tower::ServiceBuilder;

/// Shared by every connection of both public servers: the in-flight budget and what the
/// stack refused.
pub(crate) struct Limiter {
    permits: Arc<Semaphore>,
    limits: ServingLimits,
    /// Requests refused by load shedding, [gRPC, HTTP].
    shed: [AtomicU64; 2],
    /// Requests that ran out of time, [gRPC, HTTP].
    timed_out: [AtomicU64; 2],
    /// The rate limits (shared with the handlers, which check the per-client budgets).
    rates: Arc<RateLimiter>,
    /// Requests refused by a rate limit, [gRPC, HTTP].
    rate_limited: [AtomicU64; 2],
}

impl Limiter {
    #[cfg(test)]
    pub(crate) fn new(limits: ServingLimits) -> Limiter {
        Limiter::with_rates(limits, Arc::new(RateLimiter::new(limits.rate)))
    }

    /// The limiter of `limits`, with the gateway's rate limiter.
    pub(crate) fn with_rates(limits: ServingLimits, rates: Arc<RateLimiter>) -> Limiter {
        Limiter {
            permits: Arc::new(Semaphore::new(limits.max_in_flight)),
            limits,
            shed: Default::default(),
            timed_out: Default::default(),
            rates,
            rate_limited: Default::default(),
        }
    }

    /// Requests in progress now (exempt paths not counted).
    pub(crate) fn in_flight(&self) -> usize {
        self.limits
            .max_in_flight
            .saturating_sub(self.permits.available_permits())
    }

    /// Append the refusal counters to a `/metrics` text.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let counts = self.counts();
        header(
            out,
            "signet_requests_shed_total",
            "counter",
            "Requests refused at once because the gateway was at its in-flight limit.",
        );
        for (surface, shed, _) in counts {
            let _ = writeln!(
                out,
                "signet_requests_shed_total{{surface=\"{surface}\"}} {shed}"
            );
        }
        header(
            out,
            "signet_requests_timed_out_total",
            "counter",
            "Requests answered with a timeout by the gateway's request deadline.",
        );
        for (surface, _, timed_out) in counts {
            let _ = writeln!(
                out,
                "signet_requests_timed_out_total{{surface=\"{surface}\"}} {timed_out}"
            );
        }
        header(
            out,
            "signet_requests_rate_limited_total",
            "counter",
            "Requests refused because their source address was over its rate limit.",
        );
        for (i, surface) in ["grpc", "http"].into_iter().enumerate() {
            let n = self.rate_limited[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "signet_requests_rate_limited_total{{surface=\"{surface}\"}} {n}"
            );
        }
    }

    /// (surface label, shed, timed out) per surface.
    pub(crate) fn counts(&self) -> [(&'static str, u64, u64); 2] {
        let get = |i: usize| {
            (
                self.shed[i].load(Ordering::Relaxed),
                self.timed_out[i].load(Ordering::Relaxed),
            )
        };
        let (gs, gt) = get(0);
        let (hs, ht) = get(1);
        [("grpc", gs, gt), ("http", hs, ht)]
    }
}

fn index(surface: Surface) -> usize {
    match surface {
        Surface::Grpc => 0,
        Surface::Http => 1,
    }
}

/// The layers both surfaces share, outermost first (see the module doc).
pub(crate) type Common =
    Stack<TimeoutLayer, Stack<ShedLayer, Stack<RateLayer, Stack<LatencyLayer, Identity>>>>;

/// Build the shared part of the stack for `surface`.
pub(crate) fn stack(
    limiter: &Arc<Limiter>,
    latency: Arc<Latency>,
    surface: Surface,
) -> ServiceBuilder<Common> {
    ServiceBuilder::new()
        // 1. A span and a latency sample per request (outermost: sees every answer).
        .layer(LatencyLayer(latency, surface))
        // 2. Refuse a source address over its budget before it takes a slot.
        .layer(RateLayer {
            limiter: limiter.clone(),
            surface,
        })
        // 3. Refuse at once beyond the in-flight budget; never queue.
        .layer(ShedLayer {
            limiter: limiter.clone(),
            surface,
        })
        // 4. Bound the time a request may hold its slot.
        .layer(TimeoutLayer {
            limiter: limiter.clone(),
            surface,
            timeout: limiter.limits.request_timeout,
        })
}

/// Paths that always pass: probes and scrapes must answer on an overloaded gateway.
fn exempt(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Why the stack answered instead of the service.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Shed,
    Timeout(Duration),
    /// Over a rate limit; a token comes back after this long.
    Rate(Duration),
}

/// Whole seconds until a refused caller may try again (at least one).
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The error of a call over a rate limit, saying when to retry.
pub(crate) fn rate_exceeded(wait: Duration) -> AppError {
    AppError::TooManyRequests(format!(
        "Rate exceeded; retry in {} s",
        retry_after_secs(wait)
    ))
}

/// The seconds [`rate_exceeded`] names (1 for any other TooManyRequests message).
pub(crate) fn retry_hint(message: &str) -> u64 {
    message
        .strip_prefix("Rate exceeded; retry in ")
        .and_then(|r| r.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The gRPC answer to a call over a rate limit: TooManyRequestsException with a
/// `retry-after` header (whole seconds), the same for the layer and the handlers.
pub(crate) fn rate_limited(wait: Duration) -> tonic::Status {
    let secs = retry_after_secs(wait);
    let mut status = tonic::Status::from(rate_exceeded(wait));
    if let Ok(v) = secs.to_string().parse() {
        status.metadata_mut().insert("retry-after", v);
    }
    status
}

/// A body a refusal can be written into (tonic's and axum's).
pub(crate) trait RefusalBody: Default {
    fn text(text: String) -> Self;
}

impl RefusalBody for tonic::body::Body {
    fn text(text: String) -> Self {
        tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from(text)))
    }
}

impl RefusalBody for axum::body::Body {
    fn text(text: String) -> Self {
        axum::body::Body::from(text)
    }
}

/// The answer for a refused request, in the surface's own error format, from the one
/// error table. Shedding is TooManyRequestsException to a gRPC caller; to an HTTP caller
/// it is 503 `temporarily_unavailable` (the gateway, not this caller, is over its limit).
fn refusal<B: RefusalBody>(surface: Surface, why: Refusal) -> http::Response<B> {
    const SHED: &str = "The gateway is at its limit of requests in progress; retry later";
    let timeout = |t: Duration| {
        AppError::Timeout(format!(
            "The request was not answered within the gateway's {} ms limit",
            t.as_millis()
        ))
    };
    let retry = match why {
        Refusal::Rate(wait) => retry_after_secs(wait),
        _ => 1,
    };
    match surface {
        Surface::Grpc => match why {
            Refusal::Shed => tonic::Status::from(AppError::TooManyRequests(SHED.into())),
            Refusal::Timeout(t) => tonic::Status::from(timeout(t)),
            Refusal::Rate(wait) => rate_limited(wait),
        }
        .into_http(),
        Surface::Http => {
            let error = OAuthError::Server(match why {
                Refusal::Shed => AppError::Unavailable(SHED.into()),
                Refusal::Timeout(t) => timeout(t),
                Refusal::Rate(wait) => rate_exceeded(wait),
            });
            let (_, status) = error.answer();
            let mut res = http::Response::new(B::text(error.body().to_string()));
            *res.status_mut() = status;
            let headers = res.headers_mut();
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(retry));
            headers.insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            res
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A response on its way.
type Answer<B, E> = BoxFuture<Result<http::Response<B>, E>>;

/// What one of this stack's own layers does around a request: answer it itself (a
/// refusal) or call the rest of the stack (`next`, at most once, before returning) and
/// watch the answer.
pub(crate) trait Guard: Clone + Send + 'static {
    fn around<B: RefusalBody + Send + 'static, E: Send + 'static>(
        &self,
        exempt: bool,
        next: impl FnOnce() -> Answer<B, E>,
    ) -> Answer<B, E>;
}

/// The service a [`Guard`] layer builds.
#[derive(Clone)]
pub(crate) struct Guarded<G, S> {
    guard: G,
    inner: S,
}

impl<G, S, Req, B> tower::Service<http::Request<Req>> for Guarded<G, S>
where
    G: Guard,
    S: tower::Service<http::Request<Req>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: RefusalBody + Send + 'static,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = Answer<B, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Req>) -> Self::Future {
        let exempt = exempt(req.uri().path());
        let inner = &mut self.inner;
        self.guard.around(exempt, move || Box::pin(inner.call(req)))
    }
}

/// Each guard is its own tower layer.
macro_rules! guard_layers {
    ($($guard:ident),*) => {$(
        impl<S> tower::Layer<S> for $guard {
            type Service = Guarded<$guard, S>;

            fn layer(&self, inner: S) -> Guarded<$guard, S> {
                Guarded { guard: self.clone(), inner }
            }
        }
    )*};
}

guard_layers!(ShedLayer, TimeoutLayer);

/// Layer 2: rate limits per source address (see `rates`).
#[derive(Clone)]
pub(crate) struct RateLayer {
    limiter: Arc<Limiter>,
    surface: Surface,
}

impl<S> tower::Layer<S> for RateLayer {
    type Service = Rated<S>;

    fn layer(&self, inner: S) -> Rated<S> {
        Rated {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service [`RateLayer`] builds.
#[derive(Clone)]
pub(crate) struct Rated<S> {
    layer: RateLayer,
    inner: S,
}

/// The caller's address, from the connection (gRPC: [`signet_tls::ConnInfo`]; HTTP: axum's
/// `ConnectInfo`).
fn remote<Req>(req: &http::Request<Req>) -> Option<std::net::IpAddr> {
    let ext = req.extensions();
    ext.get::<signet_tls::ConnInfo>()
        .and_then(|c| c.remote)
        .or_else(|| {
            ext.get::<axum::extract::ConnectInfo<crate::api::http::Remote>>()
                .map(|c| c.0 .0)
        })
        .map(|a| a.ip())
}

impl<S, Req, B> tower::Service<http::Request<Req>> for Rated<S>
where
    S: tower::Service<http::Request<Req>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: RefusalBody + Send + 'static,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = Answer<B, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Req>) -> Self::Future {
        let limiter = &self.layer.limiter;
        if limiter.rates.limits_addresses() {
            let post = req.method() == http::Method::POST;
            let class = crate::rates::class_of(req.uri().path(), post);
            if let (Some(class), Some(ip)) = (class, remote(&req)) {
                if let Err(wait) = limiter.rates.address(class, ip) {
                    let surface = self.layer.surface;
                    limiter.rate_limited[index(surface)].fetch_add(1, Ordering::Relaxed);
                    return Box::pin(std::future::ready(Ok(refusal(
                        surface,
                        Refusal::Rate(wait),
                    ))));
                }
            }
        }
        Box::pin(self.inner.call(req))
    }
}

/// Layer 3: load shedding over a gateway-wide in-flight budget.
#[derive(Clone)]
pub(crate) struct ShedLayer {
    limiter: Arc<Limiter>,
    surface: Surface,
}

impl Guard for ShedLayer {
    fn around<B: RefusalBody + Send + 'static, E: Send + 'static>(
        &self,
        exempt: bool,
        next: impl FnOnce() -> Answer<B, E>,
    ) -> Answer<B, E> {
        if exempt {
            return next();
        }
        let Ok(permit) = self.limiter.permits.clone().try_acquire_owned() else {
            self.limiter.shed[index(self.surface)].fetch_add(1, Ordering::Relaxed);
            return Box::pin(std::future::ready(Ok(refusal(self.surface, Refusal::Shed))));
        };
        let fut = next();
        Box::pin(async move {
            let res = fut.await;
            // The slot is free once the answer is ready (unary calls: the whole work).
            drop(permit);
            res
        })
    }
}

/// Layer 4: a deadline on every request.
#[derive(Clone)]
pub(crate) struct TimeoutLayer {
    limiter: Arc<Limiter>,
    surface: Surface,
    timeout: Duration,
}

impl Guard for TimeoutLayer {
    fn around<B: RefusalBody + Send + 'static, E: Send + 'static>(
        &self,
        _exempt: bool,
        next: impl FnOnce() -> Answer<B, E>,
    ) -> Answer<B, E> {
        let fut = next();
        let TimeoutLayer {
            limiter,
            surface,
            timeout,
        } = self.clone();
        Box::pin(async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(res) => res,
                Err(_) => {
                    limiter.timed_out[index(surface)].fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        ?surface,
                        timeout_ms = timeout.as_millis() as u64,
                        "request timed out"
                    );
                    Ok(refusal(surface, Refusal::Timeout(timeout)))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
