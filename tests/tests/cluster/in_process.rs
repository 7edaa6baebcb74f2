//! A client in the store's own process (`signet dev`'s gateway) calls the node without a
//! socket (reads and writes directly, the other calls through the API service), and keeps
//! the network client's behaviour: writes, linearizable reads, the Watch stream and the
//! membership call all answer, and a follower's "not leader" still sends the call to the
//! leader over the network.

use crate::support::*;
use signet_store::StoreClient;
use signet_testkit::TestCluster;
use std::time::Duration;

/// An address nothing listens on: a call that reached for a socket would fail there.
const NO_SOCKET: &str = "127.0.0.1:1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_client_reaches_its_node_without_a_socket() {
    let cluster = TestCluster::start(1).await;
    let id = cluster.wait_leader(Duration::from_secs(5)).await;
    let node = cluster.node(id);
    let client = StoreClient::in_process(
        NO_SOCKET.into(),
        node.in_process_api(),
        node.in_process_member(),
    );

    let pool = client.write(create_pool(POOL)).await.expect("write");
    let user = client.write(create_user(POOL, "ann")).await.expect("write");
    assert!(user.index > pool.index);
    let got = get_user(&client, POOL, "ann").await.expect("ann is there");
    assert_eq!(got.username, "ann");
    // The same rows through the network client.
    let network = cluster.client();
    assert_eq!(get_user(&network, POOL, "ann").await, Some(got));

    let mut stream = client.watch(user.index).await.expect("watch");
    let change = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("a change within 10 s")
        .expect("stream ok")
        .expect("stream open");
    assert_eq!(change.index, user.index);

    // The membership call answers in process too (the gateway asks it periodically): the
    // node names its advertised address, which the client learns beside its seed.
    let members = client.refresh_members().await.expect("status");
    assert_eq!(members, vec![NO_SOCKET.to_string(), cluster.api_addr(id)]);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_client_of_a_follower_follows_the_leader() {
    let cluster = TestCluster::start(3).await;
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let follower = cluster.others(leader)[0];
    let client = cluster.node(follower).in_process_client();
    // Writes and linearizable reads are the leader's: the follower's in-process answer
    // names it, and the client goes there over the network.
    client
        .write(create_pool(POOL))
        .await
        .expect("write via the leader");
    client.write(create_user(POOL, "bob")).await.expect("write");
    assert_eq!(
        get_user(&client, POOL, "bob").await.map(|u| u.username),
        Some("bob".to_string())
    );
    cluster.shutdown().await;
}
