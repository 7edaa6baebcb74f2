//! Black-box: README's trigger commands with the real binary against `signet dev` (given a
//! webhook secret): `set-trigger` shows the trigger on the pool, a PreSignUp hook nobody
//! answers refuses sign-ups (UnexpectedLambdaException) until it is set to fail open,
//! `clear-trigger` removes it, `list-auth-events` shows the sign-up in the audit trail, `set-custom-auth` sets the three custom-auth triggers
//! together, and `hook-key` prints the pool's key, computed offline.

use crate::support::{bin, json_ok, text, Cli, PASSWORD};
use signet_testkit::{dev_args, ChildProcess};
use std::time::Duration;

const SECRET: &str = "walkthrough-webhook-secret-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dir = data_dir.to_str().unwrap().to_string();
    let dev = ChildProcess::start_with_env(
        bin(),
        &dev_args(&dir),
        &[("SIGNET_WEBHOOK_SECRET", SECRET)],
        Duration::from_secs(60),
    )
    .await;
    let cli = Cli::of(&dev, data_dir);
    let pool = text(
        &json_ok(
            "create-pool",
            &cli.admin(&["create-pool", "--name", "hooks"]).await,
        )["user_pool"]["id"],
    );
    let client = text(
        &json_ok(
            "create-client",
            &cli.admin(&["create-client", "--pool", &pool, "--name", "web"])
                .await,
        )["user_pool_client"]["client_id"],
    );

    // A URL where nothing listens: the port of a listener that was closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/pre-sign-up");
    let set = json_ok(
        "set-trigger",
        &cli.admin(&[
            "set-trigger",
            "--pool",
            &pool,
            "--trigger",
            "PreSignUp",
            "--url",
            &url,
            "--timeout-ms",
            "500",
        ])
        .await,
    );
    let hook = &set["user_pool"]["lambda_config"]["PreSignUp"];
    assert_eq!(hook["url"], url.as_str());
    assert_eq!(hook["timeout_ms"], 500);
    assert_eq!(hook["fail_open"], false);

    let sign_up = |name: &'static str| {
        let cli = &cli;
        let client = client.clone();
        async move {
            cli.token_for(
                &client,
                &["sign-up", "--username", name, "--password", PASSWORD],
            )
            .await
        }
    };
    let out = sign_up("ana").await;
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnexpectedLambdaException"), "{stderr}");
    assert!(stderr.contains("PreSignUp failed"), "{stderr}");

    // Failing open, the same hook no longer stands in the way.
    json_ok(
        "set-trigger --fail-open",
        &cli.admin(&[
            "set-trigger",
            "--pool",
            &pool,
            "--trigger",
            "PreSignUp",
            "--url",
            &url,
            "--fail-open",
        ])
        .await,
    );
    let signed = json_ok("sign-up", &sign_up("ana").await);
    assert_eq!(signed["user_confirmed"], false);

    let cleared = json_ok(
        "clear-trigger",
        &cli.admin(&["clear-trigger", "--pool", &pool, "--trigger", "PreSignUp"])
            .await,
    );
    assert!(cleared["user_pool"]["lambda_config"].is_null(), "{cleared}");

    // The audit trail shows the sign-up that made the user (the refused one came before the
    // user existed: it is kept in the pool's records, not shown as this user's).
    let mut story = Vec::new();
    for _ in 0..50 {
        let events = json_ok(
            "list-auth-events",
            &cli.admin(&["list-auth-events", "--pool", &pool, "--username", "ana"])
                .await,
        );
        story = events["auth_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    text(&e["action"]),
                    text(&e["event_response"]),
                    text(&e["exception"]),
                )
            })
            .collect::<Vec<_>>();
        if !story.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    story.reverse();
    assert_eq!(
        story,
        vec![("SignUp".to_string(), "Pass".to_string(), String::new())]
    );

    // The three custom-auth triggers go together.
    let custom = json_ok(
        "set-custom-auth",
        &cli.admin(&[
            "set-custom-auth",
            "--pool",
            &pool,
            "--define-url",
            "http://127.0.0.1:9/define",
            "--create-url",
            "http://127.0.0.1:9/create",
            "--verify-url",
            "http://127.0.0.1:9/verify",
        ])
        .await,
    );
    let l = &custom["user_pool"]["lambda_config"];
    assert_eq!(l["DefineAuthChallenge"]["url"], "http://127.0.0.1:9/define");
    assert_eq!(l["CreateAuthChallenge"]["url"], "http://127.0.0.1:9/create");
    assert_eq!(
        l["VerifyAuthChallengeResponse"]["url"],
        "http://127.0.0.1:9/verify"
    );
    let cleared = json_ok(
        "clear-trigger CustomAuth",
        &cli.admin(&["clear-trigger", "--pool", &pool, "--trigger", "CustomAuth"])
            .await,
    );
    assert!(cleared["user_pool"]["lambda_config"].is_null(), "{cleared}");

    // The pool's hook key, computed from the secret without asking the gateway.
    let out = cli
        .raw_with(
            &["admin", "hook-key", "--pool", &pool],
            None,
            &[("SIGNET_WEBHOOK_SECRET", SECRET)],
        )
        .await;
    let key = json_ok("hook-key", &out);
    let expected = signet_gateway::pool_hook_key(
        &signet_crypto::Secret::new(SECRET.as_bytes().to_vec()).unwrap(),
        &pool,
    );
    assert_eq!(
        key["hook_key"],
        String::from_utf8_lossy(expected.expose()).as_ref()
    );
    assert_eq!(text(&key["hook_key"]).len(), 64);
    let out = cli.raw(&["admin", "hook-key", "--pool", &pool]).await;
    assert_ne!(out.status.code(), Some(0), "no secret, no key");
}
