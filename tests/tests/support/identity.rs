//! Helpers for identity-pool and STS tests: a user pool with a signed-in user, identity
//! pools, roles with trust and permission policies.

use super::pools::{confirmed_user, exception, pool_and_client, sign_in};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, identity_admin_client, identity_client, TEST_PUBLIC_URL};
use std::collections::HashMap;
use std::fmt::Debug;
use tonic::Status;

pub const PASSWORD: &str = "Corr3ct-Horse!";

/// A logins map: provider name -> token.
pub type Logins = HashMap<String, String>;

/// The exception name and message of a call that must fail.
pub fn refusal<T: Debug>(what: &str, r: Result<T, Status>) -> (String, String) {
    match r {
        Ok(v) => panic!("{what}: expected a refusal, got {v:?}"),
        Err(s) => (exception(&s), s.message().to_string()),
    }
}

/// Assert that `r` failed with exception `name`; returns the message.
pub fn refused<T: Debug>(what: &str, r: Result<T, Status>, name: &str) -> String {
    let (e, m) = refusal(what, r);
    assert_eq!(e, name, "{what}: {m}");
    m
}

/// The answer of a call that must succeed.
pub fn ok<T>(what: &str, r: Result<T, Status>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {}: {}", exception(&e), e.message()))
}

/// GetId in identity pool `pool` with `logins`: the identity id.
pub async fn get_id(gw: &GatewayHandle, pool: &str, logins: &Logins) -> Result<String, Status> {
    identity_client(gw)
        .await
        .get_id(pb::GetIdRequest {
            identity_pool_id: pool.into(),
            logins: logins.clone(),
        })
        .await
        .map(|r| r.into_inner().identity_id)
}

/// GetCredentialsForIdentity with `custom_role_arn` (empty: the role the pool chooses).
pub async fn get_credentials(
    gw: &GatewayHandle,
    identity_id: &str,
    logins: &Logins,
    custom_role_arn: &str,
) -> Result<pb::GetCredentialsForIdentityResponse, Status> {
    identity_client(gw)
        .await
        .get_credentials_for_identity(pb::GetCredentialsForIdentityRequest {
            identity_id: identity_id.into(),
            logins: logins.clone(),
            custom_role_arn: custom_role_arn.into(),
        })
        .await
        .map(|r| r.into_inner())
}

/// The credentials GetCredentialsForIdentity hands out, in the role the pool chooses.
pub async fn credentials(
    gw: &GatewayHandle,
    identity_id: &str,
    logins: &Logins,
) -> Result<pb::CredentialsType, Status> {
    get_credentials(gw, identity_id, logins, "")
        .await
        .map(|r| r.credentials.expect("credentials"))
}

/// A user pool, its client, and a confirmed, signed-in user.
pub struct UserPoolLogin {
    pub pool_id: String,
    pub client_id: String,
    /// The login's provider name in identity pools: the issuer without its scheme.
    pub provider: String,
    pub username: String,
    pub sub: String,
    pub id_token: String,
    pub access_token: String,
}

/// Make a user pool with one confirmed user `username` and sign them in on `gw`.
pub async fn user_pool_login(gw: &GatewayHandle, username: &str) -> UserPoolLogin {
    let (pool_id, client_id) = pool_and_client(gw, false).await;
    let email = format!("{username}@example.com");
    let sub = confirmed_user(gw, &pool_id, &client_id, username, &email, PASSWORD).await;
    let tokens = sign_in(gw, &client_id, username, PASSWORD).await;
    UserPoolLogin {
        provider: provider_name(&pool_id),
        pool_id,
        client_id,
        username: username.to_string(),
        sub,
        id_token: tokens.id_token,
        access_token: tokens.access_token,
    }
}

/// A further user of an existing pool, signed in: (sub, ID token).
pub async fn another_user(
    gw: &GatewayHandle,
    login: &UserPoolLogin,
    username: &str,
) -> (String, String) {
    let email = format!("{username}@example.com");
    let sub = confirmed_user(
        gw,
        &login.pool_id,
        &login.client_id,
        username,
        &email,
        PASSWORD,
    )
    .await;
    let tokens = sign_in(gw, &login.client_id, username, PASSWORD).await;
    (sub, tokens.id_token)
}

