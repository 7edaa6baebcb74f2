//! Races decided once, cluster-wide, through compare-and-set in the log: concurrent SignUps
//! of one username on both gateways, and concurrent rotations of one refresh token.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client};
use signet_verify::TokenUse;
use std::sync::Arc;
use tokio::sync::Barrier;

const PASSWORD: &str = "Corr3ct-Horse!";

fn password(i: usize) -> String {
    format!("Pw-{i:02}-Secret!")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sign_ups_of_one_username_make_one_user() {
    const N: usize = 50;
    // Every sign-up hashes its password before the race is decided in the log. With the
    // production admission limits (2 workers and a queue of 16 per gateway on this 2-core
    // machine) 25 simultaneous hashes per gateway overflow the queue and some callers are
    // rightly told TooManyRequests at once (security.rs tests that). This test is about
    // the username race, so its gateways admit every hash.
    let env = TestEnv::start_with(3, 2, |c| {
        c.hash_queue = 64;
        c.hash_queue_deadline = std::time::Duration::from_secs(20);
    })
    .await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let clients = [auth_client(env.a()).await, auth_client(env.b()).await];

    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let mut c = clients[i % 2].clone();
            let barrier = barrier.clone();
            let client_id = client_id.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                c.sign_up(pb::SignUpRequest {
                    client_id,
                    username: "carla".into(),
                    password: password(i),
                    user_attributes: vec![pb::AttributeType {
                        name: "email".into(),
                        value: "carla@example.com".into(),
                    }],
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().user_sub)
                .map_err(|e| exception(&e))
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.expect("task") {
            Ok(sub) => winners.push((i, sub)),
            Err(name) => *refusals.entry(name).or_default() += 1,
        }
    }
    assert_eq!(winners.len(), 1, "exactly one sign-up wins: {winners:?}");
    assert_eq!(
        refusals,
        [("UsernameExistsException".to_string(), N - 1)].into(),
        "every other sign-up is told the name is taken"
    );
    let (winner, sub) = winners.pop().unwrap();

    // One user, the winner's.
    let mut admin_b = admin_client(env.b()).await;
    let user = admin_b
        .admin_get_user(admin(pb::UserRef {
            user_pool_id: pool_id.clone(),
            username: "carla".into(),
        }))
        .await
        .expect("admin get user")
        .into_inner()
        .user
        .expect("user");
    let attr = |name: &str| {
        user.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.clone())
    };
    assert_eq!(attr("sub").as_deref(), Some(sub.as_str()));
    assert_eq!(user.user_status, "UNCONFIRMED");
    let all = admin_b
        .list_users(admin(pb::ListUsersRequest {
            user_pool_id: pool_id.clone(),
            limit: 60,
            ..Default::default()
        }))
        .await
        .expect("list users")
        .into_inner()
        .users;
    assert_eq!(all.len(), 1, "one user in the pool");

    // Its password is the winner's: confirm, then sign in.
    let code = outbox_code(env.a(), &pool_id, "carla", "confirm").await;
    auth_client(env.b())
        .await
        .confirm_sign_up(pb::ConfirmSignUpRequest {
            client_id: client_id.clone(),
            username: "carla".into(),
            confirmation_code: code,
            ..Default::default()
        })
        .await
        .expect("confirm");
    let tokens = sign_in(env.a(), &client_id, "carla", &password(winner)).await;
    let keys = jwks(env.a(), &pool_id).await;
    let id = signet_verify::verify(
        &tokens.id_token,
        &keys,
        &expected(&pool_id, &client_id, TokenUse::Id),
    )
    .expect("id token verifies");
    assert_eq!(id["sub"], sub.as_str());
    let loser = (winner + 1) % N;
    let err = auth_client(env.b())
        .await
        .initiate_auth(password_auth(&client_id, "carla", &password(loser)))
        .await
        .expect_err("a losing sign-up's password");
    assert_eq!(exception(&err), "NotAuthorizedException");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_rotations_of_one_refresh_token_have_one_winner_and_revoke_the_family() {
    const N: usize = 20;
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), true).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "rita",
        "rita@example.com",
        PASSWORD,
    )
    .await;
    let first = sign_in(env.b(), &client_id, "rita", PASSWORD).await;
    assert!(!first.refresh_token.is_empty());

    let clients = [auth_client(env.a()).await, auth_client(env.b()).await];
    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let mut c = clients[i % 2].clone();
            let barrier = barrier.clone();
            let request = refresh_auth(&client_id, &first.refresh_token);
            tokio::spawn(async move {
                barrier.wait().await;
                c.initiate_auth(request)
                    .await
                    .map(|r| r.into_inner().authentication_result.expect("tokens"))
                    .map_err(|e| exception(&e))
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(tokens) => winners.push(tokens),
            Err(name) => *refusals.entry(name).or_default() += 1,
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert_eq!(
        refusals,
        [("NotAuthorizedException".to_string(), N - 1)].into(),
        "every other presentation is refused"
    );
    let won = winners.pop().unwrap();
    assert!(
        !won.refresh_token.is_empty(),
        "rotation returns a new refresh token"
    );
    assert_ne!(won.refresh_token, first.refresh_token);

    // The losers presented an already-rotated token: reuse, so the whole family is revoked,
    // the winner's new refresh token included, and the access tokens descending from it.
    for gw in [env.a(), env.b()] {
        let mut auth = auth_client(gw).await;
        for token in [&won.refresh_token, &first.refresh_token] {
            let err = auth
                .initiate_auth(refresh_auth(&client_id, token))
                .await
                .expect_err("the family is revoked");
            assert_eq!(exception(&err), "NotAuthorizedException");
        }
        let err = auth
            .get_user(pb::AccessTokenRequest {
                access_token: won.access_token.clone(),
            })
            .await
            .expect_err("an access token of the revoked family");
        assert_eq!(exception(&err), "NotAuthorizedException");
    }
    // A new sign-in starts a new family, which rotates normally.
    let again = sign_in(env.a(), &client_id, "rita", PASSWORD).await;
    let rotated = auth_client(env.b())
        .await
        .initiate_auth(refresh_auth(&client_id, &again.refresh_token))
        .await
        .expect("refresh in a new family")
        .into_inner()
        .authentication_result
        .expect("tokens");
    assert!(!rotated.refresh_token.is_empty());
    env.shutdown().await;
}
