//! Black-box: `signet gateway` never falls back to the plaintext dev outbox. It refuses to
//! start without `--webhook-url` or an explicit `--dev-outbox`, refuses a webhook that is not
//! https (loopback http only with `--allow-insecure-loopback-http`) or has no signing secret,
//! and starts with either explicit choice.

use crate::support::bin;
use signet_testkit::ChildProcess;
use std::process::{Output, Stdio};
use std::time::Duration;

const SECRET: &str = "a-webhook-secret-of-at-least-32-characters";

/// The flags every gateway needs, with a store nobody listens on (the checks come first).
fn base() -> Vec<&'static str> {
    vec![
        "gateway",
        "--store",
        "127.0.0.1:1",
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--public-url",
        "http://127.0.0.1:7411",
        "--admin-secret",
        "admin-secret-0123456789",
        "--server-secret",
        "0000000000000000000000000000000000000000000000000000000000000001",
    ]
}

/// Run `signet gateway` with `extra` flags; it must exit on its own within 30 s.
async fn run(extra: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(base())
        .args(extra)
        .env_remove("SIGNET_WEBHOOK_URL")
        .env_remove("SIGNET_WEBHOOK_SECRET")
        .env_remove("SIGNET_DEV_OUTBOX")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("signet gateway {extra:?} kept running: it should refuse"))
        .expect("run signet gateway")
}

fn refused(extra: &[&str], out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{extra:?} started: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{extra:?}: {n:?} not in {stderr}");
    }
}

#[tokio::test]
async fn a_gateway_needs_an_explicit_code_delivery() {
    let out = run(&[]).await;
    refused(
        &[],
        &out,
        &[
            "no code delivery configured",
            "--webhook-url",
            "--dev-outbox",
        ],
    );

    let cases: [(&[&str], &[&str]); 5] = [
        (
            &[
                "--webhook-url",
                "http://example.com/codes",
                "--webhook-secret",
                SECRET,
            ],
            &["must use https"],
        ),
        (
            &[
                "--webhook-url",
                "http://127.0.0.1:9/codes",
                "--webhook-secret",
                SECRET,
            ],
            &["--allow-insecure-loopback-http"],
        ),
        (
            &["--webhook-url", "https://hooks.example.com/codes"],
            &["needs --webhook-secret"],
        ),
        (
            &[
                "--webhook-url",
                "https://hooks.example.com/codes",
                "--webhook-secret",
                "short",
            ],
            &["at least 32 characters"],
        ),
        (
            &[
                "--dev-outbox",
                "--webhook-url",
                "https://hooks.example.com/codes",
            ],
            &["cannot be used with"],
        ),
    ];
    for (extra, needles) in cases {
        refused(extra, &run(extra).await, needles);
    }
}

#[tokio::test]
async fn either_explicit_choice_starts() {
    for extra in [
        vec!["--dev-outbox"],
        vec![
            "--webhook-url",
            "http://127.0.0.1:9/codes",
            "--webhook-secret",
            SECRET,
            "--allow-insecure-loopback-http",
        ],
        vec![
            "--webhook-url",
            "https://hooks.example.com/codes",
            "--webhook-secret",
            SECRET,
        ],
    ] {
        let mut args = base();
        args.extend(extra);
        let gw = ChildProcess::start(bin(), &args, Duration::from_secs(60)).await;
        assert_eq!(gw.ready["role"], "gateway");
        gw.terminate(Duration::from_secs(30)).await;
    }
}
