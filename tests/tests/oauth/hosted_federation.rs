//! Federated sign-in through the hosted pages with an OpenID Connect provider (a stand-in
//! started by the test): the provider's button, the round trip with nonce, state and PKCE,
//! the `EXTERNAL_PROVIDER` user made once and kept in step with the provider's claims, the
//! `identities` claim — and the answers a provider (or someone posing as one) must not get
//! away with: a token for another sign-in, client or issuer, expired, signed by another key,
//! a state from another browser, concurrent first sign-ins.

use crate::support::browser::{location, query_param, Browser};
use crate::support::oauth::*;
use crate::support::pools::*;
use crate::support::upstream_idp::{Tamper, UpstreamIdp};
use serde_json::json;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, TestEnv, TEST_PUBLIC_URL};
use signet_verify::TokenUse;
use std::collections::HashMap;

pub(crate) const CALLBACK: &str = "http://localhost:8123/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A pool with the OIDC provider `Corp` (the stand-in) and a public client offering it and
/// the pool's own users: (pool, client id).
async fn setup(gw: &GatewayHandle, idp: &UpstreamIdp) -> (String, String) {
    let (pool, _) = pool_and_client(gw, false).await;
    let mut a = admin_client(gw).await;
    let created = a
        .create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.clone(),
            provider_name: "Corp".into(),
            provider_type: "OIDC".into(),
            provider_details: HashMap::from([
                ("client_id".to_string(), "signet-at-corp".to_string()),
                ("client_secret".to_string(), "corp-secret".to_string()),
                (
                    "authorize_scopes".to_string(),
                    "openid email profile".to_string(),
                ),
                ("oidc_issuer".to_string(), idp.issuer()),
            ]),
            attribute_mapping: HashMap::from([
                ("email".to_string(), "email".to_string()),
                ("name".to_string(), "name".to_string()),
            ]),
            idp_identifiers: vec!["corp.example".into()],
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create idp: {}: {}", exception(&e), e.message()))
        .into_inner();
    assert!(
        !created.provider_details.contains_key("client_secret"),
        "the secret came back"
    );
    let client = code_client(gw, &pool, &["COGNITO", "Corp"]).await;
    (pool, client)
}

