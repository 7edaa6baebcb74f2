//! Outbound calls (DESIGN §8): webhooks, pre-token hooks and OIDC JWKS URLs must be https,
//! plain http only to loopback and only when the gateway allows it — refused when
//! configured, and again when called — and every webhook and hook POST carries a
//! `Signet-Signature` that a receiver verifies with its own HMAC code.

use crate::support::hooks::{hex, hmac_sha256, pool_hook_key, verify_signature, Receiver};
use crate::support::pools::*;
use signet_gateway::{GatewayConfig, NotifierConfig};
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, identity_admin_client, start_gateway, test_gateway_config,
    TestCluster, TEST_WEBHOOK_SECRET,
};
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";

#[test]
fn the_receivers_hmac_is_rfc_4231() {
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

async fn set_hook(
    gw: &signet_gateway::GatewayHandle,
    pool: &str,
    url: &str,
) -> Result<(), tonic::Status> {
    admin_client(gw)
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.into(),
            pre_token_generation: Some(pb::PreTokenGenerationConfigType {
                url: url.into(),
                version: "V1_0".into(),
                timeout_ms: 2000,
                fail_open: false,
            }),
            ..Default::default()
        }))
        .await
        .map(|_| ())
}

async fn oidc_pool(
    gw: &signet_gateway::GatewayHandle,
    jwks_url: &str,
) -> Result<(), tonic::Status> {
    identity_admin_client(gw)
        .await
        .create_identity_pool(admin(pb::IdentityPoolType {
            identity_pool_name: "oidc".into(),
            open_id_connect_providers: vec![pb::OpenIdConnectProviderType {
                issuer: "https://idp.example.com".into(),
                jwks_url: jwks_url.into(),
                client_ids: vec!["rp".into()],
            }],
            ..Default::default()
        }))
        .await
        .map(|_| ())
}

fn refused(r: Result<(), tonic::Status>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(
        exception(&e),
        "InvalidParameterException",
        "{what}: {}",
        e.message()
    );
    assert!(e.message().contains("https"), "{what}: {}", e.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_urls_are_https_or_allowed_loopback() {
    let cluster = TestCluster::start(1).await;
    let strict_cfg = || {
        let mut c: GatewayConfig = test_gateway_config();
        c.allow_insecure_loopback_http = false;
        c
    };
    let (strict, lax) = tokio::join!(
        start_gateway(cluster.api_addrs(), strict_cfg()),
        start_gateway(cluster.api_addrs(), test_gateway_config())
    );
    let receiver = Receiver::start().await;
    let base = receiver.base.clone();
    let loopback = format!("{base}/hook");
    let (pool, client) = pool_and_client(&lax, false).await;

    // Pre-token hooks, when the pool is written.
    refused(
        set_hook(&strict, &pool, "http://example.com/hook").await,
        "http non-loopback",
    );
    refused(
        set_hook(&lax, &pool, "http://example.com/hook").await,
        "http non-loopback, flag",
    );
    refused(
        set_hook(&strict, &pool, &loopback).await,
        "loopback http without the flag",
    );
    let e = set_hook(&lax, &pool, "http://127.0.0.1@example.com/")
        .await
        .expect_err("credentials in a URL");
    assert_eq!(
        exception(&e),
        "InvalidParameterException",
        "{}",
        e.message()
    );
    set_hook(&strict, &pool, "https://hooks.example.com/hook")
        .await
        .expect("https is fine");

    // External OIDC providers' JWKS, when the identity pool is written.
    refused(
        oidc_pool(&lax, "http://idp.example.com/jwks").await,
        "http JWKS",
    );
    refused(
        oidc_pool(&strict, "http://127.0.0.1:9/jwks").await,
        "loopback JWKS, no flag",
    );
    oidc_pool(&lax, "http://127.0.0.1:9/jwks")
        .await
        .expect("loopback JWKS with the flag");
    oidc_pool(&strict, "https://idp.example.com/jwks")
        .await
        .expect("https JWKS");

    // And when called: a hook another gateway was allowed to store is not called by a
    // gateway without the flag (the sign-in fails closed, the hook hears nothing).
    set_hook(&lax, &pool, &loopback)
        .await
        .expect("loopback hook with the flag");
    confirmed_user(&lax, &pool, &client, "hana", "hana@example.com", PASSWORD).await;
    let err = auth_client(&strict)
        .await
        .initiate_auth(password_auth(&client, "hana", PASSWORD))
        .await
        .expect_err("the strict gateway refuses to call a loopback http hook");
    assert_eq!(
        exception(&err),
        "UnexpectedLambdaException",
        "{}",
        err.message()
    );
    assert!(receiver.received().is_empty());
    auth_client(&lax)
        .await
        .initiate_auth(password_auth(&client, "hana", PASSWORD))
        .await
        .expect("the gateway allowed to calls it");
    assert_eq!(receiver.received().len(), 1);

    strict.shutdown().await;
    lax.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_hook_calls_are_signed() {
    let cluster = TestCluster::start(1).await;
    let receiver = Receiver::start().await;
    let base = receiver.base.clone();
    let mut cfg = test_gateway_config();
    cfg.notifier = NotifierConfig::Webhook(format!("{base}/codes"));
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let (pool, client) = pool_and_client(&gw, false).await;

    // The code webhook.
    let mut auth = auth_client(&gw).await;
    auth.sign_up(pb::SignUpRequest {
        client_id: client.clone(),
        username: "ivo".into(),
        password: PASSWORD.into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: "ivo@example.com".into(),
        }],
        ..Default::default()
    })
    .await
    .expect("sign up");
    let code_call = signet_testkit::wait_for("the code webhook", Duration::from_secs(10), || {
        receiver.received().first().cloned()
    })
    .await;
    let secret = TEST_WEBHOOK_SECRET.as_bytes();
    verify_signature(&code_call, secret).expect("the code webhook's signature verifies");
    assert!(
        verify_signature(&code_call, b"another-secret-another-secret-xx").is_err(),
        "a wrong secret must not verify"
    );
    let mut tampered = code_call.clone();
    tampered.body.push(b' ');
    assert!(
        verify_signature(&tampered, secret).is_err(),
        "a changed body must not verify"
    );
    let msg: serde_json::Value = serde_json::from_slice(&code_call.body).unwrap();
    auth.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client.clone(),
        username: "ivo".into(),
        confirmation_code: msg["code"].as_str().unwrap().into(),
        ..Default::default()
    })
    .await
    .expect("confirm with the webhook's code");

    // The pre-token hook.
    set_hook(&gw, &pool, &format!("{base}/hook"))
        .await
        .expect("set hook");
    auth.initiate_auth(password_auth(&client, "ivo", PASSWORD))
        .await
        .expect("sign in through the hook");
    let calls = receiver.received();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let hook_call = &calls[1];
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&hook_call.body).unwrap()["triggerSource"],
        "TokenGeneration_Authentication"
    );
    // A pool's hooks are signed with the pool's key, derived from the secret: the code
    // webhook's secret itself does not verify them, nor does another pool's key.
    verify_signature(hook_call, &pool_hook_key(secret, &pool))
        .expect("the hook's signature verifies with the pool's key");
    assert!(verify_signature(hook_call, secret).is_err());
    assert!(verify_signature(hook_call, &pool_hook_key(secret, "eu-other_pool")).is_err());

    gw.shutdown().await;
    cluster.shutdown().await;
}
