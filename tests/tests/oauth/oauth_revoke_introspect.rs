//! Token revocation (RFC 7009, `POST {issuer}/oauth2/revoke`), introspection (RFC 7662,
//! `POST {issuer}/oauth2/introspect`) and OIDC userInfo (`{issuer}/oauth2/userInfo`), for
//! services' client_credentials tokens and users' access and refresh tokens.

use crate::support::identity::{claims_of, user_pool_login};
use crate::support::jws::{self, B64};
use crate::support::oauth::*;
use crate::support::pools::*;
use base64::Engine;
use oauth2::basic::BasicClient;
use oauth2::{AccessToken, ClientId, ClientSecret, IntrospectionUrl, TokenIntrospectionResponse};
use serde_json::{json, Value};
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, wait_for_async, TEST_PUBLIC_URL};

// ---------------------------------------------------------------------------------------
// HTTP

/// A client's credentials; an empty secret is a public client's.
#[derive(Clone)]
struct Cred {
    id: String,
    secret: String,
}

/// POST a form to `url`, authenticated as `cred` (none if `None`): client_secret_basic, or
/// a public client's bare client_id in the body.
async fn post_as(url: &str, cred: Option<&Cred>, pairs: &[(&str, &str)]) -> Reply {
    let mut pairs = pairs.to_vec();
    let mut headers = vec![];
    let auth;
    match cred {
        Some(c) if c.secret.is_empty() => pairs.push(("client_id", &c.id)),
        Some(c) => {
            auth = basic(&c.id, &c.secret);
            headers.push(("authorization", auth.as_str()));
        }
        None => {}
    }
    post_form(url, &headers, &pairs).await
}

async fn introspect(gw: &GatewayHandle, pool: &str, cred: &Cred, token: &str) -> Reply {
    post_as(
        &url(gw, pool, "introspect"),
        Some(cred),
        &[("token", token)],
    )
    .await
}