/// A public code-flow client of `pool` (openid, email, profile; the test callback) offering
/// `providers`: its id.
pub(crate) async fn code_client(gw: &GatewayHandle, pool: &str, providers: &[&str]) -> String {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "web".into(),
            explicit_auth_flows: vec!["ALLOW_REFRESH_TOKEN_AUTH".into()],
            allowed_oauth_flows: vec!["code".into()],
            allowed_oauth_scopes: vec!["openid".into(), "email".into(), "profile".into()],
            callback_urls: vec![CALLBACK.into()],
            supported_identity_providers: providers.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("client: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool_client
        .expect("client")
        .client_id
}

pub(crate) fn authorize(pool: &str, client: &str, extra: &[(&str, &str)]) -> String {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email profile"),
        ("state", "app-state"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(extra);
    format!("{TEST_PUBLIC_URL}/{pool}/oauth2/authorize?{}", form(&q))
}

/// Follow the round trip from an authorize URL naming the provider: the provider's
/// authorize endpoint, then back to Signet's idpresponse; Signet's final answer.
async fn round_trip(b: &mut Browser, url: &str) -> Reply {
    let to_idp = location(&b.get(url).await);
    assert!(
        to_idp.contains("/authorize?"),
        "not sent to the provider: {to_idp}"
    );
    let back = location(&b.get(&to_idp).await);
    assert!(back.contains("/oauth2/idpresponse?"), "{back}");
    b.get(&back).await
}

pub(crate) async fn exchange(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    code: &str,
) -> serde_json::Value {
    let r = post_form(
        &url(gw, pool, "token"),
        &[],
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// The provider's button on the sign-in page leads through the provider and back with a
/// code; the tokens name `corp_<subject>`, an EXTERNAL_PROVIDER user with the mapped
/// attributes and the `identities` claim; the next sign-in is the same user with the
/// provider's new e-mail; `idp_identifier` finds the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_provider_signs_a_user_in_through_the_hosted_pages() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    idp.set_user(
        "u-42",
        json!({"email": "eve@corp.example", "email_verified": true, "name": "Eve"}),
    );
    let (pool, client) = setup(gw, &idp).await;

    // The sign-in page offers the provider.
    let mut b = Browser::new(gw);
    let login = location(&b.get(&authorize(&pool, &client, &[])).await);
    let page = b.get(&login).await;
    assert!(page.body.contains("Continue with Corp"), "{}", page.body);
    let href = page
        .body
        .split("class=\"idp\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the provider's button")
        .replace("&amp;", "&");
    let button = oauth2::url::Url::parse(&login)
        .unwrap()
        .join(&href)
        .unwrap()
        .to_string();
    let done = round_trip(&mut b, &button).await;
    let back = location(&done);
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("app-state"));
    // What the provider was asked: our client there, a nonce, S256, the scopes.
    let asked = idp
        .state
        .lock()
        .unwrap()
        .authorize_requests
        .last()
        .cloned()
        .unwrap();
    assert_eq!(asked["client_id"], "signet-at-corp");
    assert_eq!(asked["scope"], "openid email profile");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert!(asked["nonce"].len() >= 32);
    assert_eq!(
        asked["redirect_uri"],
        format!("{TEST_PUBLIC_URL}/{pool}/oauth2/idpresponse")
    );

    let t = exchange(gw, &pool, &client, &query_param(&back, "code").unwrap()).await;
    let keys = jwks(gw, &pool).await;
    let id = signet_verify::verify(
        t["id_token"].as_str().unwrap(),
        &keys,
        &expected(&pool, &client, TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id["cognito:username"], "corp_u-42");
    assert_eq!(id["email"], "eve@corp.example");
    assert_eq!(id["name"], "Eve");
    assert_eq!(id["identities"][0]["providerName"], "Corp");
    assert_eq!(id["identities"][0]["providerType"], "OIDC");
    assert_eq!(id["identities"][0]["userId"], "u-42");
    let sub = id["sub"].as_str().unwrap().to_string();
    let user = admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(&pool, "corp_u-42")))
        .await
        .expect("the federated user")
        .into_inner();
    assert_eq!(user.user.as_ref().unwrap().user_status, "EXTERNAL_PROVIDER");

    // Again (a new browser, prompt-free), with a changed e-mail: the same user, updated.
    idp.set_user("u-42", json!({"email": "eve@new.example", "name": "Eve"}));
    let mut b2 = Browser::new(gw);
    let done = round_trip(
        &mut b2,
        &authorize(&pool, &client, &[("idp_identifier", "corp.example")]),
    )
    .await;
    let t = exchange(
        gw,
        &pool,
        &client,
        &query_param(&location(&done), "code").unwrap(),
    )
    .await;
    let id = signet_verify::verify(
        t["id_token"].as_str().unwrap(),
        &keys,
        &expected(&pool, &client, TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id["sub"], sub.as_str(), "another user was made");
    assert_eq!(id["email"], "eve@new.example");
    // A federated user has no password to sign in with.
    let r = signet_testkit::auth_client(gw)
        .await
        .initiate_auth(password_auth(&client, "corp_u-42", "anything-at-all"))
        .await;
    assert!(r.is_err());
}

/// Whatever comes back from the provider is checked: an ID token for another sign-in
/// (nonce), without a nonce, for another client, from another issuer, expired or signed by
/// a key not in the provider's JWKS signs nobody in; nor does a state carried to another
/// browser, or a state made up; a refusal at the provider goes back to the app as
/// access_denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_misdirected_provider_answer_signs_nobody_in() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    idp.set_user("u-7", json!({"email": "mal@corp.example"}));
    let (pool, client) = setup(gw, &idp).await;
    let start = authorize(&pool, &client, &[("identity_provider", "Corp")]);
    for t in [
        Tamper::WrongNonce,
        Tamper::NoNonce,
        Tamper::WrongAudience,
        Tamper::WrongIssuer,
        Tamper::Expired,
        Tamper::OtherKey,
    ] {
        idp.tamper(t);
        let mut b = Browser::new(gw);
        let r = round_trip(&mut b, &start).await;
        assert_eq!(r.status, 400, "{t:?}: {}", r.body);
        assert!(r.header("location").is_none(), "{t:?}: redirected");
        assert!(
            r.body.contains("Sign-in with Corp failed"),
            "{t:?}: {}",
            r.body
        );
    }
    idp.tamper(Tamper::None);
    let users = admin_client(gw)
        .await
        .list_users(admin(pb::ListUsersRequest {
            user_pool_id: pool.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .users;
    assert!(
        users.iter().all(|u| !u.username.starts_with("corp_")),
        "a user was made"
    );

    // The provider's answer taken to another browser (login CSRF): refused.
    let mut victim_of = Browser::new(gw);
    let to_idp = location(&victim_of.get(&start).await);
    let back = location(&victim_of.get(&to_idp).await);
    let mut other = Browser::new(gw);
    let _ = other.get(&authorize(&pool, &client, &[])).await;
    let r = other.get(&back).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.header("location").is_none());
    // In the browser it began in, it works (the upstream code was not spent above).
    let r = victim_of.get(&back).await;
    assert!(location(&r).starts_with(CALLBACK));
    // A made-up state, or none.
    let fake = format!("{TEST_PUBLIC_URL}/{pool}/oauth2/idpresponse?code=x&state=forged");
    assert_eq!(victim_of.get(&fake).await.status, 400);
    let none = format!("{TEST_PUBLIC_URL}/{pool}/oauth2/idpresponse?code=x");
    assert_eq!(victim_of.get(&none).await.status, 400);

    // The user says no at the provider: back to the app with access_denied.
    let mut b = Browser::new(gw);
    let to_idp = location(&b.get(&start).await);
    let state = query_param(&to_idp, "state").unwrap();
    let denied = format!(
        "{TEST_PUBLIC_URL}/{pool}/oauth2/idpresponse?{}",
        form(&[("error", "access_denied"), ("state", &state)])
    );
    let back = location(&b.get(&denied).await);
    assert!(back.starts_with(CALLBACK));
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("app-state"));
}

/// Many first sign-ins of one provider subject at once, on two gateways: one user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_sign_ins_make_one_user() {
    let env = TestEnv::start(3, 2).await;
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    idp.set_user("u-race", json!({"email": "race@corp.example"}));
    let (pool, client) = setup(env.a(), &idp).await;
    let start = authorize(&pool, &client, &[("identity_provider", "Corp")]);
    // Each browser goes to the provider and holds its answer...
    let mut pending = Vec::new();
    for i in 0..8 {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        let mut b = Browser::new(gw);
        let to_idp = location(&b.get(&start).await);
        let back = location(&b.get(&to_idp).await);
        pending.push((b, back));
    }
    // ...then all come back at once.
    let mut tasks = Vec::new();
    for (mut b, back) in pending {
        tasks.push(tokio::spawn(async move { location(&b.get(&back).await) }));
    }
    let mut subs = std::collections::BTreeSet::new();
    let keys = jwks(env.a(), &pool).await;
    for t in tasks {
        let back = t.await.unwrap();
        let code = query_param(&back, "code").expect("a code");
        let tokens = exchange(env.a(), &pool, &client, &code).await;
        let id = signet_verify::verify(
            tokens["id_token"].as_str().unwrap(),
            &keys,
            &expected(&pool, &client, TokenUse::Id),
        )
        .unwrap();
        subs.insert(id["sub"].as_str().unwrap().to_string());
    }
    assert_eq!(subs.len(), 1, "{subs:?}");
}

