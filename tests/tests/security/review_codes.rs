//! Review findings on one-time codes: a code is bound to the value it was sent to, only
//! verifiable attributes take codes, failed redemptions are counted per user and purpose
//! across reissued codes, issuance is rate-limited, and ForgotPassword does not tell a user
//! without a verified contact from an unknown one.

use crate::review_support::*;
use crate::support::pools::{confirmed_user, outbox_code, pool_and_client, sign_in};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::auth_client;

const PASSWORD: &str = "Corr3ct-Horse!";
const NEW_PASSWORD: &str = "N3w-Battery-Staple!";
const INVALID: &str = "InvalidParameterException";
const LIMIT: &str = "LimitExceededException";

fn update_email(access_token: &str, email: &str) -> pb::UpdateUserAttributesRequest {
    pb::UpdateUserAttributesRequest {
        access_token: access_token.into(),
        user_attributes: vec![attr("email", email)],
    }
}

fn verify_email(access_token: &str, code: &str) -> pb::VerifyUserAttributeRequest {
    pb::VerifyUserAttributeRequest {
        access_token: access_token.into(),
        attribute_name: "email".into(),
        code: code.into(),
    }
}

/// GetUser's view of the e-mail: (email, email_verified).
async fn email_state(gw: &GatewayHandle, access_token: &str) -> (String, String) {
    let me = get_user(gw, access_token)
        .await
        .unwrap_or_else(|e| panic!("GetUser: {e:?}"));
    let get = |n: &str| {
        me.user_attributes
            .iter()
            .find(|a| a.name == n)
            .map(|a| a.value.clone())
            .unwrap_or_default()
    };
    (get("email"), get("email_verified"))
}

const ATTACKER: &str = "mallory@evil.example";
const VICTIM: &str = "victim@corp.example";

/// The pool auto-verifies e-mail: changing it to the attacker's address sends a code
/// there; changing it then to the victim's address must not let that code verify it.
/// (Held before the review too, because the victim's code replaced the attacker's; the
/// variant below, where no new code replaces it, is the one the review broke.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_sent_to_an_earlier_email_verifies_a_later_one_auto_verified() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &client, "vic", "vic@example.com", PASSWORD).await;
    let at = sign_in(gw, &client, "vic", PASSWORD).await.access_token;
    let mut auth = auth_client(gw).await;

    // The code sent to B must differ from the one sent to C, or the "attack" would just be
    // the victim's own code (one chance in a million; then do it again).
    let mut attacker_code = None;
    for _ in 0..3 {
        let sent = auth
            .update_user_attributes(update_email(&at, ATTACKER))
            .await
            .expect("email := attacker's")
            .into_inner()
            .code_delivery_details_list;
        assert_eq!(sent.len(), 1, "a code goes to the new address: {sent:?}");
        let to_b = verification_code_sent_to(gw, &pool, "vic", ATTACKER).await;
        auth.update_user_attributes(update_email(&at, VICTIM))
            .await
            .expect("email := victim's");
        let to_c = verification_code_sent_to(gw, &pool, "vic", VICTIM).await;
        if to_b != to_c {
            attacker_code = Some(to_b);
            break;
        }
    }
    let attacker_code = attacker_code.expect("three code pairs were all equal");

    let r = auth
        .verify_user_attribute(verify_email(&at, &attacker_code))
        .await;
    let answer = outcome(&r);
    assert!(
        answer == "CodeMismatchException" || answer == "ExpiredCodeException",
        "VerifyUserAttribute with the code sent to {ATTACKER}, email now {VICTIM}: {}",
        outcome_msg(&r)
    );
    assert_eq!(
        email_state(gw, &at).await,
        (VICTIM.to_string(), "false".to_string())
    );
    env.shutdown().await;
}

