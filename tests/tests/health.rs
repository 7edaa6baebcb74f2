//! gRPC health follows leadership: a member that knows no leader reports NOT_SERVING, and
//! SERVING again once a leader is elected.

use signet_testkit::{wait_for_async, TestCluster};
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn status(addr: &str, service: &str) -> Option<i32> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .ok()?;
    Some(reply.into_inner().status)
}

async fn wait_status(addr: &str, want: ServingStatus) {
    wait_for_async(
        &format!("{addr} to report {want:?}"),
        Duration::from_secs(20),
        || async {
            let a = status(addr, "").await?;
            let b = status(addr, "signet.store.v1.Store").await?;
            (a == want as i32 && b == want as i32).then_some(())
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_tracks_leader_knowledge() {
    let mut cluster = TestCluster::start(3).await;
    for id in cluster.running() {
        wait_status(&cluster.api_addr(id), ServingStatus::Serving).await;
    }
    // Kill the leader and one follower: the survivor cannot elect anyone.
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let others: Vec<u64> = cluster
        .running()
        .into_iter()
        .filter(|i| *i != leader)
        .collect();
    cluster.kill(leader).await;
    cluster.kill(others[0]).await;
    let survivor = others[1];
    wait_status(&cluster.api_addr(survivor), ServingStatus::NotServing).await;
    assert_eq!(
        cluster
            .node(survivor)
            .raft()
            .metrics()
            .borrow()
            .current_leader,
        None
    );

    // A majority again: a leader is elected and the survivor serves.
    cluster.restart(others[0]).await;
    wait_status(&cluster.api_addr(survivor), ServingStatus::Serving).await;
    cluster.shutdown().await;
}
