//! Six public RPCs that had no test of their own, each driven through the gRPC API of a
//! running gateway, with the attacks that matter for an identity provider:
//! AdminResetUserPassword, AdminDeleteUserAttributes, AdminRespondToAuthChallenge,
//! DeleteUserPoolClient, GetUserAttributeVerificationCode and VerifyUserAttribute.

use crate::review_support::*;
use crate::support::pools::{
    confirmed_user, exception, expected, jwks, outbox, outbox_code, params, password_auth,
    pool_and_client, refresh_auth, sign_in, user_ref,
};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client};
use signet_verify::TokenUse;
use std::collections::BTreeMap;
use tonic::Status;

const PASSWORD: &str = "Corr3ct-Horse!";
const NEW_PASSWORD: &str = "N3w-Battery-Staple!";
const TEMPORARY: &str = "Temp-0rary-pass!";
const OK: &str = "OK";
const INVALID: &str = "InvalidParameterException";
const NOT_AUTHORIZED: &str = "NotAuthorizedException";
const NOT_FOUND: &str = "ResourceNotFoundException";
const MISMATCH: &str = "CodeMismatchException";

/// `msg` with no credentials at all.
fn bare<T>(msg: T) -> tonic::Request<T> {
    tonic::Request::new(msg)
}

/// `msg` with a bearer that is not the admin secret.
fn wrong_secret<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        "Bearer not-the-admin-secret".parse().expect("ascii"),
    );
    r
}

/// The answer to an admin call made without the admin secret: (gRPC code, exception).
fn refused_admin<T: std::fmt::Debug>(r: Result<T, Status>) -> (tonic::Code, String) {
    match r {
        Ok(v) => panic!("an admin call without the admin secret succeeded: {v:?}"),
        Err(s) => (s.code(), exception(&s)),
    }
}

fn unauthenticated() -> (tonic::Code, String) {
    (tonic::Code::Unauthenticated, NOT_AUTHORIZED.to_string())
}

/// The user as AdminGetUser shows it: (status, enabled, attributes).
async fn admin_view(
    gw: &GatewayHandle,
    pool: &str,
    username: &str,
) -> (String, bool, BTreeMap<String, String>) {
    let u = admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(pool, username)))
        .await
        .unwrap_or_else(|e| panic!("AdminGetUser {username}: {}", outcome_msg(&Err::<(), _>(e))))
        .into_inner()
        .user
        .expect("user");
    let attrs = u
        .attributes
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect();
    (u.user_status, u.enabled, attrs)
}

async fn status_of(gw: &GatewayHandle, pool: &str, username: &str) -> String {
    admin_view(gw, pool, username).await.0
}

/// GetUser's attributes for an access token.
async fn self_attributes(gw: &GatewayHandle, access_token: &str) -> BTreeMap<String, String> {
    get_user(gw, access_token)
        .await
        .unwrap_or_else(|e| panic!("GetUser: {}", outcome_msg(&Err::<(), _>(e))))
        .user_attributes
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect()
}

/// The outbox message for `username` and `purpose`, if any.
async fn outbox_message(
    gw: &GatewayHandle,
    pool: &str,
    username: &str,
    purpose: &str,
) -> Option<pb::OutboxMessageType> {
    outbox(gw, pool)
        .await
        .into_iter()
        .find(|m| m.username == username && m.purpose == purpose)
}

fn is_code(c: &str) -> bool {
    c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())
}

/// `s` with one character in its middle changed (a sealed value or signature tampered with).
fn tamper(s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    let mut i = b.len() / 2;
    while !b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).expect("ascii")
}

// ---------------------------------------------------------------------------------------
// AdminResetUserPassword
// ---------------------------------------------------------------------------------------

