//! Identity pools over gRPC, across two gateways of one cluster: GetId under concurrency,
//! the checks on login tokens, guests, role mappings, trust policies, the classic flow,
//! developer identities, linking / merging / unlinking, and the admin calls.
//!
//! Gateways cache identity pools and roles and learn of changes from the store's change
//! stream, so a test that changes a pool after it has been used waits (with a deadline)
//! for the change to show instead of expecting it on the very next call.

use crate::support::identity::*;
use crate::support::pools::*;
use futures::future::join_all;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{
    admin, admin_client, identity_admin_client, identity_client, sts_client, wait_for_async,
    TEST_PUBLIC_URL,
};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tonic::Status;

const NOT_AUTHORIZED: &str = "NotAuthorizedException";
const NOT_FOUND: &str = "ResourceNotFoundException";
const INVALID: &str = "InvalidParameterException";
const ACCESS_DENIED: &str = "AccessDeniedException";
const BAD_CONFIG: &str = "InvalidIdentityPoolConfigurationException";
/// Provider name of Signet's own identity tokens.
const IDENTITY: &str = "signet-identity";
/// Developer provider name of the pools that have one.
const DEV: &str = "login.example.app";
const WAIT: Duration = Duration::from_secs(15);

// ---- small call wrappers -------------------------------------------------------------

/// GetCredentialsForIdentity with `custom_role_arn` (empty: the pool's choice): the
/// credentials, for the identity asked about.
async fn credentials_as(
    gw: &GatewayHandle,
    identity_id: &str,
    logins: &Logins,
    custom_role_arn: &str,
) -> Result<pb::CredentialsType, Status> {
    get_credentials(gw, identity_id, logins, custom_role_arn)
        .await
        .map(|r| {
            assert_eq!(r.identity_id, identity_id);
            r.credentials.expect("credentials")
        })
}

/// The `role` claim of the session token GetCredentialsForIdentity hands out.
async fn role_of(gw: &GatewayHandle, identity_id: &str, logins: &Logins) -> Result<String, Status> {
    credentials_as(gw, identity_id, logins, "").await.map(|c| {
        claims_of(&c.session_token)["role"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

async fn open_id_token(
    gw: &GatewayHandle,
    identity_id: &str,
    logins: &Logins,
) -> Result<String, Status> {
    identity_client(gw)
        .await
        .get_open_id_token(pb::GetOpenIdTokenRequest {
            identity_id: identity_id.into(),
            logins: logins.clone(),
        })
        .await
        .map(|r| {
            let r = r.into_inner();
            assert_eq!(r.identity_id, identity_id);
            r.token
        })
}

/// GetOpenIdTokenForDeveloperIdentity (with admin credentials) for developer user `user`.
async fn developer_token(
    gw: &GatewayHandle,
    pool: &str,
    identity_id: &str,
    user: &str,
    token_duration: u64,
) -> Result<pb::OpenIdTokenResponse, Status> {
    identity_admin_client(gw)
        .await
        .get_open_id_token_for_developer_identity(admin(
            pb::GetOpenIdTokenForDeveloperIdentityRequest {
                identity_pool_id: pool.into(),
                identity_id: identity_id.into(),
                logins: logins(&[(DEV, user)]),
                token_duration,
            },
        ))
        .await
        .map(|r| r.into_inner())
}

async fn describe_identity(
    gw: &GatewayHandle,
    identity_id: &str,
) -> Result<pb::IdentityDescription, Status> {
    identity_admin_client(gw)
        .await
        .describe_identity(admin(pb::IdentityRef {
            identity_id: identity_id.into(),
        }))
        .await
        .map(|r| r.into_inner())
}

async fn describe_pool(gw: &GatewayHandle, pool: &str) -> Result<pb::IdentityPoolType, Status> {
    identity_admin_client(gw)
        .await
        .describe_identity_pool(admin(pb::IdentityPoolRef {
            identity_pool_id: pool.into(),
        }))
        .await
        .map(|r| r.into_inner())
}

/// Every identity of `pool`, page by page (`page` results per call); also the number of
/// calls it took.
async fn all_identities(
    gw: &GatewayHandle,
    pool: &str,
    page: u32,
) -> (Vec<pb::IdentityDescription>, usize) {
    let mut a = identity_admin_client(gw).await;
    let (mut out, mut calls, mut next) = (Vec::new(), 0, String::new());
    loop {
        let r = ok(
            "ListIdentities",
            a.list_identities(admin(pb::ListIdentitiesRequest {
                identity_pool_id: pool.into(),
                max_results: page,
                next_token: next.clone(),
            }))
            .await,
        )
        .into_inner();
        calls += 1;
        assert_eq!(r.identity_pool_id, pool);
        if page > 0 {
            assert!(r.identities.len() <= page as usize, "{r:?}");
        }
        out.extend(r.identities);
        if r.next_token.is_empty() {
            return (out, calls);
        }
        next = r.next_token;
        assert!(calls < 100, "ListIdentities does not end");
    }
}

async fn assume(
    gw: &GatewayHandle,
    role_arn: &str,
    token: &str,
) -> Result<pb::AssumeRoleWithWebIdentityResponse, Status> {
    sts_client(gw)
        .await
        .assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest {
            role_arn: role_arn.into(),
            role_session_name: "classic-session".into(),
            web_identity_token: token.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

async fn set_pool_roles(
    gw: &GatewayHandle,
    roles: pb::IdentityPoolRolesType,
) -> Result<pb::Empty, Status> {
    identity_admin_client(gw)
        .await
        .set_identity_pool_roles(admin(roles))
        .await
        .map(|r| r.into_inner())
}

async fn get_pool_roles(gw: &GatewayHandle, pool: &str) -> pb::IdentityPoolRolesType {
    ok(
        "GetIdentityPoolRoles",
        identity_admin_client(gw)
            .await
            .get_identity_pool_roles(admin(pb::IdentityPoolRef {
                identity_pool_id: pool.into(),
            }))
            .await,
    )
    .into_inner()
}

/// A second app client of an existing user pool, with password sign-in.
async fn second_client(gw: &GatewayHandle, pool_id: &str) -> String {
    ok(
        "create a second client",
        admin_client(gw)
            .await
            .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
                user_pool_id: pool_id.into(),
                client_name: "second".into(),
                explicit_auth_flows: vec![
                    "ALLOW_USER_PASSWORD_AUTH".into(),
                    "ALLOW_REFRESH_TOKEN_AUTH".into(),
                ],
                ..Default::default()
            }))
            .await,
    )
    .into_inner()
    .user_pool_client
    .expect("client")
    .client_id
}

fn cognito(provider: &str, client_id: &str) -> pb::CognitoIdentityProviderType {
    pb::CognitoIdentityProviderType {
        provider_name: provider.into(),
        client_id: client_id.into(),
    }
}

/// The same token with one character of its signature changed (in the middle, so real
/// signature bits change, not base64 padding bits).
fn bad_signature(token: &str) -> String {
    let (signed, sig) = token.rsplit_once('.').expect("a JWS");
    let mut sig = sig.as_bytes().to_vec();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
    format!("{signed}.{}", String::from_utf8(sig).unwrap())
}

/// `local:` then a version-4 UUID in lower-case hex.
fn assert_identity_id(id: &str) {
    let uuid = id
        .strip_prefix("local:")
        .unwrap_or_else(|| panic!("{id} does not start with local:"));
    let parts: Vec<&str> = uuid.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{id}"
    );
    assert!(
        uuid.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{id}"
    );
    assert!(parts[2].starts_with('4'), "version nibble of {id}");
    assert!(
        "89ab".contains(&parts[3][..1]),
        "variant bits of {id} must be 10"
    );
}

/// Across `ids`, every one of the 122 bits a v4 UUID leaves random takes both values
/// somewhere: 30 whole hex digits vary, and the variant digit varies within 8..=b. (With
/// two dozen random ids the chance that a random digit is constant is below 1e-13.)
fn assert_random_bits_vary(ids: &[String]) {
    let digits: Vec<Vec<char>> = ids
        .iter()
        .map(|i| i["local:".len()..].replace('-', "").chars().collect())
        .collect();
    for pos in 0..32 {
        let seen: BTreeSet<char> = digits.iter().map(|d| d[pos]).collect();
        match pos {
            12 => assert_eq!(seen, BTreeSet::from(['4']), "version digit"),
            16 => {
                assert!(seen.iter().all(|c| "89ab".contains(*c)), "{seen:?}");
                assert!(seen.len() > 1, "variant digit never varies: {seen:?}");
            }
            _ => assert!(
                seen.len() > 1,
                "hex digit {pos} is the same in {} ids",
                ids.len()
            ),
        }
    }
}

// ---- 1. GetId under concurrency --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_get_ids_for_one_login_make_one_identity() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let (_, bob_token) = another_user(env.a(), &alice, "bob").await;
    let pool = identity_pool(env.a(), &[(&alice.provider, &alice.client_id)], true).await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);

    let clients = [
        identity_client(env.a()).await,
        identity_client(env.b()).await,
    ];
    let calls = (0..100).map(|i| {
        let mut c = clients[i % 2].clone();
        let req = pb::GetIdRequest {
            identity_pool_id: pool.clone(),
            logins: l.clone(),
        };
        tokio::spawn(async move { c.get_id(req).await.map(|r| r.into_inner().identity_id) })
    });
    let ids: Vec<String> = join_all(calls)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, r)| ok(&format!("GetId #{i}"), r.expect("task")))
        .collect();
    assert_eq!(ids.len(), 100);
    let id = ids[0].clone();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        1,
        "one login, several identities: {distinct:?}"
    );
    assert_identity_id(&id);

    let (listed, _) = all_identities(env.b(), &pool, 0).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].identity_id, id);
    assert_eq!(listed[0].logins, vec![alice.provider.clone()]);
    let d = ok("DescribeIdentity", describe_identity(env.a(), &id).await);
    assert_eq!(d.identity_id, id);
    assert_eq!(d.logins, vec![alice.provider.clone()]);
    assert!(d.creation_date > 0 && d.last_modified_date >= d.creation_date);
    // Later calls, on either gateway, keep answering the same id.
    assert_eq!(ok("GetId again", get_id(env.b(), &pool, &l).await), id);

    // Another user of the same provider: another identity.
    let bob = ok(
        "GetId bob",
        get_id(env.a(), &pool, &logins(&[(&alice.provider, &bob_token)])).await,
    );
    assert_ne!(bob, id);
    assert_identity_id(&bob);
    let (listed, _) = all_identities(env.a(), &pool, 0).await;
    let listed: BTreeSet<String> = listed.into_iter().map(|i| i.identity_id).collect();
    assert_eq!(listed, BTreeSet::from([id.clone(), bob.clone()]));

    // Guests (the pool allows them): a fresh id per call; with the two above, enough ids to
    // see every random bit move.
    let guests = join_all((0..24).map(|i| {
        let mut c = clients[i % 2].clone();
        let req = pb::GetIdRequest {
            identity_pool_id: pool.clone(),
            logins: Logins::new(),
        };
        async move { c.get_id(req).await.map(|r| r.into_inner().identity_id) }
    }))
    .await;
    let mut all: Vec<String> = guests.into_iter().map(|r| ok("guest GetId", r)).collect();
    all.extend([id, bob]);
    for i in &all {
        assert_identity_id(i);
    }
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 26, "{all:?}");
    assert_random_bits_vary(&all);
    env.shutdown().await;
}

