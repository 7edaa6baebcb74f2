//! The hosted sign-in: `/oauth2/authorize` with the code flow and PKCE, the sign-in pages,
//! the browser's session, `/logout`, and the code's exchange at the token endpoint — driven
//! by a scripted browser and a stock OAuth 2.0 client (the `oauth2` crate), and attacked:
//! code replay, redirect-URI games, PKCE downgrade, CSRF, a session after sign-out, a code
//! after a disable, one code raced on two gateways.

use crate::support::browser::{hidden, location, query_param, Browser};
use crate::support::identity::PASSWORD;
use crate::support::oauth::*;
use crate::support::pools::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use serde_json::{Map, Value};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, wait_for_async, TestEnv, TEST_PUBLIC_URL};
use signet_verify::TokenUse;

const CALLBACK: &str = "http://localhost:8123/cb";
const APP_CALLBACK: &str = "https://app.example/cb";
const LOGOUT: &str = "https://app.example/bye";

/// A pool with a confirmed user `ann`, a public hosted-sign-in client and a confidential
/// one: (pool, public client id, (confidential id, secret)).
async fn setup(gw: &GatewayHandle) -> (String, String, (String, String)) {
    let (pool, api_client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &api_client, "ann", "ann@example.com", PASSWORD).await;
    let public = hosted_client(gw, &pool, false).await.client_id;
    let c = hosted_client(gw, &pool, true).await;
    (pool, public, (c.client_id, c.client_secret))
}

async fn hosted_client(gw: &GatewayHandle, pool: &str, secret: bool) -> pb::UserPoolClientType {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "hosted".into(),
            generate_secret: secret,
            explicit_auth_flows: vec!["ALLOW_REFRESH_TOKEN_AUTH".into()],
            allowed_oauth_flows: vec!["code".into()],
            allowed_oauth_scopes: vec![
                "openid".into(),
                "email".into(),
                "aws.cognito.signin.user.admin".into(),
            ],
            callback_urls: vec![CALLBACK.into(), APP_CALLBACK.into()],
            logout_urls: vec![LOGOUT.into()],
            supported_identity_providers: vec!["COGNITO".into()],
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("hosted client: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool_client
        .expect("client")
}

pub(crate) fn issuer(pool: &str) -> String {
    format!("{TEST_PUBLIC_URL}/{pool}")
}

/// An authorize URL (under the public URL) with `pairs`.
pub(crate) fn authorize_url(pool: &str, pairs: &[(&str, &str)]) -> String {
    format!("{}/oauth2/authorize?{}", issuer(pool), form(pairs))
}

/// PKCE S256 for a verifier.
fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The query of an authorization request of `client` with S256 PKCE (VERIFIER).
fn pkce_request<'a>(client: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// Sign `username` in through the pages from an authorize URL; the callback URL reached.
async fn sign_in_through_pages(b: &mut Browser, authorize: &str, username: &str) -> String {
    let to_login = location(&b.get(authorize).await);
    assert!(
        to_login.contains("/login?"),
        "not sent to the sign-in page: {to_login}"
    );
    let page = b.get(&to_login).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<label for=\"password\">"));
    let done = b
        .submit(
            &to_login,
            &page,
            &[("username", username), ("password", PASSWORD)],
        )
        .await;
    location(&done)
}

/// Exchange a code at the token endpoint with the raw form; the answer.
pub(crate) async fn exchange(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    code: &str,
    verifier: Option<&str>,
    redirect: &str,
) -> Reply {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client),
        ("code", code),
        ("redirect_uri", redirect),
    ];
    pairs.extend(verifier.map(|v| ("code_verifier", v)));
    post_form(&url(gw, pool, "token"), &[], &pairs).await
}

pub(crate) fn verified(
    pool: &str,
    client: &str,
    token: &str,
    keys: &signet_verify::KeySet,
    u: TokenUse,
) -> Map<String, Value> {
    signet_verify::verify(token, keys, &expected(pool, client, u))
        .unwrap_or_else(|e| panic!("a relying party refuses the token: {e}"))
}

