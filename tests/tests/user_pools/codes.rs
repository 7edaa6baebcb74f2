//! One-time codes (single use, attempt limit, expiry, resend) and the SECRET_HASH that
//! clients with a secret must send.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, start_gateway, test_gateway_config};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Corr3ct-Horse!";

fn sign_up(client_id: &str, username: &str) -> pb::SignUpRequest {
    pb::SignUpRequest {
        client_id: client_id.into(),
        username: username.into(),
        password: PASSWORD.into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: format!("{username}@example.com"),
        }],
        ..Default::default()
    }
}

fn confirm(client_id: &str, username: &str, code: &str) -> pb::ConfirmSignUpRequest {
    pb::ConfirmSignUpRequest {
        client_id: client_id.into(),
        username: username.into(),
        confirmation_code: code.into(),
        ..Default::default()
    }
}

/// A six-digit code that is not `code`.
fn other_code(code: &str, k: u32) -> String {
    let n: u32 = code.parse().expect("numeric code");
    format!("{:06}", (n + k) % 1_000_000)
}

async fn user_status(gw: &signet_gateway::GatewayHandle, pool_id: &str, username: &str) -> String {
    admin_client(gw)
        .await
        .admin_get_user(admin(pb::UserRef {
            user_pool_id: pool_id.into(),
            username: username.into(),
        }))
        .await
        .expect("admin get user")
        .into_inner()
        .user
        .expect("user")
        .user_status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_work_once() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let mut on_a = auth_client(env.a()).await;
    let mut on_b = auth_client(env.b()).await;

    // A confirmation code, used on A, then replayed on B.
    on_a.sign_up(sign_up(&client_id, "olga"))
        .await
        .expect("sign up");
    let code = outbox_code(env.a(), &pool_id, "olga", "confirm").await;
    on_a.confirm_sign_up(confirm(&client_id, "olga", &code))
        .await
        .expect("first use");
    let err = on_b
        .confirm_sign_up(confirm(&client_id, "olga", &code))
        .await
        .expect_err("second use");
    assert_eq!(exception(&err), "NotAuthorizedException");

    // A reset code, used on B, then replayed on A with another password.
    on_b.forgot_password(pb::ClientUserRequest {
        client_id: client_id.clone(),
        username: "olga".into(),
        ..Default::default()
    })
    .await
    .expect("forgot password");
    let code = outbox_code(env.b(), &pool_id, "olga", "reset").await;
    let reset = |password: &str| pb::ConfirmForgotPasswordRequest {
        client_id: client_id.clone(),
        username: "olga".into(),
        confirmation_code: code.clone(),
        password: password.into(),
        ..Default::default()
    };
    on_b.confirm_forgot_password(reset("Rec0vered-once!"))
        .await
        .expect("first use");
    let err = on_a
        .confirm_forgot_password(reset("Rec0vered-twice!"))
        .await
        .expect_err("second use");
    assert_eq!(exception(&err), "ExpiredCodeException");
    sign_in(env.a(), &client_id, "olga", "Rec0vered-once!").await;
    let err = on_b
        .initiate_auth(password_auth(&client_id, "olga", "Rec0vered-twice!"))
        .await
        .expect_err("the replay set nothing");
    assert_eq!(exception(&err), "NotAuthorizedException");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_guesses_burn_the_code() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let clients = [auth_client(env.a()).await, auth_client(env.b()).await];
    clients[0]
        .clone()
        .sign_up(sign_up(&client_id, "pete"))
        .await
        .expect("sign up");
    let code = outbox_code(env.a(), &pool_id, "pete", "confirm").await;

    // The default allows 5 attempts, counted cluster-wide: guesses alternate gateways.
    for k in 1..=5u32 {
        let err = clients[k as usize % 2]
            .clone()
            .confirm_sign_up(confirm(&client_id, "pete", &other_code(&code, k)))
            .await
            .expect_err("wrong code");
        let want = if k < 5 {
            "CodeMismatchException"
        } else {
            "LimitExceededException"
        };
        assert_eq!(exception(&err), want, "wrong guess {k}");
    }
    let err = clients[0]
        .clone()
        .confirm_sign_up(confirm(&client_id, "pete", &code))
        .await
        .expect_err("the burnt code");
    assert_eq!(exception(&err), "ExpiredCodeException");
    assert_eq!(user_status(env.b(), &pool_id, "pete").await, "UNCONFIRMED");

    // A new code starts over.
    clients[1]
        .clone()
        .resend_confirmation_code(pb::ClientUserRequest {
            client_id: client_id.clone(),
            username: "pete".into(),
            ..Default::default()
        })
        .await
        .expect("resend");
    let fresh = outbox_code(env.b(), &pool_id, "pete", "confirm").await;
    clients[0]
        .clone()
        .confirm_sign_up(confirm(&client_id, "pete", &fresh))
        .await
        .expect("the new code");
    assert_eq!(user_status(env.a(), &pool_id, "pete").await, "CONFIRMED");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_expire_and_a_resent_code_works() {
    let env = TestEnv::start(3, 2).await;
    let mut cfg = test_gateway_config();
    cfg.confirm_code_ttl = Duration::from_secs(1);
    let short = start_gateway(env.cluster().api_addrs(), cfg).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let mut on_short = auth_client(&short).await;
    let mut on_a = auth_client(env.a()).await;

    let started = Instant::now();
    on_short
        .sign_up(sign_up(&client_id, "quinn"))
        .await
        .expect("sign up");
    // The code was issued before the call returned: waiting from here is conservative.
    let issued_by = Instant::now();
    let code = outbox_code(env.a(), &pool_id, "quinn", "confirm").await;
    // Fresh, the code is live: a wrong guess is a mismatch, not an expiry. (Only checkable
    // if this guess is answered within the TTL of the sign-up's start.)
    let err = on_a
        .confirm_sign_up(confirm(&client_id, "quinn", &other_code(&code, 1)))
        .await
        .expect_err("wrong code");
    if started.elapsed() < Duration::from_secs(1) {
        assert_eq!(exception(&err), "CodeMismatchException");
    }

    signet_testkit::wait_for(
        "1.2 s since the code was issued",
        Duration::from_secs(5),
        || (issued_by.elapsed() >= Duration::from_millis(1200)).then_some(()),
    )
    .await;
    // The expiry travels with the code: a gateway with the default TTL refuses it too.
    let err = on_a
        .confirm_sign_up(confirm(&client_id, "quinn", &code))
        .await
        .expect_err("expired code");
    assert_eq!(exception(&err), "ExpiredCodeException");
    assert_eq!(user_status(env.a(), &pool_id, "quinn").await, "UNCONFIRMED");

    // Resent through a default gateway (24 h TTL, so no race with the clock here).
    let delivery = on_a
        .resend_confirmation_code(pb::ClientUserRequest {
            client_id: client_id.clone(),
            username: "quinn".into(),
            ..Default::default()
        })
        .await
        .expect("resend")
        .into_inner()
        .code_delivery_details
        .expect("delivery");
    assert_eq!(delivery.destination, "q***@e***.com");
    let fresh = outbox_code(env.b(), &pool_id, "quinn", "confirm").await;
    assert_ne!(fresh, code);
    on_short
        .confirm_sign_up(confirm(&client_id, "quinn", &fresh))
        .await
        .expect("the resent code");
    assert_eq!(user_status(env.b(), &pool_id, "quinn").await, "CONFIRMED");
    sign_in(&short, &client_id, "quinn", PASSWORD).await;
    short.shutdown().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_a_secret_needs_the_secret_hash() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;
    let mut admin_a = admin_client(env.a()).await;
    let created = admin_a
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool_id.clone(),
            client_name: "backend".into(),
            generate_secret: true,
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            ..Default::default()
        }))
        .await
        .expect("create client")
        .into_inner()
        .user_pool_client
        .expect("client");
    assert!(created.has_secret);
    let secret = created.client_secret.clone();
    assert!(secret.len() >= 32, "a secret is returned at creation");
    let client_id = created.client_id.clone();
    // Shown once: describing the client does not reveal it.
    let described = admin_client(env.b())
        .await
        .describe_user_pool_client(admin(pb::ClientRef {
            user_pool_id: pool_id.clone(),
            client_id: client_id.clone(),
        }))
        .await
        .expect("describe client")
        .into_inner()
        .user_pool_client
        .expect("client");
    assert!(described.has_secret);
    assert!(described.client_secret.is_empty());

    let right = signet_gateway::secret_hash(&secret, "sam", &client_id);
    let wrong_user = signet_gateway::secret_hash(&secret, "someone-else", &client_id);
    let wrong_secret = signet_gateway::secret_hash("not-the-secret", "sam", &client_id);
    let mut on_a = auth_client(env.a()).await;
    let mut on_b = auth_client(env.b()).await;

    // SignUp.
    for (hash, what) in [
        (wrong_user.as_str(), "hash of another username"),
        (wrong_secret.as_str(), "hash with another secret"),
        ("", "no hash"),
    ] {
        let err = on_b
            .sign_up(pb::SignUpRequest {
                secret_hash: hash.into(),
                ..sign_up(&client_id, "sam")
            })
            .await
            .expect_err(what);
        assert_eq!(exception(&err), "NotAuthorizedException", "{what}");
    }
    on_a.sign_up(pb::SignUpRequest {
        secret_hash: right.clone(),
        ..sign_up(&client_id, "sam")
    })
    .await
    .expect("sign up with the right hash");
    let code = outbox_code(env.a(), &pool_id, "sam", "confirm").await;
    let err = on_b
        .confirm_sign_up(confirm(&client_id, "sam", &code))
        .await
        .expect_err("confirm without a hash");
    assert_eq!(exception(&err), "NotAuthorizedException");
    on_b.confirm_sign_up(pb::ConfirmSignUpRequest {
        secret_hash: right.clone(),
        ..confirm(&client_id, "sam", &code)
    })
    .await
    .expect("confirm with the right hash");

    // InitiateAuth: SECRET_HASH goes in the auth parameters.
    let auth = |hash: Option<&str>| {
        let mut r = password_auth(&client_id, "sam", PASSWORD);
        if let Some(h) = hash {
            r.auth_parameters.insert("SECRET_HASH".into(), h.into());
        }
        r
    };
    for (hash, what) in [
        (None, "no hash"),
        (Some(wrong_user.as_str()), "hash of another username"),
        (Some(wrong_secret.as_str()), "hash with another secret"),
    ] {
        let err = on_a.initiate_auth(auth(hash)).await.expect_err(what);
        assert_eq!(exception(&err), "NotAuthorizedException", "{what}");
    }
    let tokens = on_b
        .initiate_auth(auth(Some(&right)))
        .await
        .expect("sign in with the right hash")
        .into_inner()
        .authentication_result
        .expect("tokens");

    // Refresh too.
    let err = on_a
        .initiate_auth(refresh_auth(&client_id, &tokens.refresh_token))
        .await
        .expect_err("refresh without a hash");
    assert_eq!(exception(&err), "NotAuthorizedException");
    let mut refresh = refresh_auth(&client_id, &tokens.refresh_token);
    refresh
        .auth_parameters
        .insert("SECRET_HASH".into(), right.clone());
    on_a.initiate_auth(refresh)
        .await
        .expect("refresh with the right hash");
    env.shutdown().await;
}
