//! A whole-cluster restart from disk loses nothing: after every node is killed and started
//! again on its data dir, each holds exactly the state it had (same applied index and state
//! digest, checked while the Raft links are still cut), then the cluster elects a leader,
//! serves every earlier write with linearizable reads, and takes new writes.

use crate::support::*;
use futures::stream::{self, StreamExt};
use signet_core::Outcome;
use signet_testkit::TestCluster;
use std::time::Duration;

const USERS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_cluster_restart_keeps_state() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
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
    let before = cluster.wait_converged(Duration::from_secs(20)).await;

    let ids = cluster.running();
    for id in &ids {
        cluster.kill(*id).await;
    }
    // Cut every Raft link before restarting, so nothing can be committed or applied (no new
    // leader's blank entry) until each node's restored state has been compared.
    for a in &ids {
        for b in &ids {
            if a != b {
                cluster.faults().block(*a, *b);
            }
        }
    }
    for id in &ids {
        cluster.restart(*id).await;
        assert!(!cluster.node(*id).is_fresh(), "node {id} lost its data dir");
    }
    for id in &ids {
        let after = cluster.node(*id).state_machine().digest().expect("digest");
        assert_eq!(after, before, "node {id} state after restart");
        assert_eq!(
            local_users(cluster.node(*id), POOL).len(),
            USERS,
            "node {id}"
        );
    }

    cluster.faults().heal();
    cluster.wait_leader(Duration::from_secs(20)).await;
    let (applied, digest) = cluster.wait_converged(Duration::from_secs(20)).await;
    // openraft 0.9 restores a leader whose committed vote is its own without an election
    // (nothing appended); a newly elected leader appends one blank entry. Either way no
    // earlier entry is lost or changed.
    assert!(applied >= before.0, "applied {applied} < {}", before.0);
    if applied == before.0 {
        assert_eq!(digest, before.1);
    }

    for i in 0..USERS {
        let name = format!("user{i:03}");
        let u = get_user(&client, POOL, &name)
            .await
            .unwrap_or_else(|| panic!("{name} missing after restart"));
        assert_eq!(u.sub, format!("sub-{name}"));
    }

    let w = client
        .write(create_user(POOL, "after-restart"))
        .await
        .expect("write after restart");
    assert_eq!(w.outcome, Outcome::Applied);
    assert!(w.index > applied);
    let (_, _) = cluster.wait_converged(Duration::from_secs(10)).await;
    for id in cluster.running() {
        assert_eq!(
            local_users(cluster.node(id), POOL).len(),
            USERS + 1,
            "node {id}"
        );
    }
    cluster.shutdown().await;
}
