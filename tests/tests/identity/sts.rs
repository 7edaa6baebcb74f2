//! STS and authorization end to end: Authorize over gRPC and offline with the JWKS,
//! AssumeRoleWithWebIdentity, role administration, credentials that expire when they say,
//! and SIGNET4-HMAC-SHA256 request signatures.

use crate::support::identity::*;
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_proto::v1::sts_client::StsClient;
use signet_testkit::TestEnv;
use signet_testkit::{
    admin, identity_admin_client, identity_client, sts_client, wait_for_async, TEST_PUBLIC_URL,
};
use signet_verify::policy::{Decision, Reason};
use signet_verify::session::{session_expected, Session};
use signet_verify::sigv4::{self, SignableRequest};
use signet_verify::{Expected, KeySet, TokenUse, VerifyError};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tonic::transport::Channel;

fn sts_issuer() -> String {
    format!("{TEST_PUBLIC_URL}/sts")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

fn role_arn_of(name: &str) -> String {
    format!("arn:signet:iam:::role/{name}")
}

fn context(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The same token with one character of its signature changed (in the middle, so every
/// bit of it is significant).
fn tamper_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("a JWT");
    let mut sig: Vec<char> = sig.chars().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", sig.into_iter().collect::<String>())
}

/// A trust policy admitting ID tokens of a Signet user pool issued to `client_id`, with
/// further `StringEquals` conditions (`{provider}:sub`, …).
fn trust_user_pool(provider: &str, client_id: &str, more: &[(&str, &str)]) -> String {
    let mut equals = serde_json::Map::new();
    equals.insert(format!("{provider}:aud"), client_id.into());
    for (k, v) in more {
        equals.insert(format!("{provider}:{k}"), (*v).into());
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": equals}
        }]
    })
    .to_string()
}

/// Credentials from the enhanced flow: a user signs in to a user pool, the identity pool's
/// authenticated role is `role_name` with `policies`.
struct Enhanced {
    identity_id: String,
    identity_pool_id: String,
    role_arn: String,
    logins: HashMap<String, String>,
    login: UserPoolLogin,
    creds: pb::CredentialsType,
}

async fn enhanced_credentials(
    env: &TestEnv,
    role_name: &str,
    policies: &[(&str, &str)],
) -> Enhanced {
    let login = user_pool_login(env.a(), "alice").await;
    let pool = identity_pool(env.a(), &[(&login.provider, &login.client_id)], false).await;
    let role_arn = identity_role(env.a(), role_name, &pool, "authenticated", policies).await;
    set_roles(env.a(), &pool, Some(&role_arn), None).await;
    let l = logins(&[(&login.provider, &login.id_token)]);
    let identity_id = ok("GetId", get_id(env.a(), &pool, &l).await);
    let creds = ok(
        "GetCredentialsForIdentity",
        credentials(env.a(), &identity_id, &l).await,
    );
    Enhanced {
        identity_id,
        identity_pool_id: pool,
        role_arn,
        logins: l,
        login,
        creds,
    }
}

/// The verification keys of session tokens, from the JWKS served over HTTP.
async fn sts_keys(gw: &signet_gateway::GatewayHandle) -> KeySet {
    let (status, _, body) = crate::support::http::get(
        &gw.http_addr().to_string(),
        "/sts/.well-known/jwks.json",
        &[],
    )
    .await;
    assert_eq!(status, 200, "STS JWKS: {body}");
    let keys = KeySet::from_jwks(body.as_bytes()).expect("a JWKS");
    assert!(!keys.is_empty(), "no usable key in {body}");
    keys
}

/// What the tables compare: (allowed, decision, policy name, statement index, sid).
type Verdict = (bool, String, String, u32, String);

fn allow(policy: &str, index: u32, sid: &str) -> Verdict {
    (true, "Allow".into(), policy.into(), index, sid.into())
}

fn explicit_deny(policy: &str, index: u32, sid: &str) -> Verdict {
    (
        false,
        "ExplicitDeny".into(),
        policy.into(),
        index,
        sid.into(),
    )
}

fn implicit_deny() -> Verdict {
    (
        false,
        "ImplicitDeny".into(),
        String::new(),
        0,
        String::new(),
    )
}

fn verdict_of(r: &pb::AuthorizeResponse) -> Verdict {
    (
        r.allowed,
        r.decision.clone(),
        r.policy_name.clone(),
        r.statement_index,
        r.sid.clone(),
    )
}

fn verdict_of_decision(d: &Decision) -> Verdict {
    let decision = match d.reason {
        Reason::Allowed => "Allow",
        Reason::ExplicitDeny => "ExplicitDeny",
        Reason::ImplicitDeny => "ImplicitDeny",
    };
    match &d.decided_by {
        Some(s) => (
            d.allowed,
            decision.into(),
            s.policy.clone(),
            s.index as u32,
            s.sid.clone().unwrap_or_default(),
        ),
        None => (d.allowed, decision.into(), String::new(), 0, String::new()),
    }
}

async fn authorize(
    sts: &mut StsClient<Channel>,
    creds: &pb::CredentialsType,
    action: &str,
    resource: &str,
    ctx: &[(&str, &str)],
) -> Result<pb::AuthorizeResponse, tonic::Status> {
    sts.authorize(pb::AuthorizeRequest {
        session_token: creds.session_token.clone(),
        access_key_id: creds.access_key_id.clone(),
        action: action.into(),
        resource: resource.into(),
        context: context(ctx),
    })
    .await
    .map(|r| r.into_inner())
}

async fn authorized(
    sts: &mut StsClient<Channel>,
    creds: &pb::CredentialsType,
    action: &str,
    resource: &str,
) -> Verdict {
    let r = authorize(sts, creds, action, resource, &[])
        .await
        .unwrap_or_else(|e| panic!("Authorize {action}: {}: {}", exception(&e), e.message()));
    verdict_of(&r)
}

/// Role `name`, as the admin calls name it.
fn role_ref(name: &str) -> tonic::Request<pb::RoleRef> {
    admin(pb::RoleRef {
        role_name: name.into(),
    })
}

/// Permission policy `policy` of role `role`, as the admin calls name it.
fn policy_ref(role: &str, policy: &str) -> tonic::Request<pb::RolePolicyRef> {
    admin(pb::RolePolicyRef {
        role_name: role.into(),
        policy_name: policy.into(),
    })
}

fn assume(role: &str, session: &str, token: &str) -> pb::AssumeRoleWithWebIdentityRequest {
    pb::AssumeRoleWithWebIdentityRequest {
        role_arn: role_arn_of(role),
        role_session_name: session.into(),
        web_identity_token: token.into(),
        duration_seconds: 0,
        policy: String::new(),
    }
}

/// AssumeRoleWithWebIdentity that must fail: its exception name.
async fn assume_refused(
    sts: &mut StsClient<Channel>,
    req: pb::AssumeRoleWithWebIdentityRequest,
) -> String {
    match sts.assume_role_with_web_identity(req.clone()).await {
        Ok(_) => panic!(
            "AssumeRoleWithWebIdentity of {} as {:?} succeeded",
            req.role_arn, req.role_session_name
        ),
        Err(e) => exception(&e),
    }
}

async fn assume_ok(
    sts: &mut StsClient<Channel>,
    req: pb::AssumeRoleWithWebIdentityRequest,
) -> pb::AssumeRoleWithWebIdentityResponse {
    sts.assume_role_with_web_identity(req.clone())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "AssumeRoleWithWebIdentity of {}: {}: {}",
                req.role_arn,
                exception(&e),
                e.message()
            )
        })
        .into_inner()
}

const READ_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadOwn", "Effect": "Allow", "Action": "orders:Get*",
     "Resource": "arn:signet:orders:::${signet:sub}/*"},
    {"Sid": "ShipOwn", "Effect": "Allow", "Action": ["orders:Ship", "orders:Return"],
     "Resource": "arn:signet:orders:::${signet:sub}/*",
     "Condition": {
       "StringEquals": {"orders:warehouse": "north"},
       "NumericLessThan": {"orders:amount": "100"},
       "Bool": {"orders:express": "true"}
     }}
  ]
}"#;

const GUARD_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "orders:ListOrders", "Resource": "arn:signet:orders:::catalog"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "orders:*", "Resource": "arn:signet:orders:::*/secret"},
    {"Sid": "Frozen", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"orders:account": "frozen"}}}
  ]
}"#;

struct Case {
    what: &'static str,
    action: &'static str,
    resource: String,
    context: Vec<(&'static str, &'static str)>,
    expect: Verdict,
}