/// The introspection answer, which must be a success.
async fn introspected(gw: &GatewayHandle, pool: &str, cred: &Cred, token: &str) -> Value {
    let r = introspect(gw, pool, cred, token).await;
    assert_eq!(r.status, 200, "introspection: {}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()
}

/// Introspection says the token is inactive, and nothing else (RFC 7662 §2.2).
async fn assert_inactive(gw: &GatewayHandle, pool: &str, cred: &Cred, token: &str, what: &str) {
    let v = introspected(gw, pool, cred, token).await;
    assert_eq!(v, json!({"active": false}), "{what}");
}

async fn revoke(gw: &GatewayHandle, pool: &str, cred: &Cred, token: &str) -> Reply {
    post_as(&url(gw, pool, "revoke"), Some(cred), &[("token", token)]).await
}

/// A revocation that succeeds: 200, no body.
async fn revoked(gw: &GatewayHandle, pool: &str, cred: &Cred, token: &str, what: &str) {
    let r = revoke(gw, pool, cred, token).await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    assert!(r.body.is_empty(), "{what}: no body: {:?}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
}

/// GET userInfo with `Authorization: Bearer {token}` (no header if `None`).
async fn user_info(gw: &GatewayHandle, pool: &str, token: Option<&str>) -> Reply {
    let mut req = http().get(url(gw, pool, "userInfo"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    send(req).await
}

/// userInfo refused the token: 401 `invalid_token` with a Bearer challenge.
fn assert_invalid_token(r: &Reply, what: &str) {
    assert_oauth_error(r, 401, "invalid_token", what);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\""),
        "{what}"
    );
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// A client made by CreateUserPoolClient as given: its credentials.
async fn client_cred(gw: &GatewayHandle, req: pb::CreateUserPoolClientRequest) -> Cred {
    let c = create_client(gw, req)
        .await
        .unwrap_or_else(|e| panic!("create client: {}: {}", exception(&e), e.message()));
    Cred {
        id: c.client_id,
        secret: c.client_secret,
    }
}

/// A client_credentials client allowed `scopes`.
async fn machine_client(gw: &GatewayHandle, pool: &str, scopes: &[&str]) -> Cred {
    client_cred(gw, machine_client_request(pool, scopes, 900)).await
}

/// A confidential client with no OAuth grant: a resource server that introspects.
async fn confidential_client(gw: &GatewayHandle, pool: &str) -> Cred {
    client_cred(
        gw,
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "resource-server".into(),
            generate_secret: true,
            ..Default::default()
        },
    )
    .await
}

/// A confidential client for users: admin password sign-in and refresh.
async fn user_client(gw: &GatewayHandle, pool: &str) -> Cred {
    client_cred(
        gw,
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "backend".into(),
            generate_secret: true,
            explicit_auth_flows: vec![
                "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            ..Default::default()
        },
    )
    .await
}

/// A client_credentials access token of `cred` at `pool` on `gw`.
async fn service_token(gw: &GatewayHandle, pool: &str, cred: &Cred, scope: &str) -> String {
    let r = post_as(
        &url(gw, pool, "token"),
        Some(cred),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await;
    assert_eq!(r.status, 200, "client_credentials: {}", r.body);
    r.json()["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// A compact JWS of this header and payload, signed by `key`.
fn forge(key: &SigningKeyPair, header: &Value, payload: &Value) -> String {
    jws::sign(key, &header.to_string(), &payload.to_string())
}

/// `token` with its payload replaced, header and signature kept.
fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(payload.to_string()),
        parts[2]
    )
}

// ---------------------------------------------------------------------------------------
// Tests

/// A service's token: introspected active with its claims by a resource server of the
/// pool; revoked by its own client (not by another); inactive afterwards on every gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_tokens_are_introspected_then_revoked_by_their_client() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "services").await;
    orders_api(env.a(), &pool).await;
    let svc = machine_client(env.a(), &pool, &[READ, WRITE]).await;
    let rs = confidential_client(env.a(), &pool).await;
    let token = service_token(env.a(), &pool, &svc, READ).await;
    let claims = claims_of(&token);

    // Another client of the pool (a resource server) learns nothing about it (RFC 7662 §4:
    // a client is told only about tokens issued to it).
    assert_inactive(env.a(), &pool, &rs, &token, "another client's token").await;
    // Active, with the token's claims, for its own client, on both gateways.
    for gw in [env.a(), env.b()] {
        let v = introspected(gw, &pool, &svc, &token).await;
        assert_eq!(v["active"], true, "{v}");
        assert_eq!(v["token_type"], "access_token");
        assert_eq!(v["token_use"], "access");
        assert_eq!(v["scope"], READ);
        assert_eq!(v["client_id"], svc.id);
        assert_eq!(v["sub"], svc.id);
        assert_eq!(v["iss"], format!("{TEST_PUBLIC_URL}/{pool}"));
        assert_eq!(v["jti"], claims["jti"]);
        assert_eq!(v["exp"], claims["exp"]);
        assert_eq!(v["iat"], claims["iat"]);
        assert_eq!(v["exp"].as_u64().unwrap() - v["iat"].as_u64().unwrap(), 900);
        assert!(v.get("username").is_none(), "no user: {v}");
    }
    // The token's own client may introspect it too (client_secret_post).
    let r = post_as(
        &url(env.a(), &pool, "introspect"),
        None,
        &[
            ("token", &token),
            ("client_id", &svc.id),
            ("client_secret", &svc.secret),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], true);
    // A stock OAuth library reads the answer (RFC 7662 response).
    let stock = BasicClient::new(ClientId::new(svc.id.clone()))
        .set_client_secret(ClientSecret::new(svc.secret.clone()))
        .set_introspection_url(
            IntrospectionUrl::new(url(env.b(), &pool, "introspect")).expect("URL"),
        );
    let access = AccessToken::new(token.clone());
    let i = stock
        .introspect(&access)
        .request_async(&http())
        .await
        .unwrap_or_else(|e| panic!("oauth2 introspection: {e:?}"));
    assert!(i.active());
    assert_eq!(i.client_id().map(|c| c.as_str()), Some(svc.id.as_str()));
    assert_eq!(i.sub(), Some(svc.id.as_str()));
    assert_eq!(
        i.scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec![READ.to_string()])
    );
    assert_eq!(i.jti(), claims["jti"].as_str());
    assert_eq!(
        i.exp().map(|t| t.timestamp() as u64),
        claims["exp"].as_u64()
    );

    // Another client of the pool may not revoke it; it stays active.
    let r = revoke(env.a(), &pool, &rs, &token).await;
    assert_oauth_error(&r, 400, "unauthorized_client", "revoked by another client");
    assert_eq!(
        introspected(env.b(), &pool, &svc, &token).await["active"],
        true
    );
    // Refusals: wrong secret, no token.
    let wrong = Cred {
        id: svc.id.clone(),
        secret: "wrong".into(),
    };
    let r = revoke(env.a(), &pool, &wrong, &token).await;
    assert_oauth_error(&r, 401, "invalid_client", "revoke with a wrong secret");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    let r = post_as(&url(env.a(), &pool, "revoke"), Some(&svc), &[]).await;
    assert_oauth_error(&r, 400, "invalid_request", "revoke without a token");
    assert_eq!(
        introspected(env.a(), &pool, &svc, &token).await["active"],
        true
    );

    // Its own client revokes it: inactive at once, on the other gateway too.
    let other = service_token(env.a(), &pool, &svc, WRITE).await;
    revoked(env.a(), &pool, &svc, &token, "revoked by its client").await;
    assert_inactive(env.b(), &pool, &svc, &token, "revoked token").await;
    assert_inactive(env.a(), &pool, &svc, &token, "revoked token").await;
    assert!(!stock
        .introspect(&access)
        .request_async(&http())
        .await
        .expect("oauth2 introspection")
        .active());
    // Only that token: another of the same client stays active.
    assert_eq!(
        introspected(env.b(), &pool, &svc, &other).await["active"],
        true
    );

    // Revoking again, or revoking garbage, is not an error (RFC 7009 §2.2).
    revoked(env.b(), &pool, &svc, &token, "revoked twice").await;
    revoked(env.a(), &pool, &svc, "not-a-token", "garbage").await;
    revoked(env.a(), &pool, &svc, "a.b.c", "garbage JWT").await;
    env.shutdown().await;
}

/// Introspection says `active: false` for other pools' tokens, tampered or forged tokens
/// and garbage; only confidential clients of the pool may introspect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_refuses_foreign_and_forged_tokens_and_public_clients() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "services").await;
    orders_api(env.a(), &pool).await;
    let svc = machine_client(env.a(), &pool, &[READ, WRITE]).await;
    let rs = confidential_client(env.a(), &pool).await;
    let pool_b = new_pool(env.a(), "elsewhere").await;
    orders_api(env.a(), &pool_b).await;
    let svc_b = machine_client(env.a(), &pool_b, &[READ]).await;

    let token = service_token(env.a(), &pool, &svc, READ).await;
    assert_eq!(
        introspected(env.a(), &pool, &svc, &token).await["active"],
        true
    );

    // Pool B's token at pool A: inactive (at pool B, active).
    let token_b = service_token(env.b(), &pool_b, &svc_b, READ).await;
    assert_eq!(
        introspected(env.a(), &pool_b, &svc_b, &token_b).await["active"],
        true
    );
    assert_inactive(env.a(), &pool, &svc, &token_b, "pool B's token at pool A").await;
    // Revoking B's token at A does nothing to it.
    revoked(env.a(), &pool, &svc, &token_b, "another pool's token").await;
    assert_eq!(
        introspected(env.b(), &pool_b, &svc_b, &token_b).await["active"],
        true
    );

    // Tampered: more scope, same signature.
    let mut claims = claims_of(&token);
    claims["scope"] = format!("{READ} {WRITE}").into();
    assert_inactive(
        env.a(),
        &pool,
        &svc,
        &with_payload(&token, &claims),
        "tampered",
    )
    .await;
    // Later expiry, same signature.
    let mut claims = claims_of(&token);
    claims["exp"] = (claims["exp"].as_u64().unwrap() + 86_400).into();
    assert_inactive(
        env.a(),
        &pool,
        &svc,
        &with_payload(&token, &claims),
        "extended",
    )
    .await;
    // Well-formed, but signed by a key that is not in the JWKS.
    let stranger = SigningKeyPair::generate(Algorithm::EdDSA).expect("key");
    let header = json!({"alg": "EdDSA", "kid": stranger.kid(), "typ": "JWT"});
    let forged = forge(&stranger, &header, &claims_of(&token));
    assert_inactive(env.a(), &pool, &svc, &forged, "unknown key").await;
    // Signed by a stranger's key, but claiming a published kid.
    let published = crate::support::pools::kid_of(&token);
    let header = json!({"alg": "EdDSA", "kid": published, "typ": "JWT"});
    let forged = forge(&stranger, &header, &claims_of(&token));
    assert_inactive(env.a(), &pool, &svc, &forged, "published kid, foreign key").await;
    // Unsigned.
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        B64.encode(claims_of(&token).to_string())
    );
    assert_inactive(env.a(), &pool, &svc, &none, "alg none").await;
    // Garbage.
    for garbage in ["not-a-token", "", "a.b.c", &"x".repeat(10_000)] {
        assert_inactive(env.a(), &pool, &svc, garbage, "garbage").await;
    }
    // The untouched token is still active.
    assert_eq!(
        introspected(env.a(), &pool, &svc, &token).await["active"],
        true
    );

    // Who may introspect.
    let public = client_cred(
        env.a(),
        pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "spa".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(public.secret.is_empty());
    let r = introspect(env.a(), &pool, &public, &token).await;
    assert_oauth_error(&r, 401, "invalid_client", "public client");
    assert!(r.body.find("active").is_none(), "nothing about the token");
    let wrong = Cred {
        id: rs.id.clone(),
        secret: "wrong".into(),
    };
    let r = introspect(env.a(), &pool, &wrong, &token).await;
    assert_oauth_error(&r, 401, "invalid_client", "wrong secret");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    let r = post_as(
        &url(env.a(), &pool, "introspect"),
        None,
        &[("token", &token)],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client", "no client");
    let r = introspect(env.a(), &pool, &svc_b, &token).await;
    assert_oauth_error(&r, 401, "invalid_client", "pool B's client at pool A");
    let r = post_as(&url(env.a(), &pool, "introspect"), Some(&svc), &[]).await;
    assert_oauth_error(&r, 400, "invalid_request", "no token");
    env.shutdown().await;
}

/// A user's refresh token introspects active for its client; revoking it revokes its
/// family: the refresh token and the access tokens issued with it become inactive, and
/// userInfo refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_refresh_token_revokes_its_family() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "users").await;
    let web = user_client(env.a(), &pool).await;
    let rs = confidential_client(env.a(), &pool).await;
    let (sub, tokens) = admin_signed_in(env.a(), &pool, &web.id, &web.secret, "rosa").await;
    let (rt, at) = (tokens.refresh_token.clone(), tokens.access_token.clone());
    assert!(!rt.is_empty());

    // The refresh token, introspected by its client.
    let v = introspected(env.a(), &pool, &web, &rt).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["token_type"], "refresh_token");
    assert_eq!(v["username"], "rosa");
    assert_eq!(v["sub"], sub);
    assert_eq!(v["client_id"], web.id);
    assert_eq!(v["iss"], format!("{TEST_PUBLIC_URL}/{pool}"));
    assert!(v["exp"].as_u64().unwrap() > v["iat"].as_u64().unwrap() + 3_600);
    // The access token: nothing for another client of the pool (RFC 7662 §4), its claims
    // for its own client.
    assert_inactive(env.b(), &pool, &rs, &at, "another client's access token").await;
    let v = introspected(env.b(), &pool, &web, &at).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["token_type"], "access_token");
    assert_eq!(v["username"], "rosa");
    assert_eq!(v["sub"], sub);
    assert_eq!(v["client_id"], web.id);
    assert_eq!(v["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(user_info(env.a(), &pool, Some(&at)).await.status, 200);

    // Another client may not revoke it.
    let r = revoke(env.a(), &pool, &rs, &rt).await;
    assert_oauth_error(
        &r,
        400,
        "unauthorized_client",
        "another client's refresh token",
    );
    assert_eq!(
        introspected(env.b(), &pool, &web, &rt).await["active"],
        true
    );

    // Its client revokes it (Basic), on gateway A; B sees the whole family revoked.
    revoked(env.a(), &pool, &web, &rt, "refresh token").await;
    assert_inactive(env.b(), &pool, &web, &rt, "revoked refresh token").await;
    assert_inactive(
        env.b(),
        &pool,
        &web,
        &at,
        "access token of a revoked family",
    )
    .await;
    assert_inactive(
        env.a(),
        &pool,
        &web,
        &at,
        "access token of a revoked family",
    )
    .await;
    let r = user_info(env.b(), &pool, Some(&at)).await;
    assert_invalid_token(&r, "userInfo with an access token of a revoked family");
    let r = post_as(
        &url(env.b(), &pool, "token"),
        Some(&web),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "refresh with a revoked refresh token",
    );
    let err = auth_client(env.a())
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: at.clone(),
        })
        .await
        .expect_err("GetUser with a revoked family's token");
    assert_eq!(exception(&err), "NotAuthorizedException");
    // Idempotent.
    revoked(env.b(), &pool, &web, &rt, "refresh token again").await;

    // A new sign-in is a new family, unaffected.
    let fresh = admin_client(env.a())
        .await
        .admin_initiate_auth(admin(admin_password_auth(
            &pool,
            &web.id,
            &web.secret,
            "rosa",
        )))
        .await
        .expect("sign in again")
        .into_inner()
        .authentication_result
        .expect("tokens");
    assert_eq!(
        introspected(env.a(), &pool, &web, &fresh.refresh_token).await["active"],
        true
    );
    assert_eq!(
        user_info(env.b(), &pool, Some(&fresh.access_token))
            .await
            .status,
        200
    );
    env.shutdown().await;
}

