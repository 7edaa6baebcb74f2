//! The operator's recovery of a cluster that has lost quorum for good
//! (`signet cluster force-new-cluster`, run here through the testkit on a stopped node):
//!
//! * two of three voters gone: the survivor is recovered with every write, serves alone,
//!   and grows again by Join; an old member that comes back with its old data cannot pull
//!   it back into the old membership;
//! * a two-voter cluster (one voter grown by one Join) whose new voter died;
//! * a promotion stuck in a joint config (made with openraft's raw calls, as the old Join
//!   did): Remove refuses with the way out, the recovery rolls the change back.

use crate::support::membership::*;
use crate::support::*;
use signet_core::Outcome;
use signet_store::{NodeId, SignetNode, StoreClient};
use signet_testkit::TestCluster;
use std::collections::BTreeSet;
use std::time::Duration;

/// A client that gives up quickly, to show that a cluster without quorum takes no write.
fn impatient(cluster: &TestCluster, ids: &[NodeId]) -> StoreClient {
    StoreClient::with_timeouts(
        ids.iter().map(|id| cluster.api_addr(*id)).collect(),
        Duration::from_secs(2),
        Duration::from_secs(1),
    )
}

async fn write_users(client: &StoreClient, prefix: &str, n: usize) {
    for i in 0..n {
        let w = client
            .write(create_user(POOL, &format!("{prefix}{i:02}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied);
    }
}

/// Every one of `n` users written with `prefix` is there, read linearizably.
async fn all_there(client: &StoreClient, prefix: &str, n: usize) {
    for i in 0..n {
        let name = format!("{prefix}{i:02}");
        let u = get_user(client, POOL, &name).await;
        assert_eq!(u.map(|u| u.sub), Some(format!("sub-{name}")), "{name}");
    }
}

/// Stop `id`, recover it, start it again and wait until it leads alone.
async fn recover(cluster: &mut TestCluster, id: NodeId, previous_voters: &[NodeId]) {
    cluster.kill(id).await;
    let report = cluster.force_new_cluster(id).await;
    assert!(report.changed, "{report:?}");
    assert_eq!(report.previous_voters, previous_voters);
    cluster.restart(id).await;
    let leader = cluster.wait_leader(Duration::from_secs(15)).await;
    assert_eq!(leader, id);
    assert_eq!(membership(cluster).await, (ids(&[id]), ids(&[])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn majority_lost_for_good_is_recovered_from_the_survivor() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    client.write(create_pool(POOL)).await.expect("create pool");
    write_users(&client, "before", 20).await;
    cluster.wait_converged(Duration::from_secs(15)).await;

    cluster.kill(2).await;
    cluster.kill(3).await;
    let stuck = impatient(&cluster, &[1])
        .write(create_user(POOL, "uncertain"))
        .await;
    assert!(
        stuck.is_err(),
        "a write committed with one voter of three: {stuck:?}"
    );

    recover(&mut cluster, 1, &[1, 2, 3]).await;
    let client = StoreClient::new(vec![cluster.api_addr(1)]);
    all_there(&client, "before", 20).await;
    write_users(&client, "after", 5).await;

    // Node 2 comes back with its old data and old membership: node 1 has a new incarnation,
    // so it refuses node 2's votes and appends; node 2 cannot win an election and node 1
    // keeps leading in its term.
    let term = cluster.node(1).raft().metrics().borrow().current_term;
    cluster.restart(2).await;
    let disturbed = cluster
        .node(1)
        .raft()
        .wait(Some(Duration::from_secs(3)))
        .metrics(
            |m| m.current_term != term || m.current_leader != Some(1),
            "node 1 to be disturbed by the old member",
        )
        .await;
    assert!(disturbed.is_err(), "{disturbed:?}");
    let m2 = cluster.node(2).raft().metrics().borrow().clone();
    assert_ne!(m2.current_leader, Some(2), "the old member leads: {m2:?}");
    all_there(&client, "after", 5).await;
    cluster.kill(2).await;

    // The recovered node grows again by ordinary joins.
    let new = cluster.add_fresh_node().await;
    client.join(info(cluster.node(new))).await.expect("join");
    assert_eq!(membership(&cluster).await, (ids(&[1, new]), ids(&[])));
    let last = client
        .write(create_user(POOL, "grown"))
        .await
        .expect("write");
    cluster
        .node(new)
        .raft()
        .wait(Some(Duration::from_secs(10)))
        .applied_index_at_least(Some(last.index), "the new member to apply")
        .await
        .expect("new member applied");
    // Every acknowledged write is there. The unacknowledged one is there too if node 1 led
    // when it was sent: the recovered node commits its whole log.
    let mut have: BTreeSet<String> = local_users(cluster.node(new), POOL)
        .into_iter()
        .map(|u| u.username)
        .collect();
    have.remove("uncertain");
    let mut acked: BTreeSet<String> = (0..20).map(|i| format!("before{i:02}")).collect();
    acked.extend((0..5).map(|i| format!("after{i:02}")));
    acked.insert("grown".into());
    assert_eq!(have, acked);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_voter_cluster_that_lost_one_is_recovered() {
    let mut cluster = TestCluster::start(1).await;
    let client = StoreClient::new(vec![cluster.api_addr(1)]);
    client.write(create_pool(POOL)).await.expect("create pool");
    let second = cluster.add_fresh_node().await;
    client.join(info(cluster.node(second))).await.expect("join");
    assert_eq!(membership(&cluster).await, (ids(&[1, second]), ids(&[])));
    write_users(&client, "before", 10).await;
    cluster.wait_converged(Duration::from_secs(15)).await;

    cluster.kill(second).await;
    let stuck = impatient(&cluster, &[1])
        .write(create_user(POOL, "x"))
        .await;
    assert!(
        stuck.is_err(),
        "a write committed with one voter of two: {stuck:?}"
    );

    recover(&mut cluster, 1, &[1, second]).await;
    all_there(&client, "before", 10).await;
    write_users(&client, "after", 3).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_promotion_is_rolled_back_by_recovery() {
    let mut cluster = TestCluster::start(1).await;
    let client = StoreClient::new(vec![cluster.api_addr(1)]);
    client.write(create_pool(POOL)).await.expect("create pool");
    write_users(&client, "before", 10).await;

    // What the old Join did: add an unreachable learner and promote it at once.
    let raft = cluster.node(1).raft().clone();
    let ghost = SignetNode {
        raft_addr: "127.0.0.1:1".into(),
        api_addr: "127.0.0.1:1".into(),
        incarnation: 7,
    };
    raft.add_learner(7, ghost, false).await.expect("learner");
    let promote = raft.change_membership(BTreeSet::from([1, 7]), false);
    assert!(
        tokio::time::timeout(Duration::from_secs(2), promote)
            .await
            .is_err(),
        "the promotion committed without node 7"
    );
    let stuck = impatient(&cluster, &[1])
        .write(create_user(POOL, "x"))
        .await;
    assert!(
        stuck.is_err(),
        "a write committed without node 7: {stuck:?}"
    );

    // Remove cannot roll it back (Raft cannot commit anything now) and says what can.
    let msg = refused(client.remove(7).await, tonic::Code::FailedPrecondition);
    assert!(msg.contains("force-new-cluster"), "{msg}");

    recover(&mut cluster, 1, &[1, 7]).await;
    all_there(&client, "before", 10).await;
    write_users(&client, "after", 3).await;
    cluster.shutdown().await;
}