/// After AdminResetUserPassword the user is RESET_REQUIRED: the right old password is
/// answered with PasswordResetRequiredException (a wrong one only with
/// NotAuthorizedException, so the status is no oracle), earlier access and refresh tokens are
/// refused, and the reset code sent to the verified e-mail sets a new password through
/// ConfirmForgotPassword, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reset_user_password_forces_a_reset_ends_sessions_and_sends_a_code() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &client, "rosa", "rosa@example.com", PASSWORD).await;
    let before = sign_in(gw, &client, "rosa", PASSWORD).await;
    assert_eq!(outcome(&get_user(gw, &before.access_token).await), OK);
    assert!(outbox_message(gw, &pool, "rosa", "reset").await.is_none());

    let mut adm = admin_client(gw).await;
    let mut auth = auth_client(gw).await;
    adm.admin_reset_user_password(admin(user_ref(&pool, "rosa")))
        .await
        .unwrap_or_else(|e| panic!("AdminResetUserPassword: {}", outcome_msg(&Err::<(), _>(e))));

    let sent = outbox_message(gw, &pool, "rosa", "reset")
        .await
        .expect("a reset code was sent");
    assert_eq!(sent.destination, "rosa@example.com");
    assert!(is_code(&sent.code), "{sent:?}");

    let mut observed: Vec<(&str, String)> = Vec::new();
    observed.push(("status", status_of(gw, &pool, "rosa").await));
    let r = auth
        .initiate_auth(password_auth(&client, "rosa", PASSWORD))
        .await;
    observed.push(("InitiateAuth, old password", outcome(&r)));
    let r = adm
        .admin_initiate_auth(admin(pb::AdminInitiateAuthRequest {
            user_pool_id: pool.clone(),
            client_id: client.clone(),
            auth_flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            auth_parameters: params(&[("USERNAME", "rosa"), ("PASSWORD", PASSWORD)]),
            client_metadata: Default::default(),
        }))
        .await;
    observed.push(("AdminInitiateAuth, old password", outcome(&r)));
    let r = auth
        .initiate_auth(password_auth(&client, "rosa", "Wr0ng-password!"))
        .await;
    observed.push(("InitiateAuth, wrong password", outcome(&r)));
    let r = get_user(gw, &before.access_token).await;
    observed.push(("GetUser, earlier access token", outcome(&r)));
    let r = auth
        .initiate_auth(refresh_auth(&client, &before.refresh_token))
        .await;
    observed.push(("refresh, earlier refresh token", outcome(&r)));
    let confirm = |code: &str| pb::ConfirmForgotPasswordRequest {
        client_id: client.clone(),
        username: "rosa".into(),
        confirmation_code: code.into(),
        password: NEW_PASSWORD.into(),
        ..Default::default()
    };
    let r = auth
        .confirm_forgot_password(confirm(&other_code(&sent.code, 1)))
        .await;
    observed.push(("ConfirmForgotPassword, wrong code", outcome(&r)));
    observed.push((
        "status after a wrong code",
        status_of(gw, &pool, "rosa").await,
    ));
    let r = auth.confirm_forgot_password(confirm(&sent.code)).await;
    observed.push(("ConfirmForgotPassword, the sent code", outcome(&r)));
    observed.push(("status after the reset", status_of(gw, &pool, "rosa").await));
    let r = auth
        .initiate_auth(password_auth(&client, "rosa", PASSWORD))
        .await;
    observed.push(("InitiateAuth, old password after the reset", outcome(&r)));
    let r = auth
        .initiate_auth(refresh_auth(&client, &before.refresh_token))
        .await;
    observed.push((
        "refresh, earlier refresh token after the reset",
        outcome(&r),
    ));
    assert_eq!(
        observed,
        vec![
            ("status", "RESET_REQUIRED".to_string()),
            (
                "InitiateAuth, old password",
                "PasswordResetRequiredException".into()
            ),
            (
                "AdminInitiateAuth, old password",
                "PasswordResetRequiredException".into()
            ),
            ("InitiateAuth, wrong password", NOT_AUTHORIZED.into()),
            ("GetUser, earlier access token", NOT_AUTHORIZED.into()),
            ("refresh, earlier refresh token", NOT_AUTHORIZED.into()),
            ("ConfirmForgotPassword, wrong code", MISMATCH.into()),
            ("status after a wrong code", "RESET_REQUIRED".into()),
            ("ConfirmForgotPassword, the sent code", OK.into()),
            ("status after the reset", "CONFIRMED".into()),
            (
                "InitiateAuth, old password after the reset",
                NOT_AUTHORIZED.into()
            ),
            (
                "refresh, earlier refresh token after the reset",
                NOT_AUTHORIZED.into()
            ),
        ]
    );

    // The new password signs in, and its tokens work; the code was spent.
    let after = sign_in(gw, &client, "rosa", NEW_PASSWORD).await;
    assert_eq!(
        self_attributes(gw, &after.access_token).await["email"],
        "rosa@example.com"
    );
    let r = auth.confirm_forgot_password(confirm(&sent.code)).await;
    let replay = outcome(&r);
    assert!(
        replay == "ExpiredCodeException" || replay == MISMATCH,
        "the reset code a second time: {}",
        outcome_msg(&r)
    );
    env.shutdown().await;
}

/// AdminResetUserPassword needs the admin secret, names an existing user, and needs a
/// verified contact to send the code to; each refusal leaves the user as it was (status,
/// password, sessions) and sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reset_user_password_refusals_change_nothing() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &client, "ruth", "ruth@example.com", PASSWORD).await;
    // Confirmed by an admin with an e-mail nobody verified: no reset code can go anywhere.
    admin_user(
        gw,
        &pool,
        "nell",
        &[("email", "nell@example.com")],
        PASSWORD,
    )
    .await;
    let ruth = sign_in(gw, &client, "ruth", PASSWORD).await;
    let mut adm = admin_client(gw).await;

    let r = adm
        .admin_reset_user_password(bare(user_ref(&pool, "ruth")))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "no credentials");
    let r = adm
        .admin_reset_user_password(wrong_secret(user_ref(&pool, "ruth")))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "wrong admin secret");

    let mut observed = Vec::new();
    let r = adm
        .admin_reset_user_password(admin(user_ref(&pool, "nobody")))
        .await;
    observed.push(("unknown user", outcome(&r)));
    let r = adm
        .admin_reset_user_password(admin(user_ref("local_NoSuchPool00", "ruth")))
        .await;
    observed.push(("unknown pool", outcome(&r)));
    let r = adm
        .admin_reset_user_password(admin(user_ref(&pool, "nell")))
        .await;
    observed.push(("user without a verified contact", outcome(&r)));
    assert_eq!(
        observed,
        vec![
            ("unknown user", "UserNotFoundException".to_string()),
            ("unknown pool", NOT_FOUND.into()),
            ("user without a verified contact", INVALID.into()),
        ]
    );

    // Nothing changed for either user: status, password, session, outbox.
    for user in ["ruth", "nell"] {
        assert_eq!(status_of(gw, &pool, user).await, "CONFIRMED", "{user}");
        sign_in(gw, &client, user, PASSWORD).await;
    }
    assert_eq!(outcome(&get_user(gw, &ruth.access_token).await), OK);
    let resets: Vec<_> = outbox(gw, &pool)
        .await
        .into_iter()
        .filter(|m| m.purpose == "reset")
        .collect();
    assert!(resets.is_empty(), "reset codes sent: {resets:?}");
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// AdminDeleteUserAttributes
// ---------------------------------------------------------------------------------------