fn authorization_table(me: &str) -> Vec<Case> {
    let mine = |rest: &str| format!("arn:signet:orders:::{me}/{rest}");
    let other = "arn:signet:orders:::local:someone-else/1".to_string();
    let ship_ok = vec![
        ("orders:warehouse", "north"),
        ("orders:amount", "42"),
        ("orders:express", "true"),
    ];
    let case =
        |what, action, resource: String, context: Vec<(&'static str, &'static str)>, expect| Case {
            what,
            action,
            resource,
            context,
            expect,
        };
    vec![
        case(
            "own order",
            "orders:GetOrder",
            mine("1"),
            vec![],
            allow("read", 0, "ReadOwn"),
        ),
        case(
            "wildcard action, another Get*",
            "orders:GetInvoice",
            mine("7"),
            vec![],
            allow("read", 0, "ReadOwn"),
        ),
        case(
            "actions match case-insensitively",
            "ORDERS:getorder",
            mine("1"),
            vec![],
            allow("read", 0, "ReadOwn"),
        ),
        case(
            "an allow without sid",
            "orders:ListOrders",
            "arn:signet:orders:::catalog".into(),
            vec![],
            allow("guard", 0, ""),
        ),
        case(
            "explicit deny beats the allow",
            "orders:GetOrder",
            mine("secret"),
            vec![],
            explicit_deny("guard", 1, "NoSecrets"),
        ),
        case(
            "deny whose condition holds",
            "orders:GetOrder",
            mine("1"),
            vec![("orders:account", "frozen")],
            explicit_deny("guard", 2, "Frozen"),
        ),
        case(
            "deny whose condition does not hold",
            "orders:GetOrder",
            mine("1"),
            vec![("orders:account", "active")],
            allow("read", 0, "ReadOwn"),
        ),
        case(
            "unknown action: default deny",
            "orders:DeleteOrder",
            mine("1"),
            vec![],
            implicit_deny(),
        ),
        case(
            "another subject's order",
            "orders:GetOrder",
            other.clone(),
            vec![],
            implicit_deny(),
        ),
        case(
            "resources match case-sensitively",
            "orders:GetOrder",
            format!("ARN:signet:orders:::{me}/1"),
            vec![],
            implicit_deny(),
        ),
        case(
            "every condition holds",
            "orders:Ship",
            mine("1"),
            ship_ok.clone(),
            allow("read", 1, "ShipOwn"),
        ),
        case(
            "second action of the list",
            "orders:Return",
            mine("1"),
            ship_ok,
            allow("read", 1, "ShipOwn"),
        ),
        case(
            "StringEquals not satisfied",
            "orders:Ship",
            mine("1"),
            vec![
                ("orders:warehouse", "south"),
                ("orders:amount", "42"),
                ("orders:express", "true"),
            ],
            implicit_deny(),
        ),
        case(
            "NumericLessThan not satisfied",
            "orders:Ship",
            mine("1"),
            vec![
                ("orders:warehouse", "north"),
                ("orders:amount", "100"),
                ("orders:express", "true"),
            ],
            implicit_deny(),
        ),
        case(
            "Bool not satisfied",
            "orders:Ship",
            mine("1"),
            vec![
                ("orders:warehouse", "north"),
                ("orders:amount", "42"),
                ("orders:express", "false"),
            ],
            implicit_deny(),
        ),
        case(
            "condition key absent",
            "orders:Ship",
            mine("1"),
            vec![("orders:amount", "42"), ("orders:express", "true")],
            implicit_deny(),
        ),
        case(
            "spoofed signet:sub gains nothing",
            "orders:GetOrder",
            other.clone(),
            vec![("signet:sub", "local:someone-else")],
            implicit_deny(),
        ),
        case(
            "spoofed Signet:Sub (other case) gains nothing",
            "orders:GetOrder",
            other,
            vec![("Signet:Sub", "local:someone-else")],
            implicit_deny(),
        ),
        case(
            "spoofed signet:sub is ignored, not merged",
            "orders:GetOrder",
            mine("1"),
            vec![("signet:sub", "local:someone-else")],
            allow("read", 0, "ReadOwn"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_over_grpc_and_offline_with_enhanced_flow_credentials() {
    let env = TestEnv::start(3, 2).await;
    let e = enhanced_credentials(
        &env,
        "orders-user",
        &[("read", READ_POLICY), ("guard", GUARD_POLICY)],
    )
    .await;
    let creds = &e.creds;
    let me = e.identity_id.as_str();
    let mut sts_a = sts_client(env.a()).await;
    let mut sts_b = sts_client(env.b()).await;

    // Offline: the JWKS over HTTP, the token verified, the session read.
    let keys = sts_keys(env.a()).await;
    let claims = signet_verify::verify(
        &creds.session_token,
        &keys,
        &session_expected(&sts_issuer()),
    )
    .expect("the session token verifies offline");
    assert_eq!(claims["iss"], sts_issuer().as_str());
    assert_eq!(claims["aud"], "signet:sts");
    assert_eq!(claims["token_use"], "session");
    assert_eq!(claims["sub"], me);
    assert_eq!(claims["role"], e.role_arn.as_str());
    assert_eq!(claims["akid"], creds.access_key_id.as_str());
    assert_eq!(claims["idp"], "signet-identity");
    assert_eq!(claims["src_aud"], e.identity_pool_id.as_str());
    assert_eq!(claims["identity_pool"], e.identity_pool_id.as_str());
    assert_eq!(
        claims["amr"],
        json!(["authenticated", e.login.provider.as_str()])
    );
    assert_eq!(claims["exp"].as_u64().unwrap() * 1000, creds.expiration);
    let session = Session::from_claims(&claims).expect("a session");
    assert_eq!(session.subject, me);
    assert_eq!(session.role_arn, e.role_arn);
    assert_eq!(session.access_key_id, creds.access_key_id);
    assert_eq!(
        session.identity_pool.as_deref(),
        Some(e.identity_pool_id.as_str())
    );
    let mut names: Vec<&str> = session.policies.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["guard", "read"]);
    assert!(session.session_policy.is_none());
    assert!(
        creds.access_key_id.starts_with("ASIA"),
        "{}",
        creds.access_key_id
    );
    let expires_in = creds.expiration as i64 - now_ms() as i64;
    assert!(
        (3_590_000..=3_601_000).contains(&expires_in),
        "GetCredentialsForIdentity gives one hour, not {expires_in} ms"
    );

    // The table, on both gateways and offline.
    let now_s = now_ms() / 1000;
    for c in authorization_table(me) {
        let a = authorize(&mut sts_a, creds, c.action, &c.resource, &c.context)
            .await
            .unwrap_or_else(|err| panic!("{}: {}: {}", c.what, exception(&err), err.message()));
        assert_eq!(verdict_of(&a), c.expect, "gRPC: {}", c.what);
        assert_eq!(a.role_arn, e.role_arn, "{}", c.what);
        assert_eq!(a.subject, me, "{}", c.what);
        let b = authorize(&mut sts_b, creds, c.action, &c.resource, &c.context)
            .await
            .unwrap_or_else(|err| panic!("{}: {}: {}", c.what, exception(&err), err.message()));
        assert_eq!(a, b, "both gateways answer alike: {}", c.what);
        let ctx: Vec<(String, String)> = c
            .context
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let offline = session
            .authorize(c.action, &c.resource, &ctx, now_s)
            .expect("within the size limits");
        assert_eq!(
            verdict_of_decision(&offline),
            c.expect,
            "offline: {}",
            c.what
        );
    }

    // The access key id of another session → NotAuthorized.
    let other = ok(
        "GetCredentialsForIdentity",
        credentials(env.b(), me, &e.logins).await,
    );
    assert_ne!(other.access_key_id, creds.access_key_id);
    for sts in [&mut sts_a, &mut sts_b] {
        let mixed = pb::CredentialsType {
            access_key_id: other.access_key_id.clone(),
            ..creds.clone()
        };
        let err = authorize(
            sts,
            &mixed,
            "orders:GetOrder",
            &format!("arn:signet:orders:::{me}/1"),
            &[],
        )
        .await
        .expect_err("another session's access key id");
        assert_eq!(
            exception(&err),
            "NotAuthorizedException",
            "{}",
            err.message()
        );
    }
    // Without an access key id, the token alone decides.
    let r = sts_a
        .authorize(pb::AuthorizeRequest {
            session_token: creds.session_token.clone(),
            access_key_id: String::new(),
            action: "orders:GetOrder".into(),
            resource: format!("arn:signet:orders:::{me}/1"),
            context: HashMap::new(),
        })
        .await
        .expect("authorize without access key id")
        .into_inner();
    assert_eq!(verdict_of(&r), allow("read", 0, "ReadOwn"));

    // A tampered session token → NotAuthorized on both gateways, BadSignature offline.
    let tampered = pb::CredentialsType {
        session_token: tamper_signature(&creds.session_token),
        ..creds.clone()
    };
    for sts in [&mut sts_a, &mut sts_b] {
        let err = authorize(
            sts,
            &tampered,
            "orders:GetOrder",
            &format!("arn:signet:orders:::{me}/1"),
            &[],
        )
        .await
        .expect_err("a tampered token");
        assert_eq!(
            exception(&err),
            "NotAuthorizedException",
            "{}",
            err.message()
        );
    }
    assert_eq!(
        signet_verify::verify(
            &tampered.session_token,
            &keys,
            &session_expected(&sts_issuer())
        )
        .unwrap_err(),
        VerifyError::BadSignature
    );
    // A user-pool ID token is not a session token.
    let id_as_session = pb::CredentialsType {
        session_token: e.login.id_token.clone(),
        access_key_id: String::new(),
        ..creds.clone()
    };
    let err = authorize(
        &mut sts_a,
        &id_as_session,
        "orders:GetOrder",
        "arn:signet:orders:::x/1",
        &[],
    )
    .await
    .expect_err("an ID token as session token");
    assert_eq!(
        exception(&err),
        "NotAuthorizedException",
        "{}",
        err.message()
    );
    // Action and resource are required.
    let err = authorize(&mut sts_a, creds, "", "arn:signet:orders:::x/1", &[])
        .await
        .expect_err("no action");
    assert_eq!(exception(&err), "InvalidParameterException");

    // Token uses are not interchangeable offline.
    let as_id = Expected {
        issuer: sts_issuer(),
        token_use: TokenUse::Id,
        clients: None,
        leeway_s: 0,
    };
    assert_eq!(
        signet_verify::verify(&creds.session_token, &keys, &as_id).unwrap_err(),
        VerifyError::WrongTokenUse,
        "a session token is not an ID token"
    );
    let id_token = &e.login.id_token;
    signet_verify::verify(
        id_token,
        &keys,
        &expected(&e.login.pool_id, &e.login.client_id, TokenUse::Id),
    )
    .expect("the ID token itself is good with these keys");
    assert_eq!(
        signet_verify::verify(id_token, &keys, &session_expected(&sts_issuer())).unwrap_err(),
        VerifyError::WrongIssuer,
        "an ID token is not a session token"
    );
    let pool_issuer = format!("{TEST_PUBLIC_URL}/{}", e.login.pool_id);
    assert_eq!(
        signet_verify::verify(id_token, &keys, &session_expected(&pool_issuer)).unwrap_err(),
        VerifyError::WrongTokenUse,
        "an ID token is not a session token, whatever the issuer expected"
    );

    // GetCallerIdentity of enhanced-flow credentials.
    let role_id = identity_admin_client(env.a())
        .await
        .get_role(role_ref("orders-user"))
        .await
        .expect("GetRole")
        .into_inner()
        .role_id;
    assert_eq!(claims["role_id"], role_id.as_str());
    let session_name = claims["role_session_name"].as_str().unwrap().to_string();
    assert!(session_name.starts_with("signet-"), "{session_name}");
    let who = sts_b
        .get_caller_identity(pb::SessionTokenRequest {
            session_token: creds.session_token.clone(),
        })
        .await
        .expect("GetCallerIdentity")
        .into_inner();
    assert_eq!(
        who.arn,
        format!("arn:signet:sts:::assumed-role/orders-user/{session_name}")
    );
    assert_eq!(who.user_id, format!("{role_id}:{session_name}"));
    assert_eq!(who.account, "signet");
    let err = sts_b
        .get_caller_identity(pb::SessionTokenRequest {
            session_token: tampered.session_token.clone(),
        })
        .await
        .expect_err("tampered");
    assert_eq!(exception(&err), "NotAuthorizedException");
    env.shutdown().await;
}

const WEB_READ_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"ReadOwn","Effect":"Allow","Action":"orders:Get*","Resource":"arn:signet:orders:::${signet:sub}/*"}
]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_with_web_identity() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let (bob_sub, bob_token) = another_user(env.a(), &alice, "bob").await;
    let p = alice.provider.as_str();
    let trust = trust_user_pool(p, &alice.client_id, &[]);
    role(env.a(), "web-reader", &trust, &[("read", WEB_READ_POLICY)]).await;
    role(
        env.a(),
        "other-client",
        &trust_user_pool(p, "someotherclientid", &[]),
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    role(
        env.a(),
        "other-issuer",
        &trust_user_pool("signet.test/local_NotThisPool", &alice.client_id, &[]),
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    role(
        env.a(),
        "alice-only",
        &trust_user_pool(p, &alice.client_id, &[("sub", &alice.sub)]),
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    let role_id = identity_admin_client(env.a())
        .await
        .get_role(role_ref("web-reader"))
        .await
        .expect("GetRole")
        .into_inner()
        .role_id;
    let mut sts = sts_client(env.b()).await;

    // Credentials, and every field of the answer.
    let before = now_ms();
    let out = assume_ok(
        &mut sts,
        pb::AssumeRoleWithWebIdentityRequest {
            duration_seconds: 1800,
            ..assume("web-reader", "alice-session", &alice.id_token)
        },
    )
    .await;
    let after = now_ms();
    let creds = out.credentials.clone().expect("credentials");
    assert_eq!(out.subject_from_web_identity_token, alice.sub);
    assert_eq!(out.provider, alice.provider);
    assert_eq!(out.audience, alice.client_id);
    let user = out.assumed_role_user.clone().expect("assumed role user");
    assert_eq!(
        user.arn,
        "arn:signet:sts:::assumed-role/web-reader/alice-session"
    );
    assert_eq!(user.assumed_role_id, format!("{role_id}:alice-session"));
    assert!(
        creds.access_key_id.starts_with("ASIA"),
        "{}",
        creds.access_key_id
    );
    assert!(!creds.secret_key.is_empty());
    // Expiry: now + 1800 s, at second precision.
    assert!(
        creds.expiration + 1000 >= before + 1_800_000 && creds.expiration <= after + 1_800_000,
        "expiration {} not within [{before}, {after}] + 1800 s",
        creds.expiration
    );
    let claims = claims_of(&creds.session_token);
    assert_eq!(claims["exp"].as_u64().unwrap() * 1000, creds.expiration);
    assert_eq!(claims["sub"], alice.sub.as_str());
    assert_eq!(claims["idp"], alice.provider.as_str());
    assert_eq!(claims["src_aud"], alice.client_id.as_str());
    assert_eq!(claims["role_session_name"], "alice-session");
    assert_eq!(claims["role_id"], role_id.as_str());
    assert_eq!(claims["amr"], json!(["authenticated"]));
    assert!(claims.get("identity_pool").is_none(), "{claims}");
    assert!(claims.get("session_policy").is_none(), "{claims}");
    let mine = format!("arn:signet:orders:::{}/1", alice.sub);
    assert_eq!(
        authorized(&mut sts, &creds, "orders:GetOrder", &mine).await,
        allow("read", 0, "ReadOwn")
    );

    // GetCallerIdentity, on both gateways.
    for gw in [env.a(), env.b()] {
        let who = sts_client(gw)
            .await
            .get_caller_identity(pb::SessionTokenRequest {
                session_token: creds.session_token.clone(),
            })
            .await
            .expect("GetCallerIdentity")
            .into_inner();
        assert_eq!(
            who.arn,
            "arn:signet:sts:::assumed-role/web-reader/alice-session"
        );
        assert_eq!(who.user_id, format!("{role_id}:alice-session"));
    }

    // The default duration is an hour (the role's maximum).
    let out = assume_ok(
        &mut sts,
        assume("web-reader", "default-length", &alice.id_token),
    )
    .await;
    let left = out.credentials.unwrap().expiration as i64 - now_ms() as i64;
    assert!((3_590_000..=3_601_000).contains(&left), "{left} ms");

    // Trust policy conditions.
    let refused = |role: &str, token: &str| assume(role, "s1", token);
    assert_eq!(
        assume_refused(&mut sts, refused("other-client", &alice.id_token)).await,
        "AccessDeniedException",
        "trust policy names another client"
    );
    assert_eq!(
        assume_refused(&mut sts, refused("other-issuer", &alice.id_token)).await,
        "AccessDeniedException",
        "trust policy names another issuer"
    );
    let out = assume_ok(&mut sts, refused("alice-only", &alice.id_token)).await;
    assert_eq!(out.subject_from_web_identity_token, alice.sub);
    assert_eq!(
        assume_refused(&mut sts, refused("alice-only", &bob_token)).await,
        "AccessDeniedException",
        "{{provider}}:sub condition: bob ({bob_sub}) is not alice"
    );
    let out = assume_ok(&mut sts, refused("web-reader", &bob_token)).await;
    assert_eq!(out.subject_from_web_identity_token, bob_sub);

    // Bad requests.
    assert_eq!(
        assume_refused(&mut sts, refused("no-such-role", &alice.id_token)).await,
        "NoSuchEntityException"
    );
    for bad in ["not-a-token", "a.b.c", ""] {
        assert_eq!(
            assume_refused(&mut sts, refused("web-reader", bad)).await,
            "InvalidIdentityTokenException",
            "token {bad:?}"
        );
    }
    assert_eq!(
        assume_refused(
            &mut sts,
            refused("web-reader", &tamper_signature(&alice.id_token))
        )
        .await,
        "InvalidIdentityTokenException",
        "tampered ID token"
    );
    // An access token is not an ID token; a session token is not a web identity token.
    assert_eq!(
        assume_refused(&mut sts, refused("web-reader", &alice.access_token)).await,
        "InvalidIdentityTokenException",
        "access token"
    );
    assert_eq!(
        assume_refused(&mut sts, refused("web-reader", &creds.session_token)).await,
        "InvalidIdentityTokenException",
        "session token"
    );
    for name in ["a", "has space", "slash/no", &"x".repeat(65)] {
        assert_eq!(
            assume_refused(&mut sts, assume("web-reader", name, &alice.id_token)).await,
            "InvalidParameterException",
            "session name {name:?}"
        );
    }
    assert_eq!(
        assume_refused(
            &mut sts,
            pb::AssumeRoleWithWebIdentityRequest {
                role_arn: "arn:aws:iam::123456789012:role/web-reader".into(),
                ..assume("web-reader", "s1", &alice.id_token)
            }
        )
        .await,
        "InvalidParameterException",
        "not a Signet role ARN"
    );
    for (d, ok) in [
        (899, false),
        (900, true),
        (3600, true),
        (3601, false),
        (43_200, false),
    ] {
        let req = pb::AssumeRoleWithWebIdentityRequest {
            duration_seconds: d,
            ..assume("web-reader", "durations", &alice.id_token)
        };
        if ok {
            let c = assume_ok(&mut sts, req).await.credentials.unwrap();
            let claims = claims_of(&c.session_token);
            assert_eq!(
                claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
                u64::from(d)
            );
        } else {
            assert_eq!(
                assume_refused(&mut sts, req).await,
                "InvalidParameterException",
                "duration {d}"
            );
        }
    }

    // A session policy only narrows.
    let with_policy = |policy: &str| pb::AssumeRoleWithWebIdentityRequest {
        policy: policy.into(),
        ..assume("web-reader", "narrowed", &alice.id_token)
    };
    let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetInvoice","Resource":"*"}]}"#;
    let c = assume_ok(&mut sts, with_policy(narrow))
        .await
        .credentials
        .unwrap();
    assert_eq!(
        claims_of(&c.session_token)["session_policy"],
        serde_json::from_str::<Value>(narrow).unwrap()
    );
    assert_eq!(
        authorized(&mut sts, &c, "orders:GetInvoice", &mine).await,
        allow("read", 0, "ReadOwn"),
        "allowed by the session policy and the role"
    );
    assert_eq!(
        authorized(&mut sts, &c, "orders:GetOrder", &mine).await,
        implicit_deny(),
        "the role allows it, the session policy does not"
    );
    let wide = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let c = assume_ok(&mut sts, with_policy(wide))
        .await
        .credentials
        .unwrap();
    assert_eq!(
        authorized(&mut sts, &c, "orders:GetOrder", &mine).await,
        allow("read", 0, "ReadOwn")
    );
    assert_eq!(
        authorized(&mut sts, &c, "orders:DeleteOrder", &mine).await,
        implicit_deny(),
        "a session policy cannot widen: action"
    );
    assert_eq!(
        authorized(
            &mut sts,
            &c,
            "orders:GetOrder",
            "arn:signet:orders:::someone-else/1"
        )
        .await,
        implicit_deny(),
        "a session policy cannot widen: resource"
    );
    let denying = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"NoInvoices","Effect":"Deny","Action":"orders:GetInvoice","Resource":"*"}]}"#;
    let c = assume_ok(&mut sts, with_policy(denying))
        .await
        .credentials
        .unwrap();
    assert_eq!(
        authorized(&mut sts, &c, "orders:GetInvoice", &mine).await,
        explicit_deny("session", 1, "NoInvoices")
    );
    assert_eq!(
        authorized(&mut sts, &c, "orders:GetOrder", &mine).await,
        allow("read", 0, "ReadOwn")
    );
    for malformed in [
        "not json",
        r#"{"Statement":[{"Effect":"Allow","Action":"orders:GetOrder"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
    ] {
        assert_eq!(
            assume_refused(&mut sts, with_policy(malformed)).await,
            "MalformedPolicyDocumentException",
            "{malformed}"
        );
    }
    // A session policy that parses (under the 10 KiB policy limit) but makes the token
    // larger than 8 KiB.
    let actions: Vec<String> = (0..330).map(|i| format!("orders:GetThing{i:04}")).collect();
    let big = json!({"Statement":[{"Effect":"Allow","Action":actions,"Resource":"*"}]}).to_string();
    assert!(
        big.len() < signet_verify::policy::MAX_POLICY_BYTES,
        "{}",
        big.len()
    );
    assert!(signet_verify::PolicyDocument::parse(&big).is_ok());
    assert_eq!(
        assume_refused(&mut sts, with_policy(&big)).await,
        "PackedPolicyTooLargeException"
    );

    // An identity pool's OpenID token: roles its trust policy admits, with the classic flow on.
    let pool = identity_pool(env.a(), &[(p, &alice.client_id)], false).await;
    let pool_trust = trust_identity_pool(&pool, "authenticated");
    let pool_role = role(
        env.a(),
        "pool-role",
        &pool_trust,
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    role(
        env.a(),
        "classic-role",
        &pool_trust,
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    set_roles(env.a(), &pool, Some(&pool_role), None).await;
    let l = logins(&[(p, &alice.id_token)]);
    let mut ids = identity_client(env.a()).await;
    let identity_id = ids
        .get_id(pb::GetIdRequest {
            identity_pool_id: pool.clone(),
            logins: l.clone(),
        })
        .await
        .expect("GetId")
        .into_inner()
        .identity_id;
    let open_id = ids
        .get_open_id_token(pb::GetOpenIdTokenRequest {
            identity_id: identity_id.clone(),
            logins: l,
        })
        .await
        .expect("GetOpenIdToken")
        .into_inner()
        .token;
    // Classic flow off (Cognito's rule): the pool's tokens buy no role through STS, not even
    // the pool's own, or a user could pick a role its mapping rules deny them.
    for role_name in ["pool-role", "classic-role"] {
        assert_eq!(
            assume_refused(&mut sts, assume(role_name, "classic", &open_id)).await,
            "AccessDeniedException",
            "classic flow is off: {role_name}"
        );
    }
    let mut described = identity_admin_client(env.a())
        .await
        .describe_identity_pool(admin(pb::IdentityPoolRef {
            identity_pool_id: pool.clone(),
        }))
        .await
        .expect("describe")
        .into_inner();
    described.allow_classic_flow = true;
    identity_admin_client(env.a())
        .await
        .update_identity_pool(admin(described))
        .await
        .expect("update identity pool");
    let out = wait_for_async(
        "the classic flow to be allowed",
        Duration::from_secs(10),
        || {
            let mut sts = sts.clone();
            let req = assume("classic-role", "classic", &open_id);
            async move {
                match sts.assume_role_with_web_identity(req).await {
                    Ok(r) => Some(r.into_inner()),
                    Err(e) => {
                        assert_eq!(exception(&e), "AccessDeniedException", "{}", e.message());
                        None
                    }
                }
            }
        },
    )
    .await;
    assert_eq!(
        out.assumed_role_user.unwrap().arn,
        "arn:signet:sts:::assumed-role/classic-role/classic"
    );
    let out = assume_ok(&mut sts, assume("pool-role", "from-pool", &open_id)).await;
    assert_eq!(out.provider, "signet-identity");
    assert_eq!(out.audience, pool);
    assert_eq!(out.subject_from_web_identity_token, identity_id);
    assert_eq!(
        claims_of(&out.credentials.unwrap().session_token)["identity_pool"],
        pool.as_str()
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_administration() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let p = alice.provider.as_str();
    let trust = trust_user_pool(p, &alice.client_id, &[]);
    let mut adm = identity_admin_client(env.a()).await;
    let create = |name: &str, trust: &str, max: u32| {
        admin(pb::CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: trust.into(),
            description: format!("role {name}"),
            max_session_duration: max,
        })
    };

    // Malformed trust policies.
    for (what, bad) in [
        (
            "unknown field",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"sts:AssumeRoleWithWebIdentity","Bogus":1}]}"#,
        ),
        (
            "missing Principal",
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        ),
        ("not JSON", "{"),
        (
            "unknown principal type",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Martian":"x"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        ),
    ] {
        let err = adm
            .create_role(create("bad-trust", bad, 0))
            .await
            .expect_err(what);
        assert_eq!(
            exception(&err),
            "MalformedPolicyDocumentException",
            "{what}: {}",
            err.message()
        );
    }
    for (what, name, max) in [
        ("empty name", "", 0),
        ("bad character", "has space", 0),
        ("max session too short", "short", 900),
        ("max session too long", "long", 43_201),
    ] {
        let err = adm
            .create_role(create(name, &trust, max))
            .await
            .expect_err(what);
        assert_eq!(
            exception(&err),
            "InvalidParameterException",
            "{what}: {}",
            err.message()
        );
    }

    let created = adm
        .create_role(create("app", &trust, 0))
        .await
        .expect("CreateRole")
        .into_inner();
    assert_eq!(created.role_name, "app");
    assert_eq!(created.arn, role_arn_of("app"));
    assert!(created.role_id.starts_with("AROA"), "{}", created.role_id);
    assert_eq!(created.max_session_duration, 3600);
    assert_eq!(created.assume_role_policy_document, trust);
    assert_eq!(created.description, "role app");
    assert!(created.policy_names.is_empty());
    let err = adm
        .create_role(create("app", &trust, 0))
        .await
        .expect_err("duplicate");
    assert_eq!(exception(&err), "EntityAlreadyExistsException");
    let again = adm
        .get_role(role_ref("app"))
        .await
        .expect("GetRole")
        .into_inner();
    assert_eq!(again, created, "the duplicate changed nothing");

    // Permission policies.
    let put = |name: &str, doc: &str| {
        admin(pb::RolePolicyType {
            role_name: "app".into(),
            policy_name: name.into(),
            policy_document: doc.into(),
        })
    };
    for (what, bad) in [
        (
            "unknown operator",
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}"#,
        ),
        (
            "Principal in a permission policy",
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"*","Resource":"*"}]}"#,
        ),
        (
            "no Resource",
            r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#,
        ),
        (
            "numeric operator with text",
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"ten"}}}]}"#,
        ),
        (
            "duplicate key",
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
        ),
        (
            "bad Effect",
            r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
        ),
    ] {
        let err = adm.put_role_policy(put("bad", bad)).await.expect_err(what);
        assert_eq!(
            exception(&err),
            "MalformedPolicyDocumentException",
            "{what}: {}",
            err.message()
        );
    }
    adm.put_role_policy(put("read", WEB_READ_POLICY))
        .await
        .expect("PutRolePolicy");
    let got = adm
        .get_role_policy(policy_ref("app", "read"))
        .await
        .expect("GetRolePolicy")
        .into_inner();
    assert_eq!(got.role_name, "app");
    assert_eq!(got.policy_name, "read");
    assert_eq!(
        got.policy_document, WEB_READ_POLICY,
        "round trip, byte for byte"
    );
    let v2 = r#"{"Statement":[{"Effect":"Allow","Action":"orders:List*","Resource":"*"}]}"#;
    adm.put_role_policy(put("read", v2)).await.expect("replace");
    adm.put_role_policy(put("extra", v2))
        .await
        .expect("second policy");
    let got = adm
        .get_role_policy(policy_ref("app", "read"))
        .await
        .expect("GetRolePolicy")
        .into_inner();
    assert_eq!(got.policy_document, v2, "PutRolePolicy replaces");
    let r = adm
        .get_role(role_ref("app"))
        .await
        .expect("GetRole")
        .into_inner();
    assert_eq!(r.policy_names, ["extra", "read"]);
    let err = adm
        .get_role_policy(policy_ref("app", "nope"))
        .await
        .expect_err("no such policy");
    assert_eq!(exception(&err), "NoSuchEntityException");
    let err = adm
        .put_role_policy(admin(pb::RolePolicyType {
            role_name: "ghost".into(),
            policy_name: "read".into(),
            policy_document: v2.into(),
        }))
        .await
        .expect_err("no such role");
    assert_eq!(exception(&err), "NoSuchEntityException");

    // UpdateRole: max session, then trust; each field alone.
    let mut sts = sts_client(env.a()).await;
    let long = pb::AssumeRoleWithWebIdentityRequest {
        duration_seconds: 7200,
        ..assume("app", "long", &alice.id_token)
    };
    assert_eq!(
        assume_refused(&mut sts, long.clone()).await,
        "InvalidParameterException",
        "above the role's maximum session"
    );
    let updated = adm
        .update_role(admin(pb::UpdateRoleRequest {
            role_name: "app".into(),
            max_session_duration: Some(7200),
            ..Default::default()
        }))
        .await
        .expect("UpdateRole")
        .into_inner();
    assert_eq!(updated.max_session_duration, 7200);
    assert_eq!(updated.assume_role_policy_document, trust);
    assert_eq!(updated.description, "role app");
    assert_eq!(updated.role_id, created.role_id);
    let out = wait_for_async(
        "the longer maximum session to apply",
        Duration::from_secs(10),
        || {
            let mut sts = sts.clone();
            let req = long.clone();
            async move {
                match sts.assume_role_with_web_identity(req).await {
                    Ok(r) => Some(r.into_inner()),
                    Err(e) => {
                        assert_eq!(
                            exception(&e),
                            "InvalidParameterException",
                            "{}",
                            e.message()
                        );
                        None
                    }
                }
            }
        },
    )
    .await;
    let c = claims_of(&out.credentials.unwrap().session_token);
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        7200
    );
    let other_trust = trust_user_pool(p, "someotherclientid", &[]);
    let updated = adm
        .update_role(admin(pb::UpdateRoleRequest {
            role_name: "app".into(),
            assume_role_policy_document: Some(other_trust.clone()),
            description: Some("now for another client".into()),
            ..Default::default()
        }))
        .await
        .expect("UpdateRole")
        .into_inner();
    assert_eq!(updated.assume_role_policy_document, other_trust);
    assert_eq!(updated.description, "now for another client");
    assert_eq!(updated.max_session_duration, 7200, "unchanged");
    wait_for_async(
        "the new trust policy to apply",
        Duration::from_secs(10),
        || {
            let mut sts = sts.clone();
            let req = assume("app", "trust", &alice.id_token);
            async move {
                match sts.assume_role_with_web_identity(req).await {
                    Ok(_) => None,
                    Err(e) => {
                        assert_eq!(exception(&e), "AccessDeniedException", "{}", e.message());
                        Some(())
                    }
                }
            }
        },
    )
    .await;
    for (what, req, name) in [
        (
            "malformed trust",
            pb::UpdateRoleRequest {
                role_name: "app".into(),
                assume_role_policy_document: Some(r#"{"Statement":[]"#.into()),
                ..Default::default()
            },
            "MalformedPolicyDocumentException",
        ),
        (
            "max session out of range",
            pb::UpdateRoleRequest {
                role_name: "app".into(),
                max_session_duration: Some(50_000),
                ..Default::default()
            },
            "InvalidParameterException",
        ),
        (
            "no such role",
            pb::UpdateRoleRequest {
                role_name: "ghost".into(),
                description: Some("x".into()),
                ..Default::default()
            },
            "NoSuchEntityException",
        ),
    ] {
        let err = adm.update_role(admin(req)).await.expect_err(what);
        assert_eq!(exception(&err), name, "{what}: {}", err.message());
    }

    // DeleteRole: only once its policies are gone.
    let err = adm
        .delete_role(role_ref("app"))
        .await
        .expect_err("role with policies");
    assert_eq!(exception(&err), "DeleteConflictException");
    for name in ["read", "extra"] {
        adm.delete_role_policy(policy_ref("app", name))
            .await
            .expect("DeleteRolePolicy");
    }
    let err = adm
        .delete_role_policy(policy_ref("app", "read"))
        .await
        .expect_err("already deleted");
    assert_eq!(exception(&err), "NoSuchEntityException");
    adm.delete_role(role_ref("app")).await.expect("DeleteRole");
    let err = adm.get_role(role_ref("app")).await.expect_err("deleted");
    assert_eq!(exception(&err), "NoSuchEntityException");
    let err = adm
        .delete_role(role_ref("app"))
        .await
        .expect_err("deleted twice");
    assert_eq!(exception(&err), "NoSuchEntityException");
    wait_for_async(
        "the deleted role to be gone for STS",
        Duration::from_secs(10),
        || {
            let mut sts = sts.clone();
            let req = assume("app", "gone", &alice.id_token);
            async move {
                let e = sts
                    .assume_role_with_web_identity(req)
                    .await
                    .expect_err("the trust refuses alice anyway");
                (exception(&e) == "NoSuchEntityException").then_some(())
            }
        },
    )
    .await;

    // ListRoles paging.
    let mut made: Vec<String> = (0..5).map(|i| format!("page-{i}")).collect();
    for name in &made {
        adm.create_role(create(name, &trust, 0))
            .await
            .expect("CreateRole");
    }
    let all = adm
        .list_roles(admin(pb::ListRequest::default()))
        .await
        .expect("ListRoles")
        .into_inner();
    assert!(all.next_token.is_empty(), "everything fits in one page");
    let all: Vec<String> = all.roles.into_iter().map(|r| r.role_name).collect();
    let mut paged = Vec::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let page = adm
            .list_roles(admin(pb::ListRequest {
                max_results: 2,
                next_token: next.clone(),
            }))
            .await
            .expect("ListRoles page")
            .into_inner();
        assert!(page.roles.len() <= 2, "page of {}", page.roles.len());
        pages += 1;
        paged.extend(page.roles.into_iter().map(|r| r.role_name));
        if page.next_token.is_empty() {
            break;
        }
        next = page.next_token;
        assert!(pages < 20, "paging does not end");
    }
    assert_eq!(paged, all, "pages add up to the whole list");
    assert!(
        paged.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates: {paged:?}"
    );
    assert!(
        pages >= all.len().div_ceil(2),
        "{pages} pages for {}",
        all.len()
    );
    made.sort();
    let listed: Vec<String> = paged
        .iter()
        .filter(|n| n.starts_with("page-"))
        .cloned()
        .collect();
    assert_eq!(listed, made);
    assert!(!paged.contains(&"app".to_string()), "deleted role listed");

    // UpdateRole cannot set a maximum session of 0 (only CreateRole reads 0 as "default").
    adm.create_role(create("limits", &trust, 0))
        .await
        .expect("create limits");
    let zero = adm
        .update_role(admin(pb::UpdateRoleRequest {
            role_name: "limits".into(),
            max_session_duration: Some(0),
            ..Default::default()
        }))
        .await
        .expect_err("max 0 refused");
    assert_eq!(exception(&zero), "InvalidParameterException");
    // A role's policies must fit in a session token: past 4 KiB of compact JSON, refused.
    let policy_of = |n: usize| {
        let actions: Vec<String> = (0..n).map(|i| format!("svc:Action{i:04}")).collect();
        serde_json::json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
            .to_string()
    };
    let put = |name: &str, doc: String| {
        admin(pb::RolePolicyType {
            role_name: "limits".into(),
            policy_name: name.into(),
            policy_document: doc,
        })
    };
    adm.put_role_policy(put("a", policy_of(130)))
        .await
        .expect("2.2 KB fits");
    let over = adm
        .put_role_policy(put("b", policy_of(130)))
        .await
        .expect_err("two 2.2 KB policies do not fit");
    assert_eq!(exception(&over), "LimitExceededException");
    // Replacing a policy counts its new size, not both.
    adm.put_role_policy(put("a", policy_of(200)))
        .await
        .expect("a replaced by a 3.4 KB policy");
    let role = adm
        .get_role(role_ref("limits"))
        .await
        .expect("get limits")
        .into_inner();
    assert_eq!(role.policy_names, vec!["a".to_string()]);
    env.shutdown().await;
}

