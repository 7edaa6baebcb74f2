//! A follower that was down while the leader compacted its log past the follower's last
//! entry catches up through a snapshot: the leader builds snapshots and purges its log, the
//! follower restarts, receives a snapshot covering the purged range, and converges to the
//! same state with every user.

mod support;

use futures::stream::{self, StreamExt};
use signet_core::Outcome;
use signet_testkit::{wait_for, TestCluster};
use std::time::Duration;
use support::*;

const USERS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_follower_catches_up_from_snapshot() {
    let mut cluster = TestCluster::start_with(3, |c| {
        c.snapshot_every = 50;
        c.keep_logs_after_snapshot = 0;
    })
    .await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;

    // The laggard is a follower: stopping it leaves the leader in place.
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let laggard = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .expect("a follower");
    let (_, laggard_last) = cluster.node(laggard).log_bounds();
    let laggard_last = laggard_last.expect("laggard has log entries");
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

/// `Cluster.Snapshot` with `purge` (what `signet cluster snapshot --purge` calls): with
/// the default policy nothing would snapshot for 20,000 entries, but after the call the
/// leader's log starts past everything a stopped follower had, so that follower can only
/// catch up from the snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_snapshot_compacts_the_log() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let laggard = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .expect("a follower");
    let laggard_last = cluster.node(laggard).log_bounds().1.expect("entries");
    cluster.kill(laggard).await;
    for i in 0..30 {
        let w = client
            .write(create_user(POOL, &format!("user{i:03}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied);
    }
    let node = cluster.node(leader);
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
    let first = cluster.node(leader).log_bounds().0;
    assert!(
        first.is_some_and(|f| f > laggard_last),
        "log starts at {first:?}, laggard had up to {laggard_last}"
    );

    cluster.restart(laggard).await;
    cluster.wait_converged(Duration::from_secs(30)).await;
    let snap = cluster.node(laggard).raft().metrics().borrow().snapshot;
    assert!(
        snap.is_some_and(|s| s.index >= snapshot_index),
        "laggard snapshot {snap:?}"
    );
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), 30);
    cluster.shutdown().await;
}