// ---- 2. Checks on login tokens ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_token_checks_refuse_what_they_must() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await; // user pool A
    let bob = user_pool_login(env.a(), "bob").await; // user pool B
    let other_client = second_client(env.a(), &alice.pool_id).await;
    let alice_other_client = sign_in(env.a(), &other_client, "alice", PASSWORD)
        .await
        .id_token;
    assert_eq!(claims_of(&alice_other_client)["aud"], other_client.as_str());
    assert_eq!(claims_of(&alice_other_client)["sub"], alice.sub.as_str());

    // Trusts A (first client only) and B, and has a developer provider.
    let both = create_identity_pool(
        env.a(),
        pb::IdentityPoolType {
            identity_pool_name: "both".into(),
            cognito_identity_providers: vec![
                cognito(&alice.provider, &alice.client_id),
                cognito(&bob.provider, &bob.client_id),
            ],
            developer_provider_name: DEV.into(),
            ..Default::default()
        },
    )
    .await
    .identity_pool_id;
    let only_b = identity_pool(env.a(), &[(&bob.provider, &bob.client_id)], false).await;

    let under_a = |token: &str| logins(&[(&alice.provider, token)]);
    let under_b = |token: &str| logins(&[(&bob.provider, token)]);
    let alice_id = ok(
        "alice's own token",
        get_id(env.a(), &both, &under_a(&alice.id_token)).await,
    );

    let cases: [(&str, &str, Logins, &str); 6] = [
        (
            "an ID token of a client the pool does not list",
            &both,
            under_a(&alice_other_client),
            "wrong audience",
        ),
        (
            "pool A's token under pool B's provider name",
            &both,
            under_b(&alice.id_token),
            "wrong issuer",
        ),
        (
            "a signature with one character changed",
            &both,
            under_a(&bad_signature(&alice.id_token)),
            "bad signature",
        ),
        (
            "an access token instead of an ID token",
            &both,
            under_a(&alice.access_token),
            "wrong token use",
        ),
        (
            "pool A's token to a pool trusting only B, under A's name",
            &only_b,
            under_a(&alice.id_token),
            "not configured",
        ),
        (
            "pool A's token to a pool trusting only B, under B's name",
            &only_b,
            under_b(&alice.id_token),
            "wrong issuer",
        ),
    ];
    for (i, (what, pool, l, why)) in cases.iter().enumerate() {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        let m = refused(what, get_id(gw, pool, l).await, NOT_AUTHORIZED);
        assert!(m.contains(why), "{what}: {m}");
    }
    // The same tokens cannot prove alice's identity either.
    for (what, l) in [
        ("other client", under_a(&alice_other_client)),
        ("bad signature", under_a(&bad_signature(&alice.id_token))),
        ("access token", under_a(&alice.access_token)),
    ] {
        refused(
            what,
            open_id_token(env.b(), &alice_id, &l).await,
            NOT_AUTHORIZED,
        );
        refused(
            what,
            credentials_as(env.a(), &alice_id, &l, "").await,
            NOT_AUTHORIZED,
        );
    }
    // The pool trusting B is fine with B's own tokens; no refusal left an identity behind.
    let bob_id = ok(
        "bob in only_b",
        get_id(env.b(), &only_b, &under_b(&bob.id_token)).await,
    );
    let (listed, _) = all_identities(env.a(), &only_b, 0).await;
    assert_eq!(
        listed.iter().map(|i| &i.identity_id).collect::<Vec<_>>(),
        [&bob_id]
    );
    let (listed, _) = all_identities(env.a(), &both, 0).await;
    assert_eq!(
        listed.iter().map(|i| &i.identity_id).collect::<Vec<_>>(),
        [&alice_id]
    );

    // Expired: a developer identity's token made to live one second, offered as the
    // signet-identity login. A long-lived token of the same identity works throughout.
    let long = ok(
        "developer token",
        developer_token(env.a(), &both, "", "dev-user", 0).await,
    );
    let short = ok(
        "1 s developer token",
        developer_token(env.b(), &both, "", "dev-user", 1).await,
    );
    assert_eq!(short.identity_id, long.identity_id);
    let c = claims_of(&short.token);
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 1);
    let c = claims_of(&long.token);
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 900);
    let dev_id = long.identity_id.clone();
    let (gw, id, l) = (env.a(), &dev_id, &logins(&[(IDENTITY, &short.token)]));
    let expired = wait_for_async("the 1 s token to be refused", WAIT, || async move {
        open_id_token(gw, id, l).await.err()
    })
    .await;
    assert_eq!(exception(&expired), NOT_AUTHORIZED, "{}", expired.message());
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );
    let m = refused(
        "expired token to GetCredentialsForIdentity",
        credentials_as(env.b(), &dev_id, l, "").await,
        NOT_AUTHORIZED,
    );
    assert!(m.contains("expired"), "{m}");
    refused(
        "expired token to AssumeRoleWithWebIdentity",
        assume(env.a(), "arn:signet:iam:::role/anything", &short.token).await,
        "ExpiredTokenException",
    );
    let fresh = ok(
        "long-lived token",
        open_id_token(env.b(), &dev_id, &logins(&[(IDENTITY, &long.token)])).await,
    );
    assert_eq!(claims_of(&fresh)["sub"], dev_id.as_str());
    env.shutdown().await;
}