/// Call `attempt` (every 20 ms, for up to 10 s) until it is refused: the refusal must be
/// ExpiredTokenException and come no more than a second before `exp_ms`, and every answer
/// before it must have come before `exp_ms` (the gateway accepts while `now <= exp`, in
/// whole seconds).
async fn refused_as_expired<Fut>(what: &str, exp_ms: u64, mut attempt: impl FnMut() -> Fut)
where
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let (refused_at, status) = wait_for_async(what, Duration::from_secs(10), || {
        let call = attempt();
        async move {
            let sent = now_ms();
            match call.await {
                Ok(()) => {
                    assert!(
                        sent < exp_ms + 1000,
                        "{what}: accepted at {sent}, after the expiration {exp_ms}"
                    );
                    None
                }
                Err(e) => Some((sent, e)),
            }
        }
    })
    .await;
    assert_eq!(
        exception(&status),
        "ExpiredTokenException",
        "{what}: {}",
        status.message()
    );
    assert!(
        refused_at + 1000 >= exp_ms,
        "{what}: refused at {refused_at}, more than a second before the expiration {exp_ms}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_expire_when_they_say() {
    let env = TestEnv::start_with(3, 2, |c| c.sts_min_session = Duration::from_secs(1)).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let trust = trust_user_pool(&alice.provider, &alice.client_id, &[]);
    role(env.a(), "brief", &trust, &[("read", WEB_READ_POLICY)]).await;
    // A web identity token that expires too: a developer-identity token of three seconds.
    let pool = create_identity_pool(
        env.a(),
        pb::IdentityPoolType {
            identity_pool_name: "dev".into(),
            developer_provider_name: "login.orders".into(),
            // Its tokens go to STS directly: the basic (classic) flow.
            allow_classic_flow: true,
            ..Default::default()
        },
    )
    .await
    .identity_pool_id;
    let dev_role = identity_role(
        env.a(),
        "dev-role",
        &pool,
        "authenticated",
        &[("read", WEB_READ_POLICY)],
    )
    .await;
    set_roles(env.a(), &pool, Some(&dev_role), None).await;
    let dev_token = identity_admin_client(env.a())
        .await
        .get_open_id_token_for_developer_identity(admin(
            pb::GetOpenIdTokenForDeveloperIdentityRequest {
                identity_pool_id: pool.clone(),
                identity_id: String::new(),
                logins: logins(&[("login.orders", "user-1")]),
                token_duration: 3,
            },
        ))
        .await
        .expect("GetOpenIdTokenForDeveloperIdentity")
        .into_inner()
        .token;
    let dev_exp_ms = claims_of(&dev_token)["exp"].as_u64().unwrap() * 1000;
    let mut sts = sts_client(env.a()).await;
    let dev = assume_ok(&mut sts, assume("dev-role", "developer", &dev_token)).await;
    assert_eq!(dev.provider, "signet-identity");
    assert_eq!(dev.audience, pool);

    let out = assume_ok(
        &mut sts,
        pb::AssumeRoleWithWebIdentityRequest {
            duration_seconds: 2,
            ..assume("brief", "short-lived", &alice.id_token)
        },
    )
    .await;
    let creds = out.credentials.expect("credentials");
    let claims = claims_of(&creds.session_token);
    assert_eq!(claims["exp"].as_u64().unwrap() * 1000, creds.expiration);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        2
    );
    let mine = format!("arn:signet:orders:::{}/1", alice.sub);
    assert_eq!(
        authorized(&mut sts, &creds, "orders:GetOrder", &mine).await,
        allow("read", 0, "ReadOwn")
    );
    let keys = sts_keys(env.a()).await;
    signet_verify::verify(
        &creds.session_token,
        &keys,
        &session_expected(&sts_issuer()),
    )
    .expect("valid now, offline too");
    let headers = vec![("host".to_string(), "orders.internal".to_string())];
    let body = b"{}";
    let sign_now = || {
        let mut all = headers.clone();
        all.extend(
            sigv4::sign(
                &sigv4::Credentials {
                    access_key_id: &creds.access_key_id,
                    secret_access_key: &creds.secret_key,
                    session_token: Some(&creds.session_token),
                },
                &SignableRequest {
                    method: "GET",
                    path: "/orders/1",
                    query: "",
                    headers: &headers,
                    payload_sha256_hex: SignableRequest::payload_hash(body),
                },
                "local",
                "orders",
                SystemTime::now(),
            )
            .expect("sign"),
        );
        pb::VerifyRequestSignatureRequest {
            method: "GET".into(),
            path: "/orders/1".into(),
            query: String::new(),
            headers: all
                .into_iter()
                .map(|(name, value)| pb::HeaderType { name, value })
                .collect(),
            payload_sha256: SignableRequest::payload_hash(body),
            ..Default::default()
        }
    };
    let check = signature_check(&mut sts, sign_now()).await;
    assert!(check.valid, "{}", check.reason);
    assert_eq!(check.expiration, creds.expiration);

    // Poll until refused; every answer before that must be the same Allow.
    refused_as_expired("the credentials to expire", creds.expiration, || {
        let (mut sts, creds, mine) = (sts.clone(), creds.clone(), mine.clone());
        async move {
            let r = authorize(&mut sts, &creds, "orders:GetOrder", &mine, &[]).await?;
            assert_eq!(verdict_of(&r), allow("read", 0, "ReadOwn"));
            Ok(())
        }
    })
    .await;

    // Expired everywhere: both gateways, GetCallerIdentity, signatures, offline.
    let mut sts_b = sts_client(env.b()).await;
    let err = authorize(&mut sts_b, &creds, "orders:GetOrder", &mine, &[])
        .await
        .expect_err("expired on b too");
    assert_eq!(exception(&err), "ExpiredTokenException");
    let err = sts_b
        .get_caller_identity(pb::SessionTokenRequest {
            session_token: creds.session_token.clone(),
        })
        .await
        .expect_err("expired");
    assert_eq!(exception(&err), "ExpiredTokenException");
    for s in [&mut sts, &mut sts_b] {
        let check = signature_check(s, sign_now()).await;
        assert!(!check.valid, "a fresh signature with expired credentials");
        assert!(check.reason.contains("expired"), "{}", check.reason);
        assert!(check.access_key_id.is_empty() && check.role_arn.is_empty());
    }
    assert_eq!(
        signet_verify::verify(
            &creds.session_token,
            &keys,
            &session_expected(&sts_issuer())
        )
        .unwrap_err(),
        VerifyError::Expired
    );

    // The expired web identity token: ExpiredTokenException, not before its exp.
    refused_as_expired("the developer-identity token to expire", dev_exp_ms, || {
        let mut sts = sts.clone();
        let req = assume("dev-role", "developer", &dev_token);
        async move {
            let r = sts.assume_role_with_web_identity(req).await?;
            assert_eq!(r.into_inner().provider, "signet-identity");
            Ok(())
        }
    })
    .await;
    env.shutdown().await;
}

