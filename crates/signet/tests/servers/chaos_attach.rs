//! `signet chaos run --attach` end to end, against a cluster the tool did not start (`signet
//! dev`: one store and one gateway, started here): the user's fault and heal commands run
//! with their placeholders filled (one of them really freezes the process with SIGSTOP and
//! thaws it), the workloads run through the given addresses and find nothing wrong, and the
//! report says which checks ran (the stores' Status in place of the state digests). A
//! failing fault command fails the run and is reported; a fault kind without a command is
//! refused before anything starts.

use crate::support::bin;
use serde_json::Value;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// `signet dev` on free ports, data in `dir`: the process (killed on drop), its pid and
/// its ready line.
async fn start_dev(dir: &Path) -> (tokio::process::Child, u32, Value) {
    let mut child = tokio::process::Command::new(bin())
        .args(["dev", "--data-dir"])
        .arg(dir)
        .args(["--api-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0"])
        .args(["--http-addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start signet dev");
    let pid = child.id().expect("pid");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["event"] == "ready" {
                    return v;
                }
            }
        }
        panic!("signet dev exited before it was ready")
    })
    .await
    .expect("signet dev ready within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, pid, ready)
}

fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// `signet chaos run --attach` against the dev process of `ready` (its gateway given twice,
/// as gateways 0 and 1, so that which one the seed picks shows in the placeholders), with
/// `args` added; its output.
async fn attach(ready: &Value, data_dir: &Path, run_dir: &Path, args: &[&str]) -> Output {
    let gateway = format!("{}={}", s(&ready["grpc_addr"]), s(&ready["public_url"]));
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(["chaos", "run", "--attach", "--store"])
        .arg(s(&ready["api_addr"]))
        .args(["--gateway", &gateway, "--gateway", &gateway])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--dir")
        .arg(run_dir)
        .args(["--json", "--clients", "8"])
        .args(args)
        .env_remove("SIGNET_ADMIN_SECRET")
        .stdin(Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("chaos run ended within 120 s")
        .expect("run signet chaos");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_attach_runs_the_users_commands_and_checks_the_stores_status() {
    let _one = super::one_cluster_at_a_time_async().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("dev");
    let (_dev, pid, ready) = start_dev(&data_dir).await;
    let marker = tmp.path().join("marker");
    let m = marker.display().to_string();
    // pause-leader really freezes the one store (and the gateway in the same process) and
    // thaws it; kill-gateway only says where it would land, and has no heal command.
    let pause = format!(
        "pause-leader=kill -STOP {pid} && echo 'pause {{store_index}} {{store}} {{node_id}} \
         {{store_api}}' >> {m}"
    );
    let thaw = format!("pause-leader=kill -CONT {pid} && echo 'thaw {{store}}' >> {m}");
    let kill =
        format!("kill-gateway=echo 'kill {{gateway_index}} {{gateway}} {{gateway_addr}}' >> {m}");
    let out = attach(
        &ready,
        &data_dir,
        &tmp.path().join("run"),
        &[
            "--duration-s",
            "9",
            "--fault-every-ms",
            "1000",
            "--fault-for-ms",
            "600",
            "--seed",
            "35",
            "--faults",
            "pause-leader,kill-gateway",
            "--fault-command",
            &pause,
            "--heal-command",
            &thaw,
            "--fault-command",
            &kill,
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chaos run --attach failed: {stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(r["seed"], 35);
    assert_eq!(
        (r["stores"].as_u64(), r["gateways"].as_u64()),
        (Some(1), Some(2))
    );

    // The user's commands ran, each in order, with its placeholders filled.
    let (api, grpc) = (s(&ready["api_addr"]), s(&ready["grpc_addr"]));
    let node_id = ready["node_id"].as_u64().expect("node id");
    let ran = r["fault_commands"].as_array().expect("fault_commands");
    let faults = r["faults"].as_array().expect("faults");
    assert!(faults.len() >= 4, "a fault every ~1.6 s over 9 s: {r:#}");
    let mut expected_lines = Vec::new();
    let mut expected_ran = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        match f["fault"].as_str() {
            Some("PauseLeader") => {
                assert_eq!(f["target"], format!("store-{node_id}"));
                assert_eq!(f["was_leader"], true, "the leader, asked of the store: {f}");
                expected_lines.push(format!("pause 0 1 {node_id} {api}"));
                expected_lines.push("thaw 1".to_string());
                expected_ran.push((i, "pause-leader", "fault"));
                expected_ran.push((i, "pause-leader", "heal"));
            }
            Some("KillGateway") => {
                let g: usize = s(&f["target"])
                    .strip_prefix("gateway-")
                    .and_then(|n| n.parse().ok())
                    .expect("gateway-N");
                expected_lines.push(format!("kill {} {g} {grpc}", g - 1));
                expected_ran.push((i, "kill-gateway", "fault"));
            }
            other => panic!("unexpected fault {other:?}: {r:#}"),
        }
    }
    // Seed 35 deals kill-gateway, pause-leader, kill-gateway, pause-leader, … and picks
    // gateway 1, then gateway 2.
    let kinds: Vec<(&str, &str)> = faults
        .iter()
        .take(4)
        .map(|f| (f["fault"].as_str().unwrap(), f["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("KillGateway", "gateway-1"),
            ("PauseLeader", &*format!("store-{node_id}")),
            ("KillGateway", "gateway-2"),
            ("PauseLeader", &*format!("store-{node_id}")),
        ],
        "{r:#}"
    );
    let lines: Vec<String> = std::fs::read_to_string(&marker)
        .expect("the commands wrote the marker")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines, expected_lines, "{r:#}");
    let got: Vec<(usize, &str, &str)> = ran
        .iter()
        .map(|c| {
            assert_eq!(c["ok"], true, "{c}");
            assert_eq!(c["exit_status"], 0, "{c}");
            assert_eq!(c["stderr"], "", "{c}");
            (
                c["fault_no"].as_u64().expect("fault_no") as usize,
                c["kind"].as_str().expect("kind"),
                c["phase"].as_str().expect("phase"),
            )
        })
        .collect();
    assert_eq!(got, expected_ran, "{r:#}");
    assert!(ran[0]["command"]
        .as_str()
        .is_some_and(|c| !c.contains('{') && (c.contains(&api) || c.contains(&grpc))));
    assert_eq!(r["fault_command_error"], Value::Null);

    // The workloads ran through the given addresses and found nothing wrong.
    assert_eq!(r["anomalies"], 0, "{r:#}");
    assert_eq!(r["converged"], true, "{r:#}");
    let w = &r["workloads"];
    for (name, section) in [
        ("sign-ups", &w["sign_ups"]),
        ("identities", &w["identities"]),
        ("registers", &w["registers"]),
        ("tokens", &w["tokens"]),
    ] {
        let ok = section["operations"]["ok"].as_u64().unwrap_or(0);
        assert!(ok > 10, "{name} made progress: {r:#}");
    }
    assert_eq!(w["registers"]["not_linearizable"], 0);
    assert_eq!(w["registers"]["gave_up"], 0);
    assert_eq!(w["tokens"]["anomalies"], 0);
    for g in ["gateway-1", "gateway-2"] {
        assert_eq!(w["sign_ups"]["checks"][g]["lost"], serde_json::json!([]));
    }

    // Which checks ran: the stores' Status after healing, not the state digests.
    assert_eq!(
        r["checks"],
        serde_json::json!([
            "sign-ups",
            "identities",
            "registers",
            "tokens",
            "applied-index",
            "store-status"
        ])
    );
    assert!(r["checks_not_run"]["state-digests"]
        .as_str()
        .is_some_and(|why| why.contains("data dirs")));
    assert!(r["checks_not_run"]["key-retirements"].is_string(), "{r:#}");
    assert!(r.get("state_digests").is_none(), "{r:#}");
    let status = &r["store_status"][0];
    assert_eq!(status["store_api"], api.as_str());
    assert_eq!(status["status"]["node_id"], node_id);
    assert_eq!(status["status"]["leader_id"], node_id);
    // Asked after the final reads (which may write), the store is at or past the index
    // the convergence check saw.
    let applied = r["applied"][0].as_u64().expect("applied");
    assert!(applied > 0, "{r:#}");
    assert!(
        status["status"]["last_applied"]
            .as_u64()
            .expect("last_applied")
            >= applied
    );
    assert_eq!(r["status_disagreements"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_attach_a_failing_fault_command_fails_the_run_and_is_reported() {
    let _one = super::one_cluster_at_a_time_async().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("dev");
    let (_dev, _pid, ready) = start_dev(&data_dir).await;
    let out = attach(
        &ready,
        &data_dir,
        &tmp.path().join("run"),
        &[
            "--duration-s",
            "20",
            "--fault-every-ms",
            "500",
            "--seed",
            "4",
            "--faults",
            "kill-gateway",
            "--fault-command",
            "kill-gateway=echo no kubeconfig for {gateway_addr} >&2; exit 3",
            "--heal-command",
            "kill-gateway=true",
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("faults stopped"), "{stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report all the same");
    let grpc = s(&ready["grpc_addr"]);
    let ran = r["fault_commands"].as_array().expect("fault_commands");
    // The failed fault, then its heal command, tried in case it was in place in part.
    assert_eq!(ran.len(), 2, "{r:#}");
    assert_eq!(ran[0]["phase"], "fault");
    assert_eq!(ran[0]["ok"], false);
    assert_eq!(ran[0]["exit_status"], 3);
    assert_eq!(ran[0]["stderr"], format!("no kubeconfig for {grpc}\n"));
    assert_eq!(ran[1]["phase"], "heal");
    assert_eq!(ran[1]["ok"], true);
    let error = s(&r["fault_command_error"]);
    assert!(
        error.contains("exit status 3") && error.contains("no kubeconfig"),
        "{error}"
    );
    // No fault took place; the faults stopped at once, not after 20 s, and what the
    // workloads did until then was checked.
    assert_eq!(r["faults"], serde_json::json!([]));
    assert!(r["operations"]["total"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["anomalies"], 0, "{r:#}");
}

/// `signet chaos run <args>` that must be refused before it starts anything: its stderr.
fn refused(args: &[&str]) -> String {
    let out = std::process::Command::new(bin())
        .args(["chaos", "run"])
        .args(args)
        .env_remove("SIGNET_ADMIN_SECRET")
        .output()
        .expect("run signet chaos");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn chaos_attach_refuses_fault_kinds_without_commands_and_bad_commands() {
    // Nothing listens at these addresses: the flags are refused before any is dialled.
    let at = [
        "--attach",
        "--store",
        "127.0.0.1:9",
        "--gateway",
        "127.0.0.1:9=http://127.0.0.1:9",
    ];
    fn with<'a>(at: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
        [at, more].concat()
    }
    let e = refused(&with(
        &at,
        &[
            "--faults",
            "kill-gateway,kill-store",
            "--fault-command",
            "kill-gateway=true",
        ],
    ));
    assert!(e.contains("no --fault-command for kill-store"), "{e}");
    // The default --faults are seven kinds: each needs its command.
    let e = refused(&with(&at, &["--fault-command", "kill-gateway=true"]));
    assert!(e.contains("no --fault-command for kill-store"), "{e}");
    let e = refused(&with(
        &at,
        &[
            "--faults",
            "kill-store",
            "--fault-command",
            "kill-store=kubectl delete pod signet-store-{pod}",
        ],
    ));
    assert!(e.contains("unknown placeholder {pod}"), "{e}");
    let e = refused(&with(
        &at,
        &[
            "--faults",
            "kill-store",
            "--fault-command",
            "kill-store=true",
            "--stores",
            "5",
        ],
    ));
    assert!(e.contains("--stores") && e.contains("--attach"), "{e}");
    let e = refused(&["--store", "127.0.0.1:9"]);
    assert!(e.contains("--attach"), "{e}");
}
