//! One bad membership call must not brick a cluster (issue 13).
//!
//! * A Join naming an unreachable node (id 7 at 127.0.0.1:1), against a one-voter and a
//!   three-voter cluster, fails at once and changes nothing, however often it is retried and
//!   whatever Promote or AddLearner calls follow; writes and linearizable reads go on.
//! * Malformed requests (node id 0, addresses that are not host:port, a node that is not
//!   the one named) are refused as invalid.
//! * A Join whose node answers but cannot be replicated to is rolled back after the bounded
//!   catch-up wait; a learner that is not caught up is not promoted; once the fault heals
//!   the same node joins.
//! * Good joins (two at once) end with caught-up voters holding the data; a retried Join
//!   of a voter answers OK; a dead voter of a three-voter cluster can be removed.

use crate::support::membership::*;
use crate::support::*;
use signet_core::Outcome;
use signet_proto::store::NodeInfo;
use signet_store::{NodeId, StoreConfig};
use signet_testkit::{wait_for, TestCluster};
use std::time::{Duration, Instant};

/// The catch-up bound the clusters here run with (production: 30 s).
const CATCH_UP: Duration = Duration::from_secs(3);

fn short_catch_up(c: &mut StoreConfig) {
    c.join_catch_up = CATCH_UP;
}