/// VerifyRequestSignature, which must answer (whether the signature is valid or not).
async fn signature_check(
    sts: &mut StsClient<Channel>,
    req: pb::VerifyRequestSignatureRequest,
) -> pb::VerifyRequestSignatureResponse {
    sts.verify_request_signature(req)
        .await
        .expect("VerifyRequestSignature")
        .into_inner()
}

/// Headers of a request signed at `at` with `creds`: `base` then the added ones.
fn sign_request(
    creds: &sigv4::Credentials,
    req: &SignableRequest,
    at: SystemTime,
) -> Vec<(String, String)> {
    let mut all = req.headers.to_vec();
    all.extend(sigv4::sign(creds, req, "local", "orders", at).expect("sign"));
    all
}

fn verify_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_sha256: &str,
) -> pb::VerifyRequestSignatureRequest {
    pb::VerifyRequestSignatureRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(name, value)| pb::HeaderType {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        payload_sha256: payload_sha256.into(),
        ..Default::default()
    }
}

fn with_header(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case(name) {
                (n.clone(), value.to_string())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect()
}

fn without_header(headers: &[(String, String)], name: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_signatures() {
    let env = TestEnv::start(3, 2).await;
    let e = enhanced_credentials(&env, "signer", &[("read", READ_POLICY)]).await;
    let creds = &e.creds;
    let other = ok(
        "GetCredentialsForIdentity",
        credentials(env.b(), &e.identity_id, &e.logins).await,
    );
    let signer = sigv4::Credentials {
        access_key_id: &creds.access_key_id,
        secret_access_key: &creds.secret_key,
        session_token: Some(&creds.session_token),
    };
    let body = br#"{"qty":1}"#;
    let hash = SignableRequest::payload_hash(body);
    let base = vec![
        ("host".to_string(), "orders.internal".to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    let req = SignableRequest {
        method: "POST",
        path: "/orders/42",
        query: "b=2&a=1",
        headers: &base,
        payload_sha256_hex: hash.clone(),
    };
    let signed = sign_request(&signer, &req, SystemTime::now());
    assert_eq!(
        header(&signed, "x-signet-security-token"),
        creds.session_token
    );

    // The secret the client got is the one the gateway derives: the offline check agrees.
    let parsed = sigv4::verify_with_secret(
        &creds.secret_key,
        &SignableRequest {
            headers: &signed,
            ..req.clone()
        },
        SystemTime::now(),
        Duration::from_secs(300),
    )
    .expect("verifies offline with the secret");
    assert_eq!(parsed.access_key_id, creds.access_key_id);
    assert_eq!(
        (parsed.region.as_str(), parsed.service.as_str()),
        ("local", "orders")
    );

    let mut sts_a = sts_client(env.a()).await;
    let mut sts_b = sts_client(env.b()).await;
    let good = verify_request("POST", "/orders/42", "b=2&a=1", &signed, &hash);
    for sts in [&mut sts_a, &mut sts_b] {
        let check = signature_check(sts, good.clone()).await;
        assert!(check.valid, "{}", check.reason);
        assert_eq!(check.reason, "");
        assert_eq!(check.access_key_id, creds.access_key_id);
        assert_eq!(check.role_arn, e.role_arn);
        assert_eq!(check.subject, e.identity_id);
        assert_eq!(check.expiration, creds.expiration);
        assert_eq!(
            (check.service.as_str(), check.region.as_str()),
            ("orders", "local")
        );
    }

    // A service names the scope it expects: a signature made for another is not valid.
    let scoped = |service: &str, region: &str| pb::VerifyRequestSignatureRequest {
        expected_service: service.into(),
        expected_region: region.into(),
        ..good.clone()
    };
    for (service, region, valid, why) in [
        ("orders", "local", true, ""),
        ("billing", "local", false, "scoped to service orders"),
        ("orders", "eu-west-1", false, "scoped to region local"),
    ] {
        let check = signature_check(&mut sts_a, scoped(service, region)).await;
        assert_eq!(check.valid, valid, "{service}/{region}: {}", check.reason);
        assert!(check.reason.contains(why), "{}", check.reason);
    }

    // Changes a signature does not cover, or that canonicalization undoes.
    let mut unsigned_extra = signed.clone();
    unsigned_extra.push(("user-agent".into(), "curl/8".into()));
    let harmless = [
        (
            "query in another order",
            verify_request("POST", "/orders/42", "a=1&b=2", &signed, &hash),
        ),
        (
            "a header added after signing",
            verify_request("POST", "/orders/42", "b=2&a=1", &unsigned_extra, &hash),
        ),
        (
            "header names in upper case",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &signed
                    .iter()
                    .map(|(n, v)| (n.to_uppercase(), v.clone()))
                    .collect::<Vec<_>>(),
                &hash,
            ),
        ),
    ];
    for (what, r) in harmless {
        let check = signature_check(&mut sts_a, r).await;
        assert!(check.valid, "{what}: {}", check.reason);
    }

    // Tampering: each refused, with a reason.
    let auth = header(&signed, "authorization").to_string();
    let flipped = {
        let last = auth.chars().last().unwrap();
        let swap = if last == '0' { '1' } else { '0' };
        format!("{}{swap}", &auth[..auth.len() - 1])
    };
    let wrong_secret = sign_request(
        &sigv4::Credentials {
            secret_access_key: "not-the-secret",
            ..signer
        },
        &req,
        SystemTime::now(),
    );
    let old = sign_request(&signer, &req, SystemTime::now() - Duration::from_secs(600));
    let future = sign_request(&signer, &req, SystemTime::now() + Duration::from_secs(600));
    // Another session's token and access key id on this signature.
    let other_identity = with_header(
        &with_header(&signed, "x-signet-security-token", &other.session_token),
        "authorization",
        &auth.replace(&creds.access_key_id, &other.access_key_id),
    );
    let mismatch = "signature does not match";
    let cases: Vec<(&str, pb::VerifyRequestSignatureRequest, &str)> = vec![
        (
            "path",
            verify_request("POST", "/orders/43", "b=2&a=1", &signed, &hash),
            mismatch,
        ),
        (
            "method",
            verify_request("PUT", "/orders/42", "b=2&a=1", &signed, &hash),
            mismatch,
        ),
        (
            "query value",
            verify_request("POST", "/orders/42", "b=3&a=1", &signed, &hash),
            mismatch,
        ),
        (
            "query parameter added",
            verify_request("POST", "/orders/42", "b=2&a=1&c=3", &signed, &hash),
            mismatch,
        ),
        (
            "body hash",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &signed,
                &SignableRequest::payload_hash(br#"{"qty":100}"#),
            ),
            mismatch,
        ),
        (
            "signed header value",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(&signed, "content-type", "text/plain"),
                &hash,
            ),
            mismatch,
        ),
        (
            "host",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(&signed, "host", "evil.internal"),
                &hash,
            ),
            mismatch,
        ),
        (
            "signature hex",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(&signed, "authorization", &flipped),
                &hash,
            ),
            mismatch,
        ),
        (
            "signed with a wrong secret",
            verify_request("POST", "/orders/42", "b=2&a=1", &wrong_secret, &hash),
            mismatch,
        ),
        (
            "session token of another session",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(&signed, "x-signet-security-token", &other.session_token),
                &hash,
            ),
            "does not belong to the security token",
        ),
        (
            "another session's token and access key id",
            verify_request("POST", "/orders/42", "b=2&a=1", &other_identity, &hash),
            mismatch,
        ),
        (
            "tampered session token",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(
                    &signed,
                    "x-signet-security-token",
                    &tamper_signature(&creds.session_token),
                ),
                &hash,
            ),
            "security token included in the request is invalid",
        ),
        (
            "no security token header",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &without_header(&signed, "x-signet-security-token"),
                &hash,
            ),
            "no x-signet-security-token",
        ),
        (
            "no authorization header",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &without_header(&signed, "authorization"),
                &hash,
            ),
            "no authorization header",
        ),
        (
            "date 10 minutes old",
            verify_request("POST", "/orders/42", "b=2&a=1", &old, &hash),
            "outside the allowed clock skew",
        ),
        (
            "date 10 minutes ahead",
            verify_request("POST", "/orders/42", "b=2&a=1", &future, &hash),
            "outside the allowed clock skew",
        ),
        (
            "x-signet-date changed",
            verify_request(
                "POST",
                "/orders/42",
                "b=2&a=1",
                &with_header(&signed, "x-signet-date", header(&old, "x-signet-date")),
                &hash,
            ),
            "",
        ),
    ];
    for (what, r, reason) in cases {
        let a = signature_check(&mut sts_a, r.clone()).await;
        assert!(!a.valid, "{what}: accepted");
        assert!(!a.reason.is_empty(), "{what}: no reason");
        assert!(a.reason.contains(reason), "{what}: reason {:?}", a.reason);
        assert!(
            a.access_key_id.is_empty() && a.role_arn.is_empty() && a.subject.is_empty(),
            "{what}: a refusal names no one: {a:?}"
        );
        let b = signature_check(&mut sts_b, r).await;
        assert_eq!(a, b, "both gateways answer alike: {what}");
    }
    env.shutdown().await;
}