/// A pool where `email` is required, `custom:tenant` is immutable and `custom:team`,
/// `custom:dept` are mutable; and a public client: (pool id, client id).
async fn schema_pool(gw: &GatewayHandle) -> (String, String) {
    let attr = |name: &str, mutable: bool, required: bool| pb::SchemaAttributeType {
        name: name.into(),
        attribute_data_type: "String".into(),
        mutable,
        required,
        ..Default::default()
    };
    pool_with_client(
        gw,
        pb::CreateUserPoolRequest {
            pool_name: "schema".into(),
            schema: vec![
                attr("email", true, true),
                attr("custom:tenant", false, false),
                attr("custom:team", true, false),
                attr("custom:dept", true, false),
            ],
            ..Default::default()
        },
    )
    .await
}

/// A mutable attribute is deleted (gone from AdminGetUser and GetUser, the others stay);
/// required, immutable and `sub` are refused with InvalidParameterException — also inside a
/// list with a deletable one — and change nothing; the call needs the admin secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_delete_user_attributes_deletes_mutable_ones_only() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = schema_pool(gw).await;
    verified_admin_user(
        gw,
        &pool,
        "tina",
        &[
            ("name", "Tina"),
            ("custom:tenant", "acme"),
            ("custom:team", "blue"),
            ("custom:dept", "ops"),
        ],
        PASSWORD,
    )
    .await;
    let at = sign_in(gw, &client, "tina", PASSWORD).await.access_token;
    let original = admin_view(gw, &pool, "tina").await.2;
    assert_eq!(
        original.get("custom:team").map(String::as_str),
        Some("blue")
    );
    let mut adm = admin_client(gw).await;
    let delete = |names: &[&str]| pb::AdminDeleteUserAttributesRequest {
        user_pool_id: pool.clone(),
        username: "tina".into(),
        user_attribute_names: names.iter().map(|n| n.to_string()).collect(),
    };

    let r = adm
        .admin_delete_user_attributes(bare(delete(&["custom:team"])))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "no credentials");
    let r = adm
        .admin_delete_user_attributes(wrong_secret(delete(&["custom:team"])))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "wrong admin secret");

    let mut observed = Vec::new();
    for names in [
        &["email"][..],
        &["custom:tenant"],
        &["sub"],
        &["custom:dept", "custom:tenant"],
        &["custom:dept", "email"],
    ] {
        let r = adm.admin_delete_user_attributes(admin(delete(names))).await;
        observed.push((names.join(","), outcome(&r)));
    }
    let r = adm
        .admin_delete_user_attributes(admin(pb::AdminDeleteUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "nobody".into(),
            user_attribute_names: vec!["custom:team".into()],
        }))
        .await;
    observed.push(("unknown user".into(), outcome(&r)));
    assert_eq!(
        observed,
        vec![
            ("email".to_string(), INVALID.to_string()),
            ("custom:tenant".into(), INVALID.into()),
            ("sub".into(), INVALID.into()),
            ("custom:dept,custom:tenant".into(), INVALID.into()),
            ("custom:dept,email".into(), INVALID.into()),
            ("unknown user".into(), "UserNotFoundException".into()),
        ]
    );
    assert_eq!(
        admin_view(gw, &pool, "tina").await.2,
        original,
        "refused deletes changed the user"
    );

    adm.admin_delete_user_attributes(admin(delete(&["custom:team", "name"])))
        .await
        .unwrap_or_else(|e| panic!("delete custom:team: {}", outcome_msg(&Err::<(), _>(e))));
    let mut want = original.clone();
    want.remove("custom:team");
    want.remove("name");
    assert_eq!(admin_view(gw, &pool, "tina").await.2, want, "AdminGetUser");
    let mine = self_attributes(gw, &at).await;
    assert_eq!(mine.get("custom:team"), None, "GetUser: {mine:?}");
    assert_eq!(mine.get("name"), None, "GetUser: {mine:?}");
    assert_eq!(
        (
            mine["email"].as_str(),
            mine["custom:tenant"].as_str(),
            mine["custom:dept"].as_str()
        ),
        ("tina@example.com", "acme", "ops")
    );
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// AdminRespondToAuthChallenge
// ---------------------------------------------------------------------------------------

/// AdminCreateUser (nothing sent) with `TEMPORARY`, then AdminInitiateAuth: the challenge.
async fn new_password_challenge(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    username: &str,
) -> pb::AuthResponse {
    let mut adm = admin_client(gw).await;
    adm.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.into(),
        username: username.into(),
        user_attributes: vec![attr("email", &format!("{username}@example.com"))],
        temporary_password: TEMPORARY.into(),
        message_action: "SUPPRESS".into(),
    }))
    .await
    .unwrap_or_else(|e| panic!("AdminCreateUser: {}", outcome_msg(&Err::<(), _>(e))));
    admin_sign_in(gw, pool, client, username, TEMPORARY)
        .await
        .unwrap_or_else(|e| panic!("AdminInitiateAuth: {}", outcome_msg(&Err::<(), _>(e))))
}

