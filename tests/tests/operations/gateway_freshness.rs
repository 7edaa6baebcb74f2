//! A gateway whose change stream has fallen behind the leader says so: it reports
//! not-ready (gRPC health and /readyz) until it has caught up again.

use crate::support::*;
use signet_testkit::{start_gateway, test_gateway_config, wait_for, TestCluster};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_change_stream_makes_the_gateway_not_ready() {
    let cluster = TestCluster::start(3).await;
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let follower = cluster
        .running()
        .into_iter()
        .find(|i| *i != leader)
        .unwrap();
    // The gateway knows only the follower and learns no other member: its change stream
    // comes from there (reads are redirected to the leader).
    let mut cfg = test_gateway_config();
    cfg.store_discovery = false;
    cfg.password = signet_crypto::PasswordParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };
    let gw = start_gateway(vec![cluster.api_addr(follower)], cfg).await;
    let client = cluster.client();
    client.write(create_pool(POOL)).await.unwrap();

    // The follower stops hearing from the leader: its applied index stalls while the
    // leader keeps committing writes.
    cluster.faults().block(leader, follower);
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (client, writing) = (client.clone(), writing.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while writing.load(Ordering::Relaxed) && i < 500 {
                let _ = client.write(create_user(POOL, &format!("w{i}"))).await;
                i += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    wait_for("gateway reports not-ready", Duration::from_secs(15), || {
        (!gw.is_ready()).then_some(())
    })
    .await;
    let (status, _, body) =
        crate::support::http::get(&gw.http_addr().to_string(), "/readyz", &[]).await;
    assert_eq!(status, 503);
    assert!(body.contains("behind"), "{body}");

    cluster.faults().heal();
    wait_for("gateway ready again", Duration::from_secs(20), || {
        gw.is_ready().then_some(())
    })
    .await;
    writing.store(false, Ordering::Relaxed);
    writer.await.unwrap();
    gw.shutdown().await;
    cluster.shutdown().await;
}