/// SIGNET4-HMAC-SHA256 done by hand from the algorithm in `signet_verify::sigv4`'s docs,
/// over exactly the headers given (every one signed): for requests `sigv4::sign` refuses
/// to produce. Returns the `authorization` header.
fn sign_by_hand(
    secret: &str,
    access_key_id: &str,
    req: &SignableRequest,
    date_time: &str,
) -> String {
    let mut names: Vec<String> = req.headers.iter().map(|(n, _)| n.to_lowercase()).collect();
    names.sort();
    names.dedup();
    let canonical = sigv4::canonical_request(req, &names).expect("canonical request");
    let scope = format!("{}/local/orders/signet4_request", &date_time[..8]);
    let string_to_sign = format!(
        "SIGNET4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        SignableRequest::payload_hash(canonical.as_bytes())
    );
    let mut key = format!("SIGNET4{secret}").into_bytes();
    for part in [&date_time[..8], "local", "orders", "signet4_request"] {
        key = signet_crypto::hmac_sha256(&key, part.as_bytes());
    }
    let signature: String = signet_crypto::hmac_sha256(&key, string_to_sign.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "SIGNET4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
        names.join(";")
    )
}

/// A request carrying two security tokens (the signer's first, another session's second),
/// both signed, is ambiguous: the gateway checks the signature against the first while a
/// service reading "the" token may take the second and authorize with another session's
/// policies. `authorization` and `x-signet-date` may not repeat; neither may the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_two_security_tokens_is_refused() {
    let env = TestEnv::start(3, 2).await;
    let e = enhanced_credentials(&env, "signer", &[("read", READ_POLICY)]).await;
    let other = ok(
        "GetCredentialsForIdentity",
        credentials(env.b(), &e.identity_id, &e.logins).await,
    );
    let c = &e.creds;
    let hash = SignableRequest::payload_hash(b"");
    let base = vec![("host".to_string(), "orders.internal".to_string())];
    fn req<'h>(headers: &'h [(String, String)]) -> SignableRequest<'h> {
        SignableRequest {
            method: "GET",
            path: "/orders/1",
            query: "",
            headers,
            payload_sha256_hex: SignableRequest::payload_hash(b""),
        }
    }

    // The hand signer agrees with sigv4::sign on an ordinary request.
    let signed = sign_request(
        &sigv4::Credentials {
            access_key_id: &c.access_key_id,
            secret_access_key: &c.secret_key,
            session_token: Some(&c.session_token),
        },
        &req(&base),
        SystemTime::now(),
    );
    let date = header(&signed, "x-signet-date").to_string();
    let unsigned = without_header(&signed, "authorization");
    assert_eq!(
        sign_by_hand(&c.secret_key, &c.access_key_id, &req(&unsigned), &date),
        header(&signed, "authorization")
    );
    // sigv4::sign itself never puts a second token in a request.
    let mut with_token = base.clone();
    with_token.push((
        "x-signet-security-token".into(),
        other.session_token.clone(),
    ));
    assert!(sigv4::sign(
        &sigv4::Credentials {
            access_key_id: &c.access_key_id,
            secret_access_key: &c.secret_key,
            session_token: Some(&c.session_token),
        },
        &req(&with_token),
        "local",
        "orders",
        SystemTime::now(),
    )
    .is_err());

    for (what, first, second) in [
        (
            "signer's token first",
            &c.session_token,
            &other.session_token,
        ),
        (
            "signer's token second",
            &other.session_token,
            &c.session_token,
        ),
    ] {
        let mut headers = base.clone();
        headers.push(("x-signet-date".into(), date.clone()));
        headers.push(("x-signet-security-token".into(), first.clone()));
        headers.push(("x-signet-security-token".into(), second.clone()));
        let auth = sign_by_hand(&c.secret_key, &c.access_key_id, &req(&headers), &date);
        headers.push(("authorization".into(), auth));
        for gw in [env.a(), env.b()] {
            let req = verify_request("GET", "/orders/1", "", &headers, &hash);
            let check = signature_check(&mut sts_client(gw).await, req).await;
            assert!(
                !check.valid,
                "{what}: two security tokens accepted as the signature of {} ({})",
                check.access_key_id, check.subject
            );
            assert!(!check.reason.is_empty(), "{what}");
        }
        assert!(
            sigv4::verify_with_secret(
                &c.secret_key,
                &req(&headers),
                SystemTime::now(),
                Duration::from_secs(300)
            )
            .is_err(),
            "{what}: offline verification accepts two security tokens"
        );
    }
    env.shutdown().await;
}