async fn admin_sign_in(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    username: &str,
    password: &str,
) -> Result<pb::AuthResponse, Status> {
    admin_client(gw)
        .await
        .admin_initiate_auth(admin(pb::AdminInitiateAuthRequest {
            user_pool_id: pool.into(),
            client_id: client.into(),
            auth_flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            auth_parameters: params(&[("USERNAME", username), ("PASSWORD", password)]),
            client_metadata: Default::default(),
        }))
        .await
        .map(|r| r.into_inner())
}

fn answer(
    pool: &str,
    client: &str,
    session: &str,
    username: &str,
    new_password: &str,
) -> pb::AdminRespondToAuthChallengeRequest {
    pb::AdminRespondToAuthChallengeRequest {
        user_pool_id: pool.into(),
        client_id: client.into(),
        challenge_name: "NEW_PASSWORD_REQUIRED".into(),
        session: session.into(),
        challenge_responses: params(&[("USERNAME", username), ("NEW_PASSWORD", new_password)]),
        client_metadata: Default::default(),
    }
}

/// NEW_PASSWORD_REQUIRED answered through the admin API: a forged, tampered, foreign-client
/// or malformed answer is refused and changes nothing; the right one sets the password and
/// returns tokens that verify with the pool's JWKS; the session then cannot be replayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_respond_to_auth_challenge_sets_the_password_once() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    let sibling = public_client(gw, &pool, false).await;
    let (other_pool, _) = pool_and_client(gw, false).await;
    let challenge = new_password_challenge(gw, &pool, &client, "nina").await;
    assert_eq!(challenge.challenge_name, "NEW_PASSWORD_REQUIRED");
    assert!(challenge.authentication_result.is_none());
    assert_eq!(challenge.challenge_parameters["USER_ID_FOR_SRP"], "nina");
    let session = challenge.session.clone();
    assert!(!session.is_empty());
    let mut adm = admin_client(gw).await;

    let r = adm
        .admin_respond_to_auth_challenge(bare(answer(
            &pool,
            &client,
            &session,
            "nina",
            NEW_PASSWORD,
        )))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "no credentials");
    let r = adm
        .admin_respond_to_auth_challenge(wrong_secret(answer(
            &pool,
            &client,
            &session,
            "nina",
            NEW_PASSWORD,
        )))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "wrong admin secret");

    let mut observed = Vec::new();
    let attempts = [
        (
            "tampered session",
            answer(&pool, &client, &tamper(&session), "nina", NEW_PASSWORD),
        ),
        (
            "not a session",
            answer(&pool, &client, "not-a-session", "nina", NEW_PASSWORD),
        ),
        (
            "empty session",
            answer(&pool, &client, "", "nina", NEW_PASSWORD),
        ),
        (
            "another client of the pool",
            answer(&pool, &sibling, &session, "nina", NEW_PASSWORD),
        ),
        (
            "the client named in another pool",
            answer(&other_pool, &client, &session, "nina", NEW_PASSWORD),
        ),
        (
            "too weak a password",
            answer(&pool, &client, &session, "nina", "short"),
        ),
        ("unsupported challenge", {
            let mut a = answer(&pool, &client, &session, "nina", NEW_PASSWORD);
            a.challenge_name = "SMS_OTP".into();
            a
        }),
        ("no NEW_PASSWORD", {
            let mut a = answer(&pool, &client, &session, "nina", NEW_PASSWORD);
            a.challenge_responses.remove("NEW_PASSWORD");
            a
        }),
    ];
    for (what, request) in attempts {
        let r = adm.admin_respond_to_auth_challenge(admin(request)).await;
        observed.push((what, outcome(&r)));
    }
    assert_eq!(
        observed,
        vec![
            ("tampered session", NOT_AUTHORIZED.to_string()),
            ("not a session", NOT_AUTHORIZED.into()),
            ("empty session", NOT_AUTHORIZED.into()),
            ("another client of the pool", NOT_AUTHORIZED.into()),
            ("the client named in another pool", NOT_FOUND.into()),
            ("too weak a password", "InvalidPasswordException".into()),
            ("unsupported challenge", INVALID.into()),
            ("no NEW_PASSWORD", INVALID.into()),
        ]
    );
    assert_eq!(status_of(gw, &pool, "nina").await, "FORCE_CHANGE_PASSWORD");

    let tokens = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &session,
            "nina",
            NEW_PASSWORD,
        )))
        .await
        .unwrap_or_else(|e| panic!("the right answer: {}", outcome_msg(&Err::<(), _>(e))))
        .into_inner()
        .authentication_result
        .expect("tokens, not another challenge");
    let (status, _, attrs) = admin_view(gw, &pool, "nina").await;
    assert_eq!(status, "CONFIRMED");
    let keys = jwks(gw, &pool).await;
    let id = signet_verify::verify(
        &tokens.id_token,
        &keys,
        &expected(&pool, &client, TokenUse::Id),
    )
    .expect("the ID token verifies with the pool's JWKS");
    let access = signet_verify::verify(
        &tokens.access_token,
        &keys,
        &expected(&pool, &client, TokenUse::Access),
    )
    .expect("the access token verifies with the pool's JWKS");
    assert_eq!(
        (
            id["cognito:username"].as_str(),
            id["sub"].as_str(),
            id["email"].as_str(),
            access["username"].as_str(),
            access["client_id"].as_str(),
        ),
        (
            Some("nina"),
            Some(attrs["sub"].as_str()),
            Some("nina@example.com"),
            Some("nina"),
            Some(client.as_str()),
        )
    );
    // Another pool's keys do not verify them (their issuer is this pool's).
    assert!(signet_verify::verify(
        &tokens.id_token,
        &jwks(gw, &other_pool).await,
        &expected(&other_pool, &client, TokenUse::Id),
    )
    .is_err());
    assert_eq!(outcome(&get_user(gw, &tokens.access_token).await), OK);
    let r = auth_client(gw)
        .await
        .initiate_auth(refresh_auth(&client, &tokens.refresh_token))
        .await;
    assert_eq!(outcome_msg(&r), OK, "refresh with the challenge's token");

    // Replayed: refused, and the password stays the one set first.
    let r = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &session,
            "nina",
            "An0ther-passw0rd!",
        )))
        .await;
    assert_eq!(outcome(&r), NOT_AUTHORIZED, "replayed session");
    sign_in(gw, &client, "nina", NEW_PASSWORD).await;
    for old in [TEMPORARY, "An0ther-passw0rd!"] {
        let r = admin_sign_in(gw, &pool, &client, "nina", old).await;
        assert_eq!(outcome(&r), NOT_AUTHORIZED, "password {old}");
    }
    env.shutdown().await;
}

