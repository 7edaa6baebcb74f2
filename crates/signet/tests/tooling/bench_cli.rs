//! Black-box: `signet bench` (the load generator) against `signet dev` run as a child
//! process. Every scenario runs a fixed number of operations; what the bench counts must
//! be exactly what the server's own `/metrics` counted, the fixtures it made must be gone
//! afterwards, and bad invocations (a non-loopback target, a bad mix, a wrong admin
//! secret) are refused with a clear message.

use crate::support::{bin, json_ok, start_dev, text, Cli};
use serde_json::Value;
use signet_testkit::{dev_args, ChildProcess};
use std::process::Output;

/// `signet bench <args> --json --quiet` against `dev`, with no warm-up.
async fn bench(cli: &Cli, dev: &ChildProcess, args: &[&str]) -> Output {
    let http = text(&dev.ready["http_addr"]);
    let dir = cli.data_dir.to_str().expect("utf-8 dir").to_string();
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--endpoint",
        &cli.grpc,
        "--http",
        &http,
        "--data-dir",
        &dir,
        "--warmup",
        "0",
        "--json",
        "--quiet",
    ]);
    cli.raw(&all).await
}

/// The report of a run that must succeed with `n` operations and no error.
fn clean_run(what: &str, out: &Output, n: u64) -> Value {
    let r = json_ok(what, out);
    assert_eq!(r["ok"], n, "{what}: {r}");
    assert_eq!(r["errors"], serde_json::json!({}), "{what}: {r}");
    assert_eq!(r["debug_build"], cfg!(debug_assertions));
    assert!(
        r["latency_ms"]["p50"].as_f64().unwrap() > 0.0,
        "{what}: {r}"
    );
    assert!(
        r["latency_ms"]["max"].as_f64() >= r["latency_ms"]["p99"].as_f64(),
        "{what}: {r}"
    );
    r
}