/// Identity providers are administered like Cognito's: names and identifiers unique, the
/// social types named after themselves, secrets never shown, endpoints under the outbound
/// rule; a client may offer only providers that exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_providers_are_administered_and_checked() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    let (pool, _) = setup(gw, &idp).await;
    let mut a = admin_client(gw).await;
    let mk = |name: &str, t: &str, issuer: &str, ids: Vec<String>| pb::IdentityProviderType {
        user_pool_id: pool.clone(),
        provider_name: name.into(),
        provider_type: t.into(),
        provider_details: HashMap::from([
            ("client_id".to_string(), "c".to_string()),
            ("client_secret".to_string(), "s".to_string()),
            ("authorize_scopes".to_string(), "openid".to_string()),
            ("oidc_issuer".to_string(), issuer.to_string()),
        ]),
        idp_identifiers: ids,
        ..Default::default()
    };
    let err = |r: Result<tonic::Response<pb::IdentityProviderType>, tonic::Status>| {
        exception(&r.expect_err("refused"))
    };
    assert_eq!(
        err(a
            .create_identity_provider(admin(mk("Corp", "OIDC", &idp.issuer(), vec![])))
            .await),
        "DuplicateProviderException"
    );
    assert_eq!(
        err(a
            .create_identity_provider(admin(mk(
                "Other",
                "OIDC",
                &idp.issuer(),
                vec!["corp.example".into()]
            )))
            .await),
        "DuplicateProviderException"
    );
    assert_eq!(
        err(a
            .create_identity_provider(admin(mk("Gmail", "Google", &idp.issuer(), vec![])))
            .await),
        "InvalidParameterException"
    );
    assert_eq!(
        err(a
            .create_identity_provider(admin(mk("Plain", "OIDC", "http://idp.example", vec![])))
            .await),
        "InvalidParameterException"
    );
    // Google, pointed at the stand-in (its endpoints are configurable for tests).
    let g = a
        .create_identity_provider(admin(mk("Google", "Google", &idp.issuer(), vec![])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(g.provider_type, "Google");
    assert!(!g.provider_details.contains_key("client_secret"));
    let found = a
        .get_identity_provider_by_identifier(admin(pb::GetIdentityProviderByIdentifierRequest {
            user_pool_id: pool.clone(),
            idp_identifier: "corp.example".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.provider_name, "Corp");
    let names: Vec<String> = a
        .list_identity_providers(admin(pb::ListInPoolRequest {
            user_pool_id: pool.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .providers
        .into_iter()
        .map(|p| p.provider_name)
        .collect();
    assert_eq!(names, vec!["Corp", "Google"]);
    // A client may not name a provider the pool lacks.
    let r = a
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "x".into(),
            allowed_oauth_flows: vec!["code".into()],
            allowed_oauth_scopes: vec!["openid".into()],
            callback_urls: vec![CALLBACK.into()],
            supported_identity_providers: vec!["Nobody".into()],
            ..Default::default()
        }))
        .await;
    assert_eq!(
        exception(&r.expect_err("refused")),
        "InvalidParameterException"
    );
    a.delete_identity_provider(admin(pb::IdentityProviderRef {
        user_pool_id: pool.clone(),
        provider_name: "Google".into(),
    }))
    .await
    .unwrap();
    let r = a
        .describe_identity_provider(admin(pb::IdentityProviderRef {
            user_pool_id: pool.clone(),
            provider_name: "Google".into(),
        }))
        .await;
    assert_eq!(
        exception(&r.expect_err("gone")),
        "ResourceNotFoundException"
    );
}

fn provider_user(
    provider: &str,
    attribute: &str,
    value: &str,
) -> Option<pb::ProviderUserIdentifierType> {
    Some(pb::ProviderUserIdentifierType {
        provider_name: provider.into(),
        provider_attribute_name: attribute.into(),
        provider_attribute_value: value.into(),
    })
}

/// The username a federated sign-in of the provider's current user ends as.
async fn federated_username(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
) -> Result<String, String> {
    let mut b = Browser::new(gw);
    let done = round_trip(
        &mut b,
        &authorize(pool, client, &[("identity_provider", "Corp")]),
    )
    .await;
    if done.status == 400 {
        return Err(done.body);
    }
    let t = exchange(
        gw,
        pool,
        client,
        &query_param(&location(&done), "code").unwrap(),
    )
    .await;
    Ok(
        crate::support::identity::claims_of(t["id_token"].as_str().unwrap())["cognito:username"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// AdminLinkProviderForUser: a provider's subject signs in as an existing user (who gains
/// the identity); a subject that already signed in on its own, or is linked, is not linked
/// (no merging). AdminDisableProviderForUser undoes a link (the next sign-in is a user of
/// its own) and disables a federated user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_subjects_are_linked_to_users_and_disabled() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    let (pool, client) = setup(gw, &idp).await;
    let api_client = public_client(gw, &pool, false).await;
    let ann_sub = confirmed_user(
        gw,
        &pool,
        &api_client,
        "ann",
        "ann@example.com",
        crate::support::identity::PASSWORD,
    )
    .await;
    let mut a = admin_client(gw).await;
    let link = |subject: &str| pb::AdminLinkProviderForUserRequest {
        user_pool_id: pool.clone(),
        destination_user: provider_user("Cognito", "", "ann"),
        source_user: provider_user("Corp", "Cognito_Subject", subject),
    };
    a.admin_link_provider_for_user(admin(link("u-link")))
        .await
        .expect("link");
    let again = a.admin_link_provider_for_user(admin(link("u-link"))).await;
    assert_eq!(
        exception(&again.expect_err("linked twice")),
        "InvalidParameterException"
    );

    idp.set_user("u-link", json!({"email": "someone-else@corp.example"}));
    assert_eq!(federated_username(gw, &pool, &client).await.unwrap(), "ann");
    let ann = a
        .admin_get_user(admin(user_ref(&pool, "ann")))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let attr = |name: &str| {
        ann.attributes
            .iter()
            .find(|x| x.name == name)
            .map(|x| x.value.clone())
    };
    assert_eq!(
        attr("email").as_deref(),
        Some("ann@example.com"),
        "the provider overwrote a pool user's e-mail"
    );
    assert!(attr("identities")
        .unwrap()
        .contains("\"providerName\":\"Corp\""));

    // A subject with a user of its own is not merged into ann.
    idp.set_user("u-own", json!({}));
    assert_eq!(
        federated_username(gw, &pool, &client).await.unwrap(),
        "corp_u-own"
    );
    let merged = a.admin_link_provider_for_user(admin(link("u-own"))).await;
    assert_eq!(
        exception(&merged.expect_err("merged")),
        "InvalidParameterException"
    );

    // Unlinked: u-link is a user of its own from now on; u-own is disabled.
    for subject in ["u-link", "u-own"] {
        a.admin_disable_provider_for_user(admin(pb::AdminDisableProviderForUserRequest {
            user_pool_id: pool.clone(),
            user: provider_user("Corp", "Cognito_Subject", subject),
        }))
        .await
        .expect("disable provider");
    }
    idp.set_user("u-link", json!({}));
    assert_eq!(
        federated_username(gw, &pool, &client).await.unwrap(),
        "corp_u-link"
    );
    idp.set_user("u-own", json!({}));
    let refused = federated_username(gw, &pool, &client)
        .await
        .expect_err("a disabled user");
    assert!(refused.contains("User is disabled"), "{refused}");
    // ann is ann again, without the identity.
    let ann = a
        .admin_get_user(admin(user_ref(&pool, "ann")))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(!ann.attributes.iter().any(|x| x.name == "identities"));
    let _ = ann_sub;
}

/// Facebook and Login with Amazon (OAuth 2.0, no ID token): their endpoints point at the
/// stand-in; the secret goes in the token request's body, the user comes from the user-info
/// API (`id`, `user_id`), named `facebook_<id>` / `loginwithamazon_<user_id>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_and_amazon_sign_users_in_with_oauth_and_their_user_info() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("app-123", "app-secret").await;
    let (pool, _) = pool_and_client(gw, false).await;
    let mut a = admin_client(gw).await;
    for t in ["Facebook", "LoginWithAmazon"] {
        let i = idp.issuer();
        a.create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.clone(),
            provider_name: t.into(),
            provider_type: t.into(),
            provider_details: HashMap::from([
                ("client_id".to_string(), "app-123".to_string()),
                ("client_secret".to_string(), "app-secret".to_string()),
                ("authorize_url".to_string(), format!("{i}/authorize")),
                ("token_url".to_string(), format!("{i}/token")),
                ("attributes_url".to_string(), format!("{i}/userinfo")),
            ]),
            attribute_mapping: HashMap::from([("email".to_string(), "email".to_string())]),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("{t}: {}: {}", exception(&e), e.message()));
    }
    let client = code_client(gw, &pool, &["Facebook", "LoginWithAmazon"]).await;
    let keys = jwks(gw, &pool).await;
    for (t, subject, username) in [
        ("Facebook", "10158", "facebook_10158"),
        (
            "LoginWithAmazon",
            "amzn1.account.XYZ",
            "loginwithamazon_amzn1.account.xyz",
        ),
    ] {
        idp.set_user(
            subject,
            json!({"email": format!("{subject}@social.example")}),
        );
        let mut b = Browser::new(gw);
        let done = round_trip(
            &mut b,
            &authorize(&pool, &client, &[("identity_provider", t)]),
        )
        .await;
        let back = location(&done);
        let t_tokens = exchange(gw, &pool, &client, &query_param(&back, "code").unwrap()).await;
        let id = signet_verify::verify(
            t_tokens["id_token"].as_str().unwrap(),
            &keys,
            &expected(&pool, &client, TokenUse::Id),
        )
        .unwrap();
        assert_eq!(id["cognito:username"], username, "{t}");
        assert_eq!(id["email"], format!("{subject}@social.example"), "{t}");
        assert_eq!(id["identities"][0]["providerType"], t);
        let st = idp.state.lock().unwrap();
        assert!(st.secret_in_body, "{t}: the secret went by Basic");
        let asked = st.authorize_requests.last().unwrap();
        assert!(
            !asked.contains_key("nonce"),
            "{t}: a nonce for a provider without ID tokens"
        );
        assert_eq!(asked["client_id"], "app-123");
    }
}

/// Sign in with Apple (against the stand-in in Apple's ways): the client secret is an ES256
/// JWT Signet signs with the team's .p8 key (the stand-in verifies it), the answer is
/// posted (form_post) — cross-site, so without the browser's cookies, and sent on to a GET
/// that has them — and the name Apple posts at the first sign-in becomes the user's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_apple_posts_its_answer_and_names_the_user_once() {
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("com.example.web", "").await;
    let pem = signet_crypto::SigningKeyPair::es256_pkcs8_pem().unwrap();
    let jwk = signet_crypto::SigningKeyPair::es256_from_pkcs8_pem(&pem, "KEY1")
        .unwrap()
        .public_jwk()
        .clone();
    {
        let mut st = idp.state.lock().unwrap();
        st.apple = Some(("TEAM1".into(), jwk));
        st.apple_user = Some(
            r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"forged@evil.example"}"#
                .into(),
        );
    }
    idp.set_user(
        "001234.apple",
        json!({"email": "ada@privaterelay.example", "email_verified": "true"}),
    );
    let (pool, _) = pool_and_client(gw, false).await;
    let mut a = admin_client(gw).await;
    let details = |pem: &str| {
        HashMap::from([
            ("client_id".to_string(), "com.example.web".to_string()),
            ("team_id".to_string(), "TEAM1".to_string()),
            ("key_id".to_string(), "KEY1".to_string()),
            ("private_key".to_string(), pem.to_string()),
            ("oidc_issuer".to_string(), idp.issuer()),
        ])
    };
    let bad = a
        .create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.clone(),
            provider_name: "SignInWithApple".into(),
            provider_type: "SignInWithApple".into(),
            provider_details: details("not a key"),
            ..Default::default()
        }))
        .await;
    assert_eq!(
        exception(&bad.expect_err("a bad key")),
        "InvalidParameterException"
    );
    let created = a
        .create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.clone(),
            provider_name: "SignInWithApple".into(),
            provider_type: "SignInWithApple".into(),
            provider_details: details(&pem),
            attribute_mapping: HashMap::from([
                ("email".to_string(), "email".to_string()),
                ("name".to_string(), "name".to_string()),
                ("given_name".to_string(), "given_name".to_string()),
            ]),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("apple: {}: {}", exception(&e), e.message()))
        .into_inner();
    assert!(
        !created.provider_details.contains_key("private_key"),
        "the key came back"
    );
    let client = code_client(gw, &pool, &["SignInWithApple"]).await;
    let keys = jwks(gw, &pool).await;
    for (first, want_name) in [(true, "Ada Lovelace"), (false, "Ada Lovelace")] {
        if !first {
            // Apple names the user only once.
            idp.state.lock().unwrap().apple_user = None;
        }
        let mut b = Browser::new(gw);
        let to_apple = location(
            &b.get(&authorize(
                &pool,
                &client,
                &[("identity_provider", "SignInWithApple")],
            ))
            .await,
        );
        let page = b.get(&to_apple).await;
        let asked = idp
            .state
            .lock()
            .unwrap()
            .authorize_requests
            .last()
            .cloned()
            .unwrap();
        assert_eq!(asked["response_mode"], "form_post");
        assert!(!asked.contains_key("code_challenge"));
        let fields = crate::support::browser::hidden_fields(&page.body);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // The cross-site post: no cookies of Signet's.
        let mut apple_page = Browser::new(gw);
        apple_page.origin = idp.issuer();
        let posted = apple_page
            .post(
                &format!("{TEST_PUBLIC_URL}/{pool}/oauth2/idpresponse"),
                &pairs,
            )
            .await;
        let get = location(&posted);
        assert_eq!(posted.status, 303);
        // The browser follows it with its cookies: signed in.
        let back = location(&b.get(&get).await);
        let tokens = exchange(gw, &pool, &client, &query_param(&back, "code").unwrap()).await;
        let id = signet_verify::verify(
            tokens["id_token"].as_str().unwrap(),
            &keys,
            &expected(&pool, &client, TokenUse::Id),
        )
        .unwrap();
        assert_eq!(id["cognito:username"], "signinwithapple_001234.apple");
        assert_eq!(
            id["email"], "ada@privaterelay.example",
            "the e-mail is the ID token's"
        );
        assert_eq!(id["name"], want_name);
        // Someone else's browser can not use that post's answer.
        if first {
            let mut other = Browser::new(gw);
            let _ = other.get(&authorize(&pool, &client, &[])).await;
            assert_eq!(other.get(&get).await.status, 400);
        }
    }
}

