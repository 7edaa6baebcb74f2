//! W3C trace context across the gateway → store hop: the client injects `traceparent` (and
//! `tracestate`) of its current span into each call's metadata; the store's handlers start
//! their span as its child, so one trace shows a sign-in across both processes when traces
//! are exported (OTLP, `OTEL_*` environment).
//!
//! Every span of that trace is made here, at DEBUG level under this module's target, so
//! that they cost nothing unless enabled: the binary enables [`SPANS_DIRECTIVE`] when it
//! exports traces. (At INFO they cost ~3.5 µs per gRPC call, about a tenth of a
//! client_credentials token, measured with `signet bench`.)

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(k, v);
        }
    }
}

/// Reads trace context from HTTP headers (a gRPC request's metadata travels as headers).
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Put the current span's trace context into `req`'s metadata (nothing when no trace is
/// being recorded).
pub(crate) fn inject<T>(req: &mut tonic::Request<T>) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(req.metadata_mut()));
}

/// Make `span` a child of the trace context the caller sent in `headers`, if any.
fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if !span.is_disabled() && headers.contains_key("traceparent") {
        let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
        // Fails only when no OpenTelemetry layer is installed: nothing to link then.
        let _ = span.set_parent(cx);
    }
}

/// The filter directive that turns these spans on (add it when exporting traces).
pub const SPANS_DIRECTIVE: &str = "signet_store::trace=debug";

/// A gateway's server span for one gRPC call (`path` is the method path), continuing the
/// caller's trace if its headers carry one.
pub fn rpc_span(path: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::debug_span!(
        "rpc",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc"
    );
    continue_trace(&span, headers);
    span
}

/// A gateway's server span for one HTTP request (`route` is the matched route, like
/// `/{pool_id}/oauth2/token`), continuing the caller's trace if its headers carry one.
pub fn http_span(method: &http::Method, route: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::debug_span!(
        "http",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route
    );
    continue_trace(&span, headers);
    span
}

/// A store client's span around one write or read (with its retries).
pub(crate) fn client_span(name: &'static str) -> tracing::Span {
    tracing::debug_span!("store.client", otel.name = name, otel.kind = "client")
}

/// A server span for a store call, continuing the caller's trace.
pub(crate) fn server_span<T>(name: &'static str, req: &tonic::Request<T>) -> tracing::Span {
    let span = tracing::debug_span!("store", otel.name = name, otel.kind = "server");
    let headers = req.metadata().clone().into_headers();
    continue_trace(&span, &headers);
    span
}
