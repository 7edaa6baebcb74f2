//! The audit trail, through the public API on two gateways that both stream to a local
//! receiver: a user's sign-up, wrong and right sign-ins, password change and reset, and an
//! administrator's disable are recorded durably (AdminListUserAuthEvents, read on either
//! gateway) with their outcomes, client and address; the stream carries the same events,
//! signed; and neither the stream, nor the answer, nor the stored rows hold a password, a
//! code, a token or a client secret. A user made again under a deleted user's name does
//! not inherit the old trail.

use crate::support::hooks::{verify_signature, Receiver};
use crate::support::pools::*;
use signet_gateway::{AuditStream, GatewayHandle};
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway, test_gateway_config, TestCluster,
    TEST_WEBHOOK_SECRET,
};
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";
const WRONG: &str = "Wr0ng-Guess-123!";
const CHANGED: &str = "Chang3d-Passw0rd!";
const RESET: &str = "R3set-Passw0rd!";

async fn events(gw: &GatewayHandle, pool: &str, user: &str) -> Vec<pb::AuthEventType> {
    let mut all = Vec::new();
    let mut next = String::new();
    loop {
        let r = admin_client(gw)
            .await
            .admin_list_user_auth_events(admin(pb::AdminListUserAuthEventsRequest {
                user_pool_id: pool.into(),
                username: user.into(),
                max_results: 4,
                next_token: next.clone(),
            }))
            .await
            .expect("list events")
            .into_inner();
        all.extend(r.auth_events);
        if r.next_token.is_empty() {
            return all;
        }
        next = r.next_token;
    }
}

/// (action, outcome, exception) of each event, oldest first: by time, and within one
/// millisecond by the trail's own order (newest first as listed).
fn story(evs: &[pb::AuthEventType]) -> Vec<(String, String, String)> {
    let mut evs: Vec<(usize, &pb::AuthEventType)> = evs.iter().enumerate().collect();
    evs.sort_by_key(|(i, e)| (e.creation_date, std::cmp::Reverse(*i)));
    evs.iter()
        .map(|(_, e)| e)
        .map(|e| {
            (
                e.action.clone(),
                e.event_response.clone(),
                e.exception.clone(),
            )
        })
        .collect()
}

