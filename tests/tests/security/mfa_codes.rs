//! Second factors by code (EMAIL_OTP, SMS_MFA) and the choice among factors
//! (SELECT_MFA_TYPE), across two gateways, and the attacks on them: a code replayed through
//! the other gateway, guessed until it dies, used for another purpose or by another
//! challenge, a factor turned on for an address nobody verified, and a user disabled between
//! the password and the code. Codes come from the dev outbox, as a user's inbox would.

use crate::support::pools::*;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv};

const PASSWORD: &str = "Code-Mfa-Passw0rd!";

/// MFA `mode` with SMS and email codes offered (and TOTP).
async fn set_pool_mfa(gw: &GatewayHandle, pool: &str, mode: &str) {
    let r = admin_client(gw)
        .await
        .set_user_pool_mfa_config(admin(pb::SetUserPoolMfaConfigRequest {
            user_pool_id: pool.into(),
            mfa_configuration: mode.into(),
            software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
                enabled: true,
            }),
            sms_mfa_configuration: Some(pb::SmsMfaConfigType { enabled: true }),
            email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: true }),
        }))
        .await
        .expect("SetUserPoolMfaConfig")
        .into_inner();
    assert_eq!(r.mfa_configuration, mode);
    assert!(r.sms_mfa_configuration.unwrap().enabled);
    assert!(r.email_mfa_configuration.unwrap().enabled);
}

/// A confirmed user (verified email) with a verified phone number.
async fn user(gw: &GatewayHandle, pool: &str, client: &str, name: &str) {
    confirmed_user(
        gw,
        pool,
        client,
        name,
        &format!("{name}@example.com"),
        PASSWORD,
    )
    .await;
    admin_client(gw)
        .await
        .admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool.into(),
            username: name.into(),
            user_attributes: vec![
                attr("phone_number", "+15550100200"),
                attr("phone_number_verified", "true"),
            ],
        }))
        .await
        .unwrap_or_else(|e| panic!("phone: {}: {}", exception(&e), e.message()));
}

fn attr(name: &str, value: &str) -> pb::AttributeType {
    pb::AttributeType {
        name: name.into(),
        value: value.into(),
    }
}

fn on(preferred: bool) -> Option<pb::MfaSettingsType> {
    Some(pb::MfaSettingsType {
        enabled: true,
        preferred_mfa: preferred,
    })
}

async fn set_factors(
    gw: &GatewayHandle,
    pool: &str,
    name: &str,
    sms: Option<pb::MfaSettingsType>,
    email: Option<pb::MfaSettingsType>,
) -> Result<(), tonic::Status> {
    admin_client(gw)
        .await
        .admin_set_user_mfa_preference(admin(pb::AdminSetUserMfaPreferenceRequest {
            user_pool_id: pool.into(),
            username: name.into(),
            software_token_mfa_settings: None,
            sms_mfa_settings: sms,
            email_mfa_settings: email,
        }))
        .await
        .map(|_| ())
}

