//! SAML 2.0 federation through the hosted pages, against a real IdP nobody here wrote
//! (pysaml2, signing with xmlsec1: tests/clients/saml_idp.py): the provider made from the
//! IdP's metadata URL, our SP metadata, the AuthnRequest by redirect, the IdP's login, its
//! signed Response posted back, a code for the app, the `EXTERNAL_PROVIDER` user — and the
//! attacks on that Response (tests/clients/saml_forge.py, lxml + signxml): unsigned,
//! changed after signing, re-signed by another key, the eight signature-wrapping shapes, a
//! duplicate ID, a replay through the other gateway. Each attack's refusal is checked to
//! make no user, and the genuine Response is then still accepted: the refusals were for the
//! attack, not for anything else.

use super::hosted_federation::{authorize, code_client, exchange, CALLBACK};
use crate::support::browser::{form_action, hidden, location, query_param, Browser};
use crate::support::oauth::*;
use crate::support::pools::*;
use crate::support::saml_idp::{attacker_keys, forge, SamlIdp};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, TestEnv, TEST_PUBLIC_URL};
use signet_verify::TokenUse;
use std::collections::HashMap;

/// The SAML provider the tests make.
pub(crate) const SAML_PROVIDER: &str = "Corp";

/// A cluster (`stores`, `gateways`), the IdP (alice; signing per `sign`), a pool with the
/// SAML provider `Corp` made from the IdP's metadata URL, and a public code-flow client
/// offering it.
struct Setup {
    env: TestEnv,
    idp: SamlIdp,
    pool: String,
    client: String,
}

async fn setup(stores: usize, gateways: usize, sign: &str) -> Setup {
    let env = TestEnv::start(stores, gateways).await;
    let gw = env.a();
    let local = format!("http://{}", gw.http_addr());
    let idp = SamlIdp::start(
        &["alice:alice-pw:alice@corp.example"],
        sign,
        (TEST_PUBLIC_URL, &local),
    )
    .await;
    let (pool, _) = pool_and_client(gw, false).await;
    saml_provider(gw, &pool, &idp).await;
    let client = code_client(gw, &pool, &[SAML_PROVIDER]).await;
    Setup {
        env,
        idp,
        pool,
        client,
    }
}

