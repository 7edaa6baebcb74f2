//! Helpers for the OAuth endpoint tests (`POST {issuer}/oauth2/…`): raw HTTP requests and
//! their answers, RFC 6749 error checks, and the pools, resource servers, clients and
//! signed-in users the tests run against.

use super::identity::{claims_of, PASSWORD};
use super::pools::{exception, params};
use base64::Engine;
use oauth2::reqwest;
use serde_json::Value;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client};
use std::time::Duration;

/// A resource server and its two scopes.
pub const API: &str = "https://orders.example";
pub const READ: &str = "https://orders.example/read";
pub const WRITE: &str = "https://orders.example/write";
/// How long a change (client disabled, secret deleted, …) may take to reach every gateway.
pub const PROPAGATION: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// HTTP

/// An HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

pub fn http() -> reqwest::Client {
    // Redirects off, as the oauth2 crate asks (no SSRF through the token endpoint).
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// `http://{gateway}/{pool}/oauth2/{endpoint}`.
pub fn url(gw: &GatewayHandle, pool: &str, endpoint: &str) -> String {
    format!("http://{}/{pool}/oauth2/{endpoint}", gw.http_addr())
}

/// Send `req` and read the whole answer.
pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("HTTP request: {e}"));
    Reply {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.expect("body"),
    }
}

/// POST `body` as it is, with `content_type` and `headers`.
pub async fn post_raw(
    url: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = http()
        .post(url)
        .header("content-type", content_type)
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// `application/x-www-form-urlencoded` of `pairs`, in order (repeats kept).
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = oauth2::url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POST a form.
pub async fn post_form(url: &str, headers: &[(&str, &str)], pairs: &[(&str, &str)]) -> Reply {
    post_raw(
        url,
        "application/x-www-form-urlencoded",
        headers,
        &form(pairs),
    )
    .await
}

/// `Authorization: Basic …` as RFC 6749 §2.3.1 builds it (each part form-encoded first).
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc =
        |s: &str| oauth2::url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(client_id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// An RFC 6749 §5.2 (or RFC 6750 §3.1) error: status, `error`, a description,
/// `Cache-Control: no-store`.
pub fn assert_oauth_error(r: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: status; body {}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    let v = r.json();
    assert_eq!(v["error"], code, "{what}: {}", r.body);
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{what}: error_description: {}",
        r.body
    );
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// A user pool named `name`: its id.
pub async fn new_pool(gw: &GatewayHandle, name: &str) -> String {
    admin_client(gw)
        .await
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: name.into(),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create pool: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool
        .expect("pool")
        .id
}

/// Resource-server scopes with these names.
pub fn scopes(names: &[&str]) -> Vec<pb::ResourceServerScopeType> {
    names
        .iter()
        .map(|n| pb::ResourceServerScopeType {
            scope_name: n.to_string(),
            scope_description: format!("{n} things"),
        })
        .collect()
}

/// CreateResourceServer `identifier` (named "{identifier} API") with scopes `names`.
pub async fn resource_server(
    gw: &GatewayHandle,
    pool: &str,
    identifier: &str,
    names: &[&str],
) -> Result<pb::ResourceServerType, tonic::Status> {
    admin_client(gw)
        .await
        .create_resource_server(admin(pb::ResourceServerType {
            user_pool_id: pool.into(),
            identifier: identifier.into(),
            name: format!("{identifier} API"),
            scopes: scopes(names),
        }))
        .await
        .map(|r| r.into_inner())
}

/// The orders resource server ([`API`]: read, write) in `pool`.
pub async fn orders_api(gw: &GatewayHandle, pool: &str) {
    resource_server(gw, pool, API, &["read", "write"])
        .await
        .unwrap_or_else(|e| panic!("resource server: {}: {}", exception(&e), e.message()));
}

/// CreateUserPoolClient as given.
pub async fn create_client(
    gw: &GatewayHandle,
    req: pb::CreateUserPoolClientRequest,
) -> Result<pb::UserPoolClientType, tonic::Status> {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(req))
        .await
        .map(|r| r.into_inner().user_pool_client.expect("client"))
}

/// A client_credentials client ("service", with a secret) allowed `scopes`, whose access
/// tokens last `access_s` seconds (0: the default).
pub fn machine_client_request(
    pool: &str,
    scopes: &[&str],
    access_s: u64,
) -> pb::CreateUserPoolClientRequest {
    pb::CreateUserPoolClientRequest {
        user_pool_id: pool.into(),
        client_name: "service".into(),
        generate_secret: true,
        access_token_validity_seconds: access_s,
        allowed_oauth_flows: vec!["client_credentials".into()],
        allowed_oauth_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// ADMIN_USER_PASSWORD_AUTH as `username` with [`PASSWORD`] through the confidential client
/// (`client_id`, `secret`), with its SECRET_HASH.
pub fn admin_password_auth(
    pool: &str,
    client_id: &str,
    secret: &str,
    username: &str,
) -> pb::AdminInitiateAuthRequest {
    pb::AdminInitiateAuthRequest {
        user_pool_id: pool.into(),
        client_id: client_id.into(),
        auth_flow: "ADMIN_USER_PASSWORD_AUTH".into(),
        auth_parameters: params(&[
            ("USERNAME", username),
            ("PASSWORD", PASSWORD),
            (
                "SECRET_HASH",
                &signet_gateway::secret_hash(secret, username, client_id),
            ),
        ]),
        client_metadata: Default::default(),
    }
}

/// A confirmed user `username` (AdminCreateUser with `{username}@example.com`, then the
/// permanent password [`PASSWORD`]) signed in through the confidential client (`client_id`,
/// `secret`): (sub, tokens).
pub async fn admin_signed_in(
    gw: &GatewayHandle,
    pool: &str,
    client_id: &str,
    secret: &str,
    username: &str,
) -> (String, pb::AuthenticationResultType) {
    let mut a = admin_client(gw).await;
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.into(),
        username: username.into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: format!("{username}@example.com"),
        }],
        temporary_password: "Temp-Pa55word!".into(),
        message_action: "SUPPRESS".into(),
    }))
    .await
    .unwrap_or_else(|e| panic!("create user: {}: {}", exception(&e), e.message()));
    a.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool.into(),
        username: username.into(),
        password: PASSWORD.into(),
        permanent: true,
    }))
    .await
    .expect("set password");
    let tokens = a
        .admin_initiate_auth(admin(admin_password_auth(
            pool, client_id, secret, username,
        )))
        .await
        .unwrap_or_else(|e| panic!("sign in: {}: {}", exception(&e), e.message()))
        .into_inner()
        .authentication_result
        .expect("tokens");
    let sub = claims_of(&tokens.id_token)["sub"]
        .as_str()
        .expect("sub")
        .to_string();
    (sub, tokens)
}
