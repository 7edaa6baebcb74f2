//! A three-node cluster takes writes through any member and every member converges.

use crate::support::*;
use signet_core::Outcome;
use signet_store::ReadConsistency;
use signet_testkit::TestCluster;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_replicate_and_reads_see_them() {
    let cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let w = client.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied);
    for i in 0..20 {
        let w = client
            .write(create_user(POOL, &format!("user{i:02}")))
            .await
            .expect("write");
        assert_eq!(w.outcome, Outcome::Applied);
    }
    let u = get_user(&client, POOL, "user07")
        .await
        .expect("user07 exists");
    assert_eq!(u.sub, "sub-user07");

    // Read-your-writes on a follower via AT_LEAST.
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let follower = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .unwrap();
    let last = client.write(create_user(POOL, "late")).await.unwrap().index;
    let one = signet_store::StoreClient::new(vec![cluster.api_addr(follower)]);
    let q = signet_core::Query::GetUser {
        pool_id: POOL.into(),
        username: "late".into(),
    };
    let (res, applied) = one.read(&q, ReadConsistency::AtLeast(last)).await.unwrap();
    assert!(applied >= last);
    assert!(matches!(res, signet_core::QueryResult::User(Some(_))));

    let (_, digest) = cluster.wait_converged(Duration::from_secs(10)).await;
    assert_eq!(digest.len(), 64);
    for id in cluster.running() {
        assert_eq!(local_users(cluster.node(id), POOL).len(), 21, "node {id}");
    }
    cluster.shutdown().await;
}