/// A challenge session stands for one user at one moment: it is refused once the user is
/// disabled (and stays dead after re-enabling), once an admin set another temporary
/// password, and for a new user created under the same name. Nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_respond_to_auth_challenge_refuses_stale_sessions() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    let mut adm = admin_client(gw).await;
    let mut observed = Vec::new();

    // Disabled after the challenge was issued.
    let dora = new_password_challenge(gw, &pool, &client, "dora").await;
    adm.admin_disable_user(admin(user_ref(&pool, "dora")))
        .await
        .expect("disable");
    let r = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &dora.session,
            "dora",
            NEW_PASSWORD,
        )))
        .await;
    observed.push(("disabled user", outcome(&r)));
    observed.push(("disabled user: status", status_of(gw, &pool, "dora").await));
    let r = admin_sign_in(gw, &pool, &client, "dora", TEMPORARY).await;
    observed.push(("disabled user: AdminInitiateAuth", outcome(&r)));
    adm.admin_enable_user(admin(user_ref(&pool, "dora")))
        .await
        .expect("enable");
    let r = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &dora.session,
            "dora",
            NEW_PASSWORD,
        )))
        .await;
    observed.push(("re-enabled user, session from before", outcome(&r)));

    // Another temporary password set by an admin after the challenge was issued.
    let stan = new_password_challenge(gw, &pool, &client, "stan").await;
    adm.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool.clone(),
        username: "stan".into(),
        password: "Sec0nd-temporary!".into(),
        permanent: false,
    }))
    .await
    .expect("a second temporary password");
    let r = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &stan.session,
            "stan",
            NEW_PASSWORD,
        )))
        .await;
    observed.push(("session from the first temporary password", outcome(&r)));

    // The user was deleted and another one made under the same name.
    let gone = new_password_challenge(gw, &pool, &client, "gwen").await;
    adm.admin_delete_user(admin(user_ref(&pool, "gwen")))
        .await
        .expect("delete");
    let fresh = new_password_challenge(gw, &pool, &client, "gwen").await;
    let r = adm
        .admin_respond_to_auth_challenge(admin(answer(
            &pool,
            &client,
            &gone.session,
            "gwen",
            NEW_PASSWORD,
        )))
        .await;
    observed.push(("session of a deleted namesake", outcome(&r)));
    observed.push(("new namesake: status", status_of(gw, &pool, "gwen").await));

    assert_eq!(
        observed,
        vec![
            ("disabled user", NOT_AUTHORIZED.to_string()),
            ("disabled user: status", "FORCE_CHANGE_PASSWORD".into()),
            ("disabled user: AdminInitiateAuth", NOT_AUTHORIZED.into()),
            (
                "re-enabled user, session from before",
                NOT_AUTHORIZED.into()
            ),
            (
                "session from the first temporary password",
                NOT_AUTHORIZED.into()
            ),
            ("session of a deleted namesake", NOT_AUTHORIZED.into()),
            ("new namesake: status", "FORCE_CHANGE_PASSWORD".into()),
        ]
    );

    // Fresh sessions still work: the refusals were about the sessions, not the users.
    let dora = admin_sign_in(gw, &pool, &client, "dora", TEMPORARY)
        .await
        .expect("dora's new challenge");
    let stan = admin_sign_in(gw, &pool, &client, "stan", "Sec0nd-temporary!")
        .await
        .expect("stan's new challenge");
    for (who, session) in [
        ("dora", dora.session),
        ("stan", stan.session),
        ("gwen", fresh.session),
    ] {
        let r = adm
            .admin_respond_to_auth_challenge(admin(answer(
                &pool,
                &client,
                &session,
                who,
                NEW_PASSWORD,
            )))
            .await;
        assert_eq!(outcome_msg(&r), OK, "{who}'s fresh session");
        assert_eq!(status_of(gw, &pool, who).await, "CONFIRMED", "{who}");
    }
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// DeleteUserPoolClient
// ---------------------------------------------------------------------------------------

fn client_ref(pool: &str, client: &str) -> pb::ClientRef {
    pb::ClientRef {
        user_pool_id: pool.into(),
        client_id: client.into(),
    }
}