// ---- 3. Guests ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_get_the_guest_role_and_nothing_more() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let provider = [(alice.provider.as_str(), alice.client_id.as_str())];
    let closed = identity_pool(env.a(), &provider, false).await;
    let open = identity_pool(env.a(), &provider, true).await;
    let auth = identity_role(env.a(), "auth", &open, "authenticated", &[]).await;
    let guest = identity_role(env.a(), "guest", &open, "unauthenticated", &[]).await;
    set_roles(env.a(), &open, Some(&auth), Some(&guest)).await;
    let none = Logins::new();

    let m = refused(
        "GetId without logins, guests not allowed",
        get_id(env.a(), &closed, &none).await,
        NOT_AUTHORIZED,
    );
    assert!(m.contains("Unauthenticated"), "{m}");
    let (listed, _) = all_identities(env.a(), &closed, 0).await;
    assert!(listed.is_empty(), "{listed:?}");

    let g1 = ok("guest GetId", get_id(env.a(), &open, &none).await);
    let g2 = ok("guest GetId", get_id(env.b(), &open, &none).await);
    assert_ne!(g1, g2);
    assert_identity_id(&g1);
    assert_identity_id(&g2);
    assert!(ok("describe guest", describe_identity(env.a(), &g1).await)
        .logins
        .is_empty());

    let creds = ok(
        "guest credentials",
        credentials_as(env.b(), &g1, &none, "").await,
    );
    let c = claims_of(&creds.session_token);
    assert_eq!(c["role"], guest.as_str());
    assert_eq!(c["sub"], g1.as_str());
    assert_eq!(c["amr"], serde_json::json!(["unauthenticated"]));
    assert_eq!(c["identity_pool"], open.as_str());
    assert_eq!(c["idp"], IDENTITY);
    assert_eq!(c["akid"], creds.access_key_id.as_str());
    // Asking for the guest role by name is fine; for the authenticated role, not.
    let c = ok(
        "guest asks for the guest role",
        credentials_as(env.a(), &g2, &none, &guest).await,
    );
    assert_eq!(claims_of(&c.session_token)["role"], guest.as_str());
    refused(
        "guest asks for the authenticated role",
        credentials_as(env.a(), &g1, &none, &auth).await,
        ACCESS_DENIED,
    );
    let t = ok(
        "guest OpenID token",
        open_id_token(env.a(), &g1, &none).await,
    );
    assert_eq!(claims_of(&t)["amr"], serde_json::json!(["unauthenticated"]));

    // An authenticated identity without its logins is refused; with them it gets the
    // authenticated role, and cannot pick the guest role.
    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let alice_id = ok("alice GetId", get_id(env.a(), &open, &l).await);
    let m = refused(
        "authenticated identity without logins",
        credentials_as(env.b(), &alice_id, &none, "").await,
        NOT_AUTHORIZED,
    );
    assert!(m.contains("Logins are required"), "{m}");
    refused(
        "OpenID token of an authenticated identity without logins",
        open_id_token(env.a(), &alice_id, &none).await,
        NOT_AUTHORIZED,
    );
    let c = claims_of(
        &ok(
            "alice credentials",
            credentials_as(env.a(), &alice_id, &l, "").await,
        )
        .session_token,
    );
    assert_eq!(c["role"], auth.as_str());
    assert_eq!(
        c["amr"],
        serde_json::json!(["authenticated", alice.provider])
    );
    refused(
        "alice asks for the guest role",
        credentials_as(env.a(), &alice_id, &l, &guest).await,
        ACCESS_DENIED,
    );
    // A guest cannot borrow a login that is not linked to it.
    refused(
        "guest with alice's login",
        credentials_as(env.b(), &g1, &l, "").await,
        NOT_AUTHORIZED,
    );
    env.shutdown().await;
}

// ---- 4. Role mappings ------------------------------------------------------------------