/// A stock OAuth 2.0 client runs the whole flow: authorize with PKCE and state, the
/// sign-in page, the callback with the code, the exchange; the tokens verify with
/// signet-verify, carry the nonce and the granted scopes, refresh, and open userInfo. A
/// second authorize uses the browser's session (no page), `prompt=login` asks again and
/// `prompt=none` without a session answers `login_required`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_client_signs_a_user_in_with_code_and_pkce() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let oauth = BasicClient::new(ClientId::new(client_id.clone()))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth2/authorize", issuer(&pool))).unwrap())
        .set_token_uri(TokenUrl::new(url(gw, &pool, "token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (auth_url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("aws.cognito.signin.user.admin".into()))
        .add_extra_param("nonce", "nonce-123")
        .set_pkce_challenge(challenge)
        .url();
    let mut b = Browser::new(gw);
    let back = sign_in_through_pages(&mut b, auth_url.as_str(), "ann").await;
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&back, "code").expect("code");
    let t = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    let keys = jwks(gw, &pool).await;
    let access = verified(
        &pool,
        &client_id,
        t.access_token().secret(),
        &keys,
        TokenUse::Access,
    );
    assert_eq!(access["scope"], "openid aws.cognito.signin.user.admin");
    assert_eq!(access["username"], "ann");
    let refresh = t.refresh_token().expect("a refresh token").secret().clone();

    // userInfo opens with it; the ID token came with openid, bound to the nonce.
    let info = send(
        http()
            .get(url(gw, &pool, "userInfo"))
            .bearer_auth(t.access_token().secret()),
    )
    .await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["email"], "ann@example.com");

    // The same browser again: its session answers at once, with a new code.
    let (challenge2, verifier2) = PkceCodeChallenge::new_random_sha256();
    let (again, _) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .add_extra_param("nonce", "nonce-456")
        .set_pkce_challenge(challenge2)
        .url();
    let back = location(&b.get(again.as_str()).await);
    assert!(
        back.starts_with(CALLBACK),
        "no page the second time: {back}"
    );
    let code2 = query_param(&back, "code").expect("code");
    let raw = exchange(
        gw,
        &pool,
        &client_id,
        &code2,
        Some(verifier2.secret()),
        CALLBACK,
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let body = raw.json();
    let id = verified(
        &pool,
        &client_id,
        body["id_token"].as_str().expect("id_token"),
        &keys,
        TokenUse::Id,
    );
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["cognito:username"], "ann");
    let access2 = verified(
        &pool,
        &client_id,
        body["access_token"].as_str().unwrap(),
        &keys,
        TokenUse::Access,
    );
    assert_eq!(access2["scope"], "openid email");

    // A refresh keeps the granted scopes (and gives no nonce).
    let r = post_form(
        &url(gw, &pool, "token"),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refreshed = verified(
        &pool,
        &client_id,
        r.json()["access_token"].as_str().unwrap(),
        &keys,
        TokenUse::Access,
    );
    assert_eq!(refreshed["scope"], "openid aws.cognito.signin.user.admin");
    let rid = verified(
        &pool,
        &client_id,
        r.json()["id_token"].as_str().unwrap(),
        &keys,
        TokenUse::Id,
    );
    assert!(rid.get("nonce").is_none(), "no nonce on refresh: {rid:?}");

    // prompt=login: the page again, despite the session.
    let c = s256(VERIFIER);
    let mut q = pkce_request(&client_id, &c);
    q.push(("prompt", "login"));
    assert!(location(&b.get(&authorize_url(&pool, &q)).await).contains("/login?"));
    // prompt=none in a browser without a session: back to the client with login_required.
    let mut fresh = Browser::new(gw);
    let mut q = pkce_request(&client_id, &c);
    q.push(("prompt", "none"));
    let back = location(&fresh.get(&authorize_url(&pool, &q)).await);
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));

    // Discovery names the authorization endpoint and S256.
    let d = send(http().get(format!(
        "http://{}/{pool}/.well-known/openid-configuration",
        gw.http_addr()
    )))
    .await;
    let d = d.json();
    assert_eq!(
        d["authorization_endpoint"],
        format!("{}/oauth2/authorize", issuer(&pool))
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(d["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&"authorization_code".into()));
}

/// A code is good once: the second exchange fails and revokes what the first one got
/// (access token and refresh token), on whichever gateway; of eight exchanges racing on two
/// gateways, exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_code_fails_and_revokes_what_the_first_exchange_issued() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client_id, _) = setup(env.a()).await;
    let c = s256(VERIFIER);
    let mut b = Browser::new(env.a());
    let back = sign_in_through_pages(
        &mut b,
        &authorize_url(&pool, &pkce_request(&client_id, &c)),
        "ann",
    )
    .await;
    let code = query_param(&back, "code").unwrap();
    let first = exchange(env.a(), &pool, &client_id, &code, Some(VERIFIER), CALLBACK).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let access = first.json()["access_token"].as_str().unwrap().to_string();
    let refresh = first.json()["refresh_token"].as_str().unwrap().to_string();
    let user_info = |gw: &GatewayHandle| {
        let (u, a) = (url(gw, &pool, "userInfo"), access.clone());
        async move { send(http().get(u).bearer_auth(a)).await.status }
    };
    assert_eq!(user_info(env.b()).await, 200);

    // The replay, at the other gateway.
    let again = exchange(env.b(), &pool, &client_id, &code, Some(VERIFIER), CALLBACK).await;
    assert_oauth_error(&again, 400, "invalid_grant", "replayed code");
    assert_eq!(
        user_info(env.a()).await,
        401,
        "the first exchange's access token is revoked"
    );
    let r = post_form(
        &url(env.a(), &pool, "token"),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_oauth_error(
        &r,
        400,
        "invalid_grant",
        "refresh of a replayed code's family",
    );

    // A fresh code, raced: eight exchanges on two gateways, one winner.
    let back = location(
        &b.get(&authorize_url(&pool, &pkce_request(&client_id, &c)))
            .await,
    );
    let code = query_param(&back, "code").unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        let (pool, client_id, code) = (pool.clone(), client_id.clone(), code.clone());
        let token_url = url(gw, &pool, "token");
        tasks.push(tokio::spawn(async move {
            post_form(
                &token_url,
                &[],
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &client_id),
                    ("code", &code),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        7,
        "{statuses:?}"
    );
}

/// A redirect URI that is not registered exactly is shown as an error page, never
/// followed: look-alikes, other ports, paths, fragments, an unknown client; and the token
/// endpoint wants the same redirect URI as the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_uri_not_registered_exactly_is_refused_on_a_page() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let c = s256(VERIFIER);
    let mut b = Browser::new(gw);
    for bad in [
        "http://localhost:8124/cb",
        "http://localhost:8123/cb/",
        "http://localhost:8123/cb?x=1",
        "http://localhost:8123/cb#x",
        "http://localhost:8123/CB",
        "https://app.example/cb/../evil",
        "https://app.example.evil.example/cb",
        "https://evil.example/?https://app.example/cb",
    ] {
        let mut q = pkce_request(&client_id, &c);
        q[2] = ("redirect_uri", bad);
        let r = b.get(&authorize_url(&pool, &q)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.header("location").is_none(), "{bad}: redirected");
        assert!(
            r.body.contains("redirect_uri is not registered"),
            "{bad}: {}",
            r.body
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }
    let mut q = pkce_request("0000000000000000000000000a", &c);
    q[2] = ("redirect_uri", "https://evil.example/cb");
    let r = b.get(&authorize_url(&pool, &q)).await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    // A parameter given twice is refused, not read by its first copy.
    let twice = format!(
        "{}&redirect_uri={}",
        authorize_url(&pool, &pkce_request(&client_id, &c)),
        "https%3A%2F%2Fevil.example%2Fcb"
    );
    let r = b.get(&twice).await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());

    // A code for one registered callback, exchanged naming the other: refused.
    let mut q = pkce_request(&client_id, &c);
    q[2] = ("redirect_uri", APP_CALLBACK);
    let back = sign_in_through_pages(&mut b, &authorize_url(&pool, &q), "ann").await;
    assert!(back.starts_with(APP_CALLBACK), "{back}");
    let code = query_param(&back, "code").unwrap();
    let r = exchange(gw, &pool, &client_id, &code, Some(VERIFIER), CALLBACK).await;
    assert_oauth_error(&r, 400, "invalid_grant", "other redirect_uri");
    let mut no_redirect = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("code", code.as_str()),
    ];
    no_redirect.push(("code_verifier", VERIFIER));
    let r = post_form(&url(gw, &pool, "token"), &[], &no_redirect).await;
    assert_oauth_error(&r, 400, "invalid_grant", "no redirect_uri");
    // Refusals spent nothing: the right exchange still works.
    let r = exchange(gw, &pool, &client_id, &code, Some(VERIFIER), APP_CALLBACK).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// PKCE can not be skipped or weakened: a public client without a challenge, `plain`, a
/// missing or wrong verifier, a verifier for a code made without a challenge (the
/// downgrade), and a code taken to another client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_can_not_be_skipped_downgraded_or_moved_to_another_client() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, (conf_id, conf_secret)) = setup(gw).await;
    let mut b = Browser::new(gw);
    let error_of = |back: &str| query_param(back, "error");

    // A public client must send S256.
    let base = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
    ];
    let back = location(&b.get(&authorize_url(&pool, &base)).await);
    assert_eq!(
        error_of(&back).as_deref(),
        Some("invalid_request"),
        "{back}"
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("s"));
    let mut plain = base.to_vec();
    plain.extend([
        ("code_challenge", VERIFIER),
        ("code_challenge_method", "plain"),
    ]);
    let back = location(&b.get(&authorize_url(&pool, &plain)).await);
    assert_eq!(
        error_of(&back).as_deref(),
        Some("invalid_request"),
        "{back}"
    );

    // A code with a challenge: no verifier, a wrong one, the challenge itself: refused.
    let c = s256(VERIFIER);
    let back = sign_in_through_pages(
        &mut b,
        &authorize_url(&pool, &pkce_request(&client_id, &c)),
        "ann",
    )
    .await;
    let code = query_param(&back, "code").unwrap();
    for (what, v) in [
        ("no verifier", None),
        ("a wrong verifier", Some("x".repeat(43))),
        ("the challenge as verifier", Some(c.clone())),
    ] {
        let r = exchange(gw, &pool, &client_id, &code, v.as_deref(), CALLBACK).await;
        assert_oauth_error(&r, 400, "invalid_grant", what);
    }
    // The public client's code at the confidential client (its own secret): refused.
    let r = post_form(
        &url(gw, &pool, "token"),
        &[("authorization", &basic(&conf_id, &conf_secret))],
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant", "another client's code");
    assert_eq!(
        exchange(gw, &pool, &client_id, &code, Some(VERIFIER), CALLBACK)
            .await
            .status,
        200
    );

    // A confidential client may go without PKCE; then a verifier at the exchange is the
    // sign of a downgrade (RFC 9700 §2.1.1) and is refused; without it and without the
    // secret, refused too.
    let q = [
        ("response_type", "code"),
        ("client_id", conf_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
    ];
    let back = location(&b.get(&authorize_url(&pool, &q)).await);
    let code = query_param(&back, "code").expect("a code from the session");
    let with_secret = |v: Option<&'static str>| {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ];
        pairs.extend(v.map(|v| ("code_verifier", v)));
        let auth = basic(&conf_id, &conf_secret);
        let token_url = url(gw, &pool, "token");
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        async move {
            let p: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            post_form(&token_url, &[("authorization", &auth)], &p).await
        }
    };
    assert_oauth_error(
        &with_secret(Some(VERIFIER)).await,
        400,
        "invalid_grant",
        "downgrade",
    );
    let r = exchange(gw, &pool, &conf_id, &code, None, CALLBACK).await;
    assert_oauth_error(
        &r,
        401,
        "invalid_client",
        "confidential client without its secret",
    );
    assert_eq!(with_secret(None).await.status, 200);
}

/// A form post that did not come from the page is refused before anything is checked:
/// no CSRF cookie, a field from another browser, a foreign Origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_is_refused() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let c = s256(VERIFIER);
    let auth = authorize_url(&pool, &pkce_request(&client_id, &c));
    let mut attacker = Browser::new(gw);
    let to_login = location(&attacker.get(&auth).await);
    let page = attacker.get(&to_login).await;
    let field = hidden(&page.body, "_csrf").expect("a CSRF field");
    let creds = [("username", "ann"), ("password", PASSWORD)];

    // The victim's browser (no CSRF cookie of its own) posts the attacker's form.
    let mut victim = Browser::new(gw);
    let mut pairs = vec![("_csrf", field.as_str())];
    pairs.extend(creds);
    let r = victim.post(&to_login, &pairs).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.header("location").is_none());
    // The victim has a cookie of its own, but the field is the attacker's.
    let _ = victim.get(&to_login).await;
    let r = victim.post(&to_login, &pairs).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // The attacker's own pair, posted from another origin.
    attacker.origin = "https://evil.example".into();
    let r = attacker.submit(&to_login, &page, &creds).await;
    assert_eq!(r.status, 403, "{}", r.body);
    // From the page itself: signed in.
    attacker.origin = TEST_PUBLIC_URL.into();
    let r = attacker.submit(&to_login, &page, &creds).await;
    assert!(location(&r).starts_with(CALLBACK));
}

