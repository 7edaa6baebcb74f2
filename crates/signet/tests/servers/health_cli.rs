//! Black-box: `signet health` against a running `signet dev` (its gateway and its store), a
//! gateway that cannot reach any store, a closed port, and a port that never answers. The
//! printed status and the exit status must agree with what the server says.

use crate::support::{start_dev, text, Cli};
use std::time::{Duration, Instant};

/// (exit code, stdout word, stderr) of `signet health <args>`.
async fn health(cli: &Cli, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["health"];
    all.extend_from_slice(args);
    let out = cli.raw(&all).await;
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_command_reports_status_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(&dir.path().join("data")).await;
    let cli = Cli::of(&dev, dir.path().join("data"));
    let grpc = text(&dev.ready["grpc_addr"]);
    let api = text(&dev.ready["api_addr"]);

    // A ready gateway and a store that can serve linearizable reads.
    let (code, word, err) = health(&cli, &["--endpoint", &grpc]).await;
    assert_eq!((code, word.as_str()), (Some(0), "SERVING"), "{err}");
    let (code, word, _) = health(&cli, &["--endpoint", &format!("http://{api}")]).await;
    assert_eq!((code, word.as_str()), (Some(0), "SERVING"));
    let store_service = ["--endpoint", &api, "--service", "signet.store.v1.Store"];
    let (code, word, _) = health(&cli, &store_service).await;
    assert_eq!((code, word.as_str()), (Some(0), "SERVING"));
    // A service the server does not know: answered, but not serving.
    let (code, word, err) = health(&cli, &["--endpoint", &api, "--service", "nope"]).await;
    assert_eq!((code, word.as_str()), (Some(1), "SERVICE_UNKNOWN"), "{err}");

    // A gateway whose store is unreachable answers NOT_SERVING (exit 1).
    let dead_store = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let gw = signet_gateway::start(
        signet_testkit::test_gateway_config(),
        signet_store::StoreClient::new(vec![dead_store.clone()]),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let gw_addr = gw.grpc_addr().to_string();
    let (code, word, err) = health(&cli, &["--endpoint", &gw_addr]).await;
    assert_eq!((code, word.as_str()), (Some(1), "NOT_SERVING"), "{err}");
    assert!(err.contains("NOT_SERVING"), "{err}");
    gw.shutdown().await;

    // Nothing listens: UNREACHABLE (exit 3), at once.
    let (code, word, err) = health(&cli, &["--endpoint", &dead_store]).await;
    assert_eq!((code, word.as_str()), (Some(3), "UNREACHABLE"), "{err}");
    assert!(err.contains(&dead_store), "{err}");

    // Something accepts connections but never speaks gRPC: UNREACHABLE after --timeout-ms.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let started = Instant::now();
    let args = ["--endpoint", &silent_addr, "--timeout-ms", "500"];
    let (code, word, err) = health(&cli, &args).await;
    let took = started.elapsed();
    assert_eq!((code, word.as_str()), (Some(3), "UNREACHABLE"), "{err}");
    assert!(err.contains("no answer within 500ms"), "{err}");
    // The process start plus the 500 ms budget, not the 2 s default.
    assert!(took < Duration::from_millis(1900), "took {took:?}");
    holder.abort();

    // Not an address: a usage error (exit 2).
    let (code, _, err) = health(&cli, &["--endpoint", "not an address"]).await;
    assert_eq!(code, Some(2), "{err}");

    // --help documents the exit statuses.
    let out = cli.raw(&["health", "--help"]).await;
    let help = String::from_utf8_lossy(&out.stdout);
    for line in ["0  SERVING", "1  the server answered", "3  UNREACHABLE"] {
        assert!(help.contains(line), "{help}");
    }
    assert_eq!(dev.terminate(Duration::from_secs(20)).await, Some(0));
}