async fn initiate(gw: &GatewayHandle, client: &str, name: &str) -> pb::AuthResponse {
    auth_client(gw)
        .await
        .initiate_auth(password_auth(client, name, PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("sign in: {}: {}", exception(&e), e.message()))
        .into_inner()
}

async fn respond(
    gw: &GatewayHandle,
    client: &str,
    challenge: &str,
    session: &str,
    responses: &[(&str, &str)],
) -> Result<pb::AuthResponse, tonic::Status> {
    auth_client(gw)
        .await
        .respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
            client_id: client.into(),
            challenge_name: challenge.into(),
            session: session.into(),
            challenge_responses: params(responses),
            client_metadata: Default::default(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn get_user(gw: &GatewayHandle, access_token: &str) -> pb::GetUserResponse {
    auth_client(gw)
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: access_token.into(),
        })
        .await
        .expect("GetUser")
        .into_inner()
}

/// A code no outbox message holds.
fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_code_signs_in_once_cluster_wide_and_only_for_its_challenge() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    user(env.a(), &pool, &client, "erin").await;
    // Before any factor is on, OPTIONAL signs in with the password alone.
    assert!(initiate(env.a(), &client, "erin")
        .await
        .authentication_result
        .is_some());
    set_factors(env.a(), &pool, "erin", None, on(true))
        .await
        .expect("email on");

    let r = initiate(env.a(), &client, "erin").await;
    assert_eq!(r.challenge_name, "EMAIL_OTP", "{r:?}");
    assert!(r.authentication_result.is_none());
    assert_eq!(
        r.challenge_parameters["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "EMAIL"
    );
    assert_eq!(
        r.challenge_parameters["CODE_DELIVERY_DESTINATION"],
        "e***@e***.com"
    );
    let code = outbox_code(env.a(), &pool, "erin", "mfa:email").await;

    // The code does not answer another challenge, nor reset the password.
    let e = respond(
        env.b(),
        &client,
        "SMS_MFA",
        &r.session,
        &[("USERNAME", "erin"), ("SMS_MFA_CODE", &code)],
    )
    .await
    .expect_err("an EMAIL_OTP session answering SMS_MFA");
    assert_eq!(exception(&e), "NotAuthorizedException", "{}", e.message());
    let e = auth_client(env.b())
        .await
        .confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
            client_id: client.clone(),
            username: "erin".into(),
            confirmation_code: code.clone(),
            password: "Taken-Over-Passw0rd!".into(),
            ..Default::default()
        })
        .await
        .expect_err("an MFA code resetting the password");
    assert!(
        ["ExpiredCodeException", "CodeMismatchException"].contains(&exception(&e).as_str()),
        "{}: {}",
        exception(&e),
        e.message()
    );

    // A wrong code costs an attempt; the right one signs in, on the other gateway.
    let e = respond(
        env.b(),
        &client,
        "EMAIL_OTP",
        &r.session,
        &[("USERNAME", "erin"), ("EMAIL_OTP_CODE", &wrong(&code))],
    )
    .await
    .expect_err("wrong code");
    assert_eq!(exception(&e), "CodeMismatchException", "{}", e.message());
    let ok = respond(
        env.b(),
        &client,
        "EMAIL_OTP",
        &r.session,
        &[("USERNAME", "erin"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .unwrap_or_else(|e| panic!("right code: {}: {}", exception(&e), e.message()));
    let tokens = ok.authentication_result.expect("tokens");
    // Replayed, through either gateway, with the same session: spent.
    for gw in [env.a(), env.b()] {
        let e = respond(
            gw,
            &client,
            "EMAIL_OTP",
            &r.session,
            &[("USERNAME", "erin"), ("EMAIL_OTP_CODE", &code)],
        )
        .await
        .expect_err("replayed code");
        assert_eq!(exception(&e), "ExpiredCodeException", "{}", e.message());
    }
    let me = get_user(env.a(), &tokens.access_token).await;
    assert_eq!(me.preferred_mfa_setting, "EMAIL_OTP");
    assert_eq!(me.user_mfa_setting_list, vec!["EMAIL_OTP".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_code_kills_it_and_a_new_sign_in_sends_a_new_one() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    user(env.a(), &pool, &client, "gus").await;
    set_factors(env.a(), &pool, "gus", on(true), None)
        .await
        .expect("sms on");
    let r = initiate(env.a(), &client, "gus").await;
    assert_eq!(r.challenge_name, "SMS_MFA", "{r:?}");
    assert_eq!(
        r.challenge_parameters["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "SMS"
    );
    let code = outbox_code(env.a(), &pool, "gus", "mfa:phone_number").await;
    // Five wrong guesses (the gateways' code attempts), alternating gateways: the code is
    // destroyed, and the right one no longer works.
    let mut last = String::new();
    for i in 0..5 {
        let gw = [env.a(), env.b()][i % 2];
        let guess = format!(
            "{:06}",
            (code.parse::<u32>().unwrap() + 1 + i as u32) % 1_000_000
        );
        let e = respond(
            gw,
            &client,
            "SMS_MFA",
            &r.session,
            &[("USERNAME", "gus"), ("SMS_MFA_CODE", &guess)],
        )
        .await
        .expect_err("wrong guess");
        last = exception(&e);
    }
    assert_eq!(
        last, "LimitExceededException",
        "the fifth wrong guess ends the code"
    );
    let e = respond(
        env.a(),
        &client,
        "SMS_MFA",
        &r.session,
        &[("USERNAME", "gus"), ("SMS_MFA_CODE", &code)],
    )
    .await
    .expect_err("the right code after the attempts ran out");
    assert!(
        ["ExpiredCodeException", "LimitExceededException"].contains(&exception(&e).as_str()),
        "{}: {}",
        exception(&e),
        e.message()
    );
    // A new sign-in sends a new code, which works.
    let r = initiate(env.b(), &client, "gus").await;
    let fresh = outbox_code(env.a(), &pool, "gus", "mfa:phone_number").await;
    let ok = respond(
        env.a(),
        &client,
        "SMS_MFA",
        &r.session,
        &[("USERNAME", "gus"), ("SMS_MFA_CODE", &fresh)],
    )
    .await;
    assert!(
        ok.as_ref().is_ok_and(|r| r.authentication_result.is_some()),
        "{:?}",
        ok.map_err(|e| exception(&e))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_code_clears_the_count_the_password_left_so_users_are_not_locked_out() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    user(env.a(), &pool, &client, "hal").await;
    set_factors(env.a(), &pool, "hal", None, on(true))
        .await
        .expect("email on");
    // More sign-ins than the lockout threshold (5): each password's reservation is cleared
    // by the right code, or the sixth would be locked.
    for i in 0..7 {
        let gw = [env.a(), env.b()][i % 2];
        let r = initiate(gw, &client, "hal").await;
        assert_eq!(r.challenge_name, "EMAIL_OTP", "sign-in {i}: {r:?}");
        let code = outbox_code(env.a(), &pool, "hal", "mfa:email").await;
        respond(
            gw,
            &client,
            "EMAIL_OTP",
            &r.session,
            &[("USERNAME", "hal"), ("EMAIL_OTP_CODE", &code)],
        )
        .await
        .unwrap_or_else(|e| panic!("sign-in {i}: {}: {}", exception(&e), e.message()));
    }
    // Without the code the count stays: five passwords whose code never came back lock.
    for _ in 0..5 {
        assert_eq!(
            initiate(env.a(), &client, "hal").await.challenge_name,
            "EMAIL_OTP"
        );
    }
    let e = auth_client(env.b())
        .await
        .initiate_auth(password_auth(&client, "hal", PASSWORD))
        .await
        .expect_err("locked after five unfinished sign-ins");
    assert_eq!(exception(&e), "NotAuthorizedException", "{}", e.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factors_on_and_none_preferred_make_the_user_choose() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    user(env.a(), &pool, &client, "ivy").await;
    set_factors(env.a(), &pool, "ivy", on(false), on(false))
        .await
        .expect("both on");
    let r = initiate(env.a(), &client, "ivy").await;
    assert_eq!(r.challenge_name, "SELECT_MFA_TYPE", "{r:?}");
    let offered: Vec<String> =
        serde_json::from_str(&r.challenge_parameters["MFAS_CAN_CHOOSE"]).unwrap();
    assert_eq!(offered, vec!["SMS_MFA", "EMAIL_OTP"]);
    // A factor not offered (no authenticator) is refused; nothing was sent yet.
    let e = respond(
        env.b(),
        &client,
        "SELECT_MFA_TYPE",
        &r.session,
        &[("USERNAME", "ivy"), ("ANSWER", "SOFTWARE_TOKEN_MFA")],
    )
    .await
    .expect_err("TOTP is not one of ivy's factors");
    assert_eq!(
        exception(&e),
        "InvalidParameterException",
        "{}",
        e.message()
    );
    assert!(outbox(env.a(), &pool)
        .await
        .iter()
        .all(|m| !m.purpose.starts_with("mfa:")));
    // EMAIL_OTP chosen: its code is sent, and answers the EMAIL_OTP challenge that follows.
    let chosen = respond(
        env.b(),
        &client,
        "SELECT_MFA_TYPE",
        &r.session,
        &[("USERNAME", "ivy"), ("ANSWER", "EMAIL_OTP")],
    )
    .await
    .unwrap_or_else(|e| panic!("choose: {}: {}", exception(&e), e.message()));
    assert_eq!(chosen.challenge_name, "EMAIL_OTP");
    let code = outbox_code(env.a(), &pool, "ivy", "mfa:email").await;
    // The SELECT session is not an EMAIL_OTP session.
    let e = respond(
        env.a(),
        &client,
        "EMAIL_OTP",
        &r.session,
        &[("USERNAME", "ivy"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .expect_err("the selection's session answering the code");
    assert_eq!(exception(&e), "NotAuthorizedException");
    let ok = respond(
        env.a(),
        &client,
        "EMAIL_OTP",
        &chosen.session,
        &[("USERNAME", "ivy"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .expect("right code");
    let me = get_user(env.a(), &ok.authentication_result.unwrap().access_token).await;
    assert_eq!(me.preferred_mfa_setting, "");
    assert_eq!(
        me.user_mfa_setting_list,
        vec!["SMS_MFA".to_string(), "EMAIL_OTP".to_string()]
    );
    // Preferring SMS ends the choice.
    set_factors(env.a(), &pool, "ivy", on(true), None)
        .await
        .expect("prefer sms");
    assert_eq!(
        initiate(env.b(), &client, "ivy").await.challenge_name,
        "SMS_MFA"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factor_needs_a_verified_destination_and_an_unverified_one_stops_codes() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    confirmed_user(env.a(), &pool, &client, "jo", "jo@example.com", PASSWORD).await;
    // A phone number nobody verified cannot receive a second factor.
    admin_client(env.a())
        .await
        .admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "jo".into(),
            user_attributes: vec![attr("phone_number", "+15550100999")],
        }))
        .await
        .unwrap();
    let e = set_factors(env.a(), &pool, "jo", on(true), None)
        .await
        .expect_err("SMS to an unverified number");
    assert_eq!(
        exception(&e),
        "InvalidParameterException",
        "{}",
        e.message()
    );
    set_factors(env.a(), &pool, "jo", None, on(true))
        .await
        .expect("email on");
    // The address changes (and is no longer verified): no code goes to the new one, and
    // with no factor left the optional pool signs in with the password alone.
    admin_client(env.b())
        .await
        .admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "jo".into(),
            user_attributes: vec![attr("email", "attacker@example.net")],
        }))
        .await
        .unwrap();
    let r = initiate(env.a(), &client, "jo").await;
    assert!(r.authentication_result.is_some(), "{r:?}");
    assert!(outbox(env.a(), &pool)
        .await
        .iter()
        .all(|m| !m.purpose.starts_with("mfa:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_that_requires_mfa_sends_a_code_to_a_verified_email_unasked() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    admin_client(env.a())
        .await
        .set_user_pool_mfa_config(admin(pb::SetUserPoolMfaConfigRequest {
            user_pool_id: pool.clone(),
            mfa_configuration: "ON".into(),
            software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
                enabled: false,
            }),
            sms_mfa_configuration: None,
            email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: true }),
        }))
        .await
        .expect("ON with email only");
    confirmed_user(env.a(), &pool, &client, "kai", "kai@example.com", PASSWORD).await;
    let r = initiate(env.a(), &client, "kai").await;
    assert_eq!(r.challenge_name, "EMAIL_OTP", "{r:?}");
    // Disabled between the password and the code: no tokens, and the session stays void.
    let code = outbox_code(env.a(), &pool, "kai", "mfa:email").await;
    let mut a = admin_client(env.b()).await;
    a.admin_disable_user(admin(user_ref(&pool, "kai")))
        .await
        .unwrap();
    let e = respond(
        env.a(),
        &client,
        "EMAIL_OTP",
        &r.session,
        &[("USERNAME", "kai"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .expect_err("disabled");
    assert_eq!(exception(&e), "NotAuthorizedException", "{}", e.message());
    a.admin_enable_user(admin(user_ref(&pool, "kai")))
        .await
        .unwrap();
    let e = respond(
        env.a(),
        &client,
        "EMAIL_OTP",
        &r.session,
        &[("USERNAME", "kai"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .expect_err("a session from before the disable");
    assert_eq!(exception(&e), "NotAuthorizedException");
    // The factor cannot be turned off while the pool requires MFA.
    let e = set_factors(
        env.a(),
        &pool,
        "kai",
        None,
        Some(pb::MfaSettingsType {
            enabled: false,
            preferred_mfa: false,
        }),
    )
    .await
    .expect_err("off in an ON pool");
    assert_eq!(exception(&e), "InvalidParameterException");
    // A pool cannot require MFA and offer nothing.
    let e = admin_client(env.a())
        .await
        .set_user_pool_mfa_config(admin(pb::SetUserPoolMfaConfigRequest {
            user_pool_id: pool.clone(),
            mfa_configuration: "ON".into(),
            email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: false }),
            ..Default::default()
        }))
        .await
        .expect_err("ON with nothing offered");
    assert_eq!(exception(&e), "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_user_with_cognito_mfa_enabled_answers_sms_codes() {
    use crate::support::imports::{create_job, start, upload, wait_final};
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    // Cognito's export: the MFA column true means SMS MFA, which needs a verified phone.
    let argon = signet_crypto::PasswordHasher::new(
        signet_crypto::PasswordParams::default(),
        1,
        4,
        std::time::Duration::from_secs(30),
    )
    .hash(PASSWORD)
    .await
    .expect("hash");
    let csv = [
        "cognito:username,email,email_verified,phone_number,phone_number_verified,cognito:mfa_enabled,signet:password_hash".to_string(),
        format!("lee,lee@example.com,true,+15550100300,true,true,\"{argon}\""),
        format!("max,max@example.com,true,+15550100301,false,true,\"{argon}\""),
    ]
    .join("\n");
    let job = create_job(env.a(), &pool).await;
    let (status, answer) = upload(env.a(), &job, &csv).await;
    assert_eq!(status, 200, "{answer}");
    start(env.b(), &pool, &job.job_id).await.expect("start");
    let done = wait_final(env.b(), &pool, &job.job_id).await;
    assert_eq!((done.imported_users, done.failed_users), (1, 1), "{done:?}");
    assert!(done.row_errors[0]
        .reason
        .contains("phone_number_verified=true"));
    let r = initiate(env.a(), &client, "lee").await;
    assert_eq!(r.challenge_name, "SMS_MFA", "{r:?}");
    assert_eq!(
        r.challenge_parameters["CODE_DELIVERY_DESTINATION"],
        "+*******0300"
    );
    let code = outbox_code(env.a(), &pool, "lee", "mfa:phone_number").await;
    let ok = respond(
        env.b(),
        &client,
        "SMS_MFA",
        &r.session,
        &[("USERNAME", "lee"), ("SMS_MFA_CODE", &code)],
    )
    .await
    .expect("right code");
    let me = get_user(env.a(), &ok.authentication_result.unwrap().access_token).await;
    assert_eq!(me.user_mfa_setting_list, vec!["SMS_MFA".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_raced_through_both_gateways_signs_in_once() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    set_pool_mfa(env.a(), &pool, "OPTIONAL").await;
    user(env.a(), &pool, &client, "max").await;
    set_factors(env.a(), &pool, "max", None, on(true))
        .await
        .expect("email on");
    for round in 0..3 {
        let r = initiate(env.a(), &client, "max").await;
        let code = outbox_code(env.a(), &pool, "max", "mfa:email").await;
        let mut answers = Vec::new();
        for gw in [env.a(), env.b(), env.a(), env.b()] {
            let mut c = auth_client(gw).await;
            let req = pb::RespondToAuthChallengeRequest {
                client_id: client.clone(),
                challenge_name: "EMAIL_OTP".into(),
                session: r.session.clone(),
                challenge_responses: params(&[("USERNAME", "max"), ("EMAIL_OTP_CODE", &code)]),
                client_metadata: Default::default(),
            };
            answers.push(tokio::spawn(async move {
                c.respond_to_auth_challenge(req)
                    .await
                    .map(|r| r.into_inner())
            }));
        }
        let mut won = 0;
        for a in answers {
            match a.await.unwrap() {
                Ok(r) => {
                    assert!(r.authentication_result.is_some());
                    won += 1;
                }
                Err(e) => assert_eq!(exception(&e), "ExpiredCodeException", "{}", e.message()),
            }
        }
        assert_eq!(won, 1, "round {round}: one code, one sign-in");
    }
}