/// The browser's session and its codes follow the user: after a global sign-out the
/// session signs nobody in, a code issued before a disable exchanges for nothing, and
/// `/logout` ends the session and goes only to a registered logout URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_codes_end_with_sign_out_disable_and_logout() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let c = s256(VERIFIER);
    let auth = authorize_url(&pool, &pkce_request(&client_id, &c));
    let mut b = Browser::new(gw);
    sign_in_through_pages(&mut b, &auth, "ann").await;
    // The session works, on the other gateway too.
    let mut other = b.via(env.b());
    assert!(location(&other.get(&auth).await).starts_with(CALLBACK));

    let mut a = admin_client(gw).await;
    a.admin_user_global_sign_out(admin(user_ref(&pool, "ann")))
        .await
        .expect("sign out");
    let r = b.get(&auth).await;
    assert!(
        location(&r).contains("/login?"),
        "the session outlived sign-out"
    );

    // A code, then the user is disabled before its exchange.
    let back = sign_in_through_pages(&mut b, &auth, "ann").await;
    let code = query_param(&back, "code").unwrap();
    a.admin_disable_user(admin(user_ref(&pool, "ann")))
        .await
        .expect("disable");
    let r = exchange(gw, &pool, &client_id, &code, Some(VERIFIER), CALLBACK).await;
    assert_oauth_error(&r, 400, "invalid_grant", "code of a disabled user");
    a.admin_enable_user(admin(user_ref(&pool, "ann")))
        .await
        .expect("enable");

    // /logout: only to a registered URL; the session cookie goes.
    let logout = |uri: &str| {
        format!(
            "{}/logout?{}",
            issuer(&pool),
            form(&[("client_id", &client_id), ("logout_uri", uri)])
        )
    };
    let r = b.get(&logout("https://evil.example/bye")).await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    sign_in_through_pages(&mut b, &auth, "ann").await;
    let session_cookie = format!("signet-session-{pool}");
    assert!(b.jar.contains_key(&session_cookie));
    let r = b.get(&logout(LOGOUT)).await;
    assert_eq!(location(&r), LOGOUT);
    assert!(
        !b.jar.contains_key(&session_cookie),
        "the session cookie stayed"
    );
    assert!(location(&b.get(&auth).await).contains("/login?"));
}

