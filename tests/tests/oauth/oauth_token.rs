//! The OAuth 2.0 token endpoint for services (`POST {issuer}/oauth2/token`): a stock OAuth
//! client library gets client_credentials tokens that a service verifies from the JWKS
//! alone; every error answers as RFC 6749 §5.2 says; client secrets rotate; gRPC
//! IssueClientToken mints the same tokens; client OAuth settings and resource servers are
//! validated; the refresh_token grant; discovery names the endpoints.

use crate::support::identity::PASSWORD;
use crate::support::oauth::*;
use crate::support::pools::*;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthType, ClientId, ClientSecret, RefreshToken, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use serde_json::{Map, Value};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, wait_for_async, TEST_PUBLIC_URL};
use signet_verify::TokenUse;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// HTTP

/// client_credentials with HTTP Basic, optionally asking for `scope`.
async fn cc_basic(url: &str, client_id: &str, secret: &str, scope: Option<&str>) -> Reply {
    let auth = basic(client_id, secret);
    let mut pairs = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        pairs.push(("scope", s));
    }
    post_form(url, &[("authorization", &auth)], &pairs).await
}

/// POST `grant_type=refresh_token`, then `refresh_token` if given, then `more`.
async fn refresh_grant(
    url: &str,
    headers: &[(&str, &str)],
    refresh_token: Option<&str>,
    more: &[(&str, &str)],
) -> Reply {
    let mut pairs = vec![("grant_type", "refresh_token")];
    pairs.extend(refresh_token.map(|t| ("refresh_token", t)));
    pairs.extend_from_slice(more);
    post_form(url, headers, &pairs).await
}

/// Wait until client_credentials with these credentials at `url` is refused (gateways
/// learn of changes through the store's change stream); the refusal.
async fn refused_soon(what: &str, url: &str, id: &str, secret: &str) -> Reply {
    wait_for_async(what, PROPAGATION, || async move {
        let r = cc_basic(url, id, secret, None).await;
        (r.status != 200).then_some(r)
    })
    .await
}

/// Wait until client_credentials with these credentials at `url` is accepted.
async fn accepted_soon(what: &str, url: &str, id: &str, secret: &str) {
    wait_for_async(what, PROPAGATION, || async move {
        (cc_basic(url, id, secret, None).await.status == 200).then_some(())
    })
    .await
}

/// An RFC 6749 §5.2 error ([`assert_oauth_error`]) in a body that says it is JSON.
fn assert_json_oauth_error(r: &Reply, status: u16, code: &str, what: &str) {
    assert_oauth_error(r, status, code, what);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}: content-type {:?}",
        r.header("content-type")
    );
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// A client_credentials client with `oauth_scopes` and this access-token lifetime:
/// (client id, secret).
async fn machine_client(
    gw: &GatewayHandle,
    pool: &str,
    oauth_scopes: &[&str],
    access_s: u64,
) -> (String, String) {
    let c = create_client(gw, machine_client_request(pool, oauth_scopes, access_s))
        .await
        .unwrap_or_else(|e| panic!("machine client: {}: {}", exception(&e), e.message()));
    assert!(c.has_secret && !c.client_secret.is_empty());
    (c.client_id, c.client_secret)
}

/// A pool with the orders resource server (read, write) and a client_credentials client
/// allowed both scopes: (pool, client id, secret).
async fn machine_setup(gw: &GatewayHandle, access_s: u64) -> (String, String, String) {
    let pool = new_pool(gw, "services").await;
    orders_api(gw, &pool).await;
    let (id, secret) = machine_client(gw, &pool, &[READ, WRITE], access_s).await;
    (pool, id, secret)
}

/// The claims of a client_credentials token, verified as a service would: JWKS over HTTP,
/// the pool's issuer, an access token of `client_id`.
async fn verified(
    gw: &GatewayHandle,
    pool: &str,
    client_id: &str,
    token: &str,
) -> Map<String, Value> {
    let keys = jwks(gw, pool).await;
    signet_verify::verify(token, &keys, &expected(pool, client_id, TokenUse::Access))
        .unwrap_or_else(|e| panic!("the service refuses the token: {e}"))
}

/// What every client_credentials token says.
fn assert_machine_claims(c: &Map<String, Value>, client_id: &str, scope: &str, access_s: u64) {
    assert_eq!(c["scope"], scope, "scope");
    assert_eq!(c["client_id"], client_id);
    assert_eq!(
        c["sub"], client_id,
        "a service's token is about the service"
    );
    assert_eq!(c["token_use"], "access");
    let (exp, iat) = (c["exp"].as_u64().unwrap(), c["iat"].as_u64().unwrap());
    assert_eq!(
        exp - iat,
        access_s,
        "exp - iat = the client's access validity"
    );
    assert!(
        c["jti"].as_str().is_some_and(|j| j.len() >= 16),
        "a jti: {:?}",
        c.get("jti")
    );
    for user_claim in ["username", "origin_jti", "cognito:groups", "email"] {
        assert!(
            !c.contains_key(user_claim),
            "no {user_claim} in a service token"
        );
    }
}

