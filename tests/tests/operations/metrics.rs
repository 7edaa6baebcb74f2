//! `GET /metrics`: tokens issued by kind and the gateway's own CPU time, counted where they
//! were issued.

use crate::support::oauth::*;
use signet_testkit::auth_client;
use signet_testkit::TestEnv;

/// The value of the sample line that starts with `name ` (labels included in `name`).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// The exposition text of a gateway's `/metrics`.
async fn scrape(addr: &str) -> String {
    let (status, headers, body) = crate::support::http::get(addr, "/metrics", &[]).await;
    assert_eq!(status, 200);
    let ct = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "{ct}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_issued_tokens_and_report_cpu() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "metrics").await;
    orders_api(env.a(), &pool).await;
    let c = create_client(
        env.a(),
        machine_client_request(&pool, &[&format!("{API}/read")], 0),
    )
    .await
    .expect("client");
    for _ in 0..3 {
        auth_client(env.a())
            .await
            .issue_client_token(signet_proto::v1::IssueClientTokenRequest {
                user_pool_id: pool.clone(),
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
                scope: String::new(),
            })
            .await
            .expect("token");
    }
    let a = scrape(&env.a().http_addr().to_string()).await;
    let b = scrape(&env.b().http_addr().to_string()).await;
    let cc = "signet_tokens_issued_total{kind=\"client_credentials\"}";
    assert_eq!(sample(&a, cc), 3.0);
    assert_eq!(sample(&b, cc), 0.0, "counted where issued");
    assert_eq!(
        sample(&a, "signet_tokens_issued_total{kind=\"sign_in\"}"),
        0.0
    );
    assert_eq!(sample(&a, "signet_ready"), 1.0);
    assert_eq!(sample(&a, "signet_argon2_queue_depth"), 0.0);
    assert!(sample(&a, "process_cpu_seconds_total") > 0.0);
    // Latency per RPC and per HTTP route: three token calls on a, none on b; a bad
    // client secret counts as a failed call.
    let rpc = "rpc=\"/signet.v1.UserPoolAuth/IssueClientToken\"";
    assert_eq!(
        sample(&a, &format!("signet_rpc_duration_seconds_count{{{rpc}}}")),
        3.0
    );
    assert!(!b.contains("IssueClientToken"), "counted where called");
    let _ = auth_client(env.a())
        .await
        .issue_client_token(signet_proto::v1::IssueClientTokenRequest {
            user_pool_id: pool.clone(),
            client_id: c.client_id.clone(),
            client_secret: "wrong".into(),
            scope: String::new(),
        })
        .await
        .expect_err("bad secret");
    let a = scrape(&env.a().http_addr().to_string()).await;
    assert_eq!(
        sample(
            &a,
            &format!("signet_rpc_duration_seconds_failed_total{{{rpc}}}")
        ),
        1.0
    );
    assert_eq!(
        sample(
            &a,
            &format!("signet_rpc_duration_seconds_bucket{{{rpc},le=\"+Inf\"}}")
        ),
        4.0
    );
    // The earlier scrapes were timed under their route.
    assert!(sample(&a, "signet_http_duration_seconds_count{route=\"/metrics\"}") >= 1.0);
    env.shutdown().await;
}