/// The provider name of a Signet user pool (its issuer without the scheme).
pub fn provider_name(pool_id: &str) -> String {
    format!(
        "{}/{pool_id}",
        TEST_PUBLIC_URL
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    )
}

/// `{provider: token}` as the logins map of a request.
pub fn logins(pairs: &[(&str, &str)]) -> Logins {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An identity pool trusting the given user pools' clients (provider name, client id).
pub async fn identity_pool(
    gw: &GatewayHandle,
    user_pools: &[(&str, &str)],
    allow_unauthenticated: bool,
) -> String {
    create_identity_pool(
        gw,
        pb::IdentityPoolType {
            identity_pool_name: "ids".into(),
            allow_unauthenticated_identities: allow_unauthenticated,
            cognito_identity_providers: user_pools
                .iter()
                .map(|(p, c)| pb::CognitoIdentityProviderType {
                    provider_name: p.to_string(),
                    client_id: c.to_string(),
                })
                .collect(),
            ..Default::default()
        },
    )
    .await
    .identity_pool_id
}

/// CreateIdentityPool; panics on failure.
pub async fn create_identity_pool(
    gw: &GatewayHandle,
    p: pb::IdentityPoolType,
) -> pb::IdentityPoolType {
    identity_admin_client(gw)
        .await
        .create_identity_pool(admin(p))
        .await
        .unwrap_or_else(|e| panic!("create identity pool: {}: {}", exception(&e), e.message()))
        .into_inner()
}

/// A trust policy letting identities of `identity_pool_id` with `amr` (`authenticated` or
/// `unauthenticated`) assume the role.
pub fn trust_identity_pool(identity_pool_id: &str, amr: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "signet-identity"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"signet-identity:aud": identity_pool_id},
                "ForAnyValue:StringLike": {"signet-identity:amr": amr}
            }
        }]
    })
    .to_string()
}

/// A role that identities of `identity_pool_id` with `amr` (`authenticated` or
/// `unauthenticated`) may assume, with these permission policies: its ARN.
pub async fn identity_role(
    gw: &GatewayHandle,
    name: &str,
    identity_pool_id: &str,
    amr: &str,
    policies: &[(&str, &str)],
) -> String {
    role(
        gw,
        name,
        &trust_identity_pool(identity_pool_id, amr),
        policies,
    )
    .await
}

/// CreateRole with `trust`, then PutRolePolicy for each (name, document). Returns the ARN.
pub async fn role(
    gw: &GatewayHandle,
    name: &str,
    trust: &str,
    policies: &[(&str, &str)],
) -> String {
    let mut a = identity_admin_client(gw).await;
    let r = a
        .create_role(admin(pb::CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: trust.into(),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create role {name}: {}: {}", exception(&e), e.message()))
        .into_inner();
    for (policy_name, doc) in policies {
        a.put_role_policy(admin(pb::RolePolicyType {
            role_name: name.into(),
            policy_name: policy_name.to_string(),
            policy_document: doc.to_string(),
        }))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "put policy {policy_name}: {}: {}",
                exception(&e),
                e.message()
            )
        });
    }
    r.arn
}

/// SetIdentityPoolRoles with default roles only.
pub async fn set_roles(
    gw: &GatewayHandle,
    identity_pool_id: &str,
    authenticated: Option<&str>,
    unauthenticated: Option<&str>,
) {
    let mut roles = HashMap::new();
    if let Some(a) = authenticated {
        roles.insert("authenticated".to_string(), a.to_string());
    }
    if let Some(u) = unauthenticated {
        roles.insert("unauthenticated".to_string(), u.to_string());
    }
    identity_admin_client(gw)
        .await
        .set_identity_pool_roles(admin(pb::IdentityPoolRolesType {
            identity_pool_id: identity_pool_id.into(),
            roles,
            role_mappings: HashMap::new(),
        }))
        .await
        .unwrap_or_else(|e| panic!("set roles: {}: {}", exception(&e), e.message()));
}

/// A token's claims, decoded but not verified.
pub fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
