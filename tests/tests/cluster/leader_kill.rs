//! No acknowledged write is lost when the leader dies mid-load, and retried writes are
//! applied once: 16 concurrent clients send 2,000 writes to a 3-node cluster, the leader is
//! killed after a quarter of them, and every surviving member ends with every acknowledged
//! write exactly once (with the payload of that write) and the same state digest.

use crate::support::*;
use signet_core::Outcome;
use signet_testkit::{assert_all_applied_once, spawn_writers, TestCluster};
use std::time::Duration;

const WRITERS: usize = 16;
const PER_WRITER: usize = 125;
const TOTAL: usize = WRITERS * PER_WRITER;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_leader_kill() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let pool = client.write(create_pool(POOL)).await.unwrap();
    assert_eq!(pool.outcome, Outcome::Applied);

    let load = spawn_writers(&client, WRITERS, PER_WRITER, |w, i| {
        user_write(POOL, &format!("w{w:02}-{i:03}"))
    });
    load.wait_acknowledged(TOTAL / 4, Duration::from_secs(60))
        .await;
    let old_leader = cluster.wait_leader(Duration::from_secs(10)).await;
    cluster.kill(old_leader).await;
    let report = load.finish().await;
    // The client retries through the failover, so every write is acknowledged.
    assert!(
        report.failed.is_empty(),
        "writes failed: {:?}",
        report.failed
    );
    assert_eq!(report.acknowledged.len(), TOTAL);
    // Each applied once, with its own payload, on both survivors, which converge.
    assert_all_applied_once(&cluster, &report, |n| user_rows(n, POOL)).await;
    let survivor = cluster.running()[0];
    let mut users_before = user_rows(cluster.node(survivor), POOL);
    users_before.sort();

    // The killed node comes back from its data dir and converges with the others. The
    // digest itself may move on meanwhile: the returning node can call an election (its
    // term, a blank entry and the applied index are part of the state), so what must not
    // change is the users.
    cluster.restart(old_leader).await;
    cluster.wait_converged(Duration::from_secs(30)).await;
    let mut users_after = user_rows(cluster.node(old_leader), POOL);
    users_after.sort();
    assert_eq!(users_after.len(), TOTAL);
    assert_eq!(users_before, users_after);
    cluster.shutdown().await;
}
