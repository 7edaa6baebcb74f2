//! Remembered devices with a client nobody here wrote: pycognito (PyPI) makes the device's
//! secret and verifier and does all of DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER. A device
//! is confirmed only by the sign-in it was issued to; once the user says to remember it, its
//! proof stands in for the second factor (never for the password); not remembered, forgotten,
//! another user's, a wrong secret, or a DEVICE_SRP_AUTH without the password's session: the
//! second factor or a refusal.

use crate::support::clients::python_client;
use crate::support::pools::*;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv};
use std::path::Path;

const PASSWORD: &str = "Device-Passw0rd!";

/// pycognito's USER_SRP_AUTH, as the device in `state` (if any): the printed JSON.
async fn pycognito(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    user: &str,
    state: Option<&Path>,
) -> serde_json::Value {
    let mut args: Vec<String> = vec![
        format!("http://{}", gw.http_addr()),
        pool.into(),
        client.into(),
        user.into(),
        PASSWORD.into(),
    ];
    if let Some(s) = state {
        args.push(s.display().to_string());
    }
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python_client("cognito_srp_sign_in.py", &args)
    })
    .await
    .unwrap()
}

/// pycognito's device secret and verifier, confirmed with `access_token`.
async fn confirm_device(
    gw: &GatewayHandle,
    access_token: &str,
    meta: &pb::NewDeviceMetadataType,
    state: &Path,
) -> serde_json::Value {
    let args: Vec<String> = vec![
        "confirm-device".into(),
        format!("http://{}", gw.http_addr()),
        access_token.into(),
        meta.device_key.clone(),
        meta.device_group_key.clone(),
        state.display().to_string(),
    ];
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python_client("cognito_srp_sign_in.py", &args)
    })
    .await
    .unwrap()
}

/// A pool that tracks devices (remembered when the user says so) with email codes as an
/// optional second factor, and a user with them on.
async fn setup(env: &TestEnv, names: &[&str]) -> (String, String) {
    let (pool, client) = pool_and_client(env.a(), false).await;
    let mut a = admin_client(env.a()).await;
    let current = a
        .describe_user_pool(admin(pb::UserPoolRef {
            user_pool_id: pool.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .user_pool
        .unwrap();
    let updated = a
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool.clone(),
            device_configuration: Some(pb::DeviceConfigurationType {
                challenge_required_on_new_device: true,
                device_only_remembered_on_user_prompt: true,
            }),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("device tracking: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool
        .unwrap();
    assert_eq!(updated.name, current.name);
    assert!(updated
        .device_configuration
        .is_some_and(|d| d.device_only_remembered_on_user_prompt));
    a.set_user_pool_mfa_config(admin(pb::SetUserPoolMfaConfigRequest {
        user_pool_id: pool.clone(),
        mfa_configuration: "OPTIONAL".into(),
        email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: true }),
        ..Default::default()
    }))
    .await
    .expect("MFA");
    for name in names {
        confirmed_user(
            env.a(),
            &pool,
            &client,
            name,
            &format!("{name}@example.com"),
            PASSWORD,
        )
        .await;
        a.admin_set_user_mfa_preference(admin(pb::AdminSetUserMfaPreferenceRequest {
            user_pool_id: pool.clone(),
            username: name.to_string(),
            email_mfa_settings: Some(pb::MfaSettingsType {
                enabled: true,
                preferred_mfa: true,
            }),
            ..Default::default()
        }))
        .await
        .expect("email MFA on");
    }
    (pool, client)
}

/// USER_PASSWORD_AUTH (naming `device`), then the emailed code: the tokens.
async fn sign_in_with_code(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    user: &str,
    device: Option<&str>,
) -> pb::AuthenticationResultType {
    let mut req = password_auth(client, user, PASSWORD);
    if let Some(d) = device {
        req.auth_parameters.insert("DEVICE_KEY".into(), d.into());
    }
    let mut c = auth_client(gw).await;
    let r = c.initiate_auth(req).await.expect("password").into_inner();
    assert_eq!(r.challenge_name, "EMAIL_OTP", "{r:?}");
    let code = outbox_code(gw, pool, user, "mfa:email").await;
    c.respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
        client_id: client.into(),
        challenge_name: "EMAIL_OTP".into(),
        session: r.session,
        challenge_responses: params(&[("USERNAME", user), ("EMAIL_OTP_CODE", &code)]),
        client_metadata: Default::default(),
    })
    .await
    .unwrap_or_else(|e| panic!("code: {}: {}", exception(&e), e.message()))
    .into_inner()
    .authentication_result
    .expect("tokens")
}

fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_device_stands_in_for_the_second_factor_and_nothing_else_does() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = setup(&env, &["dev", "eve"]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("device.json");

    // First sign-in: the second factor, then a new device key bound to this sign-in.
    let tokens = sign_in_with_code(env.a(), &pool, &client, "dev", None).await;
    let meta = tokens
        .new_device_metadata
        .clone()
        .expect("NewDeviceMetadata");
    assert_eq!(claims(&tokens.access_token)["device_key"], meta.device_key);
    assert!(meta.device_key.starts_with(pool.split('_').next().unwrap()));

    // Another key than the one this sign-in was given cannot be confirmed with it.
    let other = auth_client(env.b())
        .await
        .confirm_device(pb::ConfirmDeviceRequest {
            access_token: tokens.access_token.clone(),
            device_key: format!("{}0", meta.device_key),
            device_secret_verifier_config: Some(pb::DeviceSecretVerifierConfigType {
                password_verifier: "AQID".into(),
                salt: "AQID".into(),
            }),
            device_name: "forged".into(),
        })
        .await
        .expect_err("a key of another sign-in");
    assert_eq!(exception(&other), "InvalidParameterException");

    let confirmed = confirm_device(env.b(), &tokens.access_token, &meta, &state).await;
    assert_eq!(confirmed["UserConfirmationNecessary"], true, "{confirmed}");
    // Once per key.
    let again = confirm_device(env.a(), &tokens.access_token, &meta, &dir.path().join("x")).await;
    assert!(
        again["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("InvalidParameterException"),
        "{again}"
    );

    // Confirmed but not remembered: the device does not skip the second factor.
    let out = pycognito(env.a(), &pool, &client, "dev", Some(&state)).await;
    assert_eq!(out["challenge"], "EMAIL_OTP", "{out}");

    let mut c = auth_client(env.b()).await;
    c.update_device_status(pb::UpdateDeviceStatusRequest {
        access_token: tokens.access_token.clone(),
        device_key: meta.device_key.clone(),
        device_remembered_status: "remembered".into(),
    })
    .await
    .expect("remember");
    let listed = c
        .list_devices(pb::ListDevicesRequest {
            access_token: tokens.access_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.devices.len(), 1);
    let attrs: Vec<(String, String)> = listed.devices[0]
        .device_attributes
        .iter()
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect();
    assert!(attrs.contains(&("dev:device_remembered_status".into(), "remembered".into())));
    assert!(attrs.contains(&("device_name".into(), "pycognito".into())));

    // Remembered: pycognito's device proof replaces the code; no code is sent.
    let code_before = outbox_code(env.a(), &pool, "dev", "mfa:email").await;
    let out = pycognito(env.b(), &pool, &client, "dev", Some(&state)).await;
    let t = &out["tokens"];
    assert!(t["AccessToken"].is_string(), "{out}");
    assert_eq!(
        claims(t["AccessToken"].as_str().unwrap())["device_key"],
        meta.device_key
    );
    assert!(
        t.get("NewDeviceMetadata").is_none(),
        "a known device is not new: {out}"
    );
    assert_eq!(
        outbox_code(env.a(), &pool, "dev", "mfa:email").await,
        code_before,
        "no code was sent"
    );

    // DEVICE_SRP_AUTH needs the session of the password's step: the device secret alone
    // (an attacker who copied it) gets nothing.
    let mut req = password_auth(&client, "dev", PASSWORD);
    req.auth_parameters
        .insert("DEVICE_KEY".into(), meta.device_key.clone());
    let r = c.initiate_auth(req).await.unwrap().into_inner();
    assert_eq!(r.challenge_name, "DEVICE_SRP_AUTH", "{r:?}");
    for session in ["", "not-a-session"] {
        let e = c
            .respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
                client_id: client.clone(),
                challenge_name: "DEVICE_SRP_AUTH".into(),
                session: session.into(),
                challenge_responses: params(&[
                    ("USERNAME", "dev"),
                    ("DEVICE_KEY", &meta.device_key),
                    ("SRP_A", "abcdef0123456789"),
                ]),
                client_metadata: Default::default(),
            })
            .await
            .expect_err("no password first");
        assert_eq!(exception(&e), "NotAuthorizedException", "{}", e.message());
    }
    // The session is for this device only.
    let e = c
        .respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
            client_id: client.clone(),
            challenge_name: "DEVICE_SRP_AUTH".into(),
            session: r.session.clone(),
            challenge_responses: params(&[
                ("USERNAME", "dev"),
                ("DEVICE_KEY", &format!("{}x", meta.device_key)),
                ("SRP_A", "abcdef0123456789"),
            ]),
            client_metadata: Default::default(),
        })
        .await
        .expect_err("another device key");
    assert_eq!(exception(&e), "NotAuthorizedException");

    // A wrong device secret is refused (counted through the log like a wrong password).
    let mut bad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    bad["password"] = "not-the-device-secret".into();
    let bad_state = dir.path().join("bad.json");
    std::fs::write(&bad_state, bad.to_string()).unwrap();
    let out = pycognito(env.a(), &pool, &client, "dev", Some(&bad_state)).await;
    assert!(out["tokens"].is_null(), "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .starts_with("NotAuthorizedException"),
        "{out}"
    );

    // Another user naming dev's device key: not theirs, so their second factor is asked.
    let mut req = password_auth(&client, "eve", PASSWORD);
    req.auth_parameters
        .insert("DEVICE_KEY".into(), meta.device_key.clone());
    let r = c.initiate_auth(req).await.unwrap().into_inner();
    assert_eq!(r.challenge_name, "EMAIL_OTP", "{r:?}");

    // Forgotten by an administrator: the second factor again, and the device is gone.
    let mut a = admin_client(env.b()).await;
    let got = a
        .admin_get_device(admin(pb::AdminDeviceRequest {
            user_pool_id: pool.clone(),
            username: "dev".into(),
            device_key: meta.device_key.clone(),
        }))
        .await
        .expect("AdminGetDevice")
        .into_inner()
        .device
        .unwrap();
    assert_eq!(got.device_key, meta.device_key);
    a.admin_forget_device(admin(pb::AdminDeviceRequest {
        user_pool_id: pool.clone(),
        username: "dev".into(),
        device_key: meta.device_key.clone(),
    }))
    .await
    .expect("forget");
    let out = pycognito(env.a(), &pool, &client, "dev", Some(&state)).await;
    assert_eq!(out["challenge"], "EMAIL_OTP", "{out}");
    let e = c
        .get_device(pb::DeviceRequest {
            access_token: tokens.access_token.clone(),
            device_key: meta.device_key.clone(),
        })
        .await
        .expect_err("forgotten");
    assert_eq!(exception(&e), "ResourceNotFoundException");
    let listed = a
        .admin_list_devices(admin(pb::AdminListDevicesRequest {
            user_pool_id: pool.clone(),
            username: "dev".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.devices.is_empty());
}