/// A new user signs up on the page, confirms with the code sent, and signs in; a wrong
/// password shows the error on the page (no redirect).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_confirm_and_sign_in_on_the_pages() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let c = s256(VERIFIER);
    let auth = authorize_url(&pool, &pkce_request(&client_id, &c));
    let mut b = Browser::new(gw);
    let to_login = location(&b.get(&auth).await);
    let signup_url = to_login.replace("/login?", "/signup?");
    let page = b.get(&signup_url).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<label for=\"attr:email\">"),
        "{}",
        page.body
    );
    let r = b
        .submit(
            &signup_url,
            &page,
            &[
                ("username", "bo"),
                ("attr:email", "bo@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("We sent a confirmation code"), "{}", r.body);
    let code = outbox_code(gw, &pool, "bo", "confirm").await;
    let confirm_url = to_login.replace("/login?", "/confirm?");
    let r = b
        .submit(&confirm_url, &r, &[("username", "bo"), ("code", &code)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("confirmed"), "{}", r.body);
    // The sign-in page it shows: a wrong password first, then the right one.
    let wrong = b
        .submit(
            &to_login,
            &r,
            &[("username", "bo"), ("password", "Wrong-Pass-123")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("Incorrect username or password."),
        "{}",
        wrong.body
    );
    let done = b
        .submit(
            &to_login,
            &wrong,
            &[("username", "bo"), ("password", PASSWORD)],
        )
        .await;
    let back = location(&done);
    let code = query_param(&back, "code").unwrap();
    let t = exchange(gw, &pool, &client_id, &code, Some(VERIFIER), CALLBACK).await;
    assert_eq!(t.status, 200, "{}", t.body);
}

/// A pool that reserves sign-up to admins: the sign-in page has no sign-up link, the
/// sign-up page shows no form, and a sign-up form posted anyway is refused on the page;
/// nobody is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_for_admin_created_users_only_offers_no_sign_up_on_the_pages() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    admin_client(gw)
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.clone(),
            admin_create_user_only: Some(true),
            ..Default::default()
        }))
        .await
        .expect("admins only");
    let c = s256(VERIFIER);
    let auth = authorize_url(&pool, &pkce_request(&client_id, &c));
    let mut b = Browser::new(gw);
    let to_login = location(&b.get(&auth).await);
    let login = b.get(&to_login).await;
    assert_eq!(login.status, 200);
    assert!(!login.body.contains("signup?"), "{}", login.body);
    let signup_url = to_login.replace("/login?", "/signup?");
    let page = b.get(&signup_url).await;
    assert!(!page.body.contains("attr:email"), "{}", page.body);
    assert!(
        page.body
            .contains("SignUp is not permitted for this user pool"),
        "{}",
        page.body
    );
    // The form posted anyway (with this browser's CSRF field): refused, nobody made.
    let csrf = login
        .body
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the page's CSRF field")
        .to_string();
    let r = b
        .post(
            &signup_url,
            &[
                ("_csrf", &csrf),
                ("username", "mallory"),
                ("attr:email", "mallory@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(
        r.body
            .contains("SignUp is not permitted for this user pool"),
        "{}",
        r.body
    );
    let lookup = admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(&pool, "mallory")))
        .await;
    assert_eq!(
        exception(&lookup.expect_err("no user")),
        "UserNotFoundException"
    );
    env.shutdown().await;
}