fn admin_rule_mapping(ambiguous: &str, role_arn: &str) -> pb::RoleMappingType {
    pb::RoleMappingType {
        r#type: "Rules".into(),
        ambiguous_role_resolution: ambiguous.into(),
        rules: vec![pb::MappingRuleType {
            claim: "email".into(),
            match_type: "StartsWith".into(),
            value: "admin".into(),
            role_arn: role_arn.into(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_mappings_choose_roles_end_to_end() {
    let env = TestEnv::start(3, 2).await;
    let admin_user = user_pool_login(env.a(), "admin1").await; // admin1@example.com
    let (_, bob_token) = another_user(env.a(), &admin_user, "bob").await; // bob@example.com
    let provider = admin_user.provider.clone();
    let up = [(provider.as_str(), admin_user.client_id.as_str())];
    let lenient = identity_pool(env.a(), &up, false).await;
    let strict = identity_pool(env.a(), &up, false).await;
    let scratch = identity_pool(env.a(), &up, false).await;
    let trust = |pool: &str| trust_identity_pool(pool, "authenticated");
    let default_l = role(env.a(), "default-l", &trust(&lenient), &[]).await;
    let admins_l = role(env.a(), "admins-l", &trust(&lenient), &[]).await;
    let default_s = role(env.a(), "default-s", &trust(&strict), &[]).await;
    let admins_s = role(env.a(), "admins-s", &trust(&strict), &[]).await;

    let lenient_roles = pb::IdentityPoolRolesType {
        identity_pool_id: lenient.clone(),
        roles: HashMap::from([("authenticated".to_string(), default_l.clone())]),
        role_mappings: HashMap::from([(
            provider.clone(),
            admin_rule_mapping("AuthenticatedRole", &admins_l),
        )]),
    };
    ok(
        "SetIdentityPoolRoles",
        set_pool_roles(env.a(), lenient_roles.clone()).await,
    );
    assert_eq!(get_pool_roles(env.b(), &lenient).await, lenient_roles);
    let strict_roles = pb::IdentityPoolRolesType {
        identity_pool_id: strict.clone(),
        roles: HashMap::from([("authenticated".to_string(), default_s.clone())]),
        role_mappings: HashMap::from([(provider.clone(), admin_rule_mapping("Deny", &admins_s))]),
    };
    ok(
        "SetIdentityPoolRoles",
        set_pool_roles(env.b(), strict_roles.clone()).await,
    );
    assert_eq!(get_pool_roles(env.a(), &strict).await, strict_roles);

    let admin_l = logins(&[(&provider, &admin_user.id_token)]);
    let bob_l = logins(&[(&provider, &bob_token)]);
    let admin_in_lenient = ok("GetId", get_id(env.a(), &lenient, &admin_l).await);
    let bob_in_lenient = ok("GetId", get_id(env.b(), &lenient, &bob_l).await);
    let admin_in_strict = ok("GetId", get_id(env.a(), &strict, &admin_l).await);
    let bob_in_strict = ok("GetId", get_id(env.b(), &strict, &bob_l).await);

    assert_eq!(
        ok(
            "admin1, lenient",
            role_of(env.a(), &admin_in_lenient, &admin_l).await
        ),
        admins_l
    );
    assert_eq!(
        ok(
            "bob, lenient",
            role_of(env.b(), &bob_in_lenient, &bob_l).await
        ),
        default_l
    );
    assert_eq!(
        ok(
            "admin1, strict",
            role_of(env.b(), &admin_in_strict, &admin_l).await
        ),
        admins_s
    );
    refused(
        "bob, strict (Deny)",
        role_of(env.a(), &bob_in_strict, &bob_l).await,
        ACCESS_DENIED,
    );
    // The mapped role is the only one on offer: the default cannot be asked for instead.
    refused(
        "admin1 asks for the default role",
        credentials_as(env.a(), &admin_in_lenient, &admin_l, &default_l).await,
        ACCESS_DENIED,
    );

    // Invalid input is refused and changes nothing.
    let with_rule = |f: &dyn Fn(&mut pb::RoleMappingType)| {
        let mut r = lenient_roles.clone();
        f(r.role_mappings.get_mut(&provider).unwrap());
        r
    };
    let too_many = with_rule(&|m| {
        m.rules = (0..26)
            .map(|i| pb::MappingRuleType {
                claim: "email".into(),
                match_type: "Equals".into(),
                value: format!("user{i}@example.com"),
                role_arn: admins_l.clone(),
            })
            .collect()
    });
    let mut bad_roles_key = lenient_roles.clone();
    bad_roles_key
        .roles
        .insert("administrators".into(), admins_l.clone());
    let bad: Vec<(&str, pb::IdentityPoolRolesType, &str)> = vec![
        (
            "match type Regex",
            with_rule(&|m| m.rules[0].match_type = "Regex".into()),
            INVALID,
        ),
        (
            "mapping type Magic",
            with_rule(&|m| m.r#type = "Magic".into()),
            INVALID,
        ),
        (
            "ambiguous resolution Maybe",
            with_rule(&|m| m.ambiguous_role_resolution = "Maybe".into()),
            INVALID,
        ),
        (
            "unknown role ARN",
            with_rule(&|m| m.rules[0].role_arn = "arn:signet:iam:::role/nobody".into()),
            "NoSuchEntityException",
        ),
        (
            "not a role ARN",
            with_rule(&|m| m.rules[0].role_arn = "admins-l".into()),
            INVALID,
        ),
        ("26 rules", too_many.clone(), INVALID),
        (
            "Rules without a rule",
            with_rule(&|m| m.rules.clear()),
            INVALID,
        ),
        (
            "a roles key other than (un)authenticated",
            bad_roles_key,
            INVALID,
        ),
    ];
    for (what, input, name) in bad {
        refused(what, set_pool_roles(env.a(), input).await, name);
    }
    assert_eq!(get_pool_roles(env.b(), &lenient).await, lenient_roles);
    // 25 rules is the limit, not over it.
    let mut at_limit = too_many;
    at_limit.identity_pool_id = scratch.clone();
    at_limit
        .role_mappings
        .get_mut(&provider)
        .unwrap()
        .rules
        .pop();
    ok("25 rules", set_pool_roles(env.b(), at_limit.clone()).await);
    let got = get_pool_roles(env.a(), &scratch).await;
    assert_eq!(got.role_mappings[&provider].rules.len(), 25);
    assert_eq!(got, at_limit);
    env.shutdown().await;
}

// ---- 5. Trust policies in the enhanced flow ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trust_policy_of_the_chosen_role_is_enforced() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let up = [(alice.provider.as_str(), alice.client_id.as_str())];
    let mine = identity_pool(env.a(), &up, false).await;
    let theirs = identity_pool(env.a(), &up, false).await;
    let guests_only = identity_pool(env.a(), &up, false).await;
    let no_roles = identity_pool(env.a(), &up, false).await;
    let trusts_theirs =
        identity_role(env.a(), "trusts-theirs", &theirs, "authenticated", &[]).await;
    let unauth_only =
        identity_role(env.a(), "unauth-only", &guests_only, "unauthenticated", &[]).await;
    set_roles(env.a(), &mine, Some(&trusts_theirs), None).await;
    set_roles(env.a(), &theirs, Some(&trusts_theirs), None).await;
    set_roles(env.a(), &guests_only, Some(&unauth_only), None).await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);

    for (what, pool, why) in [
        (
            "a default role trusting another identity pool",
            &mine,
            "trust policy",
        ),
        (
            "a default role trusting guests only",
            &guests_only,
            "trust policy",
        ),
        ("no default role at all", &no_roles, "no authenticated role"),
    ] {
        let id = ok(what, get_id(env.a(), pool, &l).await);
        let m = refused(what, credentials_as(env.b(), &id, &l, "").await, BAD_CONFIG);
        assert!(m.contains(why), "{what}: {m}");
    }
    // The pool the role does trust gets credentials for it.
    let id = ok("GetId", get_id(env.b(), &theirs, &l).await);
    assert_eq!(
        ok("the trusted pool", role_of(env.a(), &id, &l).await),
        trusts_theirs
    );
    env.shutdown().await;
}

// ---- 6. Classic flow -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_flow_open_id_token_and_assume_role() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let pool = identity_pool(env.a(), &[(&alice.provider, &alice.client_id)], false).await;
    let trust = trust_identity_pool(&pool, "authenticated");
    let auth = role(env.a(), "pool-auth", &trust, &[]).await;
    let other = role(env.a(), "not-the-pools", &trust, &[]).await;
    set_roles(env.a(), &pool, Some(&auth), None).await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let id = ok("GetId", get_id(env.a(), &pool, &l).await);

    let token = ok("GetOpenIdToken", open_id_token(env.b(), &id, &l).await);
    let c = claims_of(&token);
    let issuer = format!("{TEST_PUBLIC_URL}/identity");
    assert_eq!(c["iss"], issuer.as_str());
    assert_eq!(issuer, "http://signet.test/identity");
    assert_eq!(c["aud"], pool.as_str());
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["token_use"], "identity");
    assert_eq!(
        c["amr"],
        serde_json::json!(["authenticated", alice.provider])
    );
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 600);
    assert_eq!(header_of(&token)["alg"], "RS256");

    // It verifies against the JWKS a relying party finds through discovery.
    let (status, _, body) = crate::support::http::get(
        &env.a().http_addr().to_string(),
        "/identity/.well-known/openid-configuration",
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let discovery: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json").as_str()
    );
    let keys = jwks(env.a(), "identity").await;
    assert!(keys.contains(&kid_of(&token)));
    let expect = |aud: &str| signet_verify::Expected {
        issuer: issuer.clone(),
        token_use: signet_verify::TokenUse::Identity,
        clients: Some(vec![aud.to_string()]),
        leeway_s: 5,
    };
    let verified = signet_verify::verify(&token, &keys, &expect(&pool)).expect("verifies");
    assert_eq!(verified["sub"], id.as_str());
    assert_eq!(
        signet_verify::verify(&token, &keys, &expect("local:another-pool")).unwrap_err(),
        signet_verify::VerifyError::WrongAudience
    );
    assert_eq!(
        signet_verify::verify(&bad_signature(&token), &keys, &expect(&pool)).unwrap_err(),
        signet_verify::VerifyError::BadSignature
    );

    // Classic flow off: the pool's tokens buy no role through STS, not even the pool's own
    // (Cognito's rule: the role mapping of GetCredentialsForIdentity must not be bypassed).
    for (what, role_arn) in [("not the pool's", &other), ("the pool's", &auth)] {
        let m = refused(
            &format!("a role that is {what}, classic flow off"),
            assume(env.a(), role_arn, &token).await,
            ACCESS_DENIED,
        );
        assert!(m.contains("classic"), "{m}");
    }

    // Classic flow on: any role whose trust policy admits the token.
    let mut settings = ok("DescribeIdentityPool", describe_pool(env.a(), &pool).await);
    assert!(!settings.allow_classic_flow);
    settings.allow_classic_flow = true;
    let updated = ok(
        "UpdateIdentityPool",
        identity_admin_client(env.b())
            .await
            .update_identity_pool(admin(settings.clone()))
            .await,
    )
    .into_inner();
    assert!(updated.allow_classic_flow);
    assert_eq!(
        updated.cognito_identity_providers,
        settings.cognito_identity_providers
    );
    let (gw, other_arn, t) = (env.a(), &other, &token);
    let r = wait_for_async("classic flow to be on", WAIT, || async move {
        assume(gw, other_arn, t).await.ok()
    })
    .await;
    let session = claims_of(&r.credentials.expect("credentials").session_token);
    assert_eq!(session["role"], other.as_str());
    assert_eq!(session["identity_pool"], pool.as_str());
    let r = ok("other role on b", assume(env.b(), &other, &token).await);
    assert_eq!(r.subject_from_web_identity_token, id);
    let r = ok("the pool's role", assume(env.b(), &auth, &token).await);
    assert_eq!(r.subject_from_web_identity_token, id);
    assert_eq!(r.provider, IDENTITY);
    assert_eq!(r.audience, pool);
    assert_eq!(
        r.assumed_role_user.expect("assumed role user").arn,
        "arn:signet:sts:::assumed-role/pool-auth/classic-session"
    );
    let session = claims_of(&r.credentials.expect("credentials").session_token);
    assert_eq!(session["role"], auth.as_str());
    assert_eq!(session["sub"], id.as_str());
    env.shutdown().await;
}

// ---- 7. Developer identities -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn developer_identities() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let pool = create_identity_pool(
        env.a(),
        pb::IdentityPoolType {
            identity_pool_name: "dev".into(),
            cognito_identity_providers: vec![cognito(&alice.provider, &alice.client_id)],
            developer_provider_name: DEV.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(pool.developer_provider_name, DEV);
    let pool = pool.identity_pool_id;
    let no_dev = identity_pool(env.a(), &[(&alice.provider, &alice.client_id)], false).await;
    let auth = identity_role(env.a(), "dev-auth", &pool, "authenticated", &[]).await;
    set_roles(env.a(), &pool, Some(&auth), None).await;

    let first = ok(
        "developer token",
        developer_token(env.a(), &pool, "", "user-1", 0).await,
    );
    let id1 = first.identity_id.clone();
    assert_identity_id(&id1);
    let c = claims_of(&first.token);
    assert_eq!(c["sub"], id1.as_str());
    assert_eq!(c["aud"], pool.as_str());
    assert_eq!(c["token_use"], "identity");
    assert_eq!(c["amr"], serde_json::json!(["authenticated", DEV]));
    // Same developer user, other gateway: same identity.
    let again = ok(
        "developer token again",
        developer_token(env.b(), &pool, "", "user-1", 0).await,
    );
    assert_eq!(again.identity_id, id1);
    assert_ne!(again.token, first.token);
    let d = ok("describe", describe_identity(env.b(), &id1).await);
    assert_eq!(d.logins, vec![DEV.to_string()]);
    let id2 = ok(
        "another developer user",
        developer_token(env.a(), &pool, "", "user-2", 0).await,
    )
    .identity_id;
    assert_ne!(id2, id1);

    // Admin only.
    let m = refused(
        "without admin credentials",
        identity_admin_client(env.a())
            .await
            .get_open_id_token_for_developer_identity(
                pb::GetOpenIdTokenForDeveloperIdentityRequest {
                    identity_pool_id: pool.clone(),
                    logins: logins(&[(DEV, "user-1")]),
                    ..Default::default()
                },
            )
            .await,
        NOT_AUTHORIZED,
    );
    assert!(m.contains("Admin"), "{m}");
    // Public calls cannot vouch for developer user ids.
    refused(
        "GetId with a developer login",
        get_id(env.a(), &pool, &logins(&[(DEV, "user-1")])).await,
        NOT_AUTHORIZED,
    );
    refused(
        "a pool without a developer provider",
        developer_token(env.a(), &no_dev, "", "user-1", 0).await,
        BAD_CONFIG,
    );
    refused(
        "a token longer than a day",
        developer_token(env.a(), &pool, "", "user-1", 86_401).await,
        INVALID,
    );

    // The token is a signet-identity login for its identity, and only for it.
    let ident = logins(&[(IDENTITY, &first.token)]);
    let creds = ok(
        "credentials with the developer token",
        credentials_as(env.b(), &id1, &ident, "").await,
    );
    let s = claims_of(&creds.session_token);
    assert_eq!(s["sub"], id1.as_str());
    assert_eq!(s["role"], auth.as_str());
    assert_eq!(s["idp"], IDENTITY);
    assert_eq!(s["amr"], serde_json::json!(["authenticated", DEV]));
    refused(
        "the token of user-1 for user-2's identity",
        credentials_as(env.a(), &id2, &ident, "").await,
        NOT_AUTHORIZED,
    );

    // Linking a developer user into an existing identity.
    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let alice_id = ok("alice GetId", get_id(env.a(), &pool, &l).await);
    let linked = ok(
        "link user-3 into alice's identity",
        developer_token(env.b(), &pool, &alice_id, "user-3", 0).await,
    );
    assert_eq!(linked.identity_id, alice_id);
    let mut both = vec![alice.provider.clone(), DEV.to_string()];
    both.sort();
    assert_eq!(
        ok("describe", describe_identity(env.a(), &alice_id).await).logins,
        both
    );
    assert_eq!(
        ok(
            "user-3 again",
            developer_token(env.a(), &pool, "", "user-3", 0).await
        )
        .identity_id,
        alice_id
    );
    let amr = claims_of(&linked.token)["amr"].clone();
    let mut want = vec!["authenticated".to_string()];
    want.extend(both.iter().cloned());
    assert_eq!(amr, serde_json::json!(want));
    refused(
        "linking into an identity that does not exist",
        developer_token(
            env.a(),
            &pool,
            "local:00000000-0000-4000-8000-000000000000",
            "user-4",
            0,
        )
        .await,
        NOT_FOUND,
    );

    // One second of life.
    let short = ok(
        "1 s developer token",
        developer_token(env.a(), &pool, "", "user-1", 1).await,
    );
    assert_eq!(short.identity_id, id1);
    let (gw, id, l) = (env.b(), &id1, &logins(&[(IDENTITY, &short.token)]));
    let expired = wait_for_async("the 1 s token to be refused", WAIT, || async move {
        credentials_as(gw, id, l, "").await.err()
    })
    .await;
    assert_eq!(exception(&expired), NOT_AUTHORIZED, "{}", expired.message());
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );
    env.shutdown().await;
}