/// A deleted client is gone everywhere: no sign-in, no refresh with a token it issued, its
/// access tokens refused, DescribeUserPoolClient answers ResourceNotFoundException. Deleting
/// it under another pool's id, or without the admin secret, is refused and leaves it
/// working; a sibling client of the same pool is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_pool_client_ends_the_client_only() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, doomed) = pool_and_client(gw, false).await;
    let sibling = public_client(gw, &pool, false).await;
    let (other_pool, _) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &doomed, "cleo", "cleo@example.com", PASSWORD).await;
    let issued = sign_in(gw, &doomed, "cleo", PASSWORD).await;
    let kept = sign_in(gw, &sibling, "cleo", PASSWORD).await;
    let mut adm = admin_client(gw).await;
    let mut auth = auth_client(gw).await;

    let r = adm
        .delete_user_pool_client(bare(client_ref(&pool, &doomed)))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "no credentials");
    let r = adm
        .delete_user_pool_client(wrong_secret(client_ref(&pool, &doomed)))
        .await;
    assert_eq!(refused_admin(r), unauthenticated(), "wrong admin secret");
    let r = adm
        .delete_user_pool_client(admin(client_ref(&other_pool, &doomed)))
        .await;
    assert_eq!(outcome(&r), NOT_FOUND, "deleted under another pool's id");
    // Still there and working.
    let described = adm
        .describe_user_pool_client(admin(client_ref(&pool, &doomed)))
        .await
        .expect("still described")
        .into_inner()
        .user_pool_client
        .expect("client");
    assert_eq!(described.user_pool_id, pool);
    sign_in(gw, &doomed, "cleo", PASSWORD).await;

    adm.delete_user_pool_client(admin(client_ref(&pool, &doomed)))
        .await
        .unwrap_or_else(|e| panic!("DeleteUserPoolClient: {}", outcome_msg(&Err::<(), _>(e))));

    // The gateway's client cache follows the log: allow it a moment, then the answer must
    // be the right refusal.
    let r = until_refused(PROPAGATION, || {
        let mut auth = auth.clone();
        let req = password_auth(&doomed, "cleo", PASSWORD);
        async move { auth.initiate_auth(req).await }
    })
    .await;
    let mut observed = vec![("InitiateAuth", outcome(&r))];
    let r = auth
        .initiate_auth(refresh_auth(&doomed, &issued.refresh_token))
        .await;
    observed.push(("refresh with a token it issued", outcome(&r)));
    let r = auth
        .initiate_auth(refresh_auth(&sibling, &issued.refresh_token))
        .await;
    observed.push(("its refresh token presented by the sibling", outcome(&r)));
    let r = get_user(gw, &issued.access_token).await;
    observed.push(("GetUser with an access token it issued", outcome(&r)));
    let r = admin_sign_in(gw, &pool, &doomed, "cleo", PASSWORD).await;
    observed.push(("AdminInitiateAuth", outcome(&r)));
    let r = adm
        .describe_user_pool_client(admin(client_ref(&pool, &doomed)))
        .await;
    observed.push(("DescribeUserPoolClient", outcome(&r)));
    let r = adm
        .delete_user_pool_client(admin(client_ref(&pool, &doomed)))
        .await;
    observed.push(("DeleteUserPoolClient again", outcome(&r)));
    assert_eq!(
        observed,
        vec![
            ("InitiateAuth", NOT_FOUND.to_string()),
            ("refresh with a token it issued", NOT_FOUND.into()),
            (
                "its refresh token presented by the sibling",
                NOT_AUTHORIZED.into()
            ),
            (
                "GetUser with an access token it issued",
                NOT_AUTHORIZED.into()
            ),
            ("AdminInitiateAuth", NOT_FOUND.into()),
            ("DescribeUserPoolClient", NOT_FOUND.into()),
            ("DeleteUserPoolClient again", NOT_FOUND.into()),
        ]
    );
    let listed: Vec<String> = adm
        .list_user_pool_clients(admin(pb::ListInPoolRequest {
            user_pool_id: pool.clone(),
            ..Default::default()
        }))
        .await
        .expect("ListUserPoolClients")
        .into_inner()
        .user_pool_clients
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(listed, vec![sibling.clone()]);

    // The sibling client and its session are untouched.
    assert_eq!(outcome(&get_user(gw, &kept.access_token).await), OK);
    let r = auth
        .initiate_auth(refresh_auth(&sibling, &kept.refresh_token))
        .await;
    assert_eq!(outcome_msg(&r), OK, "the sibling's refresh");
    sign_in(gw, &sibling, "cleo", PASSWORD).await;
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// GetUserAttributeVerificationCode
// ---------------------------------------------------------------------------------------

fn code_request(access_token: &str, attribute: &str) -> pb::AttributeVerificationRequest {
    pb::AttributeVerificationRequest {
        access_token: access_token.into(),
        attribute_name: attribute.into(),
    }
}