/// A pool's PreSignUp hook hears of a provider user's first sign-in
/// (`PreSignUp_ExternalProvider`, with the mapped attributes and the identity) and may
/// refuse it: no user is made; a later sign-in of a known user does not ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_sign_up_hears_of_a_first_federated_sign_in_and_may_refuse_it() {
    use crate::support::hooks::{Receiver, Reply};
    let env = TestEnv::start(3, 2).await;
    let gw = env.a();
    let idp = UpstreamIdp::start("signet-at-corp", "corp-secret").await;
    let (pool, client) = setup(gw, &idp).await;
    let rx = Receiver::start().await;
    rx.respond(|r| {
        let e = r.json();
        let email = e["request"]["userAttributes"]["email"]
            .as_str()
            .unwrap_or("");
        if email.ends_with("@blocked.example") {
            Reply::status(400, json!({"errorMessage": "not from that domain"}))
        } else {
            Reply::ok(json!({"response": {}}))
        }
    });
    admin_client(gw)
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.clone(),
            lambda_config: Some(pb::LambdaConfigType {
                pre_sign_up: Some(pb::TriggerHookType {
                    url: format!("{}/pre", rx.base),
                    timeout_ms: 2000,
                    fail_open: false,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }))
        .await
        .expect("a PreSignUp hook");
    let start = authorize(&pool, &client, &[("identity_provider", "Corp")]);

    idp.set_user("u-blocked", json!({"email": "mal@blocked.example"}));
    let refused = round_trip(&mut Browser::new(gw), &start).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("not from that domain"),
        "{}",
        refused.body
    );
    let gone = admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(&pool, "corp_u-blocked")))
        .await;
    assert_eq!(
        exception(&gone.expect_err("no user")),
        "UserNotFoundException"
    );

    idp.set_user("u-fine", json!({"email": "fine@corp.example"}));
    let done = round_trip(&mut Browser::new(gw), &start).await;
    assert!(location(&done).starts_with(CALLBACK));
    let events: Vec<serde_json::Value> = rx.received().iter().map(|r| r.json()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let e = &events[1];
    assert_eq!(e["triggerSource"], "PreSignUp_ExternalProvider");
    assert_eq!(e["userName"], "corp_u-fine");
    assert_eq!(e["request"]["userAttributes"]["email"], "fine@corp.example");
    // Known now: the next sign-in asks nobody.
    let again = round_trip(&mut Browser::new(gw), &start).await;
    assert!(location(&again).starts_with(CALLBACK));
    assert_eq!(rx.received().len(), 2);
}
