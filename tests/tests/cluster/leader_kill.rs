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
    let digest = assert_all_applied_once(&cluster, &report, |n| user_rows(n, POOL)).await;

    // The killed node comes back from its data dir and converges to the same state.
    cluster.restart(old_leader).await;
    let (_, digest_after) = cluster.wait_converged(Duration::from_secs(30)).await;
    assert_eq!(digest, digest_after);
    assert_eq!(local_users(cluster.node(old_leader), POOL).len(), TOTAL);
    cluster.shutdown().await;
}