// ---- 8. Linking, merging, unlinking ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_link_merge_and_unlink() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await; // user pool A
    let bob = user_pool_login(env.a(), "bob").await; // user pool B
    let (_, carol) = another_user(env.a(), &alice, "carol").await; // A
    let (_, eve) = another_user(env.a(), &alice, "eve").await; // A
    let (_, dave) = another_user(env.a(), &bob, "dave").await; // B
    let (pa, pb_) = (alice.provider.clone(), bob.provider.clone());
    let pool = identity_pool(
        env.a(),
        &[(&pa, &alice.client_id), (&pb_, &bob.client_id)],
        false,
    )
    .await;
    let mut providers = vec![pa.clone(), pb_.clone()];
    providers.sort();

    // Two logins in one call: one identity with both.
    let ab = logins(&[(&pa, &alice.id_token), (&pb_, &bob.id_token)]);
    let i1 = ok("GetId with two logins", get_id(env.a(), &pool, &ab).await);
    assert_eq!(
        ok("describe", describe_identity(env.b(), &i1).await).logins,
        providers
    );
    for l in [
        logins(&[(&pa, &alice.id_token)]),
        logins(&[(&pb_, &bob.id_token)]),
    ] {
        assert_eq!(
            ok("GetId with one of them", get_id(env.b(), &pool, &l).await),
            i1
        );
    }

    // Two identities, then one call with both logins: they merge.
    let carol_l = logins(&[(&pa, &carol)]);
    let dave_l = logins(&[(&pb_, &dave)]);
    let i2 = ok("carol", get_id(env.a(), &pool, &carol_l).await);
    let i3 = ok("dave", get_id(env.b(), &pool, &dave_l).await);
    assert_ne!(i2, i3);
    let cd = logins(&[(&pa, &carol), (&pb_, &dave)]);
    let survivor = ok("merge", get_id(env.a(), &pool, &cd).await);
    assert!(survivor == i2 || survivor == i3, "{survivor}");
    let gone = if survivor == i2 { &i3 } else { &i2 };
    assert_eq!(
        ok("survivor", describe_identity(env.b(), &survivor).await).logins,
        providers
    );
    refused(
        "the merged-away identity",
        describe_identity(env.a(), gone).await,
        NOT_FOUND,
    );
    refused(
        "credentials of the merged-away identity",
        credentials_as(env.b(), gone, &dave_l, "").await,
        NOT_FOUND,
    );
    for l in [&carol_l, &dave_l] {
        assert_eq!(ok("after merge", get_id(env.b(), &pool, l).await), survivor);
    }
    let (listed, _) = all_identities(env.a(), &pool, 0).await;
    let listed: BTreeSet<String> = listed.into_iter().map(|i| i.identity_id).collect();
    assert_eq!(listed, BTreeSet::from([i1.clone(), survivor.clone()]));

    // A merge that would give one identity two users of pool A: refused, nothing changes.
    let eve_l = logins(&[(&pa, &eve)]);
    let i4 = ok("eve", get_id(env.a(), &pool, &eve_l).await);
    let ed = logins(&[(&pa, &eve), (&pb_, &dave)]);
    refused(
        "eve + dave (dave's identity has carol of A)",
        get_id(env.b(), &pool, &ed).await,
        "ResourceConflictException",
    );
    assert_eq!(
        ok("eve untouched", describe_identity(env.a(), &i4).await).logins,
        vec![pa.clone()]
    );
    assert_eq!(
        ok(
            "survivor untouched",
            describe_identity(env.a(), &survivor).await
        )
        .logins,
        providers
    );
    assert_eq!(ok("eve again", get_id(env.a(), &pool, &eve_l).await), i4);
    assert_eq!(
        ok("dave again", get_id(env.a(), &pool, &dave_l).await),
        survivor
    );

    // Unlink B from i1 (proven by bob's token).
    let unlink = |l: &Logins, remove: &[&str]| pb::UnlinkIdentityRequest {
        identity_id: i1.clone(),
        logins: l.clone(),
        logins_to_remove: remove.iter().map(|s| s.to_string()).collect(),
    };
    let alice_only = logins(&[(&pa, &alice.id_token)]);
    refused(
        "unlinking a login that is not proven",
        identity_client(env.a())
            .await
            .unlink_identity(unlink(&alice_only, &[&pb_]))
            .await,
        NOT_AUTHORIZED,
    );
    ok(
        "UnlinkIdentity",
        identity_client(env.b())
            .await
            .unlink_identity(unlink(&ab, &[&pb_]))
            .await,
    );
    assert_eq!(
        ok("after unlink", describe_identity(env.a(), &i1).await).logins,
        vec![pa.clone()]
    );
    let bob_l = logins(&[(&pb_, &bob.id_token)]);
    let fresh = ok("bob after unlink", get_id(env.a(), &pool, &bob_l).await);
    assert_ne!(fresh, i1);
    assert_eq!(
        ok(
            "bob's new identity",
            describe_identity(env.b(), &fresh).await
        )
        .logins,
        vec![pb_.clone()]
    );
    assert_eq!(
        ok("alice still", get_id(env.b(), &pool, &alice_only).await),
        i1
    );
    // Bob's token no longer proves i1.
    refused(
        "bob's token for i1",
        credentials_as(env.a(), &i1, &bob_l, "").await,
        NOT_AUTHORIZED,
    );
    env.shutdown().await;
}