/// A Python web app's stack runs the flow unchanged: requests-oauthlib (authorize URL with
/// S256 and state, the exchange with its verifier), requests as the browser on the page,
/// PyJWT verifying the ID token from the JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_oauthlib_and_pyjwt_run_the_code_flow() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let args = [
        issuer(&pool),
        format!("http://{}", gw.http_addr()),
        client_id.clone(),
        CALLBACK.to_string(),
        "ann".to_string(),
        PASSWORD.to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::clients::python_client("oauth_code_flow.py", &a)
    })
    .await
    .expect("python client");
    let id = &out["id_claims"];
    assert_eq!(id["nonce"], "py-nonce-1", "{out}");
    assert_eq!(id["aud"], client_id.as_str());
    assert_eq!(id["iss"], issuer(&pool));
    assert_eq!(id["email"], "ann@example.com");
    assert_eq!(id["cognito:username"], "ann");
    assert_eq!(out["has_refresh_token"], true);
    assert_eq!(out["token_type"], "Bearer");
    assert_eq!(out["state_returned"], true);
}

/// A pool's look on its pages: its logo (https only) and colours (#rrggbb only: nothing
/// else reaches the page's style), and back to the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_wear_the_pools_logo_and_colours_and_nothing_else() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let mut a = admin_client(gw).await;
    let set = |logo: &str, primary: &str, background: &str| pb::UpdateUserPoolRequest {
        user_pool_id: pool.clone(),
        ui_customization: Some(pb::UiCustomizationType {
            logo_url: logo.into(),
            primary_color: primary.into(),
            background_color: background.into(),
        }),
        ..Default::default()
    };
    for (logo, primary, background) in [
        ("javascript:alert(1)", "", ""),
        ("http://cdn.example/logo.png", "", ""),
        ("https://cdn.example/a\"onerror=\"x.png", "", ""),
        ("", "red", ""),
        ("", "#12345", ""),
        ("", "#fff}body{x", ""),
        ("", "", "#00000g"),
    ] {
        let r = a
            .update_user_pool(admin(set(logo, primary, background)))
            .await;
        assert_eq!(
            exception(&r.expect_err("refused")),
            "InvalidParameterException",
            "{logo} {primary} {background}"
        );
    }
    let p = a
        .update_user_pool(admin(set(
            "https://cdn.example/logo.png",
            "#aa3300",
            "#f0f0e0",
        )))
        .await
        .expect("a look")
        .into_inner()
        .user_pool
        .unwrap();
    assert_eq!(
        p.ui_customization.unwrap().primary_color,
        "#aa3300".to_string()
    );
    let c = s256(VERIFIER);
    let auth = authorize_url(&pool, &pkce_request(&client_id, &c));
    let page_of = async |b: &mut Browser| {
        let login = location(&b.get(&auth).await);
        b.get(&login).await.body
    };
    let page = wait_for_async("the new look", PROPAGATION, || async {
        let body = page_of(&mut Browser::new(gw)).await;
        body.contains("#aa3300").then_some(body)
    })
    .await;
    assert!(
        page.contains("<img class=\"logo\" src=\"https://cdn.example/logo.png\" alt=\"journey\">"),
        "{page}"
    );
    assert!(page.contains("button{background:#aa3300}"));
    assert!(page.contains("body{background:#f0f0e0}"));
    a.update_user_pool(admin(pb::UpdateUserPoolRequest {
        user_pool_id: pool.clone(),
        clear_ui_customization: true,
        ..Default::default()
    }))
    .await
    .expect("default look");
    wait_for_async("the default look", PROPAGATION, || async {
        let body = page_of(&mut Browser::new(gw)).await;
        (!body.contains("#aa3300") && !body.contains("img class=\"logo\"")).then_some(())
    })
    .await;
}

