//! Refresh-token rotation's retry grace (Cognito's RetryGracePeriodSeconds): a client that
//! lost the answer to a refresh and retries with the same token, within the grace and on
//! any gateway, refreshes again instead of revoking its family; the token two generations
//! back, or the replaced one after the grace, still revokes it. GetTokensFromRefreshToken
//! takes the client's secret itself.

use crate::support::pools::*;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv};
use std::time::Duration;

const PASSWORD: &str = "Grace-Passw0rd!";

async fn client_with(
    gw: &GatewayHandle,
    pool: &str,
    grace_s: u32,
    secret: bool,
) -> pb::UserPoolClientType {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "retrying".into(),
            generate_secret: secret,
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            enable_refresh_token_rotation: true,
            retry_grace_period_seconds: grace_s,
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create client: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool_client
        .unwrap()
}

async fn refresh(gw: &GatewayHandle, client: &str, token: &str) -> Result<String, tonic::Status> {
    auth_client(gw)
        .await
        .initiate_auth(refresh_auth(client, token))
        .await
        .map(|r| r.into_inner().authentication_result.unwrap().refresh_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_within_the_grace_refreshes_and_older_tokens_still_revoke() {
    let env = TestEnv::start(3, 2).await;
    let (pool, public) = pool_and_client(env.a(), true).await;
    confirmed_user(
        env.a(),
        &pool,
        &public,
        "rita",
        "rita@example.com",
        PASSWORD,
    )
    .await;
    let client = client_with(env.a(), &pool, 30, false).await;
    assert_eq!(client.retry_grace_period_seconds, 30);
    let id = client.client_id;

    let r0 = sign_in(env.a(), &id, "rita", PASSWORD).await.refresh_token;
    let r1 = refresh(env.a(), &id, &r0).await.expect("first refresh");
    // The answer was lost; the client retries with r0 through the other gateway.
    let r1_again = refresh(env.b(), &id, &r0)
        .await
        .expect("a retry within the grace");
    // Both answers are good for the next refresh (and, within the grace of that one, the
    // other answer is a retry of it).
    let r2 = refresh(env.a(), &id, &r1_again)
        .await
        .expect("the retry's token");
    refresh(env.b(), &id, &r1)
        .await
        .expect("the first answer, within the grace");
    // r0 is two generations back now: a reuse, grace or not; the family is revoked, and
    // the newest token with it.
    let e = refresh(env.b(), &id, &r0).await.expect_err("two back");
    assert_eq!(e.message(), "Refresh Token has been revoked");
    let e = refresh(env.a(), &id, &r2)
        .await
        .expect_err("a revoked family");
    assert_eq!(e.message(), "Refresh Token has been revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_or_without_one_the_replaced_token_revokes() {
    let env = TestEnv::start(3, 2).await;
    let (pool, public) = pool_and_client(env.a(), true).await;
    confirmed_user(env.a(), &pool, &public, "gil", "gil@example.com", PASSWORD).await;
    let one_second = client_with(env.a(), &pool, 1, false).await.client_id;
    let r0 = sign_in(env.a(), &one_second, "gil", PASSWORD)
        .await
        .refresh_token;
    refresh(env.a(), &one_second, &r0).await.unwrap();
    // Wait out the one-second grace (the stores decide with the proposer's clock).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let e = refresh(env.b(), &one_second, &r0)
        .await
        .expect_err("after the grace");
    assert_eq!(e.message(), "Refresh Token has been revoked");

    // No grace: the first retry already revokes (as before the grace existed).
    let r0 = sign_in(env.a(), &public, "gil", PASSWORD)
        .await
        .refresh_token;
    refresh(env.a(), &public, &r0).await.unwrap();
    let e = refresh(env.b(), &public, &r0).await.expect_err("no grace");
    assert_eq!(e.message(), "Refresh Token has been revoked");

    // More than Cognito's 60 s is refused.
    let e = admin_client(env.a())
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "too-long".into(),
            enable_refresh_token_rotation: true,
            retry_grace_period_seconds: 61,
            ..Default::default()
        }))
        .await
        .expect_err("61 s");
    assert_eq!(exception(&e), "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_tokens_from_refresh_token_takes_the_client_secret() {
    let env = TestEnv::start(3, 2).await;
    let (pool, public) = pool_and_client(env.a(), false).await;
    confirmed_user(env.a(), &pool, &public, "kim", "kim@example.com", PASSWORD).await;
    let secret_client = client_with(env.a(), &pool, 0, true).await;
    let (id, secret) = (secret_client.client_id, secret_client.client_secret);
    let mut auth = auth_client(env.b()).await;
    let hash = signet_gateway::secret_hash(&secret, "kim", &id);
    let r0 = auth
        .initiate_auth(pb::InitiateAuthRequest {
            client_id: id.clone(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: params(&[
                ("USERNAME", "kim"),
                ("PASSWORD", PASSWORD),
                ("SECRET_HASH", &hash),
            ]),
            client_metadata: Default::default(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication_result
        .unwrap()
        .refresh_token;
    let call = |secret: &str| pb::GetTokensFromRefreshTokenRequest {
        refresh_token: r0.clone(),
        client_id: id.clone(),
        client_secret: secret.into(),
    };
    for wrong in ["", "not-the-secret"] {
        let e = auth
            .get_tokens_from_refresh_token(call(wrong))
            .await
            .expect_err("a missing or wrong secret");
        assert_eq!(exception(&e), "NotAuthorizedException", "{wrong:?}");
    }
    let r = auth
        .get_tokens_from_refresh_token(call(&secret))
        .await
        .expect("the secret")
        .into_inner();
    let tokens = r.authentication_result.expect("tokens");
    assert!(!tokens.id_token.is_empty() && !tokens.refresh_token.is_empty());

    // A public client needs none.
    let r = sign_in(env.a(), &public, "kim", PASSWORD)
        .await
        .refresh_token;
    auth.get_tokens_from_refresh_token(pb::GetTokensFromRefreshTokenRequest {
        refresh_token: r,
        client_id: public,
        client_secret: String::new(),
    })
    .await
    .expect("a public client");
}
