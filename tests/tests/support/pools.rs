//! Helpers for user-pool tests (on a [`signet_testkit::TestEnv`]): a pool and a client,
//! users, sign-in, outbox codes, JWKS and token checks.

use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client};

/// A pool that verifies e-mail at sign-up, and a public client with password and refresh
/// flows. Returns (pool id, client id).
pub async fn pool_and_client(gw: &GatewayHandle, rotation: bool) -> (String, String) {
    let mut a = admin_client(gw).await;
    let pool = a
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: "journey".into(),
            auto_verified_attributes: vec!["email".into()],
            ..Default::default()
        }))
        .await
        .expect("create pool")
        .into_inner()
        .user_pool
        .expect("pool");
    let client = public_client(gw, &pool.id, rotation).await;
    (pool.id, client)
}

/// A public client with password sign-in (user and admin, and SRP) and refresh: its id.
pub async fn public_client(gw: &GatewayHandle, pool_id: &str, rotation: bool) -> String {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool_id.into(),
            client_name: "web".into(),
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
                "ALLOW_USER_SRP_AUTH".into(),
            ],
            enable_refresh_token_rotation: rotation,
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create client: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool_client
        .expect("client")
        .client_id
}

/// A user of a pool, as the admin calls name it.
pub fn user_ref(pool_id: &str, username: &str) -> pb::UserRef {
    pb::UserRef {
        user_pool_id: pool_id.into(),
        username: username.into(),
    }
}

/// Every message of the pool's dev outbox.
pub async fn outbox(gw: &GatewayHandle, pool_id: &str) -> Vec<pb::OutboxMessageType> {
    admin_client(gw)
        .await
        .list_outbox(admin(pb::UserPoolRef {
            user_pool_id: pool_id.into(),
        }))
        .await
        .expect("outbox")
        .into_inner()
        .messages
}

/// The latest outbox code for `username` and `purpose` (`confirm`, `reset`, `verify:email`).
pub async fn outbox_code(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
    purpose: &str,
) -> String {
    let msgs = outbox(gw, pool_id).await;
    msgs.into_iter()
        .find(|m| m.username == username && m.purpose == purpose)
        .unwrap_or_else(|| panic!("no {purpose} code for {username}"))
        .code
}

/// The Cognito exception name of a failed call.
pub fn exception(s: &tonic::Status) -> String {
    signet_gateway::exception_name(s)
        .unwrap_or_else(|| format!("<no detail: {:?} {}>", s.code(), s.message()))
}

pub fn params(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Verification keys of `pool_id`, from the JWKS `gw` serves over HTTP.
pub async fn jwks(gw: &GatewayHandle, pool_id: &str) -> signet_verify::KeySet {
    let path = format!("/{pool_id}/.well-known/jwks.json");
    let (status, _, body) = super::http::get(&gw.http_addr().to_string(), &path, &[]).await;
    assert_eq!(status, 200, "JWKS of {pool_id}: {body}");
    let jwks: serde_json::Value = serde_json::from_str(&body).expect("JWKS is JSON");
    let mut keys = signet_verify::KeySet::new();
    for k in jwks["keys"].as_array().expect("keys array") {
        keys.insert_jwk(&k.to_string()).expect("usable JWK");
    }
    keys
}

/// What a valid token of `pool_id` issued to `client_id` must say.
pub fn expected(
    pool_id: &str,
    client_id: &str,
    token_use: signet_verify::TokenUse,
) -> signet_verify::Expected {
    signet_verify::Expected {
        issuer: format!("{}/{pool_id}", signet_testkit::TEST_PUBLIC_URL),
        token_use,
        clients: Some(vec![client_id.to_string()]),
        leeway_s: 5,
    }
}

/// A USER_PASSWORD_AUTH request.
pub fn password_auth(client_id: &str, username: &str, password: &str) -> pb::InitiateAuthRequest {
    pb::InitiateAuthRequest {
        client_id: client_id.into(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: params(&[("USERNAME", username), ("PASSWORD", password)]),
        client_metadata: Default::default(),
    }
}

/// A REFRESH_TOKEN_AUTH request.
pub fn refresh_auth(client_id: &str, refresh_token: &str) -> pb::InitiateAuthRequest {
    pb::InitiateAuthRequest {
        client_id: client_id.into(),
        auth_flow: "REFRESH_TOKEN_AUTH".into(),
        auth_parameters: params(&[("REFRESH_TOKEN", refresh_token)]),
        client_metadata: Default::default(),
    }
}

/// Sign in with a password on `gw`; panics unless tokens come back.
pub async fn sign_in(
    gw: &GatewayHandle,
    client_id: &str,
    username: &str,
    password: &str,
) -> pb::AuthenticationResultType {
    signet_testkit::auth_client(gw)
        .await
        .initiate_auth(password_auth(client_id, username, password))
        .await
        .unwrap_or_else(|e| panic!("sign in as {username}: {}: {}", exception(&e), e.message()))
        .into_inner()
        .authentication_result
        .expect("tokens, not a challenge")
}

/// SignUp with an e-mail, then ConfirmSignUp with the code from the outbox (which marks the
/// e-mail verified). Returns the user's sub.
pub async fn confirmed_user(
    gw: &GatewayHandle,
    pool_id: &str,
    client_id: &str,
    username: &str,
    email: &str,
    password: &str,
) -> String {
    let mut auth = signet_testkit::auth_client(gw).await;
    let signed = auth
        .sign_up(pb::SignUpRequest {
            client_id: client_id.into(),
            username: username.into(),
            password: password.into(),
            user_attributes: vec![pb::AttributeType {
                name: "email".into(),
                value: email.into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("sign up {username}: {}: {}", exception(&e), e.message()))
        .into_inner();
    let code = outbox_code(gw, pool_id, username, "confirm").await;
    auth.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client_id.into(),
        username: username.into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .unwrap_or_else(|e| panic!("confirm {username}: {}: {}", exception(&e), e.message()));
    signed.user_sub
}

/// The `kid` of a token's header (not verified).
pub fn kid_of(token: &str) -> String {
    header_of(token)["kid"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A token's header, decoded but not verified.
pub fn header_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url header");
    serde_json::from_slice(&bytes).expect("JSON header")
}

/// A user as the store leader holds it (read from its state machine): the leader has
/// applied every acknowledged write, where a follower may still lag.
pub async fn stored_user(
    env: &signet_testkit::TestEnv,
    pool: &str,
    name: &str,
) -> signet_core::User {
    let leader = env
        .cluster()
        .wait_leader(std::time::Duration::from_secs(10))
        .await;
    match env
        .cluster()
        .node(leader)
        .state_machine()
        .query(&signet_core::Query::GetUser {
            pool_id: pool.into(),
            username: name.into(),
        })
        .unwrap()
    {
        signet_core::QueryResult::User(Some(u)) => u,
        other => panic!("{other:?}"),
    }
}
