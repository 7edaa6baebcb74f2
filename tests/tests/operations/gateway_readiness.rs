//! Readiness does not lie: a gateway whose store cluster has lost its quorum (every write and
//! linearizable read fails) reports not-ready on `/readyz` and gRPC health, says why, and
//! is ready again once the quorum is back. Liveness (`/healthz`) does not depend on the
//! store and stays 200 throughout.

use signet_testkit::{start_gateway, test_gateway_config, wait_for_async, TestCluster};
use std::time::{Duration, Instant};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn grpc_health(addr: &str) -> Option<i32> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .ok()?;
    Some(reply.into_inner().status)
}

/// The value of the sample line `name value` in a `/metrics` text.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

async fn scrape(http: &str) -> String {
    let (status, _, body) = crate::support::http::get(http, "/metrics", &[]).await;
    assert_eq!(status, 200);
    body
}

async fn assert_alive(http: &str) {
    let (status, _, body) = crate::support::http::get(http, "/healthz", &[]).await;
    assert_eq!((status, body.as_str()), (200, "ok"), "liveness");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_without_store_quorum_is_not_ready_but_alive() {
    let mut cluster = TestCluster::start(3).await;
    let mut cfg = test_gateway_config();
    cfg.store_probe_interval = Duration::from_millis(500);
    cfg.store_probe_timeout = Duration::from_secs(2);
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let http = gw.http_addr().to_string();
    let grpc = gw.grpc_addr().to_string();

    let (status, _, body) = crate::support::http::get(&http, "/readyz", &[]).await;
    assert_eq!((status, body.as_str()), (200, "ready"));
    assert_eq!(
        grpc_health(&grpc).await,
        Some(ServingStatus::Serving as i32)
    );
    let m = scrape(&http).await;
    assert_eq!(sample(&m, "signet_store_quorum"), 1.0);
    assert_eq!(sample(&m, "signet_ready"), 1.0);

    // Two of three stores gone, the leader among them: no quorum is left.
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let follower = cluster
        .running()
        .into_iter()
        .find(|i| *i != leader)
        .unwrap();
    cluster.kill(leader).await;
    cluster.kill(follower).await;
    let lost = Instant::now();
    // (It may first say it lost its change stream, which came from a killed node.)
    let body = wait_for_async(
        "/readyz to answer 503 for want of a quorum",
        Duration::from_secs(15),
        || async {
            // Liveness holds at every step of the outage.
            assert_alive(&http).await;
            let (status, _, body) = crate::support::http::get(&http, "/readyz", &[]).await;
            if status == 200 {
                assert_eq!(body, "ready");
            }
            (status == 503 && body.starts_with("no store quorum: ")).then_some(body)
        },
    )
    .await;
    let noticed = lost.elapsed();
    eprintln!("/readyz: {body}");
    // Probe interval + probe timeout, plus scheduling slack on a busy machine.
    assert!(noticed < Duration::from_secs(8), "took {noticed:?}");
    wait_for_async(
        "gRPC health NOT_SERVING",
        Duration::from_secs(5),
        || async {
            (grpc_health(&grpc).await == Some(ServingStatus::NotServing as i32)).then_some(())
        },
    )
    .await;
    assert!(!gw.is_ready());
    let m = scrape(&http).await;
    assert_eq!(sample(&m, "signet_store_quorum"), 0.0);
    assert_eq!(sample(&m, "signet_ready"), 0.0);
    assert!(sample(&m, "signet_store_probe_seconds") > 0.0);
    assert_alive(&http).await;

    // The quorum is back: ready again, without restarting the gateway.
    cluster.restart(leader).await;
    cluster.restart(follower).await;
    let back = Instant::now();
    wait_for_async("/readyz to answer 200", Duration::from_secs(30), || async {
        assert_alive(&http).await;
        let (status, _, body) = crate::support::http::get(&http, "/readyz", &[]).await;
        (status == 200 && body == "ready").then_some(())
    })
    .await;
    wait_for_async("gRPC health SERVING", Duration::from_secs(5), || async {
        (grpc_health(&grpc).await == Some(ServingStatus::Serving as i32)).then_some(())
    })
    .await;
    assert_eq!(sample(&scrape(&http).await, "signet_store_quorum"), 1.0);
    eprintln!(
        "not ready after {noticed:?}; ready again {:?} after the restart",
        back.elapsed()
    );
    gw.shutdown().await;
    cluster.shutdown().await;
}
