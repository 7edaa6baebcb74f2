//! Read-your-writes across gateways: a write's answer carries `x-signet-consistency`, and a
//! call that presents it to another gateway is served from state at least that new, even
//! when that gateway's caches lag (here held back on purpose by seconds).

use crate::support::pools::{confirmed_user, exception, password_auth, pool_and_client};
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway, test_gateway_config, TestCluster,
};

const PASSWORD: &str = "Corr3ct-Horse!";
const HEADER: &str = "x-signet-consistency";

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(HEADER, token.parse().unwrap());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consistency_token_gets_a_lagging_gateway_to_serve_the_write() {
    let cluster = TestCluster::start(1).await;
    let a = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let lagging = test_gateway_config();
    let hold = lagging.change_stream_delay_ms.clone();
    let b = start_gateway(cluster.api_addrs(), lagging).await;
    // From now on B's caches see no change for far longer than the test runs (a change
    // evicting the client would make B read the store and hide the staleness).
    hold.store(600_000, std::sync::atomic::Ordering::Relaxed);
    let (pool, client) = pool_and_client(&a, false).await;
    confirmed_user(&a, &pool, &client, "alice", "alice@example.com", PASSWORD).await;
    // B has the client in its cache.
    let mut auth_b = auth_client(&b).await;
    auth_b
        .initiate_auth(password_auth(&client, "alice", PASSWORD))
        .await
        .expect("sign in on B");

    // A new client made on A is usable on B at once, with the token.
    let created = admin_client(&a)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "second".into(),
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
            ..Default::default()
        }))
        .await
        .expect("create client");
    let token = created
        .metadata()
        .get(HEADER)
        .expect("a write answers with its token")
        .to_str()
        .unwrap()
        .to_string();
    assert!(token.parse::<u64>().unwrap() > 0);
    let second = created.into_inner().user_pool_client.unwrap().client_id;
    auth_b
        .initiate_auth(with_token(
            password_auth(&second, "alice", PASSWORD),
            &token,
        ))
        .await
        .expect("the new client on B");
    // Reads answer no token.
    let read = admin_client(&a)
        .await
        .describe_user_pool(admin(pb::UserPoolRef {
            user_pool_id: pool.clone(),
        }))
        .await
        .unwrap();
    assert!(read.metadata().get(HEADER).is_none());

    // The first client is disabled on A. B's caches have not seen it yet (they are held
    // back): without the token B still lets alice in with it…
    let disabled = admin_client(&a)
        .await
        .update_user_pool_client(admin(pb::UpdateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_id: client.clone(),
            disabled: Some(true),
            ..Default::default()
        }))
        .await
        .expect("disable client");
    let token = disabled
        .metadata()
        .get(HEADER)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    auth_b
        .initiate_auth(password_auth(&client, "alice", PASSWORD))
        .await
        .expect("a lagging cache, no token: the old client still");
    // …with it, B reads past its caches and refuses.
    let refused = auth_b
        .initiate_auth(with_token(
            password_auth(&client, "alice", PASSWORD),
            &token,
        ))
        .await
        .expect_err("the token shows B the disabled client");
    assert_eq!(
        exception(&refused),
        "NotAuthorizedException",
        "{}",
        refused.message()
    );
    // A token from the future (another cluster, a typo) costs only cache bypasses.
    auth_b
        .initiate_auth(with_token(
            password_auth(&second, "alice", PASSWORD),
            "999999999",
        ))
        .await
        .expect("an unreachable token reads the store");
    b.shutdown().await;
    a.shutdown().await;
    cluster.shutdown().await;
}