/// MFA turned ON in `pool` with `config`'s factors, then ann's password typed on the sign-in
/// page of an authorization request of `client_id`: the browser, the sign-in page's URL and
/// the page that came next.
async fn mfa_on_and_password(
    gw: &GatewayHandle,
    pool: &str,
    client_id: &str,
    config: pb::SetUserPoolMfaConfigRequest,
) -> (Browser, String, Reply) {
    admin_client(gw)
        .await
        .set_user_pool_mfa_config(admin(pb::SetUserPoolMfaConfigRequest {
            user_pool_id: pool.into(),
            mfa_configuration: "ON".into(),
            ..config
        }))
        .await
        .expect("MFA on");
    let auth = authorize_url(pool, &pkce_request(client_id, &s256(VERIFIER)));
    let mut b = Browser::new(gw);
    let to_login = location(&b.get(&auth).await);
    let page = b.get(&to_login).await;
    let next = b
        .submit(
            &to_login,
            &page,
            &[("username", "ann"), ("password", PASSWORD)],
        )
        .await;
    (b, to_login, next)
}

/// A pool that requires MFA: the sign-in page's password leads to the code page (the
/// code went to the user's verified e-mail), a wrong code keeps the user there, the right
/// one ends at the app with a code; the code page's session is the sign-in's own (another
/// client's page cannot use it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_factor_is_asked_on_its_own_page() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let (pool, client_id, (conf_id, _)) = setup(gw).await;
    let (mut b, to_login, mfa) = mfa_on_and_password(
        gw,
        &pool,
        &client_id,
        pb::SetUserPoolMfaConfigRequest {
            email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: true }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(mfa.status, 200, "{}", mfa.body);
    assert!(mfa.body.contains("Enter your code"), "{}", mfa.body);
    assert!(mfa.body.contains("We sent a code to"), "{}", mfa.body);
    assert_eq!(hidden(&mfa.body, "challenge").as_deref(), Some("EMAIL_OTP"));
    let challenge_url = to_login.replace("/login?", "/challenge?");
    let code = outbox_code(gw, &pool, "ann", "mfa:email").await;
    // A code that is surely wrong (not the one sent, whatever it is).
    let not_it = if code == "000000" { "111111" } else { "000000" };
    let wrong = b.submit(&challenge_url, &mfa, &[("answer", not_it)]).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.header("location").is_none());
    // The sign-in's session on the confidential client's pages: refused.
    let other_client = to_login
        .replace("/login?", "/challenge?")
        .replace(&client_id, &conf_id);
    let mut fields = crate::support::browser::hidden_fields(&mfa.body);
    fields.push(("answer".into(), code.clone()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let moved = b.post(&other_client, &pairs).await;
    assert_eq!(moved.status, 400, "{}", moved.body);
    assert!(moved.header("location").is_none());
    let done = b
        .submit(&challenge_url, &mfa, &[("answer", code.as_str())])
        .await;
    let back = location(&done);
    assert!(back.starts_with(CALLBACK), "{back}");
    let t = exchange(
        gw,
        &pool,
        &client_id,
        &query_param(&back, "code").unwrap(),
        Some(VERIFIER),
        CALLBACK,
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
}

/// A pool that requires MFA, and an account with no factor yet: the page shows a new
/// authenticator key (MFA_SETUP), a mistyped code shows it again, the code pyotp makes from
/// the key (an authenticator nobody here wrote) completes the sign-in; the next sign-in
/// asks that authenticator's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_factor_sets_up_an_authenticator_on_the_page() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, client_id, _) = setup(gw).await;
    let (mut b, to_login, setup_page) = mfa_on_and_password(
        gw,
        &pool,
        &client_id,
        pb::SetUserPoolMfaConfigRequest {
            software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
                enabled: true,
            }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(setup_page.status, 200, "{}", setup_page.body);
    assert!(
        setup_page.body.contains("Set up an authenticator app"),
        "{}",
        setup_page.body
    );
    assert_eq!(
        hidden(&setup_page.body, "challenge").as_deref(),
        Some("MFA_SETUP")
    );
    let key = hidden(&setup_page.body, "key").expect("the key");
    assert!(key.len() >= 32, "{key}");
    let shown: String = setup_page
        .body
        .split("<code id=\"totp-key\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the key on the page")
        .replace(' ', "");
    assert_eq!(shown, key);
    let challenge_url = to_login.replace("/login?", "/challenge?");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = {
        let (key, now) = (key.clone(), now.to_string());
        tokio::task::spawn_blocking(move || {
            crate::support::clients::python_client("totp_codes.py", &[&key, &now])
        })
        .await
        .unwrap()["codes"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    let not_it = if code == "000000" { "111111" } else { "000000" };
    let wrong = b
        .submit(&challenge_url, &setup_page, &[("answer", not_it)])
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains(&key[..4]), "the key is shown again");
    let done = b
        .submit(&challenge_url, &wrong, &[("answer", code.as_str())])
        .await;
    let back = location(&done);
    assert!(back.starts_with(CALLBACK), "{}: {}", done.status, done.body);
    // From now on the authenticator is asked for.
    let auth = authorize_url(&pool, &pkce_request(&client_id, &s256(VERIFIER)));
    let mut b2 = Browser::new(gw);
    let to_login = location(&b2.get(&auth).await);
    let page = b2.get(&to_login).await;
    let next = b2
        .submit(
            &to_login,
            &page,
            &[("username", "ann"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        hidden(&next.body, "challenge").as_deref(),
        Some("SOFTWARE_TOKEN_MFA")
    );
}