/// botocore's own SigV4 signer (AWS4-HMAC-SHA256: `x-amz-date`, `x-amz-security-token`),
/// given Signet temporary credentials, signs a request a service then hands to
/// VerifyRequestSignature: valid, naming the credentials' role and subject; the same
/// headers over another body, or without the token, are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_botocore_signed_with_signet_credentials_verifies() {
    let env = TestEnv::start(1, 1).await;
    let e = enhanced_credentials(&env, "signer", &[("read", READ_POLICY)]).await;
    let c = e.creds.clone();
    let body = r#"{"qty":1}"#;
    let out = tokio::task::spawn_blocking(move || {
        crate::support::clients::python_client(
            "aws_sdk_calls.py",
            &[
                "sign",
                "POST",
                "https://orders.internal/orders/42?b=2&a=1",
                body,
                &c.access_key_id,
                &c.secret_key,
                &c.session_token,
                "local",
                "orders",
            ],
        )
    })
    .await
    .unwrap();
    let headers: Vec<(String, String)> = out["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
        .collect();
    assert!(
        header(&headers, "authorization").starts_with("AWS4-HMAC-SHA256 "),
        "{headers:?}"
    );
    assert_eq!(
        header(&headers, "x-amz-security-token"),
        e.creds.session_token
    );
    let hash = SignableRequest::payload_hash(body.as_bytes());
    let mut sts = sts_client(env.a()).await;
    let check = signature_check(
        &mut sts,
        verify_request("POST", "/orders/42", "b=2&a=1", &headers, &hash),
    )
    .await;
    assert!(check.valid, "{}", check.reason);
    assert_eq!(check.access_key_id, e.creds.access_key_id);
    assert_eq!(check.role_arn, e.role_arn);
    assert_eq!(check.subject, e.identity_id);
    assert_eq!(
        (check.service.as_str(), check.region.as_str()),
        ("orders", "local")
    );
    let other_body = SignableRequest::payload_hash(br#"{"qty":1000}"#);
    let check = signature_check(
        &mut sts,
        verify_request("POST", "/orders/42", "b=2&a=1", &headers, &other_body),
    )
    .await;
    assert!(!check.valid);
    assert_eq!(check.reason, "signature does not match");
    let no_token = without_header(&headers, "x-amz-security-token");
    let check = signature_check(
        &mut sts,
        verify_request("POST", "/orders/42", "b=2&a=1", &no_token, &hash),
    )
    .await;
    assert!(!check.valid);
    assert!(
        check.reason.contains("x-amz-security-token"),
        "{}",
        check.reason
    );
}

/// boto3's `cognito-identity` client, pointed at the gateway, trades a Signet ID token for
/// an identity id and credentials (GetId, GetCredentialsForIdentity over AWS JSON 1.1,
/// unsigned as in Cognito); the credentials are the gRPC API's, with `Expiration` a date
/// botocore parses; a wrong token gets AWS's error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_cognito_identity_trades_an_id_token_for_credentials() {
    let env = TestEnv::start(1, 1).await;
    let e = enhanced_credentials(&env, "boto3-role", &[("read", READ_POLICY)]).await;
    let logins = json!({ e.login.provider.clone(): e.login.id_token.clone() });
    let calls = json!([
        ["get_id", {"IdentityPoolId": e.identity_pool_id, "Logins": logins}],
        ["get_credentials_for_identity", {"IdentityId": e.identity_id, "Logins": logins}],
        ["get_id", {"IdentityPoolId": e.identity_pool_id,
                    "Logins": { e.login.provider.clone(): "not-a-token" }}],
    ]);
    let endpoint = format!("http://{}", env.a().http_addr());
    let out = tokio::task::spawn_blocking(move || {
        crate::support::clients::python_client(
            "aws_sdk_calls.py",
            &[&endpoint, "cognito-identity", &calls.to_string()],
        )
    })
    .await
    .unwrap();
    let r = out.as_array().unwrap();
    assert_eq!(r[0]["ok"]["IdentityId"], e.identity_id.as_str(), "{}", r[0]);
    let c = &r[1]["ok"]["Credentials"];
    assert_eq!(r[1]["ok"]["IdentityId"], e.identity_id.as_str(), "{}", r[1]);
    assert!(
        c["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()),
        "{c}"
    );
    assert!(
        c["SessionToken"].as_str().is_some_and(|t| t.len() > 100),
        "{c}"
    );
    // botocore parsed Expiration as a timestamp: an ISO date in this century.
    assert!(
        c["Expiration"]
            .as_str()
            .is_some_and(|d| d.starts_with("20")),
        "{c}"
    );
    assert_eq!(r[2]["error"], "NotAuthorizedException", "{}", r[2]);
}

/// The AWS SDK's web identity credential provider — the Kubernetes service-account pattern —
/// configured only by environment variables (a token file holding a Signet ID token, the
/// role's ARN, the STS endpoint) gets Signet credentials with AssumeRoleWithWebIdentity
/// over STS's query protocol, and signs GetCallerIdentity with them; the answer names the
/// assumed role. The token file ends in a newline, as one written by `jq -r` or `echo`
/// does. A token the role does not trust gets STS's error, and so does a DurationSeconds
/// that is not a number (never read as the default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_sdks_web_identity_provider_gets_signet_credentials() {
    let env = TestEnv::start(1, 1).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let trust = trust_user_pool(&alice.provider, &alice.client_id, &[]);
    role(env.a(), "pod-role", &trust, &[("read", WEB_READ_POLICY)]).await;
    let endpoint = format!("http://{}", env.a().http_addr());
    let run = |token: String| {
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            crate::support::clients::python_client(
                "aws_sdk_calls.py",
                &["web-identity", &endpoint, &role_arn_of("pod-role"), &token],
            )
        })
    };
    let out = run(format!("{}\n", alice.id_token)).await.unwrap();
    assert_eq!(
        out["caller"]["Arn"], "arn:signet:sts:::assumed-role/pod-role/pod-session",
        "{out}"
    );
    assert!(
        out["access_key_id"]
            .as_str()
            .is_some_and(|k| k.starts_with("ASIA")),
        "{out}"
    );
    let out = run("not-a-token".into()).await.unwrap();
    assert_eq!(out["error"]["Code"], "InvalidIdentityToken", "{out}");

    let form = oauth2::url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", &role_arn_of("pod-role"))
        .append_pair("RoleSessionName", "pod-session")
        .append_pair("WebIdentityToken", &alice.id_token)
        .append_pair("DurationSeconds", "an hour")
        .finish();
    let head = format!(
        "POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}",
        form.len()
    );
    let addr = env.a().http_addr().to_string();
    let (status, _, body) = crate::support::http::raw(&addr, &head, form.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>ValidationError</Code>") && body.contains("an hour"),
        "{body}"
    );
}

