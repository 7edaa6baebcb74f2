//! `Store.Watch` streams every applied write's keys, in log order, from any member; a
//! watcher that resumes from an index it already saw gets only what came after.

use crate::support::*;
use signet_core::Table;
use signet_store::StoreClient;
use signet_testkit::TestCluster;
use std::time::Duration;

async fn next_change(
    stream: &mut tonic::Streaming<signet_proto::store::Change>,
) -> signet_proto::store::Change {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("a change within 10 s")
        .expect("stream ok")
        .expect("stream open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_streams_applied_keys_in_order() {
    let cluster = TestCluster::start(3).await;
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let follower = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .unwrap();
    let client = cluster.client();
    let watcher = StoreClient::new(vec![cluster.api_addr(follower)]);

    let pool = client.write(create_pool(POOL)).await.unwrap();
    let mut stream = watcher.watch(pool.index).await.expect("watch");
    let mut indexes = vec![];
    for name in ["ann", "bob", "cy"] {
        indexes.push(client.write(create_user(POOL, name)).await.unwrap().index);
    }

    // The pool's own entry first (we asked from its index), then the three users.
    let c = next_change(&mut stream).await;
    assert_eq!(c.index, pool.index);
    assert!(!c.reset);
    assert_eq!(c.keys.len(), 1);
    assert_eq!(c.keys[0].table, u32::from(Table::Pools.prefix()));
    assert_eq!(c.keys[0].key, POOL.as_bytes());
    for (i, name) in ["ann", "bob", "cy"].iter().enumerate() {
        let c = next_change(&mut stream).await;
        assert_eq!(c.index, indexes[i]);
        let users: Vec<_> = c
            .keys
            .iter()
            .filter(|k| k.table == u32::from(Table::Users.prefix()))
            .collect();
        assert_eq!(users.len(), 1, "{c:?}");
        assert!(users[0].key.ends_with(name.as_bytes()));
        // The secondary index is reported too.
        assert!(c
            .keys
            .iter()
            .any(|k| k.table == u32::from(Table::UsersBySub.prefix())));
    }

    // Resume after the second user: only the third arrives.
    let mut resumed = watcher.watch(indexes[2]).await.expect("watch");
    let c = next_change(&mut resumed).await;
    assert_eq!(c.index, indexes[2]);
    assert!(!c.reset);
    cluster.shutdown().await;
}