/// With a valid access token a code goes to the current e-mail (EMAIL) or phone number
/// (SMS), with a masked destination; an unverifiable attribute is InvalidParameterException;
/// forged, wrong-use, signed-out and revoked tokens are refused, and no refused call issues a
/// code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_user_attribute_verification_code_sends_to_the_current_value() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = manual_verify_pool(gw).await;
    admin_user(
        gw,
        &pool,
        "gus",
        &[
            ("email", "gus@example.com"),
            ("phone_number", "+15555550123"),
        ],
        PASSWORD,
    )
    .await;
    admin_user(gw, &pool, "hal", &[("email", "hal@example.com")], PASSWORD).await;
    let gus = sign_in(gw, &client, "gus", PASSWORD).await;
    let mut auth = auth_client(gw).await;

    let mut sent = Vec::new();
    for (attribute, destination) in [
        ("email", "gus@example.com"),
        ("phone_number", "+15555550123"),
    ] {
        let d = auth
            .get_user_attribute_verification_code(code_request(&gus.access_token, attribute))
            .await
            .unwrap_or_else(|e| panic!("{attribute}: {}", outcome_msg(&Err::<(), _>(e))))
            .into_inner()
            .code_delivery_details
            .expect("delivery details");
        assert!(
            d.destination.contains('*') && !d.destination.contains(&destination[3..]),
            "masked destination: {d:?}"
        );
        let m = outbox_message(gw, &pool, "gus", &format!("verify:{attribute}"))
            .await
            .unwrap_or_else(|| panic!("no verify:{attribute} code for gus"));
        assert!(is_code(&m.code), "{m:?}");
        sent.push((d.attribute_name, d.delivery_medium, m.destination.clone()));
    }
    assert_eq!(
        sent,
        vec![
            (
                "email".to_string(),
                "EMAIL".to_string(),
                "gus@example.com".to_string()
            ),
            ("phone_number".into(), "SMS".into(), "+15555550123".into()),
        ]
    );

    // A second sign-in whose refresh token gets revoked, then GlobalSignOut of everything.
    let revoked = sign_in(gw, &client, "gus", PASSWORD).await;
    auth.revoke_token(pb::RevokeTokenRequest {
        token: revoked.refresh_token.clone(),
        client_id: client.clone(),
        ..Default::default()
    })
    .await
    .expect("RevokeToken");
    let hal = sign_in(gw, &client, "hal", PASSWORD).await;
    let before = outbox(gw, &pool).await;

    let mut observed = Vec::new();
    for attribute in ["name", "email_verified", "sub", "custom:email", ""] {
        let r = auth
            .get_user_attribute_verification_code(code_request(&gus.access_token, attribute))
            .await;
        observed.push((format!("attribute {attribute:?}"), outcome(&r)));
    }
    let r = auth
        .get_user_attribute_verification_code(code_request(&hal.access_token, "phone_number"))
        .await;
    observed.push(("phone_number of a user without one".into(), outcome(&r)));
    for (what, token) in [
        ("not a token", "not-a-token".to_string()),
        ("tampered access token", tamper(&gus.access_token)),
        ("ID token", gus.id_token.clone()),
        (
            "access token of a revoked refresh token",
            revoked.access_token.clone(),
        ),
    ] {
        let r = auth
            .get_user_attribute_verification_code(code_request(&token, "email"))
            .await;
        observed.push((what.into(), outcome(&r)));
    }
    auth.global_sign_out(pb::AccessTokenRequest {
        access_token: gus.access_token.clone(),
    })
    .await
    .expect("GlobalSignOut");
    let r = auth
        .get_user_attribute_verification_code(code_request(&gus.access_token, "email"))
        .await;
    observed.push(("access token after GlobalSignOut".into(), outcome(&r)));
    assert_eq!(
        observed,
        vec![
            ("attribute \"name\"".to_string(), INVALID.to_string()),
            ("attribute \"email_verified\"".into(), INVALID.into()),
            ("attribute \"sub\"".into(), INVALID.into()),
            ("attribute \"custom:email\"".into(), INVALID.into()),
            ("attribute \"\"".into(), INVALID.into()),
            ("phone_number of a user without one".into(), INVALID.into()),
            ("not a token".into(), NOT_AUTHORIZED.into()),
            ("tampered access token".into(), NOT_AUTHORIZED.into()),
            ("ID token".into(), NOT_AUTHORIZED.into()),
            (
                "access token of a revoked refresh token".into(),
                NOT_AUTHORIZED.into()
            ),
            (
                "access token after GlobalSignOut".into(),
                NOT_AUTHORIZED.into()
            ),
        ]
    );
    assert_eq!(
        outbox(gw, &pool).await,
        before,
        "a refused call issued a code"
    );
    env.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// VerifyUserAttribute
// ---------------------------------------------------------------------------------------

fn verify_request(
    access_token: &str,
    attribute: &str,
    code: &str,
) -> pb::VerifyUserAttributeRequest {
    pb::VerifyUserAttributeRequest {
        access_token: access_token.into(),
        attribute_name: attribute.into(),
        code: code.into(),
    }
}

/// Ask for a code for `attribute` until it differs from `other` (two random six-digit codes
/// are equal once in a million; an attack that "works" then proves nothing). Returns it.
async fn code_unlike(
    gw: &GatewayHandle,
    pool: &str,
    username: &str,
    access_token: &str,
    attribute: &str,
    other: &str,
) -> String {
    let mut auth = auth_client(gw).await;
    for _ in 0..3 {
        auth.get_user_attribute_verification_code(code_request(access_token, attribute))
            .await
            .unwrap_or_else(|e| panic!("code for {attribute}: {}", outcome_msg(&Err::<(), _>(e))));
        let code = outbox_code(gw, pool, username, &format!("verify:{attribute}")).await;
        if code != other {
            return code;
        }
    }
    panic!("three codes in a row equal to {other}");
}

/// (email, email_verified, phone_number_verified) as GetUser shows them; a flag never set
/// reads "false".
async fn verified_state(gw: &GatewayHandle, access_token: &str) -> (String, String, String) {
    let a = self_attributes(gw, access_token).await;
    let flag = |n: &str| a.get(n).cloned().unwrap_or_else(|| "false".into());
    (
        a.get("email").cloned().unwrap_or_default(),
        flag("email_verified"),
        flag("phone_number_verified"),
    )
}

