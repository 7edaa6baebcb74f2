//! W3C trace context across gateway → store (issue 13, "what operators look at"): with an
//! OpenTelemetry exporter installed, a sign-in is one trace: the gateway's server span of
//! InitiateAuth, its store-client spans, and the store's server spans, each the child of the
//! previous, although gateway and store talk over gRPC (the context travels as
//! `traceparent` metadata, nothing is shared in memory across the hop). HTTP requests
//! continue a caller's trace the same way.

use crate::support::pools::*;
use opentelemetry::trace::{SpanId, SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use signet_testkit::TestEnv;
use std::collections::HashMap;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const PASSWORD: &str = "Correct-Horse-9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_is_one_trace_across_gateway_and_store() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(format!(
            "info,{}",
            signet_store::trace::SPANS_DIRECTIVE
        )))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .init();

    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(env.a(), &pool, &client, "tracy", "t@example.com", PASSWORD).await;
    sign_in(env.a(), &client, "tracy", PASSWORD).await;
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");

    let sign_ins: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "/signet.v1.UserPoolAuth/InitiateAuth")
        .collect();
    assert_eq!(sign_ins.len(), 1, "one InitiateAuth server span");
    let root = sign_ins[0];
    assert_eq!(root.span_kind, SpanKind::Server);
    let trace = root.span_context.trace_id();
    let in_trace: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    let by_id: HashMap<SpanId, &SpanData> = in_trace
        .iter()
        .map(|s| (s.span_context.span_id(), *s))
        .collect();
    // Every store server span of the trace hangs, through a store-client span, off the
    // gateway's InitiateAuth span.
    let store_side: Vec<&&SpanData> = in_trace
        .iter()
        .filter(|s| s.name.starts_with("store.") && s.span_kind == SpanKind::Server)
        .collect();
    let names: Vec<&str> = store_side.iter().map(|s| s.name.as_ref()).collect();
    // A password sign-in reads the user and reserves, then clears, an attempt.
    assert!(names.contains(&"store.Read"), "{names:?}");
    assert!(names.contains(&"store.Write"), "{names:?}");
    for s in &store_side {
        assert!(
            s.parent_span_is_remote,
            "{} continues a remote parent",
            s.name
        );
        let client = by_id
            .get(&s.parent_span_id)
            .unwrap_or_else(|| panic!("parent of {} is in the trace", s.name));
        assert_eq!(client.span_kind, SpanKind::Client, "{}", client.name);
        assert!(client.name.starts_with("store."), "{}", client.name);
        let mut up = client.parent_span_id;
        while up != root.span_context.span_id() {
            up = by_id
                .get(&up)
                .unwrap_or_else(|| panic!("{} reaches InitiateAuth", client.name))
                .parent_span_id;
        }
    }

    // An HTTP request carrying a caller's trace context gets a server span in that trace,
    // as the child of the caller's span.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let (status, _, _) = crate::support::http::get(
        &env.a().http_addr().to_string(),
        &format!("/{pool}/.well-known/openid-configuration"),
        &[(
            "traceparent",
            &format!("00-{caller_trace}-{caller_span}-01"),
        )],
    )
    .await;
    assert_eq!(status, 200);
    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let http: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "GET /{pool_id}/.well-known/openid-configuration")
        .collect();
    assert_eq!(http.len(), 1, "one server span for the discovery request");
    assert_eq!(http[0].span_kind, SpanKind::Server);
    assert_eq!(http[0].span_context.trace_id().to_string(), caller_trace);
    assert_eq!(http[0].parent_span_id.to_string(), caller_span);
    assert!(http[0].parent_span_is_remote);

    env.shutdown().await;
    let _ = provider.shutdown();
}
