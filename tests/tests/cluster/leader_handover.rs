//! A leader that stops gracefully hands leadership to its most up-to-date follower: the
//! successor leads within about one lease of the stop, in a higher term, with every
//! acknowledged write, and no write is lost.

use crate::support::*;
use signet_core::Outcome;
use signet_testkit::TestCluster;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_leader_stop_transfers_leadership() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    assert_eq!(
        client.write(create_pool(POOL)).await.unwrap().outcome,
        Outcome::Applied
    );
    for i in 0..50 {
        let w = client
            .write(create_user(POOL, &format!("u{i:02}")))
            .await
            .unwrap();
        assert_eq!(w.outcome, Outcome::Applied);
    }
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let term = cluster.node(leader).raft().metrics().borrow().current_term;

    let started = Instant::now();
    let successor = cluster
        .node(leader)
        .transfer_leadership()
        .await
        .expect("transfer");
    let took = started.elapsed();
    assert_ne!(successor, leader);
    let others: Vec<u64> = cluster
        .running()
        .into_iter()
        .filter(|i| *i != leader)
        .collect();
    let now_leader = cluster
        .wait_leader_among(&others, Duration::from_secs(5))
        .await;
    assert_eq!(now_leader, successor);
    let m = cluster.node(successor).raft().metrics().borrow().clone();
    assert!(m.current_term > term, "new term expected");
    // The testkit's lease is 600 ms; the handover takes about that, not the followers'
    // timeout plus lease that an abrupt stop costs.
    assert!(took < Duration::from_millis(1500), "transfer took {took:?}");

    // Stop the old leader for good; nothing acknowledged is missing on the others.
    cluster.kill(leader).await;
    let w = client
        .write(create_user(POOL, "after"))
        .await
        .expect("write after handover");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;
    for id in cluster.running() {
        assert_eq!(local_users(cluster.node(id), POOL).len(), 51, "node {id}");
    }
    cluster.shutdown().await;
}
