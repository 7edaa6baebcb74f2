//! The pre-token-generation hook: a test HTTP server plays the webhook. It adds a claim,
//! suppresses one, edits machine-token scopes (V3), and times out under both failure modes.

use crate::support::hooks::{Receiver, Reply};
use crate::support::identity::claims_of;
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client};
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";

/// Answer every hook call with `body`, `delay` late.
fn answer(rx: &Receiver, body: Value, delay: Duration) {
    rx.respond(move |_| Reply::ok(body.clone()).after(delay));
}

fn hook(
    url: &str,
    version: &str,
    timeout_ms: u32,
    fail_open: bool,
) -> pb::PreTokenGenerationConfigType {
    pb::PreTokenGenerationConfigType {
        url: url.into(),
        version: version.into(),
        timeout_ms,
        fail_open,
    }
}

async fn set_hook(env: &TestEnv, pool: &str, h: pb::PreTokenGenerationConfigType) {
    admin_client(env.a())
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.into(),
            pre_token_generation: Some(h),
            ..Default::default()
        }))
        .await
        .expect("set hook");
}

async fn try_sign_in(
    env: &TestEnv,
    client: &str,
) -> Result<pb::AuthenticationResultType, tonic::Status> {
    auth_client(env.b())
        .await
        .initiate_auth(password_auth(client, "hana", PASSWORD))
        .await
        .map(|r| r.into_inner().authentication_result.expect("tokens"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_edits_claims_and_fails_as_configured() {
    let env = TestEnv::start(3, 2).await;
    let hook_rx = Receiver::start().await;
    let url = format!("{}/hook", hook_rx.base);
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool,
        &client,
        "hana",
        "hana@example.com",
        PASSWORD,
    )
    .await;

    // Without a hook nothing is called.
    let plain = try_sign_in(&env, &client).await.expect("sign in");
    assert!(hook_rx.received().is_empty());
    assert_eq!(claims_of(&plain.id_token)["email"], "hana@example.com");

    // V2: add a claim to both tokens, suppress e-mail from the ID token, narrow scopes.
    answer(
        &hook_rx,
        json!({"response": {"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme"}, "claimsToSuppress": ["email"]},
        "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme", "tier": 3},
            "scopesToAdd": ["orders/read"]}}}}),
        Duration::ZERO,
    );
    set_hook(&env, &pool, hook(&url, "V2_0", 1000, false)).await;
    // Gateways follow the pool change through Watch: wait until b sees it.
    let tokens =
        signet_testkit::wait_for_async("hook in effect", Duration::from_secs(10), || async {
            let t = try_sign_in(&env, &client).await.ok()?;
            (claims_of(&t.id_token)["tenant"] == "acme").then_some(t)
        })
        .await;
    let (id, access) = (claims_of(&tokens.id_token), claims_of(&tokens.access_token));
    assert_eq!(id["tenant"], "acme");
    assert!(id.get("email").is_none(), "suppressed: {id}");
    assert_eq!(
        (access["tenant"].clone(), access["tier"].clone()),
        (json!("acme"), json!(3))
    );
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin orders/read");
    // The signed tokens still verify and keep their protected claims.
    assert_eq!(id["cognito:username"], "hana");
    assert_eq!(id["token_use"], "id");
    let event = hook_rx.received().last().unwrap().json();
    assert_eq!(event["version"], "2");
    assert_eq!(event["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(event["userPoolId"], pool.as_str());
    assert_eq!(event["userName"], "hana");
    assert_eq!(event["callerContext"]["clientId"], client.as_str());
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "hana@example.com"
    );

    // A hook trying to change a protected claim fails; fail-closed refuses the sign-in.
    answer(
        &hook_rx,
        json!({"response": {"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {"claimsToAddOrOverride": {"sub": "someone-else"}}}}}),
        Duration::ZERO,
    );
    let err = try_sign_in(&env, &client)
        .await
        .expect_err("protected claim");
    assert_eq!(exception(&err), "UnexpectedLambdaException");
    assert!(err.message().contains("sub"), "{}", err.message());

    // A hook slower than its timeout: fail-closed refuses...
    answer(
        &hook_rx,
        json!({"response": {}}),
        Duration::from_millis(600),
    );
    set_hook(&env, &pool, hook(&url, "V2_0", 200, false)).await;
    let err =
        signet_testkit::wait_for_async("timeout in effect", Duration::from_secs(10), || async {
            try_sign_in(&env, &client).await.err()
        })
        .await;
    assert_eq!(exception(&err), "UnexpectedLambdaException");
    assert!(err.message().contains("200 ms"), "{}", err.message());
    // ...and fail-open issues the tokens unchanged.
    set_hook(&env, &pool, hook(&url, "V2_0", 200, true)).await;
    let t =
        signet_testkit::wait_for_async("fail-open in effect", Duration::from_secs(10), || async {
            try_sign_in(&env, &client).await.ok()
        })
        .await;
    let id = claims_of(&t.id_token);
    assert_eq!(id["email"], "hana@example.com");
    assert!(id.get("tenant").is_none());

    // Invalid hook settings are refused.
    for bad in [
        hook("ftp://x/hook", "V2_0", 1000, false),
        hook(&url, "V9_0", 1000, false),
        hook(&url, "V2_0", 99_999, false),
    ] {
        let err = admin_client(env.a())
            .await
            .update_user_pool(admin(pb::UpdateUserPoolRequest {
                user_pool_id: pool.clone(),
                pre_token_generation: Some(bad),
                ..Default::default()
            }))
            .await
            .expect_err("bad hook");
        assert_eq!(exception(&err), "InvalidParameterException");
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_three_edits_machine_tokens() {
    let env = TestEnv::start(3, 2).await;
    let hook_rx = Receiver::start().await;
    let url = format!("{}/hook", hook_rx.base);
    let mut a = admin_client(env.a()).await;
    let pool = a
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: "machines".into(),
            pre_token_generation: Some(hook(&url, "V2_0", 1000, false)),
            ..Default::default()
        }))
        .await
        .expect("pool")
        .into_inner()
        .user_pool
        .unwrap()
        .id;
    a.create_resource_server(admin(pb::ResourceServerType {
        user_pool_id: pool.clone(),
        identifier: "orders".into(),
        name: "Orders".into(),
        scopes: ["read", "write", "audit"]
            .iter()
            .map(|s| pb::ResourceServerScopeType {
                scope_name: s.to_string(),
                scope_description: String::new(),
            })
            .collect(),
    }))
    .await
    .expect("resource server");
    let client = a
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "svc".into(),
            generate_secret: true,
            allowed_oauth_flows: vec!["client_credentials".into()],
            allowed_oauth_scopes: vec!["orders/read".into(), "orders/write".into()],
            ..Default::default()
        }))
        .await
        .expect("client")
        .into_inner()
        .user_pool_client
        .unwrap();
    let issue = || async {
        auth_client(env.b())
            .await
            .issue_client_token(pb::IssueClientTokenRequest {
                user_pool_id: pool.clone(),
                client_id: client.client_id.clone(),
                client_secret: client.client_secret.clone(),
                scope: String::new(),
            })
            .await
            .expect("client token")
            .into_inner()
    };
    // V2 does not run for machine tokens.
    let t = issue().await;
    assert_eq!(t.scope, "orders/read orders/write");
    assert!(hook_rx.received().is_empty());

    answer(
        &hook_rx,
        json!({"response": {"claimsAndScopeOverrideDetails": {
        "accessTokenGeneration": {"claimsToAddOrOverride": {"svc_tier": "gold"},
            "scopesToAdd": ["orders/audit"], "scopesToSuppress": ["orders/write"]}}}}),
        Duration::ZERO,
    );
    a.update_user_pool(admin(pb::UpdateUserPoolRequest {
        user_pool_id: pool.clone(),
        pre_token_generation: Some(hook(&url, "V3_0", 1000, false)),
        ..Default::default()
    }))
    .await
    .expect("V3");
    let t = signet_testkit::wait_for_async("V3 in effect", Duration::from_secs(10), || async {
        let t = issue().await;
        (t.scope != "orders/read orders/write").then_some(t)
    })
    .await;
    assert_eq!(t.scope, "orders/read orders/audit");
    let c = claims_of(&t.access_token);
    assert_eq!(c["scope"], "orders/read orders/audit");
    assert_eq!(c["svc_tier"], "gold");
    assert_eq!(c["client_id"], client.client_id.as_str());
    let event = hook_rx.received().last().unwrap().json();
    assert_eq!(event["triggerSource"], "TokenGeneration_ClientCredentials");
    assert_eq!(
        event["request"]["scopes"],
        json!(["orders/read", "orders/write"])
    );
    assert!(event["userName"].is_null());
    env.shutdown().await;
}
