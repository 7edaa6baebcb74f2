//! CUSTOM_AUTH with the Define/Create/VerifyAuthChallenge triggers, played by a local
//! receiver as a one-time-code sign-in ("passwordless"), on two gateways: the right code
//! signs in, wrong ones are re-asked and then fail; the private parameters never reach the
//! client; replaying one session with guesses on both gateways is bounded by the lockout
//! (the hook stops being asked); a user disabled after the challenge gets no tokens; an
//! unknown user gets a challenge that cannot be passed; a client or pool without the flow
//! is refused.

use crate::support::hooks::{Receiver, Reply};
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv};
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";
const CODE: &str = "424242";

/// The receiver's three triggers: a code challenge, right when the answer is the private
/// `code`; tokens after a right answer, failure after three wrong ones.
fn otp_hooks(rx: &Receiver) {
    rx.respond(|r| {
        let ev = r.json();
        let req = &ev["request"];
        let response = match r.path.as_str() {
            "/define" => {
                let session = req["session"].as_array().cloned().unwrap_or_default();
                let wrong = session
                    .iter()
                    .filter(|c| c["challengeResult"] == false)
                    .count();
                match session.last() {
                    Some(c) if c["challengeResult"] == true => json!({"issueTokens": true}),
                    _ if wrong >= 3 => json!({"failAuthentication": true}),
                    _ => json!({"challengeName": "CUSTOM_CHALLENGE"}),
                }
            }
            "/create" => json!({
                "publicChallengeParameters": {"hint": "a code went to your e-mail"},
                "privateChallengeParameters": {"code": CODE},
                "challengeMetadata": format!("OTP-{}", req["session"].as_array().map_or(0, Vec::len)),
            }),
            "/verify" => json!({
                "answerCorrect": req["challengeAnswer"] == req["privateChallengeParameters"]["code"],
            }),
            _ => json!({}),
        };
        Reply::ok(json!({ "response": response }))
    });
}

fn triggers(rx: &Receiver) -> pb::LambdaConfigType {
    let h = |p: &str| {
        Some(pb::TriggerHookType {
            url: format!("{}{p}", rx.base),
            timeout_ms: 1000,
            fail_open: false,
        })
    };
    pb::LambdaConfigType {
        define_auth_challenge: h("/define"),
        create_auth_challenge: h("/create"),
        verify_auth_challenge_response: h("/verify"),
        ..Default::default()
    }
}

async fn custom_client(gw: &GatewayHandle, pool: &str, flows: &[&str]) -> String {
    admin_client(gw)
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "passwordless".into(),
            explicit_auth_flows: flows.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        }))
        .await
        .expect("client")
        .into_inner()
        .user_pool_client
        .expect("client")
        .client_id
}

fn start(client: &str, user: &str) -> pb::InitiateAuthRequest {
    pb::InitiateAuthRequest {
        client_id: client.into(),
        auth_flow: "CUSTOM_AUTH".into(),
        auth_parameters: params(&[("USERNAME", user)]),
        client_metadata: Default::default(),
    }
}

fn answer(
    client: &str,
    user: &str,
    session: &str,
    code: &str,
) -> pb::RespondToAuthChallengeRequest {
    pb::RespondToAuthChallengeRequest {
        client_id: client.into(),
        challenge_name: "CUSTOM_CHALLENGE".into(),
        session: session.into(),
        challenge_responses: params(&[("USERNAME", user), ("ANSWER", code)]),
        client_metadata: Default::default(),
    }
}

/// InitiateAuth(CUSTOM_AUTH) on `gw`: the challenge's parameters and session.
async fn challenge(gw: &GatewayHandle, client: &str, user: &str) -> (pb::AuthResponse, String) {
    let r = auth_client(gw)
        .await
        .initiate_auth(start(client, user))
        .await
        .unwrap_or_else(|e| panic!("custom auth: {}: {}", exception(&e), e.message()))
        .into_inner();
    assert_eq!(r.challenge_name, "CUSTOM_CHALLENGE");
    let session = r.session.clone();
    (r, session)
}