fn scope_set(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(' ').filter(|s| !s.is_empty()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// Tests

/// A stock OAuth 2.0 library (the `oauth2` crate over reqwest) gets tokens with
/// client_secret_basic and client_secret_post; a service verifies them from the JWKS; the
/// library understands the endpoint's errors; discovery names the endpoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_oauth2_client_gets_tokens_a_service_verifies() {
    let env = TestEnv::start(3, 2).await;
    let (pool, id, secret) = machine_setup(env.a(), 900).await;
    let token_url = url(env.a(), &pool, "token");
    let http = http();
    let client = |auth: AuthType| {
        BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_token_uri(TokenUrl::new(token_url.clone()).expect("token URL"))
            .set_auth_type(auth)
    };

    // client_secret_basic, one scope.
    let t = client(AuthType::BasicAuth)
        .exchange_client_credentials()
        .add_scope(Scope::new(READ.into()))
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("basic auth: {e:?}"));
    assert_eq!(*t.token_type(), BasicTokenType::Bearer);
    assert_eq!(t.expires_in(), Some(Duration::from_secs(900)));
    assert_eq!(t.scopes(), Some(&vec![Scope::new(READ.into())]));
    assert!(t.refresh_token().is_none(), "no refresh token for services");
    let basic_claims = verified(env.a(), &pool, &id, t.access_token().secret()).await;
    assert_machine_claims(&basic_claims, &id, READ, 900);

    // client_secret_post, no scope: every scope of the client.
    let t = client(AuthType::RequestBody)
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("request body auth: {e:?}"));
    let granted: Vec<String> = t
        .scopes()
        .expect("scope")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, vec![READ.to_string(), WRITE.to_string()]);
    let post_claims = verified(env.a(), &pool, &id, t.access_token().secret()).await;
    assert_machine_claims(&post_claims, &id, &format!("{READ} {WRITE}"), 900);
    assert_ne!(
        post_claims["jti"], basic_claims["jti"],
        "each token its own jti"
    );

    // Both scopes asked for, on the other gateway; a scope asked twice is granted once.
    let token_url_b = url(env.b(), &pool, "token");
    let t = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.clone()))
        .set_token_uri(TokenUrl::new(token_url_b).expect("token URL"))
        .exchange_client_credentials()
        .add_scopes([WRITE, READ, WRITE].map(|s| Scope::new(s.into())))
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("gateway b: {e:?}"));
    let c = verified(env.b(), &pool, &id, t.access_token().secret()).await;
    assert_eq!(scope_set(c["scope"].as_str().unwrap()), vec![READ, WRITE]);
    assert_eq!(c["scope"].as_str().unwrap().split(' ').count(), 2);

    // The library understands the endpoint's errors.
    let err = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new("not-the-secret".into()))
        .set_token_uri(TokenUrl::new(token_url.clone()).expect("token URL"))
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .expect_err("wrong secret");
    match err {
        RequestTokenError::ServerResponse(r) => {
            assert_eq!(*r.error(), BasicErrorResponseType::InvalidClient)
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    let err = client(AuthType::BasicAuth)
        .exchange_client_credentials()
        .add_scope(Scope::new("https://orders.example/delete".into()))
        .request_async(&http)
        .await
        .expect_err("unknown scope");
    match err {
        RequestTokenError::ServerResponse(r) => {
            assert_eq!(*r.error(), BasicErrorResponseType::InvalidScope)
        }
        other => panic!("expected invalid_scope, got {other:?}"),
    }

    // The raw success answer: JSON, Bearer, never cached.
    let r = cc_basic(&token_url, &id, &secret, Some(WRITE)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["scope"], WRITE);

    // Discovery names the endpoints under the issuer.
    let issuer = format!("{TEST_PUBLIC_URL}/{pool}");
    let (status, _, body) = crate::support::http::get(
        &env.b().http_addr().to_string(),
        &format!("/{pool}/.well-known/openid-configuration"),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let d: Value = serde_json::from_str(&body).expect("discovery JSON");
    assert_eq!(d["issuer"], issuer);
    assert_eq!(d["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(d["token_endpoint"], format!("{issuer}/oauth2/token"));
    assert_eq!(d["revocation_endpoint"], format!("{issuer}/oauth2/revoke"));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{issuer}/oauth2/introspect")
    );
    assert_eq!(d["userinfo_endpoint"], format!("{issuer}/oauth2/userInfo"));
    let grants = d["grant_types_supported"].as_array().expect("grants");
    for g in ["client_credentials", "refresh_token"] {
        assert!(grants.iter().any(|x| x == g), "{g} in {grants:?}");
    }
    let methods = d["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("methods");
    for m in ["client_secret_basic", "client_secret_post"] {
        assert!(methods.iter().any(|x| x == m), "{m} in {methods:?}");
    }
    env.shutdown().await;
}

/// Every refusal of the token endpoint has its RFC 6749 code and status, a JSON body with
/// a description, and `Cache-Control: no-store`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_errors_follow_rfc_6749() {
    let env = TestEnv::start(3, 2).await;
    let (pool, id, secret) = machine_setup(env.a(), 0).await;
    let token_url = url(env.a(), &pool, "token");
    let cc = [("grant_type", "client_credentials")];

    // Control: the right credentials work.
    assert_eq!(cc_basic(&token_url, &id, &secret, None).await.status, 200);

    // Wrong secret, Basic: 401 and a Basic challenge.
    let r = cc_basic(&token_url, &id, "wrong-secret", None).await;
    assert_json_oauth_error(&r, 401, "invalid_client", "wrong secret (basic)");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "WWW-Authenticate: {:?}",
        r.header("www-authenticate")
    );
    // Wrong secret in the body.
    let r = post_form(
        &token_url,
        &[],
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", "wrong-secret"),
        ],
    )
    .await;
    assert_json_oauth_error(&r, 401, "invalid_client", "wrong secret (post)");
    // No secret at all for a confidential client.
    let r = post_form(
        &token_url,
        &[],
        &[("grant_type", "client_credentials"), ("client_id", &id)],
    )
    .await;
    assert_json_oauth_error(
        &r,
        401,
        "invalid_client",
        "confidential client without its secret",
    );
    // No client at all.
    let r = post_form(&token_url, &[], &cc).await;
    assert_json_oauth_error(&r, 401, "invalid_client", "no client");
    // Unknown client.
    let r = cc_basic(&token_url, "no-such-client-id", &secret, None).await;
    assert_json_oauth_error(&r, 401, "invalid_client", "unknown client");
    // Unknown pool.
    let r = cc_basic(&url(env.a(), "eu-test_nopool", "token"), &id, &secret, None).await;
    assert_json_oauth_error(&r, 401, "invalid_client", "unknown pool");

    // A client of another pool, at this pool's endpoint (its own endpoint works).
    let other_pool = new_pool(env.a(), "other").await;
    resource_server(env.a(), &other_pool, API, &["read"])
        .await
        .expect("resource server");
    let (other_id, other_secret) = machine_client(env.a(), &other_pool, &[READ], 0).await;
    let r = cc_basic(
        &url(env.a(), &other_pool, "token"),
        &other_id,
        &other_secret,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "control: at its own pool: {}", r.body);
    let r = cc_basic(&token_url, &other_id, &other_secret, None).await;
    assert_json_oauth_error(&r, 401, "invalid_client", "client of another pool");

    // A scope the client is not allowed, or that does not exist, or a standard one.
    for scope in [
        "https://orders.example/delete",
        "openid",
        &format!("{READ} https://x.example/y"),
    ] {
        let r = cc_basic(&token_url, &id, &secret, Some(scope)).await;
        assert_json_oauth_error(&r, 400, "invalid_scope", &format!("scope {scope:?}"));
    }

    // A confidential client without the client_credentials grant.
    let user_client = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "web".into(),
            generate_secret: true,
            explicit_auth_flows: vec!["ALLOW_REFRESH_TOKEN_AUTH".into()],
            ..Default::default()
        },
    )
    .await
    .expect("user client");
    let r = cc_basic(
        &token_url,
        &user_client.client_id,
        &user_client.client_secret,
        None,
    )
    .await;
    assert_json_oauth_error(
        &r,
        400,
        "unauthorized_client",
        "no client_credentials grant",
    );

    // Grants and malformed requests.
    let auth = basic(&id, &secret);
    let h = [("authorization", auth.as_str())];
    let grant_cc = ("grant_type", "client_credentials");
    for (pairs, code, what) in [
        (
            vec![
                ("grant_type", "password"),
                ("username", "u"),
                ("password", "p"),
            ],
            "unsupported_grant_type",
            "password grant",
        ),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            "unauthorized_client",
            "authorization_code grant of a client without the code flow",
        ),
        (vec![("scope", READ)], "invalid_request", "no grant_type"),
        (
            vec![grant_cc, ("scope", READ), ("scope", WRITE)],
            "invalid_request",
            "scope twice",
        ),
        (
            vec![grant_cc, grant_cc],
            "invalid_request",
            "grant_type twice",
        ),
        (
            vec![grant_cc, ("client_secret", secret.as_str())],
            "invalid_request",
            "Basic and client_secret in the body",
        ),
        (
            vec![grant_cc, ("client_id", "someone-else")],
            "invalid_request",
            "body client_id differs from Basic",
        ),
    ] {
        let r = post_form(&token_url, &h, &pairs).await;
        assert_json_oauth_error(&r, 400, code, what);
    }
    let json_body = serde_json::json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    let r = post_raw(&token_url, "application/json", &[], &json_body.to_string()).await;
    assert_json_oauth_error(&r, 400, "invalid_request", "JSON body");
    let r = post_raw(
        &token_url,
        "application/x-www-form-urlencoded",
        &h,
        "grant_type=client%ZZcredentials",
    )
    .await;
    assert_json_oauth_error(&r, 400, "invalid_request", "bad percent-encoding");

    // A disabled client is refused by every gateway (they cache clients; the change stream
    // evicts them), and accepted again once enabled.
    let set_disabled = |disabled: bool| {
        let (pool, id, gw) = (pool.clone(), id.clone(), env.a());
        async move {
            let c = admin_client(gw)
                .await
                .update_user_pool_client(admin(pb::UpdateUserPoolClientRequest {
                    user_pool_id: pool,
                    client_id: id,
                    disabled: Some(disabled),
                    ..Default::default()
                }))
                .await
                .unwrap_or_else(|e| panic!("update client: {}: {}", exception(&e), e.message()))
                .into_inner()
                .user_pool_client
                .expect("client");
            assert_eq!(c.disabled, disabled);
            assert_eq!(
                c.allowed_oauth_flows,
                vec!["client_credentials"],
                "grants kept"
            );
        }
    };
    let urls = [token_url.clone(), url(env.b(), &pool, "token")];
    for u in &urls {
        // Cached on both gateways before the change.
        assert_eq!(cc_basic(u, &id, &secret, None).await.status, 200);
    }
    set_disabled(true).await;
    for u in &urls {
        let r = refused_soon("the disabled client refused", u, &id, &secret).await;
        assert_json_oauth_error(&r, 401, "invalid_client", "disabled client");
        let r = post_form(
            u,
            &[],
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await;
        assert_json_oauth_error(&r, 401, "invalid_client", "disabled client (post)");
    }
    set_disabled(false).await;
    for u in &urls {
        accepted_soon("the re-enabled client accepted", u, &id, &secret).await;
    }
    env.shutdown().await;
}

