//! Black-box: README's TOTP walkthrough with the real binary against `signet dev`: an
//! OPTIONAL pool, an authenticator set up with an access token (`totp-setup`, `totp-now`,
//! `totp-verify`, `mfa-preference`), a sign-in that asks for the code (`mfa-code`), a code
//! refused the second time; then an ON pool where a new user sets an authenticator up
//! during sign-in (MFA_SETUP through `totp-setup --session` and `totp-verify --session`).

use crate::support::{json_ok, start_dev, text, Cli, PASSWORD};
use signet_crypto::{base32_decode, totp_code, totp_step};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The next step's code: accepted now (the window is one step either side) and after any
/// code of the current step (which `totp-now` gives).
fn next_code(secret: &str) -> String {
    totp_code(&base32_decode(secret).unwrap(), totp_step(now_ms()) + 1)
}

/// A pool with MFA `mode`, a client, and a user with a permanent password.
async fn pool_with_user(cli: &Cli, mode: &str, user: &str) -> (String, String) {
    let pool = json_ok(
        "create-pool",
        &cli.admin(&["create-pool", "--name", "mfa"]).await,
    )["user_pool"]["id"]
        .clone();
    let pool = text(&pool);
    let client = text(
        &json_ok(
            "create-client",
            &cli.admin(&["create-client", "--pool", &pool, "--name", "web"])
                .await,
        )["user_pool_client"]["client_id"],
    );
    let cfg = json_ok(
        "set-mfa-config",
        &cli.admin(&["set-mfa-config", "--pool", &pool, "--mfa", mode])
            .await,
    );
    assert_eq!(cfg["mfa_configuration"], mode);
    assert_eq!(cfg["software_token_mfa"], true);
    let got = json_ok(
        "get-mfa-config",
        &cli.admin(&["get-mfa-config", "--pool", &pool]).await,
    );
    assert_eq!(got, cfg);
    for args in [
        vec![
            "create-user",
            "--pool",
            &pool,
            "--username",
            user,
            "--temporary-password",
            "Temp-Passw0rd!",
        ],
        vec![
            "set-password",
            "--pool",
            &pool,
            "--username",
            user,
            "--password",
            PASSWORD,
            "--permanent",
        ],
    ] {
        json_ok(args[0], &cli.admin(&args).await);
    }
    (pool, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);

    // OPTIONAL: alice signs in, sets an authenticator up and turns it on.
    let (pool, client) = pool_with_user(&cli, "OPTIONAL", "alice").await;
    let sign_in = ["sign-in", "--username", "alice", "--password", PASSWORD];
    let tokens = json_ok("sign-in", &cli.token_for(&client, &sign_in).await);
    let access = text(&tokens["authentication_result"]["access_token"]);
    let setup = json_ok(
        "totp-setup",
        &cli.token(&["totp-setup", "--access-token", &access]).await,
    );
    let secret = text(&setup["secret_code"]);
    assert!(text(&setup["otpauth_uri"]).contains(&format!("secret={secret}")));
    let now = json_ok(
        "totp-now",
        &cli.token(&["totp-now", "--secret", &secret]).await,
    );
    let code = text(&now["code"]);
    assert_eq!(code.len(), 6);
    assert!((1..=30).contains(&now["valid_for_s"].as_u64().unwrap()));
    let verified = json_ok(
        "totp-verify",
        &cli.token(&[
            "totp-verify",
            "--access-token",
            &access,
            "--code",
            &code,
            "--device-name",
            "laptop",
        ])
        .await,
    );
    assert_eq!(verified["status"], "SUCCESS");
    json_ok(
        "mfa-preference",
        &cli.token(&[
            "mfa-preference",
            "--access-token",
            &access,
            "--totp",
            "on",
            "--preferred",
        ])
        .await,
    );
    let me = json_ok(
        "whoami",
        &cli.token(&["whoami", "--access-token", &access]).await,
    );
    assert_eq!(me["preferred_mfa_setting"], "SOFTWARE_TOKEN_MFA");

    // The sign-in asks for a code; the next one signs in, once.
    let challenge = json_ok("sign-in", &cli.token_for(&client, &sign_in).await);
    assert_eq!(challenge["challenge_name"], "SOFTWARE_TOKEN_MFA");
    let session = text(&challenge["session"]);
    let next = next_code(&secret);
    let answer = |session: String, code: String| {
        let cli = &cli;
        let client = client.clone();
        async move {
            cli.token_for(
                &client,
                &[
                    "mfa-code",
                    "--username",
                    "alice",
                    "--session",
                    &session,
                    "--code",
                    &code,
                ],
            )
            .await
        }
    };
    let signed = json_ok("mfa-code", &answer(session, next.clone()).await);
    assert!(signed["authentication_result"]["id_token"].is_string());
    let again = json_ok("sign-in", &cli.token_for(&client, &sign_in).await);
    let out = answer(text(&again["session"]), next).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ExpiredCodeException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // ON: bob has no authenticator and sets one up during sign-in.
    let (_, client) = pool_with_user(&cli, "ON", "bob").await;
    let bob = ["sign-in", "--username", "bob", "--password", PASSWORD];
    let challenge = json_ok("sign-in", &cli.token_for(&client, &bob).await);
    assert_eq!(challenge["challenge_name"], "MFA_SETUP");
    let setup = json_ok(
        "totp-setup --session",
        &cli.token(&["totp-setup", "--session", &text(&challenge["session"])])
            .await,
    );
    let secret = text(&setup["secret_code"]);
    let now = json_ok(
        "totp-now",
        &cli.token(&["totp-now", "--secret", &secret]).await,
    );
    let done = json_ok(
        "totp-verify --session",
        &cli.token_for(
            &client,
            &[
                "totp-verify",
                "--session",
                &text(&setup["session"]),
                "--username",
                "bob",
                "--code",
                &text(&now["code"]),
            ],
        )
        .await,
    );
    assert!(
        done["authentication_result"]["access_token"].is_string(),
        "{done}"
    );
    let _ = pool;
}