// ---- 9. Admin calls ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_pool_admin_calls() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let bob = user_pool_login(env.a(), "bob").await;
    let mut admin_a = identity_admin_client(env.a()).await;
    let mut admin_b = identity_admin_client(env.b()).await;

    let settings = pb::IdentityPoolType {
        identity_pool_name: "crud pool".into(),
        allow_unauthenticated_identities: true,
        cognito_identity_providers: vec![cognito(&alice.provider, &alice.client_id)],
        developer_provider_name: DEV.into(),
        ..Default::default()
    };
    let created = create_identity_pool(env.a(), settings.clone()).await;
    let pool = created.identity_pool_id.clone();
    assert_identity_id(&pool);
    assert_eq!(created.identity_pool_name, "crud pool");
    assert!(created.allow_unauthenticated_identities);
    assert!(!created.allow_classic_flow);
    assert_eq!(
        created.cognito_identity_providers,
        settings.cognito_identity_providers
    );
    assert_eq!(created.developer_provider_name, DEV);
    assert!(created.creation_date > 0);
    assert_eq!(ok("describe", describe_pool(env.b(), &pool).await), created);
    let guest = identity_role(env.a(), "crud-guest", &pool, "unauthenticated", &[]).await;
    set_roles(env.a(), &pool, None, Some(&guest)).await;

    // Update replaces the settings.
    let mut changed = created.clone();
    changed.identity_pool_name = "renamed".into();
    changed.allow_unauthenticated_identities = false;
    changed
        .cognito_identity_providers
        .push(cognito(&bob.provider, &bob.client_id));
    let updated = ok(
        "UpdateIdentityPool",
        admin_b.update_identity_pool(admin(changed.clone())).await,
    )
    .into_inner();
    assert_eq!(updated.identity_pool_name, "renamed");
    assert!(!updated.allow_unauthenticated_identities);
    assert_eq!(updated.cognito_identity_providers.len(), 2);
    assert_eq!(updated.creation_date, created.creation_date);
    assert!(updated.last_modified_date >= created.last_modified_date);
    assert_eq!(ok("describe", describe_pool(env.a(), &pool).await), updated);
    refused(
        "update of a pool that does not exist",
        admin_a
            .update_identity_pool(admin(pb::IdentityPoolType {
                identity_pool_id: "local:00000000-0000-4000-8000-000000000000".into(),
                ..settings.clone()
            }))
            .await,
        NOT_FOUND,
    );
    // Back to guests allowed, for the identities below.
    ok(
        "UpdateIdentityPool",
        admin_a.update_identity_pool(admin(created.clone())).await,
    );
    // Updates keep the roles.
    let roles = get_pool_roles(env.b(), &pool).await;
    assert_eq!(
        roles.roles,
        HashMap::from([("unauthenticated".to_string(), guest.clone())])
    );

    // ListIdentityPools, one per page.
    let p2 = identity_pool(env.a(), &[], true).await;
    let p3 = identity_pool(env.b(), &[], true).await;
    let (mut seen, mut next, mut calls) = (Vec::new(), String::new(), 0);
    loop {
        let r = ok(
            "ListIdentityPools",
            admin_b
                .list_identity_pools(admin(pb::ListRequest {
                    max_results: 1,
                    next_token: next.clone(),
                }))
                .await,
        )
        .into_inner();
        calls += 1;
        assert!(r.identity_pools.len() <= 1);
        seen.extend(r.identity_pools.into_iter().map(|p| p.identity_pool_id));
        if r.next_token.is_empty() {
            break;
        }
        next = r.next_token;
        assert!(calls < 10);
    }
    let mut want = vec![pool.clone(), p2.clone(), p3.clone()];
    want.sort();
    assert_eq!(seen, want, "pages in id order, each pool once");

    // ListIdentities with max_results: 5 identities in pages of 2.
    let none = Logins::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        ids.push(ok("guest GetId", get_id(gw, &pool, &none).await));
    }
    let (listed, calls) = all_identities(env.b(), &pool, 2).await;
    assert_eq!(calls, 3, "5 identities in pages of 2");
    let listed: Vec<String> = listed.into_iter().map(|i| i.identity_id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted);

    // DeleteIdentities: unknown ids come back unprocessed.
    let unknown = "local:11111111-1111-4111-8111-111111111111".to_string();
    let r = ok(
        "DeleteIdentities",
        admin_a
            .delete_identities(admin(pb::DeleteIdentitiesRequest {
                identity_ids_to_delete: vec![ids[0].clone(), unknown.clone(), ids[1].clone()],
            }))
            .await,
    )
    .into_inner();
    assert_eq!(
        r.unprocessed_identity_ids,
        vec![pb::UnprocessedIdentityId {
            identity_id: unknown,
            error_code: "ResourceNotFound".into(),
        }]
    );
    refused(
        "a deleted identity",
        describe_identity(env.b(), &ids[0]).await,
        NOT_FOUND,
    );
    let (listed, _) = all_identities(env.a(), &pool, 0).await;
    let listed: Vec<String> = listed.into_iter().map(|i| i.identity_id).collect();
    assert_eq!(
        listed,
        sorted[..]
            .iter()
            .filter(|i| **i != ids[0] && **i != ids[1])
            .cloned()
            .collect::<Vec<_>>()
    );
    refused(
        "DeleteIdentities without ids",
        admin_a
            .delete_identities(admin(pb::DeleteIdentitiesRequest::default()))
            .await,
        INVALID,
    );

    // Providers that are not what they claim are refused at creation.
    let bad_provider = |provider: &str, client: &str| pb::IdentityPoolType {
        identity_pool_name: "bad".into(),
        cognito_identity_providers: vec![cognito(provider, client)],
        ..Default::default()
    };
    for (what, p, name) in [
        (
            "a user pool that does not exist",
            bad_provider(&provider_name("local_DoesNotExist"), &alice.client_id),
            NOT_FOUND,
        ),
        (
            "a client of another user pool",
            bad_provider(&alice.provider, &bob.client_id),
            INVALID,
        ),
        (
            "a client that does not exist",
            bad_provider(&alice.provider, "nosuchclient"),
            NOT_FOUND,
        ),
        (
            "an issuer of another service",
            bad_provider(
                &format!("elsewhere.example/{}", alice.pool_id),
                &alice.client_id,
            ),
            INVALID,
        ),
        (
            "the reserved provider name as developer provider",
            pb::IdentityPoolType {
                identity_pool_name: "bad".into(),
                developer_provider_name: IDENTITY.into(),
                ..Default::default()
            },
            INVALID,
        ),
    ] {
        refused(what, admin_a.create_identity_pool(admin(p)).await, name);
    }

    // No admin credentials, no admin calls.
    let m = refused(
        "CreateIdentityPool without admin credentials",
        admin_a.create_identity_pool(settings.clone()).await,
        NOT_AUTHORIZED,
    );
    assert!(m.contains("Admin"), "{m}");
    refused(
        "DescribeIdentityPool without admin credentials",
        admin_b
            .describe_identity_pool(pb::IdentityPoolRef {
                identity_pool_id: pool.clone(),
            })
            .await,
        NOT_AUTHORIZED,
    );
    refused(
        "ListIdentities without admin credentials",
        admin_a
            .list_identities(pb::ListIdentitiesRequest {
                identity_pool_id: pool.clone(),
                ..Default::default()
            })
            .await,
        NOT_AUTHORIZED,
    );
    refused(
        "DeleteIdentityPool with a wrong secret",
        admin_a
            .delete_identity_pool({
                let mut r = tonic::Request::new(pb::IdentityPoolRef {
                    identity_pool_id: pool.clone(),
                });
                r.metadata_mut()
                    .insert("authorization", "Bearer not-the-secret".parse().unwrap());
                r
            })
            .await,
        NOT_AUTHORIZED,
    );
    ok("still there", describe_pool(env.a(), &pool).await);

    // DeleteIdentityPool: the pool, GetId and its identities' credentials are gone.
    let survivor = ids[2].clone();
    for gw in [env.a(), env.b()] {
        let c = ok(
            "guest credentials before the delete",
            credentials_as(gw, &survivor, &none, "").await,
        );
        assert_eq!(claims_of(&c.session_token)["role"], guest.as_str());
    }
    ok(
        "DeleteIdentityPool",
        admin_b
            .delete_identity_pool(admin(pb::IdentityPoolRef {
                identity_pool_id: pool.clone(),
            }))
            .await,
    );
    refused(
        "DescribeIdentity of an identity of the deleted pool",
        describe_identity(env.a(), &survivor).await,
        NOT_FOUND,
    );
    refused(
        "describe after delete",
        describe_pool(env.a(), &pool).await,
        NOT_FOUND,
    );
    refused(
        "delete again",
        admin_a
            .delete_identity_pool(admin(pb::IdentityPoolRef {
                identity_pool_id: pool.clone(),
            }))
            .await,
        NOT_FOUND,
    );
    refused(
        "ListIdentities after delete",
        admin_a
            .list_identities(admin(pb::ListIdentitiesRequest {
                identity_pool_id: pool.clone(),
                ..Default::default()
            }))
            .await,
        NOT_FOUND,
    );
    for gw in [env.a(), env.b()] {
        let (pool, none) = (&pool, &none);
        let e = wait_for_async("GetId to see the delete", WAIT, || async move {
            get_id(gw, pool, none).await.err()
        })
        .await;
        assert_eq!(exception(&e), NOT_FOUND, "GetId: {}", e.message());
        let id = &survivor;
        let e = wait_for_async("credentials to see the delete", WAIT, || async move {
            credentials_as(gw, id, none, "").await.err()
        })
        .await;
        assert_eq!(exception(&e), NOT_FOUND, "credentials: {}", e.message());
    }
    let r = ok(
        "ListIdentityPools after delete",
        admin_a
            .list_identity_pools(admin(pb::ListRequest::default()))
            .await,
    )
    .into_inner();
    let left: BTreeSet<String> = r
        .identity_pools
        .into_iter()
        .map(|p| p.identity_pool_id)
        .collect();
    assert_eq!(left, BTreeSet::from([p2, p3]));
    env.shutdown().await;
}

