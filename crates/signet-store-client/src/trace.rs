//! W3C trace context across the gateway → store hop: the client injects `traceparent` (and
//! `tracestate`) of its current span into each call's metadata; the store's handlers start
//! their span as its child, so one trace shows a sign-in across both processes when traces
//! are exported (OTLP, `OTEL_*` environment).
//!
//! Every span of that trace is made here, at DEBUG level under the target [`TARGET`], so
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

// One literal for both constants below (`concat!` takes literals, not constants).
macro_rules! target {
    () => {
        "signet_store::trace"
    };
}

/// The target of every span made here, stated rather than taken from the module path: the
/// filters operators set (`RUST_LOG=signet_store::trace=debug`), [`SPANS_DIRECTIVE`] and the
/// README name it. It is the path this module had in `signet-store` before it moved here.
pub const TARGET: &str = target!();

/// The filter directive that turns these spans on (add it when exporting traces).
pub const SPANS_DIRECTIVE: &str = concat!(target!(), "=debug");

/// A gateway's server span for one gRPC call (`path` is the method path), continuing the
/// caller's trace if its headers carry one.
pub fn rpc_span(path: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::debug_span!(
        target: TARGET,
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
        target: TARGET,
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
    tracing::debug_span!(
        target: TARGET,
        "store.client",
        otel.name = name,
        otel.kind = "client"
    )
}

/// A store member's server span for one call (`name` like `store.Write`), continuing the
/// caller's trace. Lives here, beside the client's spans, so that both ends of the hop share
/// one target and one directive.
pub fn server_span<T>(name: &'static str, req: &tonic::Request<T>) -> tracing::Span {
    let span =
        tracing::debug_span!(target: TARGET, "store", otel.name = name, otel.kind = "server");
    let headers = req.metadata().clone().into_headers();
    continue_trace(&span, &headers);
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn the_directive_selects_the_spans() {
        assert_eq!(SPANS_DIRECTIVE, "signet_store::trace=debug");
        let filter = tracing_subscriber::EnvFilter::new(SPANS_DIRECTIVE);
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || {
            let req = tonic::Request::new(());
            let headers = http::HeaderMap::new();
            for span in [
                rpc_span("/x.Y/Z", &headers),
                http_span(&http::Method::GET, "/jwks", &headers),
                client_span("store.read"),
                server_span("store.Read", &req),
            ] {
                assert!(!span.is_disabled(), "{span:?}");
                assert_eq!(span.metadata().map(|m| m.target()), Some(TARGET));
            }
        });
    }
}
