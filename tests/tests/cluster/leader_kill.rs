//! No acknowledged write is lost when the leader dies mid-load, and retried writes are
//! applied once: 16 concurrent clients send 2,000 writes to a 3-node cluster, the leader is
//! killed after a quarter of them, and every surviving member ends with every acknowledged
//! write exactly once (with the payload of that write) and the same state digest.

use crate::support::*;
use signet_core::Outcome;
use signet_testkit::{wait_for, TestCluster};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const WRITERS: usize = 16;
const PER_WRITER: usize = 125;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_leader_kill() {
    let mut cluster = TestCluster::start(3).await;
    let client = cluster.client();
    assert_eq!(
        client.write(create_pool(POOL)).await.unwrap().outcome,
        Outcome::Applied
    );

    let acked = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = client.clone();
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut failed = Vec::new();
            for i in 0..PER_WRITER {
                let name = format!("w{w:02}-{i:03}");
                match client.write(create_user(POOL, &name)).await {
                    Ok(written) => {
                        // A retry after the leader change must return this write's own
                        // outcome, never "username exists" from its first attempt.
                        assert_eq!(written.outcome, Outcome::Applied, "{name}");
                        acked.fetch_add(1, Ordering::Relaxed);
                        ok.push(name);
                    }
                    Err(e) => failed.push((name, e.to_string())),
                }
            }
            (ok, failed)
        }));
    }

    let total = WRITERS * PER_WRITER;
    wait_for("a quarter of the writes", Duration::from_secs(60), || {
        (acked.load(Ordering::Relaxed) >= total / 4).then_some(())
    })
    .await;
    let old_leader = cluster.wait_leader(Duration::from_secs(10)).await;
    cluster.kill(old_leader).await;

    let mut ok = BTreeSet::new();
    let mut failed = BTreeMap::new();
    for w in writers {
        let (o, f) = w.await.expect("writer task");
        ok.extend(o);
        failed.extend(f);
    }
    // The client retries through the failover, so every write is acknowledged.
    assert!(failed.is_empty(), "writes failed: {failed:?}");
    assert_eq!(ok.len(), total);

    let survivors = cluster.running();
    cluster
        .wait_leader_among(&survivors, Duration::from_secs(20))
        .await;
    let (_, digest) = cluster.wait_converged(Duration::from_secs(30)).await;
    for id in &survivors {
        let users = local_users(cluster.node(*id), POOL);
        let names: BTreeSet<String> = users.iter().map(|u| u.username.clone()).collect();
        assert_eq!(
            names.len(),
            users.len(),
            "node {id}: a username appears twice"
        );
        let subs: BTreeSet<&str> = users.iter().map(|u| u.sub.as_str()).collect();
        assert_eq!(subs.len(), users.len(), "node {id}: a sub appears twice");
        assert_eq!(
            names, ok,
            "node {id}: users differ from acknowledged writes"
        );
        for u in &users {
            assert_eq!(
                u.sub,
                format!("sub-{}", u.username),
                "node {id}: wrong payload"
            );
        }
    }

    // The killed node comes back from its data dir and converges to the same state.
    cluster.restart(old_leader).await;
    let (_, digest_after) = cluster.wait_converged(Duration::from_secs(30)).await;
    assert_eq!(digest, digest_after);
    assert_eq!(local_users(cluster.node(old_leader), POOL).len(), total);
    cluster.shutdown().await;
}
