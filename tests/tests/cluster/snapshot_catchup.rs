//! A follower that was down while the leader compacted its log past the follower's last
//! entry catches up through a snapshot: the leader builds snapshots and purges its log, the
//! follower restarts, receives a snapshot covering the purged range, and converges to the
//! same state with every user.

use crate::support::*;
use futures::stream::{self, StreamExt};
use signet_core::Outcome;
use signet_testkit::{wait_for, TestCluster};
use std::time::Duration;

const USERS: usize = 400;

/// Create the pool, wait until every member has it, and pick a follower to fall behind
/// (stopping a follower leaves the leader in place): (leader, laggard, laggard's last
/// log index).
async fn pool_and_laggard(
    cluster: &TestCluster,
    client: &signet_store::StoreClient,
) -> (u64, u64, u64) {
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let laggard = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .expect("a follower");
    let last = cluster.node(laggard).log_bounds().1;
    (leader, laggard, last.expect("laggard has log entries"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_follower_catches_up_from_snapshot() {
    let mut cluster = TestCluster::start_with(3, |c| {
        c.snapshot_every = 50;
        c.keep_logs_after_snapshot = 0;
    })
    .await;
    let client = cluster.client();
    let (_, laggard, laggard_last) = pool_and_laggard(&cluster, &client).await;
    assert!(
        cluster
            .node(laggard)
            .raft()
            .metrics()
            .borrow()
            .snapshot
            .is_none(),
        "laggard already has a snapshot"
    );
    cluster.kill(laggard).await;

    let outcomes: Vec<Outcome> = stream::iter(0..USERS)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .write(create_user(POOL, &format!("user{i:03}")))
                    .await
                    .expect("write")
                    .outcome
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Applied));

    // Both remaining members (so whichever leads) have snapshotted and purged their logs
    // past everything the laggard had: it can only catch up from a snapshot.
    let purged = wait_for(
        "logs purged past the laggard",
        Duration::from_secs(20),
        || {
            let mut lowest = u64::MAX;
            for id in cluster.running() {
                let node = cluster.node(id);
                let m = node.raft().metrics().borrow().clone();
                let purged = m.purged?.index;
                let (first, _) = node.log_bounds();
                if purged <= laggard_last || m.snapshot?.index < purged || first? < purged {
                    return None;
                }
                lowest = lowest.min(purged);
            }
            Some(lowest)
        },
    )
    .await;

    cluster.restart(laggard).await;
    let (applied, digest) = cluster.wait_converged(Duration::from_secs(30)).await;
    assert!(applied > purged);
    assert_eq!(
        cluster
            .node(laggard)
            .state_machine()
            .digest()
            .expect("digest"),
        (applied, digest)
    );

    let node = cluster.node(laggard);
    let snap = node.raft().metrics().borrow().snapshot;
    assert!(
        snap.is_some_and(|s| s.index >= purged),
        "laggard snapshot {snap:?}, leader purged up to {purged}"
    );
    assert!(node.log_bounds().0.is_some_and(|p| p >= purged));
    let users = local_users(node, POOL);
    assert_eq!(users.len(), USERS);
    for (i, u) in users.iter().enumerate() {
        assert_eq!(u.username, format!("user{i:03}"));
        assert_eq!(u.sub, format!("sub-user{i:03}"));
    }
    cluster.shutdown().await;
}

/// `Cluster.Snapshot` with `purge` (what `signet cluster snapshot --purge` calls) on the
/// running members: with the default policy nothing would snapshot for 20,000 entries, but
/// after the calls their logs start past everything a stopped follower had, so that
/// follower can only catch up from a snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_snapshot_compacts_the_log() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let (_, laggard, laggard_last) = pool_and_laggard(&cluster, &client).await;
    cluster.kill(laggard).await;
    for i in 0..30 {
        let w = client
            .write(create_user(POOL, &format!("user{i:03}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied);
    }
    // Both remaining members, so that whichever leads when the laggard returns (an
    // election may happen meanwhile on a loaded machine) can only send it a snapshot.
    let mut lowest = u64::MAX;
    for id in cluster.running() {
        let node = cluster.node(id);
        assert!(node.raft().metrics().borrow().snapshot.is_none());
        let applied = node
            .raft()
            .metrics()
            .borrow()
            .last_applied
            .expect("applied")
            .index;
        let api = node.info().api_addr.clone();
        let (snapshot_index, purged) = client.snapshot_of(&api, true).await.expect("snapshot");
        assert!(snapshot_index >= applied, "{snapshot_index} < {applied}");
        assert_eq!(purged, Some(snapshot_index));
        let purged_to = cluster.node(id).log_bounds().0;
        assert!(
            purged_to.is_some_and(|p| p > laggard_last),
            "node {id} purged to {purged_to:?}, the laggard had up to {laggard_last}"
        );
        lowest = lowest.min(snapshot_index);
    }

    cluster.restart(laggard).await;
    cluster.wait_converged(Duration::from_secs(30)).await;
    // The state converges when the install is written; Raft's metrics report the installed
    // snapshot a moment later (slower on a loaded machine): wait for them, with a deadline.
    let snap = wait_for(
        "the laggard reports the snapshot it installed",
        Duration::from_secs(10),
        || cluster.node(laggard).raft().metrics().borrow().snapshot,
    )
    .await;
    assert!(snap.index >= lowest, "laggard snapshot {snap:?}");
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), 30);
    cluster.shutdown().await;
}