/// A refresh token is a credential of its own client: introspected by another client of
/// the pool it is inactive (as `introspect` documents: "only its own client may see it
/// active").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_is_active_only_for_its_own_client() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "users").await;
    let web = user_client(env.a(), &pool).await;
    let rs = confidential_client(env.a(), &pool).await;
    let (_, tokens) = admin_signed_in(env.a(), &pool, &web.id, &web.secret, "otto").await;
    let rt = tokens.refresh_token;
    assert_eq!(
        introspected(env.a(), &pool, &web, &rt).await["active"],
        true
    );
    assert_inactive(env.a(), &pool, &rs, &rt, "another client's refresh token").await;
    env.shutdown().await;
}

/// Introspection calls a refresh token active only while the token endpoint would accept
/// it: not after a global sign-out of its user, nor while the user is disabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_introspection_agrees_with_the_token_endpoint() {
    let env = TestEnv::start(3, 2).await;
    let pool = new_pool(env.a(), "users").await;
    let web = user_client(env.a(), &pool).await;
    let (_, gina) = admin_signed_in(env.a(), &pool, &web.id, &web.secret, "gina").await;
    let (_, hugo) = admin_signed_in(env.a(), &pool, &web.id, &web.secret, "hugo").await;
    let token_url = url(env.a(), &pool, "token");
    for rt in [&gina.refresh_token, &hugo.refresh_token] {
        assert_eq!(introspected(env.a(), &pool, &web, rt).await["active"], true);
    }
    let mut a = admin_client(env.a()).await;
    let user = |name: &str| {
        admin(pb::UserRef {
            user_pool_id: pool.clone(),
            username: name.into(),
        })
    };
    a.admin_user_global_sign_out(user("gina"))
        .await
        .expect("global sign-out");
    a.admin_disable_user(user("hugo")).await.expect("disable");

    for (rt, what) in [
        (gina.refresh_token.as_str(), "after a global sign-out"),
        (hugo.refresh_token.as_str(), "of a disabled user"),
    ] {
        // The token endpoint refuses it...
        let (web, token_url) = (&web, token_url.as_str());
        let r = wait_for_async(
            &format!("a refresh {what} refused"),
            PROPAGATION,
            || async move {
                let r = post_as(
                    token_url,
                    Some(web),
                    &[("grant_type", "refresh_token"), ("refresh_token", rt)],
                )
                .await;
                (r.status != 200).then_some(r)
            },
        )
        .await;
        assert_oauth_error(&r, 400, "invalid_grant", &format!("refresh {what}"));
        // ...so introspection must not call it active.
        assert_inactive(env.a(), &pool, web, rt, &format!("refresh token {what}")).await;
    }
    env.shutdown().await;
}

