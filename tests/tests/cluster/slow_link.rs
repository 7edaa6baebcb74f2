//! A node joining over a link too slow to carry the whole backlog in one heartbeat interval
//! still catches up. openraft 0.9 gives each append one heartbeat interval to be answered;
//! the leader used to send a far-behind follower up to a thousand entries at once, which
//! on a slow link (or a loaded machine, or a slow disk) never arrived in time, so the
//! joining node made no progress and its Join was rolled back (`signet chaos run`, the
//! wipe-store fault, on CI). Appends now carry at most a byte budget that adapts to the link.

use crate::support::membership::info;
use crate::support::*;
use futures::stream::{self, StreamExt};
use signet_core::Outcome;
use signet_testkit::TestCluster;
use std::time::Duration;

const USERS: usize = 2_000;
/// Bytes a second from every member to the new node. Not even the first budget (256 KiB,
/// 125 ms here) crosses it within the testkit's 50 ms heartbeat: the budget must shrink
/// to what the link carries (64 KiB) for the node to advance at all.
const LINK: u64 = 2 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_joining_over_a_slow_link_catches_up_a_large_backlog() {
    let mut cluster = TestCluster::start_with(3, |c| {
        // No snapshot: the backlog goes through the log, in appends.
        c.snapshot_every = 1_000_000;
        c.join_catch_up = Duration::from_secs(40);
    })
    .await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    // One at a time per writer, so the backlog is many entries, as sign-ups make it.
    let applied = stream::iter(0..USERS)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .write(create_user(POOL, &format!("user{i:05}")))
                    .await
                    .expect("write")
                    .outcome
            }
        })
        .buffer_unordered(4)
        .filter(|o| std::future::ready(*o == Outcome::Applied))
        .count()
        .await;
    assert_eq!(applied, USERS);
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let backlog = cluster.node(leader).log_bounds();
    let new = 4;
    for from in cluster.running() {
        cluster.faults().bandwidth(from, new, LINK);
    }
    assert_eq!(cluster.add_fresh_node().await, new);
    client
        .join(info(cluster.node(new)))
        .await
        .unwrap_or_else(|e| panic!("join over a slow link, backlog {backlog:?}: {e}"));
    cluster.heal();
    cluster.wait_converged(Duration::from_secs(30)).await;
    assert_eq!(local_users(cluster.node(new), POOL).len(), USERS);
    cluster.shutdown().await;
}
