//! Cognito's user-pool triggers as webhooks, each played by a local receiver, on a cluster
//! with two gateways: PreSignUp (refuse, auto-confirm and auto-verify, fail closed and
//! open, a malformed answer), PostConfirmation (after ConfirmSignUp and
//! ConfirmForgotPassword; a failing hook does not undo the confirmation), PreAuthentication
//! and PostAuthentication (refuse; unknown users under hidden existence), and UserMigration
//! (a race of sign-ins on both gateways creates the user once; ForgotPassword migrates).
//! Every call is signed with the pool's key; no event but UserMigration_Authentication
//! carries the password.

use crate::support::hooks::{pool_hook_key, verify_signature, Receiver, Reply};
use crate::support::pools::*;
use serde_json::{json, Value};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv, TEST_WEBHOOK_SECRET};
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";

fn hook(rx: &Receiver, path: &str, fail_open: bool) -> Option<pb::TriggerHookType> {
    Some(pb::TriggerHookType {
        url: format!("{}{path}", rx.base),
        timeout_ms: 1000,
        fail_open,
    })
}

/// A pool (e-mail verified at sign-up) with `triggers`, and a public client.
async fn pool_with(gw: &GatewayHandle, triggers: pb::LambdaConfigType) -> (String, String) {
    let pool = admin_client(gw)
        .await
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: "triggers".into(),
            auto_verified_attributes: vec!["email".into()],
            lambda_config: Some(triggers),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("create pool: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool
        .expect("pool");
    let client = public_client(gw, &pool.id, false).await;
    (pool.id, client)
}

/// Replace the pool's triggers on `env.a()` and wait until `env.b()` uses them.
async fn set_triggers(env: &TestEnv, pool: &str, triggers: pb::LambdaConfigType) {
    admin_client(env.a())
        .await
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.into(),
            lambda_config: Some(triggers.clone()),
            ..Default::default()
        }))
        .await
        .expect("set triggers");
    signet_testkit::wait_for_async("b follows the change", Duration::from_secs(10), || async {
        let p = admin_client(env.b())
            .await
            .describe_user_pool(admin(pb::UserPoolRef {
                user_pool_id: pool.into(),
            }))
            .await
            .ok()?
            .into_inner()
            .user_pool?;
        (p.lambda_config.unwrap_or_default() == triggers).then_some(())
    })
    .await;
}

fn sign_up(client: &str, username: &str, email: &str) -> pb::SignUpRequest {
    pb::SignUpRequest {
        client_id: client.into(),
        username: username.into(),
        password: PASSWORD.into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: email.into(),
        }],
        ..Default::default()
    }
}

async fn admin_get(gw: &GatewayHandle, pool: &str, name: &str) -> Result<pb::UserType, String> {
    admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(pool, name)))
        .await
        .map(|r| r.into_inner().user.expect("user"))
        .map_err(|e| exception(&e))
}

fn attr(u: &pb::UserType, name: &str) -> Option<String> {
    u.attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.value.clone())
}

