//! Linearizable reads share leadership checks (one round serves every read that arrived
//! before it began) and stay linearizable: under 64 concurrent readers every write
//! acknowledged before a read started is seen by it, and the leader ran far fewer rounds
//! than it answered reads.

use crate::support::*;
use signet_store::StoreClient;
use signet_testkit::TestCluster;
use std::time::Duration;

const WRITERS: usize = 16;
const WRITES_EACH: usize = 10;
const READERS: usize = 48;
const READS_EACH: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_linearizable_reads_see_every_acknowledged_write() {
    let cluster = TestCluster::start(3).await;
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let writer = cluster.client();
    writer.write(create_pool(POOL)).await.expect("pool");
    writer.write(create_user(POOL, "seed")).await.expect("seed");
    // Readers reach the cluster through a follower (its "not leader" names the leader).
    let follower = cluster.api_addr(cluster.others(leader)[0]);
    let (before, rounds_before) = cluster.node(leader).linearizable_reads();

    let mut tasks = Vec::new();
    // Each writer reads its own write back through another client, right after the ack.
    for w in 0..WRITERS {
        let (writer, reader) = (writer.clone(), StoreClient::new(vec![follower.clone()]));
        tasks.push(tokio::spawn(async move {
            for i in 0..WRITES_EACH {
                let name = format!("w{w}-{i}");
                writer.write(create_user(POOL, &name)).await.expect("write");
                let got = get_user(&reader, POOL, &name).await;
                assert_eq!(
                    got.map(|u| u.username),
                    Some(name),
                    "an acknowledged write unseen"
                );
            }
        }));
    }
    for _ in 0..READERS {
        let reader = StoreClient::new(vec![follower.clone()]);
        tasks.push(tokio::spawn(async move {
            for _ in 0..READS_EACH {
                assert!(get_user(&reader, POOL, "seed").await.is_some());
            }
        }));
    }
    for t in tasks {
        t.await.expect("no reader or writer failed");
    }

    let (after, rounds_after) = cluster.node(leader).linearizable_reads();
    let (reads, rounds) = (after - before, rounds_after - rounds_before);
    let expected = (WRITERS * WRITES_EACH + READERS * READS_EACH) as u64;
    assert!(reads >= expected, "{reads} reads counted, {expected} made");
    assert!(
        rounds * 2 <= reads,
        "{rounds} leadership rounds for {reads} concurrent reads: not shared"
    );
    cluster.shutdown().await;
}