fn verify_calls(rx: &Receiver) -> usize {
    rx.received_at("/verify").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_code_sign_in_through_the_custom_auth_triggers() {
    // A lockout long enough that no guess below lands after it ends, however slow the run.
    let env = TestEnv::start_with(3, 2, |c| c.lockout_base = Duration::from_secs(600)).await;
    let rx = Receiver::start().await;
    otp_hooks(&rx);
    let (pool, password_client) = pool_and_client(env.a(), false).await;
    admin_client(env.a())
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.clone(),
            lambda_config: Some(triggers(&rx)),
            ..Default::default()
        }))
        .await
        .expect("triggers");
    let client = custom_client(env.a(), &pool, &["ALLOW_CUSTOM_AUTH"]).await;
    for name in ["pia", "quin", "rory"] {
        confirmed_user(
            env.a(),
            &pool,
            &password_client,
            name,
            &format!("{name}@example.com"),
            PASSWORD,
        )
        .await;
    }

    // The right code: tokens. The client sees the public parameters, never the private.
    let (r, session) = challenge(env.b(), &client, "pia").await;
    assert_eq!(r.challenge_parameters["hint"], "a code went to your e-mail");
    assert_eq!(r.challenge_parameters["USERNAME"], "pia");
    assert!(!r.challenge_parameters.values().any(|v| v.contains(CODE)));
    assert!(!session.contains(CODE));
    let done = auth_client(env.a())
        .await
        .respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
            client_metadata: [("device".to_string(), "kiosk-7".to_string())].into(),
            ..answer(&client, "pia", &session, CODE)
        })
        .await
        .expect("right code")
        .into_inner();
    let tokens = done.authentication_result.expect("tokens");
    assert_eq!(
        crate::support::identity::claims_of(&tokens.id_token)["cognito:username"],
        "pia"
    );
    // The answer's ClientMetadata reached VerifyAuthChallengeResponse and the next
    // DefineAuthChallenge; InitiateAuth's reached neither.
    let verify = rx.received_at("/verify").last().unwrap().json();
    assert_eq!(verify["request"]["clientMetadata"]["device"], "kiosk-7");
    // DefineAuthChallenge saw the answered challenge with its metadata.
    let defines: Vec<Value> = rx.received_at("/define").iter().map(|r| r.json()).collect();
    let last = &defines.last().unwrap()["request"];
    assert_eq!(last["clientMetadata"]["device"], "kiosk-7");
    assert_eq!(defines[0]["request"]["clientMetadata"], json!({}));
    assert_eq!(
        last["session"],
        json!([{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true,
            "challengeMetadata": "OTP-0"}])
    );
    assert_eq!(last["userNotFound"], false);
    assert_eq!(
        defines.last().unwrap()["triggerSource"],
        "DefineAuthChallenge_Authentication"
    );

    // Wrong codes are asked again (a new session each time), and the third fails.
    let (_, mut session) = challenge(env.a(), &client, "quin").await;
    for round in 0..2 {
        let r = auth_client(env.b())
            .await
            .respond_to_auth_challenge(answer(&client, "quin", &session, "000000"))
            .await
            .expect("asked again")
            .into_inner();
        assert_eq!(r.challenge_name, "CUSTOM_CHALLENGE", "round {round}");
        session = r.session;
    }
    let e = auth_client(env.b())
        .await
        .respond_to_auth_challenge(answer(&client, "quin", &session, "111111"))
        .await
        .expect_err("third wrong code");
    assert_eq!(exception(&e), "NotAuthorizedException");

    // One session replayed with guesses, on both gateways: each guess is counted in the
    // log before the hook checks it, so the hook is asked at most the lockout threshold
    // (5) times, and then even the right code is refused for a while.
    let (_, session) = challenge(env.a(), &client, "rory").await;
    let before = verify_calls(&rx);
    for i in 0..12 {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        let guess = format!("{:06}", 100_000 + i);
        let _ = auth_client(gw)
            .await
            .respond_to_auth_challenge(answer(&client, "rory", &session, &guess))
            .await;
    }
    let asked = verify_calls(&rx) - before;
    assert_eq!(asked, 5, "the hook checked {asked} guesses of one user");
    let e = auth_client(env.b())
        .await
        .respond_to_auth_challenge(answer(&client, "rory", &session, CODE))
        .await
        .expect_err("locked");
    assert_eq!(exception(&e), "NotAuthorizedException");
    assert_eq!(
        verify_calls(&rx) - before,
        asked,
        "a locked user's answer is not checked"
    );

    // Disabled after the challenge went out: the right code gets no tokens.
    let (_, session) = challenge(env.a(), &client, "pia").await;
    admin_client(env.a())
        .await
        .admin_disable_user(admin(user_ref(&pool, "pia")))
        .await
        .expect("disable");
    let e = auth_client(env.b())
        .await
        .respond_to_auth_challenge(answer(&client, "pia", &session, CODE))
        .await
        .expect_err("disabled");
    assert_eq!(exception(&e), "NotAuthorizedException");

    // An unknown user (existence hidden) gets a challenge like anyone; no answer passes,
    // and the hook is not asked to check it.
    let (r, session) = challenge(env.b(), &client, "nobody").await;
    assert_eq!(r.challenge_parameters["hint"], "a code went to your e-mail");
    let defines = rx.received_at("/define");
    assert_eq!(
        defines.last().unwrap().json()["request"]["userNotFound"],
        true
    );
    let before = verify_calls(&rx);
    let e = auth_client(env.a())
        .await
        .respond_to_auth_challenge(answer(&client, "nobody", &session, CODE))
        .await
        .expect_err("unknown");
    assert_eq!(e.message(), "Incorrect username or password.");
    assert_eq!(verify_calls(&rx), before);

    // A client without the flow, and a pool without the triggers, are refused.
    let e = auth_client(env.a())
        .await
        .initiate_auth(start(&password_client, "pia"))
        .await
        .expect_err("flow not allowed");
    assert_eq!(exception(&e), "InvalidParameterException");
    let (bare_pool, _) = pool_and_client(env.a(), false).await;
    let bare = custom_client(env.a(), &bare_pool, &["ALLOW_CUSTOM_AUTH"]).await;
    let e = auth_client(env.a())
        .await
        .initiate_auth(start(&bare, "pia"))
        .await
        .expect_err("no triggers");
    assert_eq!(exception(&e), "InvalidParameterException");
    // The three go together.
    let mut partial = triggers(&rx);
    partial.verify_auth_challenge_response = None;
    let e = admin_client(env.a())
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: bare_pool.clone(),
            lambda_config: Some(partial),
            ..Default::default()
        }))
        .await
        .expect_err("partial custom auth");
    assert_eq!(exception(&e), "InvalidParameterException");

    // The audit trail tells the challenge that followed and the one answered.
    let trail = signet_testkit::wait_for_async("pia's trail", Duration::from_secs(15), || async {
        let evs = admin_client(env.b())
            .await
            .admin_list_user_auth_events(admin(pb::AdminListUserAuthEventsRequest {
                user_pool_id: pool.clone(),
                username: "pia".into(),
                max_results: 60,
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .auth_events;
        evs.iter()
            .any(|e| e.action == "RespondToAuthChallenge" && e.event_response == "Pass")
            .then_some(evs)
    })
    .await;
    let started = trail
        .iter()
        .find(|e| e.action == "InitiateAuth" && e.event_response == "InProgress")
        .expect("InitiateAuth recorded");
    assert_eq!(started.challenge_name, "CUSTOM_CHALLENGE");
    let answered = trail
        .iter()
        .find(|e| e.action == "RespondToAuthChallenge" && e.event_response == "Pass")
        .unwrap();
    assert_eq!(answered.target, "CUSTOM_CHALLENGE");
    assert_eq!(answered.event_type, "SignIn");
    assert!(
        !format!("{trail:?}").contains(CODE),
        "the code in the trail"
    );
    env.shutdown().await;
}