/// A user's access token revoked on its own (RFC 7009, by jti) is refused everywhere the
/// token is checked: introspection, userInfo and GetUser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_user_access_token_is_refused_everywhere() {
    let env = TestEnv::start(3, 2).await;
    let login = user_pool_login(env.a(), "ivan").await;
    let pool = login.pool_id.clone();
    let public = Cred {
        id: login.client_id.clone(),
        secret: String::new(),
    };
    let rs = confidential_client(env.a(), &pool).await;
    let at = login.access_token.clone();
    // A public client's token: no other client may learn about it (RFC 7662 §4).
    assert_inactive(env.a(), &pool, &rs, &at, "a public client's access token").await;
    assert_eq!(user_info(env.a(), &pool, Some(&at)).await.status, 200);

    // The public client revokes its own access token (client_id in the body).
    revoked(env.a(), &pool, &public, &at, "user access token").await;
    let r = user_info(env.b(), &pool, Some(&at)).await;
    assert_invalid_token(&r, "userInfo with a revoked access token");
    let err = auth_client(env.b())
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: at.clone(),
        })
        .await
        .expect_err("GetUser with a revoked access token");
    assert_eq!(exception(&err), "NotAuthorizedException");
    env.shutdown().await;
}

/// userInfo answers a fresh user access token of the pool with the user's attributes as
/// strings; it refuses no token, garbage, ID tokens, services' tokens, other pools' tokens
/// and signed-out users' tokens, with 401 `invalid_token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_info_answers_only_fresh_user_access_tokens_of_the_pool() {
    let env = TestEnv::start(3, 2).await;
    let login = user_pool_login(env.a(), "uma").await;
    let pool = login.pool_id.clone();
    let at = login.access_token.clone();

    for gw in [env.a(), env.b()] {
        let r = user_info(gw, &pool, Some(&at)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")));
        let v = r.json();
        assert_eq!(v["sub"], login.sub);
        assert_eq!(v["username"], "uma");
        assert_eq!(v["email"], "uma@example.com");
        assert_eq!(
            v["email_verified"], "true",
            "a string, as Cognito's userInfo: {v}"
        );
        for (k, val) in v.as_object().expect("object") {
            assert!(val.is_string(), "{k} is a string: {v}");
        }
    }
    // POST works as GET does.
    let r = send(
        http()
            .post(url(env.a(), &pool, "userInfo"))
            .bearer_auth(&at),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["username"], "uma");

    let r = user_info(env.a(), &pool, None).await;
    assert_invalid_token(&r, "no token");
    let r = send(
        http()
            .get(url(env.a(), &pool, "userInfo"))
            .header("authorization", format!("Basic {at}")),
    )
    .await;
    assert_invalid_token(&r, "not a Bearer token");
    let r = user_info(env.a(), &pool, Some("garbage")).await;
    assert_invalid_token(&r, "garbage");
    let r = user_info(env.a(), &pool, Some(&login.id_token)).await;
    assert_invalid_token(&r, "an ID token");

    // A service's token of the same pool.
    orders_api(env.a(), &pool).await;
    let svc = machine_client(env.a(), &pool, &[READ]).await;
    let service = service_token(env.a(), &pool, &svc, READ).await;
    let r = user_info(env.a(), &pool, Some(&service)).await;
    assert_invalid_token(&r, "a client_credentials token");

    // Another pool's user token at this pool's endpoint (accepted at its own).
    let other = user_pool_login(env.a(), "bea").await;
    let r = user_info(env.b(), &other.pool_id, Some(&other.access_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["username"], "bea");
    let r = user_info(env.b(), &pool, Some(&other.access_token)).await;
    assert_invalid_token(&r, "pool B's token at pool A");

    // Signed out everywhere: refused.
    admin_client(env.a())
        .await
        .admin_user_global_sign_out(admin(pb::UserRef {
            user_pool_id: pool.clone(),
            username: "uma".into(),
        }))
        .await
        .expect("global sign-out");
    for gw in [env.a(), env.b()] {
        let r = wait_for_async("userInfo to refuse a signed-out token", PROPAGATION, || {
            let (gw, pool, at) = (gw, pool.as_str(), at.as_str());
            async move {
                let r = user_info(gw, pool, Some(at)).await;
                (r.status != 200).then_some(r)
            }
        })
        .await;
        assert_invalid_token(&r, "signed-out user's token");
    }
    env.shutdown().await;
}