/// The SAML provider [`SAML_PROVIDER`] of `pool`, made from `idp`'s metadata URL (mapped:
/// email and name), and checked to have read that metadata.
pub(crate) async fn saml_provider(gw: &GatewayHandle, pool: &str, idp: &SamlIdp) {
    let created = admin_client(gw)
        .await
        .create_identity_provider(admin(pb::IdentityProviderType {
            user_pool_id: pool.into(),
            provider_name: SAML_PROVIDER.into(),
            provider_type: "SAML".into(),
            provider_details: HashMap::from([(
                "MetadataURL".to_string(),
                idp.metadata_url.clone(),
            )]),
            attribute_mapping: HashMap::from([
                ("email".to_string(), "email".to_string()),
                ("name".to_string(), "name".to_string()),
            ]),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create idp: {}: {}", exception(&e), e.message()))
        .into_inner();
    // The metadata was fetched and read: the sign-on URL it names is recorded.
    assert_eq!(
        created.provider_details["SSORedirectBindingURI"], idp.sso_url,
        "{:?}",
        created.provider_details
    );
    assert!(created.provider_details["MetadataFile"].contains("IDPSSODescriptor"));
}

/// Through the IdP up to its answer: the authorize request naming the provider, the
/// redirect to the IdP with our AuthnRequest, its login page, the user's password. The
/// SAMLResponse and RelayState the IdP has the browser post, and where to.
async fn to_idp_and_back(b: &mut Browser, idp: &SamlIdp, start: &str) -> (String, String, String) {
    let to_idp = location(&b.get(start).await);
    assert!(
        to_idp.starts_with(&idp.sso_url),
        "not sent to the IdP: {to_idp}"
    );
    assert!(query_param(&to_idp, "SAMLRequest").is_some(), "{to_idp}");
    let login = b.get(&to_idp).await;
    assert_eq!(
        login.status, 200,
        "the IdP refused our AuthnRequest: {}",
        login.body
    );
    let answer = b
        .submit(
            &to_idp,
            &login,
            &[("username", "alice"), ("password", "alice-pw")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let acs = form_action(&answer.body).replace("&amp;", "&");
    let response = hidden(&answer.body, "SAMLResponse").expect("SAMLResponse");
    let relay = hidden(&answer.body, "RelayState").expect("RelayState");
    (acs, response, relay)
}

/// Post a SAMLResponse to the ACS and follow our 303: the final answer.
async fn post_back(b: &mut Browser, acs: &str, response: &str, relay: &str) -> Reply {
    let r = b
        .post(acs, &[("SAMLResponse", response), ("RelayState", relay)])
        .await;
    if r.status != 303 {
        return r;
    }
    b.get(&location(&r)).await
}

/// Whether `username` exists in `pool`.
async fn user_exists(gw: &GatewayHandle, pool: &str, username: &str) -> bool {
    admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(pool, username)))
        .await
        .is_ok()
}

/// The whole round trip: SP metadata for the IdP's admin, the provider from the IdP's
/// metadata URL, pysaml2's login and signed Response, a code, tokens naming `corp_alice`
/// with the mapped e-mail and a SAML identity; the same Response again, through the other
/// gateway, signs nobody in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saml_idp_signs_a_user_in_through_the_hosted_pages() {
    let Setup {
        env,
        idp,
        pool,
        client,
    } = setup(3, 2, "assertion").await;
    let gw = env.a();

    // Our SP metadata, for the IdP's admin.
    let local = format!("http://{}", gw.http_addr());
    let md = http()
        .get(format!("{local}/{pool}/saml2/metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(md.status(), 200);
    let md = md.text().await.unwrap();
    assert!(
        md.contains(&format!("entityID=\"urn:signet:sp:{pool}\"")),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "Location=\"{TEST_PUBLIC_URL}/{pool}/saml2/idpresponse\""
        )),
        "{md}"
    );

    let mut b = Browser::new(gw);
    let start = authorize(&pool, &client, &[("identity_provider", SAML_PROVIDER)]);
    let (acs, response, relay) = to_idp_and_back(&mut b, &idp, &start).await;
    assert_eq!(acs, format!("{TEST_PUBLIC_URL}/{pool}/saml2/idpresponse"));
    let done = post_back(&mut b, &acs, &response, &relay).await;
    let back = location(&done);
    assert!(back.starts_with(CALLBACK), "{}: {}", done.status, done.body);
    assert_eq!(query_param(&back, "state").as_deref(), Some("app-state"));
    let t = exchange(gw, &pool, &client, &query_param(&back, "code").unwrap()).await;
    let id = signet_verify::verify(
        t["id_token"].as_str().unwrap(),
        &jwks(gw, &pool).await,
        &expected(&pool, &client, TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id["cognito:username"], "corp_alice");
    assert_eq!(id["email"], "alice@corp.example");
    assert_eq!(id["identities"][0]["providerType"], "SAML");
    assert_eq!(id["identities"][0]["userId"], "alice");

    // The same Response again — through the other gateway, in the same browser: the
    // assertion was spent cluster-wide.
    let mut again = b.via(env.b());
    let r = post_back(&mut again, &acs, &response, &relay).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("already used"), "{}", r.body);
    assert!(r.header("location").is_none());
}

/// Every attack on a Response pysaml2 signed (the Assertion signed) is refused and makes
/// no user; a comment inside the NameID does not cut it short; the genuine Response, posted
/// last, signs alice in — so each refusal was for its attack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_wrapped_saml_responses_sign_nobody_in() {
    let Setup {
        env,
        idp,
        pool,
        client,
    } = setup(1, 1, "assertion").await;
    let gw = env.a();
    let keys_dir = tempfile::tempdir().unwrap();
    let (key, cert) = attacker_keys(keys_dir.path()).await;

    let mut b = Browser::new(gw);
    let start = authorize(&pool, &client, &[("identity_provider", SAML_PROVIDER)]);
    let (acs, genuine, relay) = to_idp_and_back(&mut b, &idp, &start).await;
    let evil = ["--name-id", "mallory"];
    let mut attacks = vec![
        ("strip", forge("strip", &genuine, &[]).await),
        ("tamper", forge("tamper", &genuine, &evil).await),
        (
            "resign",
            forge(
                "resign",
                &genuine,
                &["--name-id", "mallory", "--key", &key, "--cert", &cert],
            )
            .await,
        ),
        ("duplicate-id", forge("duplicate-id", &genuine, &[]).await),
    ];
    for xsw in ["xsw3", "xsw4", "xsw5", "xsw6", "xsw7", "xsw8"] {
        attacks.push((xsw, forge(xsw, &genuine, &evil).await));
    }
    for (what, forged) in &attacks {
        let r = post_back(&mut b, &acs, forged, &relay).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert!(r.header("location").is_none(), "{what}: redirected");
        assert!(
            r.body.contains("Sign-in with Corp failed"),
            "{what}: {}",
            r.body
        );
    }
    assert!(!user_exists(gw, &pool, "corp_mallory").await);
    assert!(!user_exists(gw, &pool, "corp_alice").await);

    // A comment in the NameID: the signature still holds (c14n drops comments), and the
    // user is all of the NameID — not `corp_al`.
    let commented = forge("comment", &genuine, &["--insert-at", "2"]).await;
    let done = post_back(&mut b, &acs, &commented, &relay).await;
    assert!(location(&done).starts_with(CALLBACK), "{}", done.body);
    assert!(user_exists(gw, &pool, "corp_alice").await);
    assert!(!user_exists(gw, &pool, "corp_al").await);
    // That was the assertion's one use: the untouched Response is now a replay.
    let r = post_back(&mut b, &acs, &genuine, &relay).await;
    assert!(r.body.contains("already used"), "{}", r.body);
}

/// A Response signed only at the top (the Response, not the Assertion): accepted as it
/// came; wrapped (XSW1, XSW2), stripped or changed, refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_response_is_checked_and_cannot_be_wrapped() {
    let Setup {
        env,
        idp,
        pool,
        client,
    } = setup(1, 1, "response").await;
    let gw = env.a();
    let mut b = Browser::new(gw);
    let start = authorize(&pool, &client, &[("identity_provider", SAML_PROVIDER)]);
    let (acs, genuine, relay) = to_idp_and_back(&mut b, &idp, &start).await;
    let evil = ["--name-id", "mallory"];
    for what in ["xsw1", "xsw2", "strip", "tamper"] {
        let forged = forge(what, &genuine, &evil).await;
        let r = post_back(&mut b, &acs, &forged, &relay).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
    }
    assert!(!user_exists(gw, &pool, "corp_mallory").await);
    let done = post_back(&mut b, &acs, &genuine, &relay).await;
    assert!(location(&done).starts_with(CALLBACK), "{}", done.body);
}

/// The RelayState binds the answer to the browser that asked: a Response carried into
/// another browser (login CSRF) signs nobody in there; a made-up RelayState is refused
/// before anything is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saml_answer_only_completes_in_the_browser_that_asked() {
    let Setup {
        env,
        idp,
        pool,
        client,
    } = setup(1, 1, "assertion").await;
    let gw = env.a();
    let start = authorize(&pool, &client, &[("identity_provider", SAML_PROVIDER)]);
    let mut attacker = Browser::new(gw);
    let (acs, response, relay) = to_idp_and_back(&mut attacker, &idp, &start).await;
    // The victim's browser has its own CSRF cookie (it opened the sign-in page).
    let mut victim = Browser::new(gw);
    let _ = victim.get(&start).await;
    let r = post_back(&mut victim, &acs, &response, &relay).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.header("location").is_none());
    // A RelayState that Signet did not seal.
    let r = victim
        .post(
            &acs,
            &[("SAMLResponse", &response), ("RelayState", "made-up")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}
