//! Store gRPC health means "can serve a linearizable read": a member that knows no leader,
//! or a leader that has lost its quorum, reports NOT_SERVING, and SERVING again once a
//! leader with a quorum is back.

use signet_testkit::{wait_for, wait_for_async, TestCluster};
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
    // Not hearing from its leader is enough to stop serving; once it campaigns it knows
    // no leader at all, and still does not serve.
    wait_for(
        "the survivor to know no leader",
        Duration::from_secs(10),
        || {
            let m = cluster.node(survivor).raft().metrics().borrow().clone();
            m.current_leader.is_none().then_some(())
        },
    )
    .await;
    wait_status(&cluster.api_addr(survivor), ServingStatus::NotServing).await;

    // A majority again: a leader is elected and the survivor serves.
    cluster.restart(others[0]).await;
    wait_status(&cluster.api_addr(survivor), ServingStatus::Serving).await;
    cluster.shutdown().await;
}

/// A leader cut off from both followers still believes it leads (openraft 0.9 never steps
/// down on its own) but cannot serve a linearizable read: its health says NOT_SERVING,
/// while the majority elects a leader and serves. Healed, every member serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_leader_is_not_serving() {
    let cluster = TestCluster::start(3).await;
    for id in cluster.running() {
        wait_status(&cluster.api_addr(id), ServingStatus::Serving).await;
    }
    let old = cluster.wait_leader(Duration::from_secs(5)).await;
    let others: Vec<u64> = cluster
        .running()
        .into_iter()
        .filter(|i| *i != old)
        .collect();
    cluster.faults().isolate(old, &others);
    let cut = std::time::Instant::now();
    wait_status(&cluster.api_addr(old), ServingStatus::NotServing).await;
    let noticed = cut.elapsed();
    // Still a leader in its own eyes: leadership knowledge alone would have said SERVING.
    let m = cluster.node(old).raft().metrics().borrow().clone();
    assert_eq!(m.state, signet_store::ServerState::Leader);
    assert_eq!(m.current_leader, Some(old));
    assert!(
        m.millis_since_quorum_ack.is_some_and(|ms| ms > 600),
        "{:?}",
        m.millis_since_quorum_ack
    );
    // The lease is 600 ms in the testkit; health is re-evaluated every heartbeat (50 ms).
    assert!(noticed < Duration::from_secs(5), "took {noticed:?}");
    let new = cluster
        .wait_leader_among(&others, Duration::from_secs(10))
        .await;
    assert_ne!(new, old);
    for id in &others {
        wait_status(&cluster.api_addr(*id), ServingStatus::Serving).await;
    }

    cluster.faults().heal();
    wait_status(&cluster.api_addr(old), ServingStatus::Serving).await;
    cluster.wait_leader(Duration::from_secs(10)).await;
    cluster.shutdown().await;
}
