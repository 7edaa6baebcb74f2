//! A gateway keeps working once every store it was started with has been replaced by
//! nodes at new addresses (joined under new ids, the old ones removed, as an operator
//! replaces machines): it learns the members' addresses from the stores themselves
//! (`Cluster.Status`, every few seconds), not only from its `--store` list. Before, it
//! answered "store unavailable" for good (`signet chaos run --faults wipe-store` long
//! enough to replace all three stores ended that way).

use crate::support::membership::info;
use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, wait_for, wait_for_async, TestEnv};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_reaches_the_stores_that_replaced_every_one_it_was_started_with() {
    let mut env = TestEnv::start(3, 1).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    for old in 1..=3u64 {
        let new = env.cluster_mut().add_fresh_node().await;
        // A client of the members running now (the removed ones are gone).
        let store = env.cluster().client();
        store
            .join(info(env.cluster().node(new)))
            .await
            .expect("join");
        // Within its refresh interval the gateway knows the new member (an operator
        // replacing machines one at a time leaves at least that between two).
        let addr = env.cluster().api_addr(new);
        wait_for(
            "the gateway to learn the new member",
            Duration::from_secs(30),
            || env.a().store_endpoints().contains(&addr).then_some(()),
        )
        .await;
        store.remove(old).await.expect("remove");
        env.cluster_mut().kill(old).await;
    }
    assert_eq!(env.cluster().running(), vec![4, 5, 6]);

    // Through the gateway, started knowing only nodes 1-3: a sign-up (a write) and its
    // confirmation go through the new members.
    let (auth, adm) = (auth_client(env.a()).await, admin_client(env.a()).await);
    let n = AtomicU32::new(0);
    let username = wait_for_async(
        "a sign-up through the gateway",
        Duration::from_secs(60),
        || {
            let name = format!("after-{}", n.fetch_add(1, Ordering::SeqCst));
            let (mut auth, mut adm) = (auth.clone(), adm.clone());
            let (pool, client) = (pool.clone(), client.clone());
            async move {
                auth.sign_up(pb::SignUpRequest {
                    client_id: client,
                    username: name.clone(),
                    password: "Replaced-Stores-1".into(),
                    ..Default::default()
                })
                .await
                .ok()?;
                adm.admin_confirm_sign_up(admin(user_ref(&pool, &name)))
                    .await
                    .ok()?;
                Some(name)
            }
        },
    )
    .await;
    env.cluster().wait_converged(Duration::from_secs(20)).await;
    let users = crate::support::local_users(env.cluster().node(4), &pool);
    assert!(
        users.iter().any(|u| u.username == username),
        "{username} is on node 4"
    );
    env.shutdown().await;
}