/// Rotation: a second secret works alongside the first; secrets are listed by id only;
/// at most two; the old one, deleted, stops working everywhere; the last one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secrets_rotate() {
    let env = TestEnv::start(3, 2).await;
    let (pool, id, old) = machine_setup(env.a(), 0).await;
    let urls = [url(env.a(), &pool, "token"), url(env.b(), &pool, "token")];
    let mut a = admin_client(env.a()).await;
    let client_ref = || {
        admin(pb::ClientRef {
            user_pool_id: pool.clone(),
            client_id: id.clone(),
        })
    };
    let add_ref = || {
        admin(pb::AddUserPoolClientSecretRequest {
            user_pool_id: pool.clone(),
            client_id: id.clone(),
            client_secret: String::new(),
        })
    };
    let list = |secrets: pb::ListUserPoolClientSecretsResponse| {
        for s in &secrets.client_secrets {
            assert!(
                s.client_secret_value.is_empty(),
                "a listed secret shows no value"
            );
            assert!(s.client_secret_create_date > 0);
        }
        let mut ids: Vec<String> = secrets
            .client_secrets
            .into_iter()
            .map(|s| s.client_secret_id)
            .collect();
        ids.sort();
        ids
    };

    let first = list(
        a.list_user_pool_client_secrets(client_ref())
            .await
            .expect("list")
            .into_inner(),
    );
    assert_eq!(first.len(), 1, "one secret from CreateUserPoolClient");
    let old_id = first[0].clone();
    for u in &urls {
        assert_eq!(cc_basic(u, &id, &old, None).await.status, 200);
    }

    let added = a
        .add_user_pool_client_secret(add_ref())
        .await
        .unwrap_or_else(|e| panic!("add secret: {}: {}", exception(&e), e.message()))
        .into_inner();
    let (new_id, new) = (added.client_secret_id, added.client_secret_value);
    assert!(!new.is_empty() && new != old, "a new secret, shown once");
    assert!(!new_id.is_empty() && new_id != old_id);
    assert!(added.client_secret_create_date > 0);
    for u in &urls {
        accepted_soon("the new secret accepted", u, &id, &new).await;
        let r = cc_basic(u, &id, &old, None).await;
        assert_eq!(r.status, 200, "the old secret still works: {}", r.body);
    }
    let listed = list(
        a.list_user_pool_client_secrets(client_ref())
            .await
            .expect("list")
            .into_inner(),
    );
    let mut both = vec![old_id.clone(), new_id.clone()];
    both.sort();
    assert_eq!(listed, both);
    let described = a
        .describe_user_pool_client(client_ref())
        .await
        .expect("describe")
        .into_inner()
        .user_pool_client
        .expect("client");
    assert!(described.has_secret);
    assert!(
        described.client_secret.is_empty(),
        "Describe never shows a secret"
    );

    let err = a
        .add_user_pool_client_secret(add_ref())
        .await
        .expect_err("a third secret");
    assert_eq!(exception(&err), "LimitExceededException");

    a.delete_user_pool_client_secret(admin(pb::ClientSecretRef {
        user_pool_id: pool.clone(),
        client_id: id.clone(),
        client_secret_id: old_id.clone(),
    }))
    .await
    .unwrap_or_else(|e| panic!("delete old secret: {}: {}", exception(&e), e.message()));
    for u in &urls {
        let r = refused_soon("the deleted secret refused", u, &id, &old).await;
        assert_json_oauth_error(&r, 401, "invalid_client", "deleted secret");
        let r = cc_basic(u, &id, &new, None).await;
        assert_eq!(r.status, 200, "the new secret works: {}", r.body);
    }
    assert_eq!(
        list(
            a.list_user_pool_client_secrets(client_ref())
                .await
                .expect("list")
                .into_inner()
        ),
        vec![new_id.clone()]
    );

    for (secret_id, what) in [
        (new_id.as_str(), "the last secret"),
        (old_id.as_str(), "a deleted secret"),
    ] {
        let err = a
            .delete_user_pool_client_secret(admin(pb::ClientSecretRef {
                user_pool_id: pool.clone(),
                client_id: id.clone(),
                client_secret_id: secret_id.into(),
            }))
            .await
            .expect_err(what);
        assert_eq!(exception(&err), "InvalidParameterException", "{what}");
    }
    let r = cc_basic(&urls[0], &id, &new, None).await;
    assert_eq!(r.status, 200, "the last secret still works: {}", r.body);

    // A public client can not get a secret.
    let public = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "spa".into(),
            ..Default::default()
        },
    )
    .await
    .expect("public client");
    let err = a
        .add_user_pool_client_secret(admin(pb::AddUserPoolClientSecretRequest {
            user_pool_id: pool.clone(),
            client_id: public.client_id,
            client_secret: String::new(),
        }))
        .await
        .expect_err("a secret for a public client");
    assert_eq!(exception(&err), "InvalidParameterException");
    env.shutdown().await;
}