fn row(a: &str, o: &str, x: &str) -> (String, String, String) {
    (a.into(), o.into(), x.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_records_who_did_what_and_holds_no_secret() {
    let cluster = TestCluster::start(1).await;
    let rx = Receiver::start().await;
    let gw = |_: u8| {
        let mut cfg = test_gateway_config();
        cfg.audit_stream = AuditStream::Webhook(format!("{}/audit", rx.base));
        start_gateway(cluster.api_addrs(), cfg)
    };
    let (a, b) = (gw(0).await, gw(1).await);
    let (pool, client) = pool_and_client(&a, false).await;
    let mut secrets: Vec<String> =
        vec![PASSWORD.into(), WRONG.into(), CHANGED.into(), RESET.into()];

    // Sign-up and confirmation (on a), a wrong and a right sign-in (b, then a).
    let mut auth = auth_client(&a).await;
    auth.sign_up(pb::SignUpRequest {
        client_id: client.clone(),
        username: "zoe".into(),
        password: PASSWORD.into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: "zoe@example.com".into(),
        }],
        ..Default::default()
    })
    .await
    .expect("sign up");
    let code = outbox_code(&a, &pool, "zoe", "confirm").await;
    secrets.push(code.clone());
    auth.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client.clone(),
        username: "zoe".into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .expect("confirm");
    let e = auth_client(&b)
        .await
        .initiate_auth(password_auth(&client, "zoe", WRONG))
        .await
        .expect_err("wrong");
    assert_eq!(exception(&e), "NotAuthorizedException");
    let tokens = sign_in(&a, &client, "ZOE", PASSWORD).await;
    secrets.push(tokens.access_token.clone());
    secrets.push(tokens.id_token.clone());
    secrets.push(tokens.refresh_token.clone());

    // A password change (access token), a reset (code), then an administrator disables.
    auth_client(&b)
        .await
        .change_password(pb::ChangePasswordRequest {
            access_token: tokens.access_token.clone(),
            previous_password: PASSWORD.into(),
            proposed_password: CHANGED.into(),
        })
        .await
        .expect("change password");
    auth.forgot_password(pb::ClientUserRequest {
        client_id: client.clone(),
        username: "zoe".into(),
        ..Default::default()
    })
    .await
    .expect("forgot");
    let code = outbox_code(&a, &pool, "zoe", "reset").await;
    secrets.push(code.clone());
    auth.confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
        client_id: client.clone(),
        username: "zoe".into(),
        confirmation_code: code,
        password: RESET.into(),
        ..Default::default()
    })
    .await
    .expect("reset");
    admin_client(&b)
        .await
        .admin_disable_user(admin(user_ref(&pool, "zoe")))
        .await
        .expect("disable");
    let e = auth_client(&a)
        .await
        .initiate_auth(password_auth(&client, "zoe", RESET))
        .await
        .expect_err("disabled");
    assert_eq!(exception(&e), "NotAuthorizedException");

    // The whole story, durably, on either gateway (each writes its events in batches).
    let expected = vec![
        row("SignUp", "Pass", ""),
        row("ConfirmSignUp", "Pass", ""),
        row("InitiateAuth", "Fail", "NotAuthorizedException"),
        row("InitiateAuth", "Pass", ""),
        row("ChangePassword", "Pass", ""),
        row("ForgotPassword", "Pass", ""),
        row("ConfirmForgotPassword", "Pass", ""),
        row("AdminDisableUser", "Pass", ""),
        row("InitiateAuth", "Fail", "NotAuthorizedException"),
    ];
    let evs = signet_testkit::wait_for_async("the trail", Duration::from_secs(15), || async {
        let evs = events(&b, &pool, "zoe").await;
        (evs.len() >= expected.len()).then_some(evs)
    })
    .await;
    assert_eq!(story(&evs), expected);
    let sign_in = evs
        .iter()
        .find(|e| e.action == "InitiateAuth" && e.event_response == "Pass")
        .unwrap();
    assert_eq!(sign_in.event_type, "SignIn");
    assert_eq!(sign_in.client_id, client);
    assert_eq!(sign_in.ip_address, "127.0.0.1");
    assert_eq!(sign_in.actor, "user");
    let disable = evs.iter().find(|e| e.action == "AdminDisableUser").unwrap();
    assert_eq!(disable.actor, "admin");
    assert_eq!(story(&events(&a, &pool, "zoe").await), expected);

    // The stream carried the same events, signed with the webhook secret.
    let posts = rx.received_at("/audit");
    let mut streamed = 0;
    for p in &posts {
        verify_signature(p, TEST_WEBHOOK_SECRET.as_bytes()).expect("signed");
        let body = p.json();
        for e in body["events"].as_array().unwrap() {
            assert_eq!(e["type"], "audit");
            if e["username"] == "zoe" {
                streamed += 1;
            }
        }
    }
    assert_eq!(streamed, expected.len());

    // No secret anywhere: not in the stream, the answer, or the stored rows.
    let stored: Vec<u8> = cluster
        .node(1)
        .state_machine()
        .rows()
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.first() == Some(&signet_core::Table::AuditEvents.prefix()))
        // Each record as its JSON: stored compressed, a secret would not show in the bytes.
        .flat_map(|(k, v)| [k, signet_core::record_json(&v).unwrap().into_owned()].concat())
        .collect();
    assert!(!stored.is_empty());
    let stored = String::from_utf8_lossy(&stored).to_string();
    let answer = format!("{evs:?}");
    for p in &posts {
        let body = String::from_utf8_lossy(&p.body);
        for s in &secrets {
            assert!(!body.contains(s.as_str()), "a secret in the stream: {body}");
        }
    }
    for s in &secrets {
        assert!(!stored.contains(s.as_str()), "a secret in the stored trail");
        assert!(!answer.contains(s.as_str()), "a secret in the answer");
    }

    // A new user under the deleted user's name starts with an empty trail.
    admin_client(&a)
        .await
        .admin_delete_user(admin(user_ref(&pool, "zoe")))
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_millis(5)).await;
    admin_client(&a)
        .await
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool.clone(),
            username: "zoe".into(),
            message_action: "SUPPRESS".into(),
            ..Default::default()
        }))
        .await
        .expect("recreate");
    let fresh =
        signet_testkit::wait_for_async("the new trail", Duration::from_secs(15), || async {
            let evs = events(&a, &pool, "zoe").await;
            (!evs.is_empty()).then_some(evs)
        })
        .await;
    assert_eq!(story(&fresh), vec![row("AdminCreateUser", "Pass", "")]);

    a.shutdown().await;
    b.shutdown().await;
    cluster.shutdown().await;
}

/// A pool that hides its users answers a locked user's sign-in like a wrong password; the
/// trail still says it was the lockout (`reason: locked`), and only for those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_tells_a_locked_sign_in_from_a_wrong_password() {
    let cluster = TestCluster::start(1).await;
    let a = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let (pool, client) = pool_and_client(&a, false).await;
    confirmed_user(&a, &pool, &client, "lou", "lou@example.com", PASSWORD).await;
    let mut auth = auth_client(&a).await;
    // Five wrong passwords lock; the sixth attempt, with the right password, is refused
    // with the same answer.
    for _ in 0..5 {
        auth.initiate_auth(password_auth(&client, "lou", WRONG))
            .await
            .expect_err("wrong");
    }
    let e = auth
        .initiate_auth(password_auth(&client, "lou", PASSWORD))
        .await
        .expect_err("locked");
    assert_eq!(exception(&e), "NotAuthorizedException");
    assert_eq!(e.message(), "Incorrect username or password.");
    let reasons = || async {
        let mut evs = events(&a, &pool, "lou").await;
        evs.retain(|e| e.action == "InitiateAuth");
        evs.sort_by_key(|e| e.creation_date);
        evs.iter().map(|e| e.reason.clone()).collect::<Vec<_>>()
    };
    // Events are written in batches: wait for all six.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let got = loop {
        let got = reasons().await;
        if got.len() >= 6 || tokio::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got, vec!["", "", "", "", "", "locked"]);
}
