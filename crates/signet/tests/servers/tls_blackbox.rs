//! Black-box: the built binary with TLS. `signet certs` makes a CA and role certificates;
//! a store and a gateway started with them speak mutual TLS to each other and TLS to the
//! public; `signet cluster` needs an operator certificate; and nothing listens in plaintext
//! beyond loopback unless told `--insecure-plaintext`.

use crate::support::bin;
use signet_testkit::ChildProcess;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

/// Run `signet args…` to completion (30 s at most), with no `SIGNET_*` settings inherited.
async fn run(args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SIGNET_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("signet {args:?} did not finish"))
        .expect("run signet")
}

fn ok(args: &[&str], out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "signet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "signet {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn refused(args: &[&str], out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "signet {args:?} succeeded: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in {stderr}"
    );
}

fn s(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// `signet gateway` with every flag it needs, codes in the dev outbox.
fn gateway<'a>(store: &'a str, grpc_addr: &'a str) -> Vec<&'a str> {
    vec![
        "gateway",
        "--store",
        store,
        "--grpc-addr",
        grpc_addr,
        "--http-addr",
        "127.0.0.1:0",
        "--public-url",
        "https://localhost:7411",
        "--admin-secret",
        "admin-secret-0123456789",
        "--server-secret",
        "0000000000000000000000000000000000000000000000000000000000000001",
        "--dev-outbox",
    ]
}

#[tokio::test]
async fn plaintext_beyond_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = s(&dir.path().join("data"));
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "store",
            "--node-id",
            "1",
            "--data-dir",
            &data,
            "--raft-addr",
            "0.0.0.0:0",
            "--api-addr",
            "127.0.0.1:0",
            "--init",
        ],
        // A public listener beyond loopback, and a store beyond loopback.
        gateway("127.0.0.1:1", "0.0.0.0:0"),
        gateway("10.0.0.1:7401", "127.0.0.1:0"),
        vec!["dev", "--data-dir", &data, "--http-addr", "0.0.0.0:0"],
    ];
    for args in &cases {
        let out = run(args).await;
        refused(args, &out, "--insecure-plaintext");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_and_a_gateway_speak_tls_with_certificates_from_signet_certs() {
    let dir = tempfile::tempdir().unwrap();
    let pki = s(&dir.path().join("pki"));
    let data = s(&dir.path().join("store-1"));
    let init = ["certs", "init", "--dir", &pki];
    ok(&init, &run(&init).await);
    // A second init must not overwrite the CA key.
    refused(&init, &run(&init).await, "must not exist");
    for (role, name) in [("store", "1"), ("gateway", "gw-1"), ("operator", "ops")] {
        let args = [
            "certs", "issue", "--dir", &pki, "--role", role, "--name", name,
        ];
        ok(&args, &run(&args).await);
    }
    let args = [
        "certs",
        "issue",
        "--dir",
        &pki,
        "--dns",
        "localhost",
        "--ip",
        "127.0.0.1",
    ];
    let server = ok(&args, &run(&args).await);
    let f = |n: &str| format!("{pki}/{n}");
    let (ca, tls_cert, tls_key) = (
        f("ca.crt"),
        server["cert"].as_str().unwrap().to_string(),
        server["key"].as_str().unwrap().to_string(),
    );

    let store = ChildProcess::start(
        bin(),
        &[
            "store",
            "--node-id",
            "1",
            "--data-dir",
            &data,
            "--raft-addr",
            "127.0.0.1:0",
            "--api-addr",
            "127.0.0.1:0",
            "--init",
            "--ca",
            &ca,
            "--cert",
            &f("store-1.crt"),
            "--key",
            &f("store-1.key"),
        ],
        Duration::from_secs(60),
    )
    .await;
    let api = store.ready["api_addr"].as_str().unwrap().to_string();

    // The operator's certificate opens `signet cluster`; none, or a gateway's, does not.
    let status = [
        "cluster",
        "status",
        "--endpoint",
        &api,
        "--ca",
        &ca,
        "--cert",
        &f("operator-ops.crt"),
        "--key",
        &f("operator-ops.key"),
    ];
    let out = ok(&status, &run(&status).await);
    assert_eq!(out["leader"], 1, "{out}");
    let plain = ["cluster", "status", "--endpoint", &api];
    assert!(!run(&plain).await.status.success());
    // `signet health` reaches the store's mutual-TLS API port with a certificate.
    let health = [
        "health",
        "--store",
        "--endpoint",
        &api,
        "--ca",
        &ca,
        "--cert",
        &f("operator-ops.crt"),
        "--key",
        &f("operator-ops.key"),
    ];
    let out = run(&health).await;
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
        (Some(0), "SERVING"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["health", "--endpoint", &api]).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "plaintext to a TLS port is unreachable"
    );
    let remove = [
        "cluster",
        "remove",
        "--node-id",
        "1",
        "--endpoint",
        &api,
        "--ca",
        &ca,
        "--cert",
        &f("gateway-gw-1.crt"),
        "--key",
        &f("gateway-gw-1.key"),
    ];
    // The CLI checks its own certificate first (the stores' refusal of a wrong role is
    // attacked in tests/tests/operations/mtls.rs).
    refused(&remove, &run(&remove).await, "needs an operator one");
    // A store refuses to start with another role's certificate.
    let wrong = [
        "store",
        "--node-id",
        "2",
        "--data-dir",
        &s(&dir.path().join("store-2")),
        "--raft-addr",
        "127.0.0.1:0",
        "--api-addr",
        "127.0.0.1:0",
        "--ca",
        &ca,
        "--cert",
        &f("gateway-gw-1.crt"),
        "--key",
        &f("gateway-gw-1.key"),
    ];
    refused(&wrong, &run(&wrong).await, "needs a store one");

    let (gw_cert, gw_key) = (f("gateway-gw-1.crt"), f("gateway-gw-1.key"));
    let mut args = gateway(&api, "127.0.0.1:0");
    args.extend([
        "--ca",
        ca.as_str(),
        "--cert",
        gw_cert.as_str(),
        "--key",
        gw_key.as_str(),
        "--tls-cert",
        tls_cert.as_str(),
        "--tls-key",
        tls_key.as_str(),
        // Its keys sign 10 s after they are published, not 70 s (for the chaos run below).
        "--jwks-max-age-secs",
        "0",
    ]);
    let gateway = ChildProcess::start(bin(), &args, Duration::from_secs(60)).await;
    let grpc = gateway.ready["grpc_addr"].as_str().unwrap().to_string();
    let port = grpc.rsplit_once(':').unwrap().1;
    let https = format!("https://localhost:{port}");

    // The admin CLI reaches the TLS gateway (checked against the CA and the host name),
    // and the gateway reaches the store over mutual TLS to answer.
    let list = [
        "admin",
        "--endpoint",
        &https,
        "--ca",
        &ca,
        "--admin-secret",
        "admin-secret-0123456789",
        "list-pools",
    ];
    let pools = ok(&list, &run(&list).await);
    assert!(pools.is_array() || pools.is_object(), "{pools}");
    // Plaintext to a TLS listener fails, and https without the CA is refused up front.
    let plain = [
        "admin",
        "--endpoint",
        &grpc,
        "--admin-secret",
        "admin-secret-0123456789",
        "list-pools",
    ];
    assert!(!run(&plain).await.status.success());
    let no_ca = [
        "admin",
        "--endpoint",
        &https,
        "--admin-secret",
        "admin-secret-0123456789",
        "list-pools",
    ];
    refused(&no_ca, &run(&no_ca).await, "--ca");

    // `signet chaos run --attach` drives this TLS cluster: the stores with the operator's
    // certificate, the admin API and the token endpoint over https, checked against the
    // CA. The HTTP base is the listener's own port, not the public URL the tokens name
    // (as behind a port-forward): the issuer comes from the pool's discovery document.
    let http_port = gateway.ready["http_addr"]
        .as_str()
        .unwrap()
        .rsplit_once(':')
        .unwrap()
        .1
        .to_string();
    let health = ["health", "--endpoint", &https, "--ca", &ca];
    signet_testkit::wait_for_async(
        "the gateway ready to sign",
        Duration::from_secs(60),
        || async { run(&health).await.status.success().then_some(()) },
    )
    .await;
    let run_dir = s(&dir.path().join("chaos"));
    let gateway_addr = format!("localhost:{port}=https://localhost:{http_port}");
    let chaos = [
        "chaos",
        "run",
        "--attach",
        "--store",
        &api,
        "--gateway",
        &gateway_addr,
        "--ca",
        &ca,
        "--cert",
        &f("operator-ops.crt"),
        "--key",
        &f("operator-ops.key"),
        "--admin-secret",
        "admin-secret-0123456789",
        "--workloads",
        "sign-ups,tokens",
        "--clients",
        "4",
        "--faults",
        "pause-gateway",
        "--fault-command",
        "pause-gateway=true",
        "--duration-s",
        "6",
        "--fault-every-ms",
        "1000",
        "--fault-for-ms",
        "500",
        "--seed",
        "5",
        "--json",
        "--dir",
        &run_dir,
    ];
    let out = run(&chaos).await;
    let report = ok(&chaos, &out);
    assert_eq!(report["anomalies"], 0, "{report:#}");
    let tokens = &report["workloads"]["tokens"];
    assert!(
        tokens["operations"]["ok"].as_u64().unwrap() > 5,
        "tokens were issued over https: {report:#}"
    );
    assert_eq!(
        tokens["verified"].as_u64().unwrap() + tokens["expired"].as_u64().unwrap(),
        tokens["operations"]["ok"].as_u64().unwrap(),
        "{report:#}"
    );

    assert_eq!(gateway.terminate(Duration::from_secs(20)).await, Some(0));
    assert_eq!(store.terminate(Duration::from_secs(20)).await, Some(0));
}