/// README's e-mail MFA walkthrough: the pool offers codes by e-mail, the administrator turns
/// them on for a user with a verified address, the sign-in answers EMAIL_OTP, the code from
/// the dev outbox signs in (once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_mfa_walkthrough_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);
    let (pool, client) = pool_with_user(&cli, "OPTIONAL", "bob").await;
    let cfg = json_ok(
        "set-mfa-config",
        &cli.admin(&[
            "set-mfa-config",
            "--pool",
            &pool,
            "--mfa",
            "OPTIONAL",
            "--email",
            "on",
        ])
        .await,
    );
    assert_eq!(cfg["email_otp"], true);
    // No verified e-mail yet: refused.
    let user = ["--pool", pool.as_str(), "--username", "bob"];
    let on = [
        &["set-user-mfa"][..],
        &user,
        &["--email", "on", "--preferred"],
    ]
    .concat();
    let refused = cli.admin(&on).await;
    assert!(!refused.status.success(), "{refused:?}");
    json_ok(
        "update-user",
        &cli.admin(
            &[
                &["update-user"][..],
                &user,
                &[
                    "--attr",
                    "email=bob@example.com",
                    "--attr",
                    "email_verified=true",
                ],
            ]
            .concat(),
        )
        .await,
    );
    let set = json_ok("set-user-mfa", &cli.admin(&on).await);
    assert_eq!(set["email_otp"]["enabled"], true);

    let sign_in = ["sign-in", "--username", "bob", "--password", PASSWORD];
    let challenge = json_ok("sign-in", &cli.token_for(&client, &sign_in).await);
    assert_eq!(challenge["challenge_name"], "EMAIL_OTP", "{challenge}");
    assert_eq!(
        challenge["challenge_parameters"]["CODE_DELIVERY_DESTINATION"],
        "b***@e***.com"
    );
    let outbox = json_ok("outbox", &cli.admin(&["outbox", "--pool", &pool]).await);
    let code = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "bob" && m["purpose"] == "mfa:email")
        .map(|m| text(&m["code"]))
        .unwrap_or_else(|| panic!("no code in {outbox}"));
    let answer = [
        "mfa-code",
        "--challenge",
        "EMAIL_OTP",
        "--username",
        "bob",
        "--session",
        &text(&challenge["session"]),
        "--code",
        &code,
    ];
    let tokens = json_ok("mfa-code", &cli.token_for(&client, &answer).await);
    assert!(tokens["authentication_result"]["access_token"].is_string());
    let again = cli.token_for(&client, &answer).await;
    assert!(!again.status.success(), "a code signs in once");
}