/// gRPC IssueClientToken mints the same token as the HTTP endpoint; client OAuth settings
/// are validated; resource servers have create, describe, update, list and delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_client_tokens_and_oauth_configuration() {
    let env = TestEnv::start(3, 2).await;
    let (pool, id, secret) = machine_setup(env.a(), 600).await;
    let mut auth = auth_client(env.b()).await;
    let issue = |secret: &str, scope: &str| pb::IssueClientTokenRequest {
        user_pool_id: pool.clone(),
        client_id: id.clone(),
        client_secret: secret.into(),
        scope: scope.into(),
    };

    // gRPC and HTTP: the same token shape.
    let g = auth
        .issue_client_token(issue(&secret, READ))
        .await
        .unwrap_or_else(|e| panic!("IssueClientToken: {}: {}", exception(&e), e.message()))
        .into_inner();
    assert_eq!(g.token_type, "Bearer");
    assert_eq!(g.expires_in, 600);
    assert_eq!(g.scope, READ);
    let grpc_claims = verified(env.b(), &pool, &id, &g.access_token).await;
    assert_machine_claims(&grpc_claims, &id, READ, 600);
    let r = cc_basic(&url(env.a(), &pool, "token"), &id, &secret, Some(READ)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let http_claims = verified(
        env.a(),
        &pool,
        &id,
        r.json()["access_token"].as_str().unwrap(),
    )
    .await;
    let keys = |c: &Map<String, Value>| {
        let mut k: Vec<String> = c.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&grpc_claims),
        keys(&http_claims),
        "same claims over gRPC and HTTP"
    );
    for k in ["iss", "sub", "client_id", "token_use", "scope", "version"] {
        assert_eq!(grpc_claims[k], http_claims[k], "claim {k}");
    }
    let all = auth
        .issue_client_token(issue(&secret, ""))
        .await
        .expect("no scope")
        .into_inner();
    assert_eq!(all.scope, format!("{READ} {WRITE}"));

    for (req, want, what) in [
        (
            issue("wrong", READ),
            "NotAuthorizedException",
            "wrong secret",
        ),
        (
            issue(&secret, "https://orders.example/delete"),
            "InvalidParameterException",
            "bad scope",
        ),
        (
            issue(&secret, "openid"),
            "InvalidParameterException",
            "standard scope",
        ),
        (
            pb::IssueClientTokenRequest {
                client_id: "no-such-client".into(),
                ..issue(&secret, READ)
            },
            "NotAuthorizedException",
            "unknown client",
        ),
    ] {
        let err = auth.issue_client_token(req).await.expect_err(what);
        assert_eq!(exception(&err), want, "{what}: {}", err.message());
    }

    // Client settings.
    let cc_client = |generate_secret: bool, scopes: &[&str]| pb::CreateUserPoolClientRequest {
        user_pool_id: pool.clone(),
        client_name: "svc".into(),
        generate_secret,
        allowed_oauth_flows: vec!["client_credentials".into()],
        allowed_oauth_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    for (req, what) in [
        (
            cc_client(false, &[READ]),
            "client_credentials without a secret",
        ),
        (
            cc_client(true, &["openid"]),
            "client_credentials with a standard scope",
        ),
        (
            cc_client(true, &[READ, "email"]),
            "client_credentials with a standard scope among custom ones",
        ),
        (
            cc_client(true, &["https://unknown.example/read"]),
            "scope of an unknown resource server",
        ),
        (
            cc_client(true, &["https://orders.example/delete"]),
            "unknown scope of a known resource server",
        ),
        (
            cc_client(true, &["read"]),
            "a scope that is neither standard nor custom",
        ),
        (cc_client(true, &[]), "client_credentials without scopes"),
        (
            pb::CreateUserPoolClientRequest {
                allowed_oauth_flows: vec!["implicit".into()],
                ..cc_client(true, &[READ])
            },
            "an unsupported grant",
        ),
    ] {
        let err = create_client(env.a(), req).await.expect_err(what);
        assert_eq!(
            exception(&err),
            "InvalidParameterException",
            "{what}: {}",
            err.message()
        );
    }
    let ok = create_client(env.a(), cc_client(true, &[WRITE]))
        .await
        .expect("a valid machine client");
    assert_eq!(ok.allowed_oauth_flows, vec!["client_credentials"]);
    assert_eq!(ok.allowed_oauth_scopes, vec![WRITE]);
    // A user-facing client may have standard scopes.
    let web = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "web".into(),
            allowed_oauth_scopes: vec!["openid".into(), "email".into(), READ.into()],
            ..Default::default()
        },
    )
    .await
    .expect("a client with standard scopes");
    assert_eq!(web.allowed_oauth_scopes, vec!["openid", "email", READ]);

    // Resource servers: duplicate, describe, update, list, delete.
    let mut a = admin_client(env.a()).await;
    let err = resource_server(env.a(), &pool, API, &["other"])
        .await
        .expect_err("duplicate");
    assert_eq!(exception(&err), "InvalidParameterException");
    for (identifier, names, what) in [
        ("", vec!["read"], "empty identifier"),
        (
            "https://bad.example",
            vec!["a b"],
            "scope name with a space",
        ),
        (
            "https://bad.example",
            vec!["read", "read"],
            "scope listed twice",
        ),
    ] {
        let err = resource_server(env.a(), &pool, identifier, &names)
            .await
            .expect_err(what);
        assert_eq!(exception(&err), "InvalidParameterException", "{what}");
    }
    let rs_ref = |identifier: &str| {
        admin(pb::ResourceServerRef {
            user_pool_id: pool.clone(),
            identifier: identifier.into(),
        })
    };
    let d = a
        .describe_resource_server(rs_ref(API))
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(d.identifier, API);
    assert_eq!(d.user_pool_id, pool);
    assert_eq!(d.name, format!("{API} API"));
    assert_eq!(d.scopes, scopes(&["read", "write"]));
    let updated = a
        .update_resource_server(admin(pb::ResourceServerType {
            user_pool_id: pool.clone(),
            identifier: API.into(),
            name: "Orders".into(),
            scopes: scopes(&["read", "write", "admin"]),
        }))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.name, "Orders");
    assert_eq!(updated.scopes, scopes(&["read", "write", "admin"]));
    let d = a
        .describe_resource_server(rs_ref(API))
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(d, updated);
    // The new scope can now be given to a client.
    let admin_scope = format!("{API}/admin");
    create_client(env.a(), cc_client(true, &[&admin_scope]))
        .await
        .expect("the new scope is usable");
    let err = a
        .update_resource_server(admin(pb::ResourceServerType {
            user_pool_id: pool.clone(),
            identifier: "https://nothing.example".into(),
            name: "x".into(),
            scopes: vec![],
        }))
        .await
        .expect_err("update of an unknown resource server");
    assert_eq!(exception(&err), "ResourceNotFoundException");

    resource_server(env.a(), &pool, "inventory", &["count"])
        .await
        .expect("second server");
    let listed = a
        .list_resource_servers(admin(pb::ListInPoolRequest {
            user_pool_id: pool.clone(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    let mut ids: Vec<&str> = listed
        .resource_servers
        .iter()
        .map(|r| r.identifier.as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![API, "inventory"]);
    a.delete_resource_server(rs_ref("inventory"))
        .await
        .expect("delete");
    let err = a
        .describe_resource_server(rs_ref("inventory"))
        .await
        .expect_err("deleted");
    assert_eq!(exception(&err), "ResourceNotFoundException");
    let err = a
        .delete_resource_server(rs_ref("inventory"))
        .await
        .expect_err("deleted twice");
    assert_eq!(exception(&err), "ResourceNotFoundException");
    let listed = a
        .list_resource_servers(admin(pb::ListInPoolRequest {
            user_pool_id: pool.clone(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.resource_servers.len(), 1);
    let err = create_client(env.a(), cc_client(true, &["inventory/count"]))
        .await
        .expect_err("a scope of a deleted server");
    assert_eq!(exception(&err), "InvalidParameterException");
    env.shutdown().await;
}

/// A resource server's scopes can not be removed (UpdateResourceServer without them,
/// DeleteResourceServer) while an app client of the pool is granted one: tokens would carry
/// scopes no resource server defines. Once no client has them, they go, and the token
/// endpoint grants what remains. Clients of other pools do not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_server_scopes_in_use_are_not_removed() {
    let env = TestEnv::start(3, 2).await;
    let (pool, id, secret) = machine_setup(env.a(), 0).await;
    let mut a = admin_client(env.a()).await;
    resource_server(env.a(), &pool, "billing", &["charge"])
        .await
        .expect("billing");
    let set_scopes = |scopes: &[&str]| {
        admin(pb::UpdateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_id: id.clone(),
            allowed_oauth_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    };
    a.update_user_pool_client(set_scopes(&[READ, WRITE, "billing/charge"]))
        .await
        .expect("allow billing/charge");
    // Another pool: the same identifiers, its own client granted billing/charge.
    let other = new_pool(env.a(), "other").await;
    resource_server(env.a(), &other, "billing", &["charge"])
        .await
        .expect("other billing");
    machine_client(env.a(), &other, &["billing/charge"], 0).await;

    let token_url = url(env.a(), &pool, "token");
    let (id, secret) = (id.as_str(), secret.as_str());
    let u = token_url.as_str();
    wait_for_async("billing/charge granted", PROPAGATION, || async move {
        let r = cc_basic(u, id, secret, Some("billing/charge")).await;
        (r.status == 200).then_some(())
    })
    .await;

    let orders = |names: &[&str]| {
        admin(pb::ResourceServerType {
            user_pool_id: pool.clone(),
            identifier: API.into(),
            name: "Orders".into(),
            scopes: scopes(names),
        })
    };
    let billing = || {
        admin(pb::ResourceServerRef {
            user_pool_id: pool.clone(),
            identifier: "billing".into(),
        })
    };
    let err = a
        .update_resource_server(orders(&["read"]))
        .await
        .expect_err("dropping write, which a client is granted");
    assert_eq!(exception(&err), "InvalidParameterException");
    assert!(
        err.message().contains(id),
        "names the client: {}",
        err.message()
    );
    let err = a
        .delete_resource_server(billing())
        .await
        .expect_err("deleting billing, whose scope a client is granted");
    assert_eq!(exception(&err), "InvalidParameterException");
    let d = a
        .describe_resource_server(admin(pb::ResourceServerRef {
            user_pool_id: pool.clone(),
            identifier: API.into(),
        }))
        .await
        .expect("orders still there")
        .into_inner();
    assert_eq!(d.scopes, scopes(&["read", "write"]), "unchanged");
    a.describe_resource_server(billing())
        .await
        .expect("billing still there");
    let r = cc_basic(u, id, secret, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        scope_set(r.json()["scope"].as_str().unwrap()),
        vec!["billing/charge", READ, WRITE]
    );
    // Adding a scope is always fine.
    a.update_resource_server(orders(&["read", "write", "admin"]))
        .await
        .expect("adding a scope");

    // The client gives the scopes up; then they can go.
    a.update_user_pool_client(set_scopes(&[READ]))
        .await
        .expect("only read");
    a.update_resource_server(orders(&["read"]))
        .await
        .unwrap_or_else(|e| panic!("drop write: {}: {}", exception(&e), e.message()));
    a.delete_resource_server(billing())
        .await
        .unwrap_or_else(|e| panic!("delete billing: {}: {}", exception(&e), e.message()));
    for gw in [env.a(), env.b()] {
        let u = url(gw, &pool, "token");
        let u = u.as_str();
        let r = wait_for_async("write no longer granted", PROPAGATION, || async move {
            let r = cc_basic(u, id, secret, Some(WRITE)).await;
            (r.status != 200).then_some(r)
        })
        .await;
        assert_json_oauth_error(&r, 400, "invalid_scope", "a removed scope");
        let r = cc_basic(u, id, secret, Some("billing/charge")).await;
        assert_json_oauth_error(&r, 400, "invalid_scope", "a deleted server's scope");
        let r = cc_basic(u, id, secret, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["scope"], READ, "all remaining scopes");
    }
    // The other pool's billing server and client are untouched.
    a.describe_resource_server(admin(pb::ResourceServerRef {
        user_pool_id: other.clone(),
        identifier: "billing".into(),
    }))
    .await
    .expect("the other pool's billing");
    env.shutdown().await;
}

/// `grant_type=refresh_token`: a confidential client (Basic) and a public client
/// (client_id in the body) get new access and ID tokens; bad refresh tokens are
/// `invalid_grant`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_grant() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "users").await;
    let confidential = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "backend".into(),
            generate_secret: true,
            explicit_auth_flows: vec![
                "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            access_token_validity_seconds: 1200,
            ..Default::default()
        },
    )
    .await
    .expect("confidential client");
    let (cid, csecret) = (
        confidential.client_id.clone(),
        confidential.client_secret.clone(),
    );
    let public = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "spa".into(),
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            ..Default::default()
        },
    )
    .await
    .expect("public client");
    let no_refresh = create_client(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "no-refresh".into(),
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
            ..Default::default()
        },
    )
    .await
    .expect("client without refresh");

    let (_, signed_in) = admin_signed_in(env.a(), &pool, &cid, &csecret, "rita").await;
    let rt = signed_in.refresh_token.clone();
    assert!(!rt.is_empty());

    // Confidential client, Basic, on the other gateway: new access and ID tokens.
    let token_url = url(env.b(), &pool, "token");
    let auth = basic(&cid, &csecret);
    let r = refresh_grant(&token_url, &[("authorization", &auth)], Some(&rt), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 1200);
    assert!(
        v.get("refresh_token").is_none(),
        "no rotation: no new refresh token"
    );
    let keys = jwks(env.b(), &pool).await;
    let access = v["access_token"].as_str().expect("access token");
    assert_ne!(access, signed_in.access_token);
    let c = signet_verify::verify(access, &keys, &expected(&pool, &cid, TokenUse::Access))
        .unwrap_or_else(|e| panic!("refreshed access token: {e}"));
    assert_eq!(c["username"], "rita");
    assert_eq!(c["client_id"], cid);
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        1200
    );
    let id_token = v["id_token"].as_str().expect("ID token");
    let c = signet_verify::verify(id_token, &keys, &expected(&pool, &cid, TokenUse::Id))
        .unwrap_or_else(|e| panic!("refreshed ID token: {e}"));
    assert_eq!(c["cognito:username"], "rita");
    assert_eq!(c["email"], "rita@example.com");
    // client_secret_post works as well.
    let r = refresh_grant(
        &token_url,
        &[],
        Some(&rt),
        &[("client_id", &cid), ("client_secret", &csecret)],
    )
    .await;
    assert_eq!(r.status, 200, "client_secret_post: {}", r.body);

    // Refusals.
    let h = [("authorization", auth.as_str())];
    let r = refresh_grant(&token_url, &h, Some("garbage"), &[]).await;
    assert_json_oauth_error(&r, 400, "invalid_grant", "garbage refresh token");
    let mid = rt.len() / 2;
    let flip = if &rt[mid..mid + 1] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flip}{}", &rt[..mid], &rt[mid + 1..]);
    let r = refresh_grant(&token_url, &h, Some(&tampered), &[]).await;
    assert_json_oauth_error(&r, 400, "invalid_grant", "tampered refresh token");
    let r = refresh_grant(&token_url, &h, None, &[]).await;
    assert_json_oauth_error(&r, 400, "invalid_request", "no refresh_token");
    let r = refresh_grant(&token_url, &[], Some(&rt), &[("client_id", &cid)]).await;
    assert_json_oauth_error(
        &r,
        401,
        "invalid_client",
        "confidential client without its secret",
    );
    let r = refresh_grant(
        &token_url,
        &[("authorization", &basic(&cid, "wrong"))],
        Some(&rt),
        &[],
    )
    .await;
    assert_json_oauth_error(&r, 401, "invalid_client", "wrong secret");
    // Another client of the pool presents the token: not its grant.
    let r = refresh_grant(
        &token_url,
        &[],
        Some(&rt),
        &[("client_id", &public.client_id)],
    )
    .await;
    assert_json_oauth_error(&r, 400, "invalid_grant", "another client's refresh token");
    let r = refresh_grant(
        &token_url,
        &[],
        Some(&rt),
        &[("client_id", &no_refresh.client_id)],
    )
    .await;
    assert_json_oauth_error(
        &r,
        400,
        "unauthorized_client",
        "client without ALLOW_REFRESH_TOKEN_AUTH",
    );

    // Public client, with a stock OAuth client: client_id in the body, no secret.
    let signed_in = sign_in(env.a(), &public.client_id, "rita", PASSWORD).await;
    let t = BasicClient::new(ClientId::new(public.client_id.clone()))
        .set_token_uri(TokenUrl::new(url(env.a(), &pool, "token")).expect("token URL"))
        .set_auth_type(AuthType::RequestBody)
        .exchange_refresh_token(&RefreshToken::new(signed_in.refresh_token.clone()))
        .request_async(&http())
        .await
        .unwrap_or_else(|e| panic!("public refresh: {e:?}"));
    let c = signet_verify::verify(
        t.access_token().secret(),
        &jwks(env.a(), &pool).await,
        &expected(&pool, &public.client_id, TokenUse::Access),
    )
    .unwrap_or_else(|e| panic!("public client's refreshed token: {e}"));
    assert_eq!(c["username"], "rita");
    assert_eq!(c["token_use"], "access");
    env.shutdown().await;
}