/// The pool does not auto-verify e-mail: the user asks for a code for the attacker's
/// address, then changes the address to the victim's; the pending code must be void.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_sent_to_an_earlier_email_verifies_a_later_one_requested() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = manual_verify_pool(gw).await;
    verified_admin_user(gw, &pool, "vic", &[], PASSWORD).await;
    let at = sign_in(gw, &client, "vic", PASSWORD).await.access_token;
    let mut auth = auth_client(gw).await;

    auth.update_user_attributes(update_email(&at, ATTACKER))
        .await
        .expect("email := attacker's");
    let sent = auth
        .get_user_attribute_verification_code(pb::AttributeVerificationRequest {
            access_token: at.clone(),
            attribute_name: "email".into(),
        })
        .await
        .expect("a code for the attacker's address")
        .into_inner()
        .code_delivery_details
        .expect("delivery");
    assert_eq!(sent.attribute_name, "email");
    let attacker_code = verification_code_sent_to(gw, &pool, "vic", ATTACKER).await;
    auth.update_user_attributes(update_email(&at, VICTIM))
        .await
        .expect("email := victim's");

    let r = auth
        .verify_user_attribute(verify_email(&at, &attacker_code))
        .await;
    let answer = outcome(&r);
    assert!(
        answer == "CodeMismatchException" || answer == "ExpiredCodeException",
        "VerifyUserAttribute with the code sent to {ATTACKER}, email now {VICTIM}: {}",
        outcome_msg(&r)
    );
    assert_eq!(
        email_state(gw, &at).await,
        (VICTIM.to_string(), "false".to_string())
    );
    env.shutdown().await;
}

/// Only e-mail and phone number take verification codes: asking for or redeeming one for
/// `name` or a custom attribute is a bad parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_codes_for_unverifiable_attributes() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_with_client(
        gw,
        pb::CreateUserPoolRequest {
            pool_name: "codes".into(),
            auto_verified_attributes: vec!["email".into()],
            schema: vec![pb::SchemaAttributeType {
                name: "custom:tenant".into(),
                attribute_data_type: "String".into(),
                mutable: false,
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await;
    verified_admin_user(
        gw,
        &pool,
        "vic",
        &[("name", "Vic"), ("custom:tenant", "acme")],
        PASSWORD,
    )
    .await;
    let at = sign_in(gw, &client, "vic", PASSWORD).await.access_token;
    let mut auth = auth_client(gw).await;
    let mut observed = Vec::new();
    for name in ["name", "custom:tenant"] {
        let r = auth
            .get_user_attribute_verification_code(pb::AttributeVerificationRequest {
                access_token: at.clone(),
                attribute_name: name.into(),
            })
            .await;
        observed.push((
            format!("GetUserAttributeVerificationCode {name}"),
            outcome(&r),
        ));
        let r = auth
            .verify_user_attribute(pb::VerifyUserAttributeRequest {
                access_token: at.clone(),
                attribute_name: name.into(),
                code: "123456".into(),
            })
            .await;
        observed.push((format!("VerifyUserAttribute {name}"), outcome(&r)));
    }
    assert_eq!(
        observed,
        vec![
            (
                "GetUserAttributeVerificationCode name".to_string(),
                INVALID.to_string()
            ),
            ("VerifyUserAttribute name".into(), INVALID.into()),
            (
                "GetUserAttributeVerificationCode custom:tenant".into(),
                INVALID.into()
            ),
            ("VerifyUserAttribute custom:tenant".into(), INVALID.into()),
        ]
    );
    env.shutdown().await;
}

fn forgot(client: &str, username: &str) -> pb::ClientUserRequest {
    pb::ClientUserRequest {
        client_id: client.into(),
        username: username.into(),
        ..Default::default()
    }
}

/// Four wrong guesses on each of several reissued reset codes (never burning one) add up:
/// after ten failed redemptions the right code is refused, the password stays, and no new
/// code is issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_code_guesses_reset_by_reissuing_the_code() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &client, "rita", "rita@example.com", PASSWORD).await;
    let mut auth = auth_client(gw).await;
    let confirm = |code: &str| pb::ConfirmForgotPasswordRequest {
        client_id: client.clone(),
        username: "rita".into(),
        confirmation_code: code.into(),
        password: NEW_PASSWORD.into(),
        ..Default::default()
    };

    let mut failures = 0;
    let mut code = String::new();
    for guesses in [4u32, 4, 2] {
        auth.forgot_password(forgot(&client, "rita"))
            .await
            .unwrap_or_else(|e| panic!("ForgotPassword after {failures} failures: {e:?}"));
        code = outbox_code(gw, &pool, "rita", "reset").await;
        for k in 1..=guesses {
            let r = auth
                .confirm_forgot_password(confirm(&other_code(&code, k)))
                .await;
            failures += 1;
            let answer = outcome(&r);
            // Nine failures are plain mismatches (no code had five); the tenth may already
            // answer that the budget is spent.
            let allowed: &[&str] = if failures < 10 {
                &["CodeMismatchException"]
            } else {
                &["CodeMismatchException", LIMIT]
            };
            assert!(
                allowed.contains(&answer.as_str()),
                "wrong guess {failures}: {}",
                outcome_msg(&r)
            );
        }
    }
    assert_eq!(failures, 10);

    let mut observed = Vec::new();
    let r = auth.confirm_forgot_password(confirm(&code)).await;
    observed.push(("ConfirmForgotPassword, right current code", outcome(&r)));
    let r = auth.forgot_password(forgot(&client, "rita")).await;
    observed.push(("ForgotPassword", outcome(&r)));
    let r = auth
        .initiate_auth(crate::support::pools::password_auth(
            &client, "rita", PASSWORD,
        ))
        .await;
    observed.push(("sign-in with the old password", outcome(&r)));
    let r = auth
        .initiate_auth(crate::support::pools::password_auth(
            &client,
            "rita",
            NEW_PASSWORD,
        ))
        .await;
    observed.push(("sign-in with the new password", outcome(&r)));
    assert_eq!(
        observed,
        vec![
            (
                "ConfirmForgotPassword, right current code",
                LIMIT.to_string()
            ),
            ("ForgotPassword", LIMIT.into()),
            ("sign-in with the old password", "OK".into()),
            (
                "sign-in with the new password",
                "NotAuthorizedException".into()
            ),
        ]
    );
    env.shutdown().await;
}

/// At most ten codes per user and purpose an hour: the eleventh ForgotPassword, and the
/// eleventh ResendConfirmationCode, in a row are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_issuance_is_unlimited() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    confirmed_user(gw, &pool, &client, "sol", "sol@example.com", PASSWORD).await;
    let mut auth = auth_client(gw).await;

    let mut resets = Vec::new();
    for _ in 0..11 {
        resets.push(outcome(&auth.forgot_password(forgot(&client, "sol")).await));
    }
    let mut want = vec!["OK".to_string(); 10];
    want.push(LIMIT.into());

    // An unconfirmed user: SignUp sent one code already, so whether the tenth resend is
    // the tenth or the eleventh code is left open; the first nine pass, the eleventh not.
    auth.sign_up(pb::SignUpRequest {
        client_id: client.clone(),
        username: "una".into(),
        password: PASSWORD.into(),
        user_attributes: vec![attr("email", "una@example.com")],
        ..Default::default()
    })
    .await
    .expect("sign up");
    let mut resends = Vec::new();
    for i in 1..=11 {
        let r = auth.resend_confirmation_code(forgot(&client, "una")).await;
        if i != 10 {
            resends.push((i, outcome(&r)));
        }
    }
    let mut want_resends: Vec<(i32, String)> = (1..=9).map(|i| (i, "OK".to_string())).collect();
    want_resends.push((11, LIMIT.into()));
    assert_eq!((resets, resends), (want, want_resends));
    env.shutdown().await;
}