// ---- Product bugs found by these tests (they fail until fixed) ---------------------------

/// Cognito: "Removing the last linked login will make this identity inaccessible." An
/// identity that was a user's must not turn into a guest identity that anyone holding its
/// id can get guest credentials (with `sub` = that id) for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinking_the_last_login_leaves_no_guest_behind() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let pool = identity_pool(env.a(), &[(&alice.provider, &alice.client_id)], true).await;
    let guest = identity_role(env.a(), "guest", &pool, "unauthenticated", &[]).await;
    set_roles(env.a(), &pool, None, Some(&guest)).await;
    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let id = ok("GetId", get_id(env.a(), &pool, &l).await);
    refused(
        "alice's identity without logins, before the unlink",
        credentials_as(env.b(), &id, &Logins::new(), "").await,
        NOT_AUTHORIZED,
    );
    ok(
        "UnlinkIdentity of the only login",
        identity_client(env.b())
            .await
            .unlink_identity(pb::UnlinkIdentityRequest {
                identity_id: id.clone(),
                logins: l.clone(),
                logins_to_remove: vec![alice.provider.clone()],
            })
            .await,
    );
    // Alice's next GetId makes a new identity (as documented)...
    let fresh = ok("GetId after unlink", get_id(env.a(), &pool, &l).await);
    assert_ne!(fresh, id);
    // ...and the old one is not anybody's to use.
    let (e, m) = refusal(
        "credentials for the emptied identity without logins",
        credentials_as(env.b(), &id, &Logins::new(), "").await,
    );
    assert!(e == NOT_AUTHORIZED || e == NOT_FOUND, "{e}: {m}");
    env.shutdown().await;
}