/// Every request `rx` got at `path`, checked to be signed with the pool's key and to carry
/// no password (unless `password_allowed`), as JSON.
fn events(rx: &Receiver, path: &str, pool: &str, password_allowed: bool) -> Vec<Value> {
    let key = pool_hook_key(TEST_WEBHOOK_SECRET.as_bytes(), pool);
    rx.received_at(path)
        .into_iter()
        .map(|r| {
            verify_signature(&r, &key).expect("signed with the pool's key");
            if !password_allowed {
                let body = String::from_utf8_lossy(&r.body);
                assert!(!body.contains(PASSWORD), "a password in {body}");
            }
            r.json()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_sign_up_refuses_confirms_and_verifies() {
    let env = TestEnv::start(3, 2).await;
    let rx = Receiver::start().await;
    rx.respond(|r| {
        let ev = r.json();
        match ev["userName"].as_str().unwrap_or_default() {
            "mallory" => Reply::status(
                400,
                json!({"errorMessage": "sign-ups from this domain are closed"}),
            ),
            "auto" => Reply::ok(json!({"response": {"autoConfirmUser": true,
                "autoVerifyEmail": true, "autoVerifyPhone": true}})),
            "garbled" => Reply::ok(json!({"response": {"autoConfirmUser": "yes"}})),
            "broken" => Reply::status(500, json!({})),
            _ => Reply::ok(json!({"response": {}})),
        }
    });
    let triggers = pb::LambdaConfigType {
        pre_sign_up: hook(&rx, "/pre-sign-up", false),
        ..Default::default()
    };
    let (pool, client) = pool_with(env.a(), triggers).await;
    let mut b = auth_client(env.b()).await;

    // A refusal: the hook's message, and no user.
    let mut req = sign_up(&client, "mallory", "m@evil.example");
    req.validation_data = vec![pb::AttributeType {
        name: "invite".into(),
        value: "none".into(),
    }];
    req.client_metadata = [("campaign".to_string(), "winter".to_string())].into();
    let e = b.sign_up(req).await.expect_err("refused");
    assert_eq!(exception(&e), "UserLambdaValidationException");
    assert_eq!(
        e.message(),
        "PreSignUp failed with error sign-ups from this domain are closed."
    );
    assert_eq!(
        admin_get(env.a(), &pool, "mallory").await.unwrap_err(),
        "UserNotFoundException"
    );
    let ev = events(&rx, "/pre-sign-up", &pool, false).pop().unwrap();
    assert_eq!(ev["triggerSource"], "PreSignUp_SignUp");
    assert_eq!(ev["userPoolId"], pool.as_str());
    assert_eq!(ev["callerContext"]["clientId"], client.as_str());
    assert_eq!(ev["request"]["userAttributes"]["email"], "m@evil.example");
    assert_eq!(ev["request"]["validationData"]["invite"], "none");
    assert_eq!(ev["request"]["clientMetadata"]["campaign"], "winter");

    // Auto-confirm and auto-verify: no code, and the user signs in at once. No phone
    // number: nothing to mark verified.
    let r = b
        .sign_up(sign_up(&client, "auto", "auto@example.com"))
        .await
        .expect("auto")
        .into_inner();
    assert!(r.user_confirmed);
    assert!(r.code_delivery_details.is_none());
    let u = admin_get(env.a(), &pool, "auto").await.unwrap();
    assert_eq!(u.user_status, "CONFIRMED");
    assert_eq!(attr(&u, "email_verified").as_deref(), Some("true"));
    assert_eq!(attr(&u, "phone_number_verified"), None);
    assert!(outbox(env.a(), &pool).await.is_empty());
    sign_in(env.a(), &client, "auto", PASSWORD).await;

    // A plain answer: the usual unconfirmed user and code.
    let r = b
        .sign_up(sign_up(&client, "plain", "plain@example.com"))
        .await
        .expect("plain")
        .into_inner();
    assert!(!r.user_confirmed);
    outbox_code(env.a(), &pool, "plain", "confirm").await;

    // A malformed answer and a failure, fail-closed: refused, no user.
    let e = b
        .sign_up(sign_up(&client, "garbled", "g@example.com"))
        .await
        .expect_err("garbled");
    assert_eq!(exception(&e), "InvalidLambdaResponseException");
    assert!(e.message().contains("autoConfirmUser"), "{}", e.message());
    let e = b
        .sign_up(sign_up(&client, "broken", "b@example.com"))
        .await
        .expect_err("broken");
    assert_eq!(exception(&e), "UnexpectedLambdaException");
    for name in ["garbled", "broken"] {
        assert_eq!(
            admin_get(env.a(), &pool, name).await.unwrap_err(),
            "UserNotFoundException"
        );
    }

    // Fail-open: a failure signs up as if no hook were set; a refusal is still obeyed.
    set_triggers(
        &env,
        &pool,
        pb::LambdaConfigType {
            pre_sign_up: hook(&rx, "/pre-sign-up", true),
            ..Default::default()
        },
    )
    .await;
    let r = b
        .sign_up(sign_up(&client, "broken", "b@example.com"))
        .await
        .expect("fail-open")
        .into_inner();
    assert!(!r.user_confirmed);
    let e = b
        .sign_up(sign_up(&client, "mallory", "m@evil.example"))
        .await
        .expect_err("a refusal is obeyed when failing open");
    assert_eq!(exception(&e), "UserLambdaValidationException");

    // AdminCreateUser runs it too, with its own trigger source.
    admin_client(env.a())
        .await
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool.clone(),
            username: "staff".into(),
            user_attributes: vec![pb::AttributeType {
                name: "email".into(),
                value: "staff@example.com".into(),
            }],
            message_action: "SUPPRESS".into(),
            ..Default::default()
        }))
        .await
        .expect("admin create");
    let ev = events(&rx, "/pre-sign-up", &pool, false).pop().unwrap();
    assert_eq!(ev["triggerSource"], "PreSignUp_AdminCreateUser");
    assert_eq!(ev["userName"], "staff");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_confirmation_is_told_after_the_confirmation() {
    let env = TestEnv::start(3, 2).await;
    let rx = Receiver::start().await;
    let triggers = pb::LambdaConfigType {
        post_confirmation: hook(&rx, "/post-confirmation", false),
        ..Default::default()
    };
    let (pool, client) = pool_with(env.a(), triggers).await;
    let mut b = auth_client(env.b()).await;

    b.sign_up(sign_up(&client, "nia", "nia@example.com"))
        .await
        .expect("sign up");
    assert!(rx.received().is_empty(), "told before the confirmation");
    let code = outbox_code(env.a(), &pool, "nia", "confirm").await;
    b.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client.clone(),
        username: "nia".into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .expect("confirm");
    let evs = events(&rx, "/post-confirmation", &pool, false);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["triggerSource"], "PostConfirmation_ConfirmSignUp");
    let attrs = &evs[0]["request"]["userAttributes"];
    assert_eq!(attrs["cognito:user_status"], "CONFIRMED");
    assert_eq!(attrs["email_verified"], "true");
    assert_eq!(attrs["email"], "nia@example.com");
    assert!(attrs["sub"].as_str().is_some_and(|s| s.len() == 36));

    // ConfirmForgotPassword tells it too; the new password is in no event.
    b.forgot_password(pb::ClientUserRequest {
        client_id: client.clone(),
        username: "nia".into(),
        ..Default::default()
    })
    .await
    .expect("forgot");
    let code = outbox_code(env.a(), &pool, "nia", "reset").await;
    b.confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
        client_id: client.clone(),
        username: "nia".into(),
        confirmation_code: code,
        password: "N3w-Password!".into(),
        ..Default::default()
    })
    .await
    .expect("reset");
    let evs = events(&rx, "/post-confirmation", &pool, false);
    assert_eq!(evs.len(), 2);
    assert_eq!(
        evs[1]["triggerSource"],
        "PostConfirmation_ConfirmForgotPassword"
    );
    assert!(!String::from_utf8_lossy(&rx.received()[1].body).contains("N3w-Password!"));

    // A failing hook (fail-closed) fails the call, but the user stays confirmed, as in
    // Cognito: the confirmation was durable before the hook was asked.
    rx.respond(|_| Reply::status(503, json!({})));
    b.sign_up(sign_up(&client, "omar", "omar@example.com"))
        .await
        .expect("sign up");
    let code = outbox_code(env.a(), &pool, "omar", "confirm").await;
    let e = b
        .confirm_sign_up(pb::ConfirmSignUpRequest {
            client_id: client.clone(),
            username: "omar".into(),
            confirmation_code: code,
            ..Default::default()
        })
        .await
        .expect_err("hook down");
    assert_eq!(exception(&e), "UnexpectedLambdaException");
    assert!(
        e.message().starts_with("PostConfirmation failed"),
        "{}",
        e.message()
    );
    let u = admin_get(env.a(), &pool, "omar").await.unwrap();
    assert_eq!(u.user_status, "CONFIRMED");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_and_post_authentication_may_refuse_a_sign_in() {
    let env = TestEnv::start(3, 2).await;
    let rx = Receiver::start().await;
    rx.respond(|r| {
        let ev = r.json();
        let user = ev["userName"].as_str().unwrap_or_default().to_string();
        match (r.path.as_str(), user.as_str()) {
            ("/pre-auth", "blocked") => {
                Reply::status(403, json!({"errorMessage": "outside office hours"}))
            }
            ("/post-auth", "audited") => Reply::status(400, json!({"message": "audit failed"})),
            _ => Reply::ok(json!({"response": {}})),
        }
    });
    let triggers = pb::LambdaConfigType {
        pre_authentication: hook(&rx, "/pre-auth", false),
        post_authentication: hook(&rx, "/post-auth", false),
        ..Default::default()
    };
    let (pool, client) = pool_with(env.a(), triggers).await;
    for name in ["ok", "blocked", "audited"] {
        confirmed_user(
            env.a(),
            &pool,
            &client,
            name,
            &format!("{name}@example.com"),
            PASSWORD,
        )
        .await;
    }
    let mut b = auth_client(env.b()).await;

    // Allowed: both hooks told, in order, with the user's attributes and the call's
    // ClientMetadata; tokens.
    let mut req = password_auth(&client, "ok", PASSWORD);
    req.client_metadata
        .insert("campaign".into(), "spring".into());
    let tokens = b.initiate_auth(req).await.expect("sign in").into_inner();
    assert!(tokens.authentication_result.is_some());
    let pre = events(&rx, "/pre-auth", &pool, false);
    let post = events(&rx, "/post-auth", &pool, false);
    assert_eq!((pre.len(), post.len()), (1, 1));
    // As in Cognito: InitiateAuth's ClientMetadata is PreAuthentication's validationData,
    // and not given to PostAuthentication.
    assert_eq!(pre[0]["request"]["validationData"]["campaign"], "spring");
    assert_eq!(post[0]["request"]["clientMetadata"], json!({}));
    assert_eq!(pre[0]["triggerSource"], "PreAuthentication_Authentication");
    assert_eq!(pre[0]["request"]["userNotFound"], false);
    assert_eq!(
        pre[0]["request"]["userAttributes"]["email"],
        "ok@example.com"
    );
    assert_eq!(
        post[0]["triggerSource"],
        "PostAuthentication_Authentication"
    );
    assert_eq!(post[0]["callerContext"]["clientId"], client.as_str());

    // A wrong password: PreAuthentication is asked, PostAuthentication is not.
    let e = b
        .initiate_auth(password_auth(&client, "ok", "Wr0ng-Password!"))
        .await
        .expect_err("wrong password");
    assert_eq!(exception(&e), "NotAuthorizedException");
    assert_eq!(events(&rx, "/pre-auth", &pool, true).len(), 2);
    assert_eq!(events(&rx, "/post-auth", &pool, false).len(), 1);

    // PreAuthentication refuses: the hook's message, and no password is checked.
    let e = b
        .initiate_auth(password_auth(&client, "blocked", PASSWORD))
        .await
        .expect_err("pre-auth refuses");
    assert_eq!(exception(&e), "UserLambdaValidationException");
    assert_eq!(
        e.message(),
        "PreAuthentication failed with error outside office hours."
    );
    // PostAuthentication refuses: no tokens after the right password.
    let e = b
        .initiate_auth(password_auth(&client, "audited", PASSWORD))
        .await
        .expect_err("post-auth refuses");
    assert_eq!(exception(&e), "UserLambdaValidationException");
    assert_eq!(
        e.message(),
        "PostAuthentication failed with error audit failed."
    );

    // An unknown user (existence hidden): asked with userNotFound, then the usual answer.
    let e = b
        .initiate_auth(password_auth(&client, "nobody", PASSWORD))
        .await
        .expect_err("unknown");
    assert_eq!(e.message(), "Incorrect username or password.");
    let last = events(&rx, "/pre-auth", &pool, true).pop().unwrap();
    assert_eq!(last["userName"], "nobody");
    assert_eq!(last["request"]["userNotFound"], true);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_migration_creates_the_user_once_under_a_race() {
    let env = TestEnv::start(3, 2).await;
    let rx = Receiver::start().await;
    // The old directory: "legacy" with PASSWORD; "resetme" known, password unknown here.
    rx.respond(|r| {
        let ev = r.json();
        let user = ev["userName"].as_str().unwrap_or_default();
        let source = ev["triggerSource"].as_str().unwrap_or_default();
        let attrs = |email: &str| json!({"email": email, "email_verified": "true"});
        match (source, user) {
            ("UserMigration_Authentication", "legacy") if ev["request"]["password"] == PASSWORD => {
                Reply::ok(
                    json!({"response": {"userAttributes": attrs("legacy@example.com"),
                    "finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}}),
                )
                .after(Duration::from_millis(50))
            }
            ("UserMigration_ForgotPassword", "resetme") => Reply::ok(
                json!({"response": {"userAttributes": attrs("resetme@example.com"),
                    "messageAction": "SUPPRESS"}}),
            ),
            _ => Reply::status(400, json!({"errorMessage": "Bad password"})),
        }
    });
    let triggers = pb::LambdaConfigType {
        user_migration: hook(&rx, "/migrate", false),
        ..Default::default()
    };
    let (pool, client) = pool_with(env.a(), triggers).await;

    // A wrong password: the answer of any unknown user, and no user.
    let e = auth_client(env.b())
        .await
        .initiate_auth(password_auth(&client, "legacy", "Wr0ng-Password!"))
        .await
        .expect_err("wrong password");
    assert_eq!(exception(&e), "NotAuthorizedException");
    assert_eq!(e.message(), "Incorrect username or password.");
    assert_eq!(
        admin_get(env.a(), &pool, "legacy").await.unwrap_err(),
        "UserNotFoundException"
    );

    // Four first sign-ins at once, on both gateways: every one gets tokens, for one user.
    // (Four: the racers that find the user created check the password like any sign-in,
    // each a reserved guess, and more than the lockout threshold at once would be refused.)
    let mut tasks = Vec::new();
    for i in 0..4 {
        let gw = if i % 2 == 0 { env.a() } else { env.b() };
        let mut c = auth_client(gw).await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            c.initiate_auth(password_auth(&client, "legacy", PASSWORD))
                .await
                .map(|r| r.into_inner().authentication_result.expect("tokens"))
                .map_err(|e| format!("{}: {}", exception(&e), e.message()))
        }));
    }
    let mut subs = std::collections::BTreeSet::new();
    for t in tasks {
        let tokens = t.await.unwrap().expect("a racing sign-in");
        let sub = crate::support::identity::claims_of(&tokens.id_token)["sub"].clone();
        subs.insert(sub.as_str().expect("sub").to_string());
    }
    assert_eq!(subs.len(), 1, "{subs:?}");
    let u = admin_get(env.a(), &pool, "legacy").await.unwrap();
    assert_eq!(u.user_status, "CONFIRMED");
    assert_eq!(attr(&u, "email").as_deref(), Some("legacy@example.com"));
    assert_eq!(attr(&u, "sub").as_ref(), subs.first());
    let stored = stored_user(&env, &pool, "legacy").await;
    assert!(stored.password_hash.is_some() && stored.srp.is_some());

    // From now on the pool knows the user: the hook is not asked again, and a wrong
    // password is an ordinary wrong password.
    let asked = rx.received_at("/migrate").len();
    sign_in(env.b(), &client, "legacy", PASSWORD).await;
    let e = auth_client(env.a())
        .await
        .initiate_auth(password_auth(&client, "legacy", "Wr0ng-Password!"))
        .await
        .expect_err("wrong password");
    assert_eq!(exception(&e), "NotAuthorizedException");
    assert_eq!(rx.received_at("/migrate").len(), asked);
    let ev = events(&rx, "/migrate", &pool, true).pop().unwrap();
    assert_eq!(ev["triggerSource"], "UserMigration_Authentication");
    assert_eq!(ev["callerContext"]["clientId"], client.as_str());

    // ForgotPassword migrates a user without a password: RESET_REQUIRED, a code to the
    // verified e-mail the hook gave, and the code sets the password.
    let mut b = auth_client(env.b()).await;
    let d = b
        .forgot_password(pb::ClientUserRequest {
            client_id: client.clone(),
            username: "resetme".into(),
            ..Default::default()
        })
        .await
        .expect("forgot")
        .into_inner()
        .code_delivery_details
        .expect("delivery");
    assert_eq!(d.delivery_medium, "EMAIL");
    let ev = events(&rx, "/migrate", &pool, true).pop().unwrap();
    assert_eq!(ev["triggerSource"], "UserMigration_ForgotPassword");
    assert!(ev["request"].get("password").is_none());
    assert!(!ev.to_string().contains(PASSWORD));
    assert_eq!(
        admin_get(env.a(), &pool, "resetme")
            .await
            .unwrap()
            .user_status,
        "RESET_REQUIRED"
    );
    let code = outbox_code(env.a(), &pool, "resetme", "reset").await;
    b.confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
        client_id: client.clone(),
        username: "resetme".into(),
        confirmation_code: code,
        password: "N3w-Password!".into(),
        ..Default::default()
    })
    .await
    .expect("reset");
    sign_in(env.a(), &client, "resetme", "N3w-Password!").await;

    // An unknown user the hook does not know either: the decoy answer.
    let d = b
        .forgot_password(pb::ClientUserRequest {
            client_id: client.clone(),
            username: "stranger".into(),
            ..Default::default()
        })
        .await
        .expect("decoy")
        .into_inner();
    assert!(d.code_delivery_details.is_some());
    assert_eq!(
        admin_get(env.a(), &pool, "stranger").await.unwrap_err(),
        "UserNotFoundException"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_message_writes_the_message_around_the_code() {
    use signet_gateway::NotifierConfig;
    use signet_testkit::{start_gateway, test_gateway_config, TestCluster};
    let cluster = TestCluster::start(1).await;
    let rx = Receiver::start().await;
    rx.respond(|r| {
        let ev = r.json();
        match (
            r.path.as_str(),
            ev["triggerSource"].as_str().unwrap_or_default(),
        ) {
            ("/custom-message", "CustomMessage_SignUp") => Reply::ok(json!({"response": {
                "emailSubject": "Welcome",
                "emailMessage": "Hello, your code is {####}.",
                "smsMessage": null}})),
            ("/custom-message", "CustomMessage_AdminCreateUser") => Reply::ok(json!({"response": {
                    "emailSubject": "You are invited",
                    "emailMessage": "Sign in as {username} with {####}."}})),
            // A message without the code: refused, and no code goes out.
            ("/custom-message", _) => {
                Reply::ok(json!({"response": {"emailMessage": "Forgot? Too bad."}}))
            }
            _ => Reply::ok(json!({})),
        }
    });
    let mut cfg = test_gateway_config();
    cfg.notifier = NotifierConfig::Webhook(format!("{}/codes", rx.base));
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let (pool, client) = pool_with(
        &gw,
        pb::LambdaConfigType {
            custom_message: hook(&rx, "/custom-message", false),
            ..Default::default()
        },
    )
    .await;
    let mut auth = auth_client(&gw).await;
    auth.sign_up(sign_up(&client, "una", "una@example.com"))
        .await
        .expect("sign up");
    let sent = signet_testkit::wait_for("the code", Duration::from_secs(10), || {
        rx.received_at("/codes").first().map(|r| r.json())
    })
    .await;
    let code = sent["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert_eq!(sent["message"], format!("Hello, your code is {code}."));
    assert_eq!(sent["subject"], "Welcome");
    // The hook saw the placeholder, never the code.
    let evs = events(&rx, "/custom-message", &pool, false);
    assert_eq!(evs[0]["triggerSource"], "CustomMessage_SignUp");
    assert_eq!(evs[0]["request"]["codeParameter"], "{####}");
    assert!(!rx.received_at("/custom-message")[0]
        .json()
        .to_string()
        .contains(&code));

    // A message without the code parameter: the call fails, no code is sent.
    auth.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client.clone(),
        username: "una".into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .expect("confirm");
    let e = auth
        .forgot_password(pb::ClientUserRequest {
            client_id: client.clone(),
            username: "una".into(),
            ..Default::default()
        })
        .await
        .expect_err("no code in the message");
    assert_eq!(exception(&e), "InvalidLambdaResponseException");
    assert!(e.message().contains("{####}"), "{}", e.message());
    assert_eq!(rx.received_at("/codes").len(), 1);

    // AdminCreateUser's invitation: the username and the temporary password put in.
    admin_client(&gw)
        .await
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool.clone(),
            username: "vik".into(),
            temporary_password: "Temp-Passw0rd!".into(),
            user_attributes: vec![pb::AttributeType {
                name: "email".into(),
                value: "vik@example.com".into(),
            }],
            ..Default::default()
        }))
        .await
        .expect("admin create");
    let invite = signet_testkit::wait_for("the invitation", Duration::from_secs(10), || {
        rx.received_at("/codes").get(1).map(|r| r.json())
    })
    .await;
    assert_eq!(invite["message"], "Sign in as vik with Temp-Passw0rd!.");
    assert_eq!(invite["subject"], "You are invited");
    gw.shutdown().await;
    cluster.shutdown().await;
}
