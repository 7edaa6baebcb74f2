//! The public servers' tower stack (issue 14, "serving stack"), through a real gateway:
//! a caller that holds a request open (a slow body: the slowloris shape) takes the only
//! in-flight slot; while it holds it, gRPC and HTTP callers are refused at once with
//! RESOURCE_EXHAUSTED / 503 + Retry-After, probes still answer, the held request is cut at
//! the request timeout, and the slot is free again afterwards. Oversized HTTP bodies get 413.

use crate::support::pools::exception;
use signet_proto::v1 as pb;
use signet_testkit::{auth_client, start_gateway, test_gateway_config, TestCluster};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_millis(600);

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .parse()
        .expect("a number")
}

async fn metrics(http: &str) -> String {
    let (status, _, body) = crate::support::http::get(http, "/metrics", &[]).await;
    assert_eq!(status, 200);
    body
}

/// Wait (bounded) until `/metrics` reports `n` requests in flight.
async fn wait_in_flight(http: &str, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(http).await;
        if metric(&text, "signet_requests_in_flight") == n {
            return;
        }
        assert!(Instant::now() < deadline, "in flight never reached {n}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_fills_the_budget_others_are_shed_and_it_times_out() {
    let cluster = TestCluster::start(1).await;
    let mut cfg = test_gateway_config();
    cfg.serving.max_in_flight = 1;
    cfg.serving.request_timeout = TIMEOUT;
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let http = gw.http_addr().to_string();

    // A token request whose body never finishes: it holds the only slot.
    let mut slow = tokio::net::TcpStream::connect(&http).await.unwrap();
    let head = format!(
        "POST /any-pool/oauth2/token HTTP/1.1\r\nHost: {http}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type="
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let held_at = Instant::now();
    wait_in_flight(&http, 1.0).await;

    // gRPC is refused at once, with the API's own exception name.
    let mut auth = auth_client(&gw).await;
    let started = Instant::now();
    let err = auth
        .initiate_auth(pb::InitiateAuthRequest {
            auth_flow: "USER_PASSWORD_AUTH".into(),
            client_id: "nobody".into(),
            ..Default::default()
        })
        .await
        .expect_err("shed");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    assert_eq!(exception(&err), "TooManyRequestsException");
    assert!(
        started.elapsed() < TIMEOUT / 2,
        "refused at once, not queued"
    );

    // So is HTTP, with Retry-After and an OAuth error body.
    let (status, headers, body) =
        crate::support::http::get(&http, "/any-pool/.well-known/openid-configuration", &[]).await;
    assert_eq!(status, 503);
    assert!(
        headers.contains(&("retry-after".into(), "1".into())),
        "{headers:?}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    // Probes are never refused: the gateway still reports on itself.
    let (status, _, _) = crate::support::http::get(&http, "/readyz", &[]).await;
    assert_eq!(status, 200);
    let mut health =
        tonic_health::pb::health_client::HealthClient::new(signet_testkit::channel(&gw).await);
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health answers")
        .into_inner();
    assert_eq!(serving.status, 1, "SERVING");

    // The held request is cut at the timeout: 503 after at least TIMEOUT.
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut raw))
        .await
        .expect("answered within bound")
        .unwrap();
    let elapsed = held_at.elapsed();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("600 ms limit"), "{text}");
    assert!(elapsed >= TIMEOUT, "{elapsed:?}");

    // The slot is free again, and what happened is on /metrics.
    wait_in_flight(&http, 0.0).await;
    let (status, _, _) =
        crate::support::http::get(&http, "/any-pool/.well-known/openid-configuration", &[]).await;
    assert_eq!(status, 404, "served again (an unknown pool)");
    let text = metrics(&http).await;
    assert_eq!(
        metric(&text, "signet_requests_shed_total{surface=\"grpc\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "signet_requests_shed_total{surface=\"http\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "signet_requests_timed_out_total{surface=\"http\"}"),
        1.0
    );
    gw.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_call_whose_message_never_arrives_gets_deadline_exceeded() {
    let cluster = TestCluster::start(1).await;
    let mut cfg = test_gateway_config();
    cfg.serving.request_timeout = TIMEOUT;
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let channel = signet_testkit::channel(&gw).await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    // A unary method called with a request stream that never yields: the server waits
    // for the message until its deadline.
    let started = Instant::now();
    let err = grpc
        .client_streaming::<_, pb::InitiateAuthRequest, pb::AuthResponse, _>(
            tonic::Request::new(futures::stream::pending::<pb::InitiateAuthRequest>()),
            http::uri::PathAndQuery::from_static("/signet.v1.UserPoolAuth/InitiateAuth"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("timed out");
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded, "{err:?}");
    assert_eq!(exception(&err), "RequestTimeoutException");
    assert!(started.elapsed() >= TIMEOUT);
    assert!(started.elapsed() < TIMEOUT * 10);
    let text = metrics(&gw.http_addr().to_string()).await;
    assert_eq!(
        metric(&text, "signet_requests_timed_out_total{surface=\"grpc\"}"),
        1.0
    );
    gw.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_body_over_the_limit_is_refused_with_413() {
    let cluster = TestCluster::start(1).await;
    let mut cfg = test_gateway_config();
    cfg.serving.max_http_body_bytes = 4096;
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let http = gw.http_addr().to_string();
    let body = format!("grant_type=client_credentials&scope={}", "x".repeat(8192));
    let head = format!(
        "POST /any-pool/oauth2/token HTTP/1.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
        body.len()
    );
    let (status, _, _) = crate::support::http::raw(&http, &head, body.as_bytes()).await;
    assert_eq!(status, 413);
    // Under the limit the same endpoint answers with its own error.
    let small = "grant_type=client_credentials";
    let head = format!(
        "POST /any-pool/oauth2/token HTTP/1.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
        small.len()
    );
    let (status, _, _) = crate::support::http::raw(&http, &head, small.as_bytes()).await;
    assert_ne!(status, 413);
    gw.shutdown().await;
    cluster.shutdown().await;
}