/// boto3's STS client at the gateway with `creds` (temporary credentials): each of
/// `calls` in order, per call `{"ok": …}` or `{"error": code, …}`.
async fn boto3_sts(env: &TestEnv, creds: &pb::CredentialsType, calls: Value) -> Vec<Value> {
    let args = [
        format!("http://{}", env.a().http_addr()),
        "sts".to_string(),
        calls.to_string(),
        creds.access_key_id.clone(),
        creds.secret_key.clone(),
        creds.session_token.clone(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::clients::python_client("aws_sdk_calls.py", &args)
    })
    .await
    .unwrap();
    out.as_array().expect("a list").clone()
}

/// AssumeRole (role chaining) with IAM's rules, through boto3 signing with Signet
/// credentials: a service holding role `svc-a`'s credentials becomes `chain-b`, whose trust
/// names `svc-a`, when `svc-a`'s own policy allows `sts:AssumeRole` on it. Refused: a role
/// whose trust names `svc-a` but that `svc-a`'s policy does not grant; a role `svc-a`'s
/// policy grants but whose trust names someone else; a trust `Deny` naming the session; a
/// chained session longer than an hour; an unsigned request. The chained session keeps the
/// original subject, never outlives the caller's, and its policies are `chain-b`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_chains_roles_with_assume_role_under_iams_rules() {
    let env = TestEnv::start(1, 1).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let grants = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": [role_arn_of("chain-b"), role_arn_of("chain-d"), role_arn_of("chain-e")]
    }]})
    .to_string();
    let trust_a = trust_user_pool(&alice.provider, &alice.client_id, &[]);
    role(env.a(), "svc-a", &trust_a, &[("chain", &grants)]).await;
    let trusts = |principal: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"
        }]})
        .to_string()
    };
    let b_policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"orders:Get*","Resource":"*"}]}"#;
    role(
        env.a(),
        "chain-b",
        &trusts(&role_arn_of("svc-a")),
        &[("read", b_policy)],
    )
    .await;
    role(
        env.a(),
        "chain-c",
        &trusts(&role_arn_of("svc-a")),
        &[("read", b_policy)],
    )
    .await;
    role(
        env.a(),
        "chain-d",
        &trusts(&role_arn_of("someone-else")),
        &[("read", b_policy)],
    )
    .await;
    let deny_session = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": role_arn_of("svc-a")}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:signet:sts:::assumed-role/svc-a/pod"},
         "Action": "sts:AssumeRole"}
    ]})
    .to_string();
    role(env.a(), "chain-e", &deny_session, &[("read", b_policy)]).await;
    let mut sts = sts_client(env.a()).await;
    let a = assume_ok(
        &mut sts,
        pb::AssumeRoleWithWebIdentityRequest {
            duration_seconds: 1200,
            ..assume("svc-a", "pod", &alice.id_token)
        },
    )
    .await;
    let a_creds = a.credentials.expect("credentials");
    let hop = |role: &str, more: Value| {
        let mut p = json!({"RoleArn": role_arn_of(role), "RoleSessionName": "hop"});
        p.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        json!(["assume_role", p])
    };
    let r = boto3_sts(
        &env,
        &a_creds,
        json!([
            hop("chain-b", json!({})),
            hop("chain-c", json!({})),
            hop("chain-d", json!({})),
            hop("chain-e", json!({})),
            hop("chain-b", json!({"DurationSeconds": 7200})),
        ]),
    )
    .await;
    let b = &r[0]["ok"];
    assert_eq!(
        b["AssumedRoleUser"]["Arn"], "arn:signet:sts:::assumed-role/chain-b/hop",
        "{}",
        r[0]
    );
    for (i, why) in [
        (1, "chain-c: not granted"),
        (2, "chain-d: not trusted"),
        (3, "chain-e: denied"),
    ] {
        assert_eq!(r[i]["error"], "AccessDenied", "{why}: {}", r[i]);
    }
    assert_eq!(r[4]["error"], "InvalidParameterException", "{}", r[4]);
    let b_creds = pb::CredentialsType {
        access_key_id: b["Credentials"]["AccessKeyId"].as_str().unwrap().into(),
        secret_key: b["Credentials"]["SecretAccessKey"].as_str().unwrap().into(),
        session_token: b["Credentials"]["SessionToken"].as_str().unwrap().into(),
        expiration: 0,
    };
    // The chained credentials sign as chain-b, for alice, with chain-b's policies.
    let who = boto3_sts(&env, &b_creds, json!([["get_caller_identity", {}]])).await;
    assert_eq!(
        who[0]["ok"]["Arn"], "arn:signet:sts:::assumed-role/chain-b/hop",
        "{}",
        who[0]
    );
    let allowed = authorize(&mut sts, &b_creds, "orders:GetOrder", "arn:x", &[])
        .await
        .expect("Authorize");
    assert!(allowed.allowed);
    assert_eq!(allowed.subject, alice.sub);
    assert_eq!(allowed.role_arn, role_arn_of("chain-b"));
    // Never past the caller's session (1200 s), though an hour was the default asked for.
    let expires = |token: &str| {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["exp"].as_u64().unwrap()
    };
    assert!(expires(&b_creds.session_token) <= expires(&a_creds.session_token));
    // chain-b's credentials cannot go on to chain-b again: its policy grants nothing.
    let again = boto3_sts(&env, &b_creds, json!([hop("chain-b", json!({}))])).await;
    assert_eq!(again[0]["error"], "AccessDenied", "{}", again[0]);
    // Unsigned, the session token alone buys nothing.
    let form = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=x",
        role_arn_of("chain-b")
    );
    let resp = crate::support::oauth::http()
        .post(format!("http://{}/", env.a().http_addr()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-amz-security-token", a_creds.session_token.as_str())
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let text = resp.text().await.unwrap();
    assert!(text.contains("<Code>InvalidClientTokenId</Code>"), "{text}");
    env.shutdown().await;
}