async fn unreachable_join_changes_nothing(voters: usize) {
    let cluster = TestCluster::start_with(voters, short_catch_up).await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    let before = membership(&cluster).await;
    assert_eq!(before.0, (1..=voters as NodeId).collect());
    assert!(before.1.is_empty());

    for attempt in 0..3 {
        let started = Instant::now();
        let msg = refused(client.join(ghost()).await, tonic::Code::FailedPrecondition);
        assert!(msg.contains("127.0.0.1:1"), "attempt {attempt}: {msg}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "attempt {attempt} took {:?}",
            started.elapsed()
        );
        assert_eq!(
            membership(&cluster).await,
            before,
            "after attempt {attempt}"
        );
    }
    // Neither a hand-made Promote nor AddLearner gets it in.
    let msg = refused(client.promote(7).await, tonic::Code::NotFound);
    assert!(msg.contains("not a member"), "{msg}");
    refused(
        client.add_learner(7, "127.0.0.1:1").await,
        tonic::Code::FailedPrecondition,
    );
    assert_eq!(membership(&cluster).await, before);
    writes_and_reads(&client, "after-bad-join").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_join_changes_nothing_in_a_one_voter_cluster() {
    unreachable_join_changes_nothing(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_join_changes_nothing_in_a_three_voter_cluster() {
    unreachable_join_changes_nothing(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_membership_requests_are_invalid() {
    let cluster = TestCluster::start_with(1, short_catch_up).await;
    let client = cluster.client();
    client.write(create_pool(POOL)).await.expect("create pool");
    let node1 = info(cluster.node(1));
    let invalid = tonic::Code::InvalidArgument;
    let cases = [
        (
            "node id 0",
            NodeInfo {
                node_id: 0,
                ..ghost()
            },
        ),
        (
            "empty api address",
            NodeInfo {
                api_addr: String::new(),
                ..ghost()
            },
        ),
        (
            "garbage api address",
            NodeInfo {
                api_addr: "not an address".into(),
                ..ghost()
            },
        ),
        (
            "port 0",
            NodeInfo {
                raft_addr: "127.0.0.1:0".into(),
                ..ghost()
            },
        ),
        (
            "url, not host:port",
            NodeInfo {
                api_addr: "http://127.0.0.1:1".into(),
                ..ghost()
            },
        ),
        // Node 1 answers at its address: it is not node 7.
        (
            "another node's address",
            NodeInfo {
                node_id: 7,
                ..node1.clone()
            },
        ),
        // Node 1 again, but the request names other addresses than it advertises.
        (
            "addresses it does not advertise",
            NodeInfo {
                raft_addr: "127.0.0.1:2".into(),
                ..node1
            },
        ),
    ];
    for (what, req) in cases {
        let msg = refused(client.join(req).await, invalid);
        assert!(!msg.is_empty(), "{what}");
    }
    refused(client.promote(0).await, invalid);
    refused(client.remove(0).await, invalid);
    refused(client.add_learner(0, &cluster.api_addr(1)).await, invalid);
    refused(client.add_learner(2, "").await, invalid);
    assert_eq!(membership(&cluster).await, (ids(&[1]), ids(&[])));
    writes_and_reads(&client, "after-malformed").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_that_cannot_catch_up_is_rolled_back() {
    let mut cluster = TestCluster::start_with(3, short_catch_up).await;
    let client = cluster.client();
    client.write(create_pool(POOL)).await.expect("create pool");
    let new = cluster.add_fresh_node().await;
    // Its API answers (it is who it says), but no Raft message reaches it.
    cluster.faults().isolate(new, &[1, 2, 3]);

    let started = Instant::now();
    let msg = refused(
        client.join(info(cluster.node(new))).await,
        tonic::Code::FailedPrecondition,
    );
    assert!(msg.contains("has not caught up"), "{msg}");
    assert!(msg.contains("removed again"), "{msg}");
    assert!(started.elapsed() >= CATCH_UP, "{:?}", started.elapsed());
    assert!(started.elapsed() < CATCH_UP * 4, "{:?}", started.elapsed());
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3]), ids(&[])));
    writes_and_reads(&client, "after-rollback").await;

    // Added by hand it stays a learner: Promote refuses it while it cannot catch up.
    client
        .add_learner(new, &cluster.api_addr(new))
        .await
        .expect("add learner");
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3]), ids(&[new])));
    let msg = refused(client.promote(new).await, tonic::Code::FailedPrecondition);
    assert!(msg.contains("has not caught up"), "{msg}");
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3]), ids(&[new])));
    // A Join of that learner fails the same way and leaves it as the operator made it.
    refused(
        client.join(info(cluster.node(new))).await,
        tonic::Code::FailedPrecondition,
    );
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3]), ids(&[new])));
    client.remove(new).await.expect("remove the learner");
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3]), ids(&[])));

    // Once the leader can reach it, the same node joins.
    cluster.faults().heal();
    client
        .join(info(cluster.node(new)))
        .await
        .expect("join after heal");
    assert_eq!(membership(&cluster).await, (ids(&[1, 2, 3, new]), ids(&[])));
    writes_and_reads(&client, "after-join").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_joins_make_caught_up_voters() {
    // One voter, as `signet dev` runs, grown to three by two joins at once.
    let mut cluster = TestCluster::start_with(1, short_catch_up).await;
    let client = cluster.client();
    client.write(create_pool(POOL)).await.expect("create pool");
    for i in 0..20 {
        let w = client
            .write(create_user(POOL, &format!("user{i:02}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied);
    }
    let (a, b) = (
        cluster.add_fresh_node().await,
        cluster.add_fresh_node().await,
    );
    let (ja, jb) = tokio::join!(
        client.join(info(cluster.node(a))),
        client.join(info(cluster.node(b)))
    );
    ja.expect("first join");
    jb.expect("second join");
    assert_eq!(membership(&cluster).await, (ids(&[1, a, b]), ids(&[])));
    cluster.wait_converged(Duration::from_secs(20)).await;
    for id in [a, b] {
        assert_eq!(local_users(cluster.node(id), POOL).len(), 20, "node {id}");
    }

    // Retries of a finished join, and a Promote of a voter, are answered OK.
    let again = client
        .join(info(cluster.node(a)))
        .await
        .expect("retried join");
    let v: serde_json::Value = serde_json::from_str(&again).expect("membership json");
    assert_eq!(v["voters"], serde_json::json!([1, a, b]));
    client.promote(b).await.expect("promote a voter");
    assert_eq!(membership(&cluster).await, (ids(&[1, a, b]), ids(&[])));

    // A dead voter of a three-voter cluster is removed while two still form a quorum.
    cluster.kill(b).await;
    client.remove(b).await.expect("remove the dead voter");
    assert_eq!(membership(&cluster).await, (ids(&[1, a]), ids(&[])));
    writes_and_reads(&client, "after-remove").await;
    wait_for(
        "node a to apply the last write",
        Duration::from_secs(10),
        || {
            let users = local_users(cluster.node(a), POOL);
            users
                .iter()
                .any(|u| u.username == "after-remove")
                .then_some(())
        },
    )
    .await;
    cluster.shutdown().await;
}