/// With user existence hidden, ForgotPassword answers a user who has no verified contact
/// exactly as it answers an unknown user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_tells_unverified_users_from_unknown_ones() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    // Confirmed, with an e-mail that was never verified.
    admin_user(
        gw,
        &pool,
        "nova",
        &[("email", "nova@example.com")],
        PASSWORD,
    )
    .await;
    let attrs = admin_attributes(gw, &pool, "nova").await;
    assert_ne!(
        attrs.get("email_verified").map(String::as_str),
        Some("true")
    );
    let mut auth = auth_client(gw).await;
    let known = auth.forgot_password(forgot(&client, "nova")).await;
    let unknown = auth.forgot_password(forgot(&client, "nobody")).await;
    match (&known, &unknown) {
        (Ok(k), Ok(u)) => {
            let k = k
                .get_ref()
                .code_delivery_details
                .clone()
                .expect("delivery (known)");
            let u = u
                .get_ref()
                .code_delivery_details
                .clone()
                .expect("delivery (unknown)");
            assert_eq!(
                (&k.delivery_medium, &k.attribute_name),
                (&u.delivery_medium, &u.attribute_name),
                "known {k:?}, unknown {u:?}"
            );
            assert!(k.destination.contains('*'), "masked: {k:?}");
            assert!(u.destination.contains('*'), "masked: {u:?}");
        }
        (Err(k), Err(u)) => {
            assert_eq!(
                (k.code(), crate::support::pools::exception(k)),
                (u.code(), crate::support::pools::exception(u)),
                "known {k:?}, unknown {u:?}"
            );
        }
        _ => panic!(
            "ForgotPassword: user without a verified contact {}, unknown user {}",
            outcome_msg(&known),
            outcome_msg(&unknown)
        ),
    }
    env.shutdown().await;
}
