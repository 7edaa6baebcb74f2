//! The testkit's finer Raft-network faults do what they say, each shown by what the cluster
//! can and cannot do under it:
//! * one way: a leader whose outgoing RPCs are dropped loses its followers, who elect a new
//!   leader, yet it hears that leader and applies its writes;
//! * only votes: a node whose vote requests are dropped never leads, even when it is the
//!   only member that could, while it keeps replicating; once its votes flow it wins;
//! * only AppendEntries, from the leader to a follower: the follower gets no entries, so
//!   its log stays behind and it cannot lead either;
//! * only InstallSnapshot: a follower replicates entries as before, but once it needs a
//!   snapshot it cannot catch up until the snapshot gets through.

use crate::support::*;
use signet_core::Outcome;
use signet_store::ServerState;
use signet_testkit::{wait_for, RpcKind, TestCluster};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const USERS: usize = 20;

/// Write `user{from..to}` through `client`, each applied.
async fn write_users(client: &signet_store::StoreClient, from: usize, to: usize) {
    for i in from..to {
        let w = client
            .write(create_user(POOL, &format!("user{i:03}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied, "user{i:03}");
    }
}

/// A cluster of three with the pool on every member.
async fn cluster_with_pool() -> TestCluster {
    let cluster = TestCluster::start(3).await;
    let w = cluster
        .client()
        .write(create_pool(POOL))
        .await
        .expect("pool");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;
    cluster
}

/// Whether node `id` ever becomes leader while the returned flag is watched (until the
/// task is aborted): every change of its Raft metrics is looked at.
fn watch_leadership(
    cluster: &TestCluster,
    id: u64,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let led = Arc::new(AtomicBool::new(false));
    let mut rx = cluster.node(id).raft().metrics();
    let flag = led.clone();
    let task = tokio::spawn(async move {
        loop {
            if rx.borrow_and_update().state == ServerState::Leader {
                flag.store(true, Ordering::SeqCst);
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    (led, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_send_is_replaced_and_follows_the_new_leader() {
    let cluster = cluster_with_pool().await;
    let old = cluster.wait_leader(Duration::from_secs(10)).await;
    let others = cluster.others(old);
    cluster.drop_one_way(old, &others);

    // Nothing the old leader sends arrives: its followers hear no heartbeat and elect one
    // of themselves (it cannot win again: its vote requests are lost too).
    let new = cluster
        .wait_leader_among(&others, Duration::from_secs(15))
        .await;
    assert_ne!(new, old);
    for o in &others {
        assert!(cluster.dropped(RpcKind::AppendEntries, old, *o) > 0);
    }

    // What the others send still arrives, and the old leader's answers get back: it follows
    // the new leader, and applies the writes committed without it.
    let client = cluster.client();
    write_users(&client, 0, USERS).await;
    let leader = cluster.wait_leader(Duration::from_secs(15)).await;
    assert_eq!(
        leader, new,
        "every member, the old leader too, follows {new}"
    );
    cluster.wait_converged(Duration::from_secs(20)).await;
    assert_eq!(local_users(cluster.node(old), POOL).len(), USERS);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_votes_are_dropped_never_leads_but_replicates() {
    let mut cluster = cluster_with_pool().await;
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let others = cluster.others(leader);
    let (voteless, laggard) = (others[0], others[1]);
    cluster.drop_rpcs(RpcKind::Vote, voteless, &[leader, laggard]);
    let (led, watcher) = watch_leadership(&cluster, voteless);

    // Replication to the voteless node goes on: with the leader it commits writes while the
    // laggard is down.
    cluster.kill(laggard).await;
    let client = cluster.client();
    write_users(&client, 0, USERS).await;
    wait_for(
        "the voteless node applies the writes",
        Duration::from_secs(10),
        || (local_users(cluster.node(voteless), POOL).len() == USERS).then_some(()),
    )
    .await;

    // The laggard comes back but gets no entries (only AppendEntries from the leader are
    // dropped): its log stays behind, so it can win no election.
    cluster.drop_rpcs(RpcKind::AppendEntries, leader, &[laggard]);
    cluster.restart(laggard).await;
    cluster.kill(leader).await;

    // Now the voteless node is the only one that could lead. It campaigns, again and
    // again, and every request for a vote is lost: nobody leads.
    wait_for("three lost vote requests", Duration::from_secs(20), || {
        (cluster.dropped(RpcKind::Vote, voteless, laggard) >= 3).then_some(())
    })
    .await;
    for id in [voteless, laggard] {
        let m = cluster.node(id).raft().metrics().borrow().clone();
        assert_ne!(m.state, ServerState::Leader, "node {id} leads");
    }
    // Nothing reached the laggard from the old leader: it holds none of the writes.
    assert!(local_users(cluster.node(laggard), POOL).is_empty());
    watcher.abort();
    assert!(
        !led.load(Ordering::SeqCst),
        "node {voteless} led without a vote"
    );

    // Its votes flow again: it wins, and the laggard catches up from it.
    cluster
        .faults()
        .unblock_rpc(voteless, laggard, RpcKind::Vote);
    let now = cluster
        .wait_leader_among(&[voteless, laggard], Duration::from_secs(20))
        .await;
    assert_eq!(now, voteless);
    cluster.wait_converged(Duration::from_secs(20)).await;
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), USERS);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_whose_snapshots_are_dropped_replicates_but_cannot_catch_up() {
    let mut cluster = cluster_with_pool().await;
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let laggard = cluster.others(leader)[0];
    let senders = cluster.others(laggard);
    for s in &senders {
        cluster.drop_rpcs(RpcKind::InstallSnapshot, *s, &[laggard]);
    }

    // Only snapshots are dropped: entries still reach the laggard.
    let client = cluster.client();
    write_users(&client, 0, USERS / 2).await;
    cluster.wait_converged(Duration::from_secs(20)).await;
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), USERS / 2);

    // It stops; the others commit more and purge their logs past its last entry, so
    // whichever leads can only send it a snapshot.
    let laggard_last = cluster.node(laggard).log_bounds().1.expect("log entries");
    cluster.kill(laggard).await;
    write_users(&client, USERS / 2, USERS).await;
    for id in cluster.running() {
        let api = cluster.node(id).info().api_addr.clone();
        client.snapshot_of(&api, true).await.expect("snapshot");
        let first = cluster.node(id).log_bounds().0;
        assert!(
            first.is_some_and(|p| p > laggard_last),
            "node {id}: {first:?}"
        );
    }

    // Back, it needs the snapshot: the leader sends it again and again, and every copy is
    // lost. The laggard installs nothing and has only what it had; the others go on.
    cluster.restart(laggard).await;
    wait_for("three lost snapshots", Duration::from_secs(20), || {
        let dropped: u64 = senders
            .iter()
            .map(|s| cluster.dropped(RpcKind::InstallSnapshot, *s, laggard))
            .sum();
        (dropped >= 3).then_some(())
    })
    .await;
    let snapshot = cluster.node(laggard).raft().metrics().borrow().snapshot;
    assert!(snapshot.is_none(), "installed {snapshot:?}");
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), USERS / 2);
    write_users(&client, USERS, USERS + 1).await;

    // The snapshot gets through: the laggard catches up.
    cluster.heal();
    cluster.wait_converged(Duration::from_secs(30)).await;
    assert_eq!(local_users(cluster.node(laggard), POOL).len(), USERS + 1);
    wait_for(
        "the laggard reports the snapshot it installed",
        Duration::from_secs(10),
        || cluster.node(laggard).raft().metrics().borrow().snapshot,
    )
    .await;
    cluster.shutdown().await;
}