/// What the server counted as issued of `kind` during the measured phase.
fn issued(r: &Value, kind: &str) -> u64 {
    r["server"]["tokens_issued"][kind]
        .as_f64()
        .unwrap_or_else(|| panic!("no server count of {kind}: {r}")) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_and_its_counts_match_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    // The edge authorizer's route the `authorize` scenario asks about.
    let routes = dir.path().join("authorizer.toml");
    std::fs::write(
        &routes,
        "[[route]]\nprefix = \"/bench\"\npools = [\"*\"]\nscopes = [\"bench-orders/read\"]\n",
    )
    .unwrap();
    let dev = ChildProcess::start_with_env(
        bin(),
        &dev_args(dir.path().to_str().unwrap()),
        &[("SIGNET_AUTHORIZER_CONFIG", routes.to_str().unwrap())],
        std::time::Duration::from_secs(60),
    )
    .await;
    let cli = Cli::of(&dev, dir.path().to_path_buf());
    // A pool of someone else's: the bench must leave it alone.
    json_ok(
        "create pool",
        &cli.admin(&["create-pool", "--name", "not-the-bench"]).await,
    );

    // client_credentials, and the serving floor (every answer 200 / SERVING, no token
    // issued), over both transports.
    for (scenario, tokens) in [("client-credentials", 300), ("serving-floor", 0)] {
        for transport in ["grpc", "http"] {
            let what = format!("{scenario} over {transport}");
            let out = bench(
                &cli,
                &dev,
                &[scenario, "--transport", transport, "-n", "300", "-c", "8"],
            )
            .await;
            let r = clean_run(&what, &out, 300);
            assert_eq!(issued(&r, "client_credentials"), tokens, "{what}: {r}");
            let cpu = r["server"]["cpu_s"].as_f64().unwrap();
            assert!(cpu >= 0.0, "{r}");
            assert_eq!(r["settings"]["transport"], transport);
        }
    }

    let r = clean_run(
        "refresh",
        &bench(
            &cli,
            &dev,
            &["refresh", "--users", "3", "-n", "60", "-c", "4"],
        )
        .await,
        60,
    );
    assert_eq!(issued(&r, "refresh"), 60, "{r}");

    let r = clean_run(
        "get-credentials",
        &bench(
            &cli,
            &dev,
            &["get-credentials", "--users", "2", "-n", "30", "-c", "4"],
        )
        .await,
        30,
    );
    assert_eq!(issued(&r, "sts_credentials"), 30, "{r}");

    let r = clean_run(
        "password-sign-in",
        &bench(
            &cli,
            &dev,
            &["password-sign-in", "--users", "2", "-n", "6", "-c", "2"],
        )
        .await,
        6,
    );
    assert_eq!(issued(&r, "sign_in"), 6, "{r}");
    // The reference is measured before and after the load; it is their mean.
    let a = &r["argon2"];
    let (mean, before, after) = (
        a["verifies_per_cpu_s"].as_f64().unwrap(),
        a["before_per_cpu_s"].as_f64().unwrap(),
        a["after_per_cpu_s"].as_f64().unwrap(),
    );
    assert!(before > 1.0 && after > 1.0, "{r}");
    assert!((mean - (before + after) / 2.0).abs() < 1e-9, "{r}");
    // The server counts its hasher threads' CPU: most of a sign-in's, never more than all.
    let in_hasher = a["server_cpu_share_in_hasher"].as_f64().unwrap();
    assert!(in_hasher > 0.0 && in_hasher <= 1.05, "{r}");

    // Password then TOTP: each user's authenticator is set up by the bench, and each code
    // is used once (four users have at least two steps each in the window).
    let r = clean_run(
        "mfa-sign-in",
        &bench(
            &cli,
            &dev,
            &["mfa-sign-in", "--users", "4", "-n", "6", "-c", "2"],
        )
        .await,
        6,
    );
    assert_eq!(issued(&r, "sign_in"), 6, "{r}");
    assert!(
        r["argon2"]["verifies_per_cpu_s"].as_f64().unwrap() > 1.0,
        "{r}"
    );

    let r = clean_run(
        "mixed",
        &bench(
            &cli,
            &dev,
            &[
                "mixed",
                "--mix",
                "client-credentials=3,refresh=1",
                "--users",
                "2",
                "-n",
                "200",
            ],
        )
        .await,
        200,
    );
    let kinds = r["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), 2, "{r}");
    let (cc, refresh) = (
        kinds[0]["ok"].as_u64().unwrap(),
        kinds[1]["ok"].as_u64().unwrap(),
    );
    assert_eq!(kinds[0]["name"], "client-credentials");
    assert_eq!(cc + refresh, 200);
    assert!(
        refresh > 20 && cc > refresh,
        "a 3:1 mix gave {cc}:{refresh}"
    );
    assert_eq!(issued(&r, "client_credentials"), cc, "{r}");
    assert_eq!(issued(&r, "refresh"), refresh, "{r}");

    let r = clean_run(
        "verify",
        &bench(&cli, &dev, &["verify", "-n", "500", "-c", "2"]).await,
        500,
    );
    assert_eq!(r["local"], true);
    assert!(r["server"].is_null(), "{r}");

    // The authorizer's decisions: every one allowed, and the servers' CPU reported.
    let r = clean_run(
        "authorize",
        &bench(&cli, &dev, &["authorize", "-n", "300", "-c", "8"]).await,
        300,
    );
    assert_eq!(r["local"], false);
    assert!(r["server"]["ops_per_cpu_s"].as_f64().unwrap() > 0.0, "{r}");

    // A timed open-loop run: about rate × duration operations, all on time.
    let out = bench(
        &cli,
        &dev,
        &["client-credentials", "--rate", "200", "-d", "1s", "-c", "4"],
    )
    .await;
    let r = json_ok("open loop", &out);
    let ok = r["ok"].as_u64().unwrap();
    assert!((190..=201).contains(&ok), "200/s for 1 s gave {ok}: {r}");

    // Every run removed what it made, and only that.
    let pools = json_ok("list pools", &cli.admin(&["list-pools"]).await);
    let names: Vec<String> = pools["user_pools"]
        .as_array()
        .unwrap_or_else(|| panic!("{pools}"))
        .iter()
        .map(|p| text(&p["name"]))
        .collect();
    assert_eq!(names, ["not-the-bench"], "{pools}");
    dev.terminate(std::time::Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_invocations_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(dir.path()).await;
    let cli = Cli::of(&dev, dir.path().to_path_buf());
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();

    // Not loopback: refused before any connection is tried.
    let out = cli
        .raw(&[
            "bench",
            "client-credentials",
            "--endpoint",
            "192.0.2.10:7410",
            "--http",
            "192.0.2.10:7411",
        ])
        .await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not a loopback address"),
        "{}",
        stderr(&out)
    );

    let out = bench(&cli, &dev, &["mixed", "--mix", "refresh=1,teleport=2"]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("unknown kind"), "{}", stderr(&out));

    let out = bench(&cli, &dev, &["refresh", "--users", "0"]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("--users"), "{}", stderr(&out));

    let http = text(&dev.ready["http_addr"]);
    let out = cli
        .raw(&[
            "bench",
            "client-credentials",
            "--endpoint",
            &cli.grpc,
            "--http",
            &http,
            "--admin-secret",
            "not-the-admin-secret-at-all",
            "-n",
            "1",
        ])
        .await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("NotAuthorizedException"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    dev.terminate(std::time::Duration::from_secs(20)).await;
}

/// `signet bench scale` at a small size: its own 3-node cluster and gateway, an import,
/// a node joining from a snapshot and a restart, all measured and reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_runs_a_cluster_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli {
        grpc: String::new(),
        data_dir: dir.path().to_path_buf(),
    };
    let root = dir.path().join("scale");
    let root_s = root.to_str().unwrap().to_string();
    let out = cli
        .raw(&[
            "bench",
            "scale",
            "--users",
            "600",
            "--baseline-users",
            "40",
            "--samples",
            "8",
            "--dir",
            &root_s,
            "--state-compression",
            "1",
            "--json",
        ])
        .await;
    let r = json_ok("bench scale", &out);
    assert_eq!(r["users"], 600);
    assert_eq!(r["import"]["job"]["imported"], 600, "{r}");
    assert_eq!(r["import"]["job"]["failed"], 0, "{r}");
    assert_eq!(r["sign_in_at_scale"]["count"], 8);
    assert_eq!(r["sign_in_baseline"]["count"], 8);
    // Each query's 7-character prefix ("u00000N") matches up to 100 of the 600 users.
    assert!(r["list_users_found"].as_u64().unwrap() >= 8, "{r}");
    assert_eq!(r["list_users_stopped_at_scan_cap"], 0);
    let snap = r["snapshot"]["index"].as_u64().unwrap();
    assert_eq!(r["snapshot"]["purged"], snap);
    assert!(
        r["join"]["installed_snapshot_index"].as_u64() >= Some(snap),
        "{r}"
    );
    assert_eq!(r["targets"]["restart_serves_again_under_30_s"], true, "{r}");
    // The backup holds at least the imported users, at or past the snapshot's index.
    assert!(r["backup"]["rows"].as_u64().unwrap() > 600, "{r}");
    assert!(r["backup"]["index"].as_u64().unwrap() >= snap, "{r}");
    // Compressed (the bench's users share one password hash, so very much so), but whole:
    // it restored nowhere here, the store tests restore backups.
    assert!(r["backup"]["bytes"].as_u64().unwrap() > 600 * 5, "{r}");
    assert!(
        !root.join("scale.backup").exists(),
        "the backup file is removed"
    );
    assert_eq!(r["nodes_at_end"].as_array().unwrap().len(), 4);
    for n in r["nodes_at_end"].as_array().unwrap() {
        assert!(n["disk_mb"].as_f64().unwrap() > 0.0, "{r}");
        assert!(n["rss_mb"].as_f64().unwrap() > 0.0, "{r}");
    }
    // With --dir the data and the nodes' logs stay for inspection.
    assert!(root.join("store-4.log").exists());
    assert!(root.join("store-4").is_dir());
    // Every store, the joined one too, made its state machine compressed.
    for id in 1..=4 {
        let conf = std::fs::read(root.join(format!("store-{id}/sm/conf"))).unwrap();
        assert!(
            String::from_utf8_lossy(&conf).contains("use_compression: true"),
            "store-{id}"
        );
    }
}
