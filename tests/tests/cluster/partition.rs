//! A leader cut off from the majority cannot commit: a write sent only to it is never
//! acknowledged and never becomes visible, while the majority elects a new leader and keeps
//! taking writes. After the partition heals every member converges on the majority's
//! history and the old leader has moved to a newer term.

use crate::support::*;
use signet_core::Outcome;
use signet_store::StoreClient;
use signet_testkit::TestCluster;
use std::time::Duration;

const MAJORITY_WRITES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_cannot_commit_and_majority_moves_on() {
    let cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;

    let old_leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let others: Vec<u64> = cluster
        .running()
        .into_iter()
        .filter(|id| *id != old_leader)
        .collect();
    let old_term = cluster
        .node(old_leader)
        .raft()
        .metrics()
        .borrow()
        .current_term;
    cluster.faults().isolate(old_leader, &others);

    // (a) The isolated leader cannot reach a quorum, so it must not acknowledge.
    let to_old_leader = StoreClient::with_timeouts(
        vec![cluster.api_addr(old_leader)],
        Duration::from_secs(3),
        Duration::from_secs(1),
    );
    let lost = to_old_leader
        .write(create_user(POOL, "isolated-write"))
        .await;
    assert!(
        lost.is_err(),
        "a leader without a quorum acknowledged a write: {lost:?}"
    );

    // (b) The majority elects a new leader among itself and takes writes.
    let new_leader = cluster
        .wait_leader_among(&others, Duration::from_secs(15))
        .await;
    assert_ne!(new_leader, old_leader);
    let majority = StoreClient::new(others.iter().map(|id| cluster.api_addr(*id)).collect());
    for i in 0..MAJORITY_WRITES {
        let w = majority
            .write(create_user(POOL, &format!("major{i:02}")))
            .await
            .expect("majority write");
        assert_eq!(w.outcome, Outcome::Applied, "major{i:02}");
    }

    // (c) Heal: everyone converges on the majority's history.
    cluster.faults().heal();
    let (applied, _digest) = cluster.wait_converged(Duration::from_secs(20)).await;
    assert!(applied > 0);
    for id in cluster.running() {
        let users = local_users(cluster.node(id), POOL);
        let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(users.len(), MAJORITY_WRITES, "node {id} users: {names:?}");
        assert!(
            !names.contains(&"isolated-write"),
            "node {id} holds the uncommitted write"
        );
        for i in 0..MAJORITY_WRITES {
            let name = format!("major{i:02}");
            let u = users
                .iter()
                .find(|u| u.username == name)
                .unwrap_or_else(|| panic!("node {id} lacks {name}"));
            assert_eq!(u.sub, format!("sub-{name}"));
        }
    }
    assert!(get_user(&cluster.client(), POOL, "isolated-write")
        .await
        .is_none());

    // The old leader has seen the newer term and follows whoever leads now.
    let m = cluster.node(old_leader).raft().metrics().borrow().clone();
    assert!(
        m.current_term > old_term,
        "old leader still in term {} (was {old_term})",
        m.current_term
    );
    let leader_now = cluster.wait_leader(Duration::from_secs(10)).await;
    let leader_term = cluster
        .node(leader_now)
        .raft()
        .metrics()
        .borrow()
        .current_term;
    assert!(leader_term > old_term);
    cluster.shutdown().await;
}