fn state(email: &str, email_verified: bool, phone_verified: bool) -> (String, String, String) {
    (
        email.to_string(),
        email_verified.to_string(),
        phone_verified.to_string(),
    )
}

/// The right code verifies the attribute it was sent for (email_verified=true in GetUser),
/// once; a wrong code is CodeMismatchException; another user's code, or a code for another
/// attribute, does not verify; and a code sent to an earlier e-mail is void once
/// UpdateUserAttributes changed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_user_attribute_accepts_only_the_code_bound_to_user_attribute_and_value() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = manual_verify_pool(gw).await;
    admin_user(
        gw,
        &pool,
        "vera",
        &[("email", "vera@example.com")],
        PASSWORD,
    )
    .await;
    admin_user(
        gw,
        &pool,
        "walt",
        &[
            ("email", "walt@example.com"),
            ("phone_number", "+15555550199"),
        ],
        PASSWORD,
    )
    .await;
    let vera = sign_in(gw, &client, "vera", PASSWORD).await.access_token;
    let walt = sign_in(gw, &client, "walt", PASSWORD).await.access_token;
    let mut auth = auth_client(gw).await;
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@example.com", false, false)
    );

    let walt_email = code_unlike(gw, &pool, "walt", &walt, "email", "").await;
    let walt_phone = code_unlike(gw, &pool, "walt", &walt, "phone_number", &walt_email).await;
    let vera_code = code_unlike(gw, &pool, "vera", &vera, "email", &walt_email).await;

    let mut observed = Vec::new();
    let verifier = auth.clone();
    let verify = |token: &str, attribute: &str, code: &str| {
        let req = verify_request(token, attribute, code);
        let mut auth = verifier.clone();
        async move { outcome(&auth.verify_user_attribute(req).await) }
    };
    observed.push((
        "walt presents vera's code",
        verify(&walt, "email", &vera_code).await,
    ));
    observed.push((
        "walt presents his phone code for email",
        verify(&walt, "email", &walt_phone).await,
    ));
    observed.push((
        "vera, wrong code",
        verify(&vera, "email", &other_code(&vera_code, 1)).await,
    ));
    observed.push((
        "vera, forged access token",
        verify(&tamper(&vera), "email", &vera_code).await,
    ));
    observed.push((
        "vera, unverifiable attribute",
        verify(&vera, "name", &vera_code).await,
    ));
    assert_eq!(
        observed,
        vec![
            ("walt presents vera's code", MISMATCH.to_string()),
            ("walt presents his phone code for email", MISMATCH.into()),
            ("vera, wrong code", MISMATCH.into()),
            ("vera, forged access token", NOT_AUTHORIZED.into()),
            ("vera, unverifiable attribute", INVALID.into()),
        ]
    );
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@example.com", false, false)
    );
    assert_eq!(
        verified_state(gw, &walt).await,
        state("walt@example.com", false, false)
    );

    // The right codes, each for its own user and attribute: verified, and visible.
    assert_eq!(verify(&vera, "email", &vera_code).await, OK);
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@example.com", true, false)
    );
    assert_eq!(
        admin_view(gw, &pool, "vera").await.2["email_verified"],
        "true"
    );
    let replay = verify(&vera, "email", &vera_code).await;
    assert!(
        replay == "ExpiredCodeException" || replay == MISMATCH,
        "vera's code a second time: {replay}"
    );
    assert_eq!(verify(&walt, "email", &walt_email).await, OK);
    assert_eq!(verify(&walt, "phone_number", &walt_phone).await, OK);
    assert_eq!(
        verified_state(gw, &walt).await,
        state("walt@example.com", true, true)
    );

    // Value binding: a code sent to the old address is void once the address changed.
    let old_code = code_unlike(gw, &pool, "vera", &vera, "email", "").await;
    assert_eq!(
        outbox_message(gw, &pool, "vera", "verify:email")
            .await
            .expect("sent")
            .destination,
        "vera@example.com"
    );
    auth.update_user_attributes(pb::UpdateUserAttributesRequest {
        access_token: vera.clone(),
        user_attributes: vec![attr("email", "vera@elsewhere.example")],
    })
    .await
    .expect("UpdateUserAttributes");
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@elsewhere.example", false, false)
    );
    let stale = verify(&vera, "email", &old_code).await;
    assert!(
        stale == "ExpiredCodeException" || stale == MISMATCH,
        "a code sent to the earlier address: {stale}"
    );
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@elsewhere.example", false, false)
    );
    // A code sent to the new address verifies it.
    let new_code = code_unlike(gw, &pool, "vera", &vera, "email", &old_code).await;
    assert_eq!(
        outbox_message(gw, &pool, "vera", "verify:email")
            .await
            .expect("sent")
            .destination,
        "vera@elsewhere.example"
    );
    assert_eq!(verify(&vera, "email", &new_code).await, OK);
    assert_eq!(
        verified_state(gw, &vera).await,
        state("vera@elsewhere.example", true, false)
    );

    // A signed-out access token verifies nothing.
    auth.global_sign_out(pb::AccessTokenRequest {
        access_token: walt.clone(),
    })
    .await
    .expect("GlobalSignOut");
    assert_eq!(verify(&walt, "email", &walt_email).await, NOT_AUTHORIZED);
    env.shutdown().await;
}
