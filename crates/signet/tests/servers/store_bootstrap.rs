//! Black-box: stores that form, grow, shrink and heal a cluster by themselves, as the
//! StatefulSet's pods do (`--bootstrap --peers`, `--node-id-from-hostname`,
//! `signet cluster shrink`), with mutual TLS. Each "pod" gets its own loopback address
//! (127.a.b.N for a random a.b per run) and the chart's fixed ports.

use crate::support::bin;
use signet_testkit::{wait_for_async, ChildProcess, TestCluster, TestPki, TEST_TRUST_DOMAIN};
use signet_tls::Role;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

struct Pods {
    subnet: String,
    pki: TestPki,
    root: tempfile::TempDir,
}

impl Pods {
    fn new() -> Pods {
        let a = 1 + rand_byte() % 250;
        let b = 1 + rand_byte() % 250;
        Pods {
            subnet: format!("127.{a}.{b}"),
            pki: TestPki::new(),
            root: tempfile::tempdir().expect("dir"),
        }
    }

    fn api(&self, ordinal: u64) -> String {
        format!("{}.{}:7401", self.subnet, ordinal + 1)
    }

    fn peers(&self, replicas: u64) -> String {
        (0..replicas)
            .map(|o| self.api(o))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn data(&self, ordinal: u64) -> PathBuf {
        self.root.path().join(format!("pvc-{ordinal}"))
    }

    fn tls(&self, role: Role, name: &str) -> Vec<String> {
        let f = self.pki.files(role, name);
        let (cert, key) = f.cert.expect("cert");
        vec![
            "--ca".into(),
            s(&self.pki.ca_path()),
            "--cert".into(),
            s(&cert),
            "--key".into(),
            s(&key),
            "--trust-domain".into(),
            TEST_TRUST_DOMAIN.into(),
        ]
    }

    /// Start pod `ordinal` of a StatefulSet of `replicas`.
    async fn start(&self, ordinal: u64, replicas: u64) -> ChildProcess {
        let ip = format!("{}.{}", self.subnet, ordinal + 1);
        let mut args: Vec<String> = vec![
            "store".into(),
            "--node-id-from-hostname".into(),
            "--data-dir".into(),
            s(&self.data(ordinal)),
            "--raft-addr".into(),
            format!("{ip}:7400"),
            "--api-addr".into(),
            format!("{ip}:7401"),
            "--bootstrap".into(),
            "--peers".into(),
            self.peers(replicas),
            "--bootstrap-wait".into(),
            "1s".into(),
            "--metrics-addr".into(),
            format!("{ip}:7402"),
        ];
        args.extend(self.tls(Role::Store, &(ordinal + 1).to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ChildProcess::start_with_env(
            bin(),
            &args,
            &[("HOSTNAME", &format!("signet-store-{ordinal}"))],
            Duration::from_secs(60),
        )
        .await
    }

    /// `signet cluster <args> --endpoint <pod 0> ` as an operator.
    async fn cluster(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = vec!["cluster".into()];
        all.extend(args.iter().map(|a| a.to_string()));
        all.extend(["--endpoint".into(), self.api(0)]);
        all.extend(self.tls(Role::Operator, "ops"));
        run(&all, &[]).await
    }

    async fn voters(&self) -> Vec<u64> {
        let out = self.cluster(&["status"]).await;
        if !out.status.success() {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let mut ids: Vec<u64> = v["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter(|m| m["voter"] == true)
            .map(|m| m["node_id"].as_u64().expect("id"))
            .collect();
        ids.sort_unstable();
        ids
    }

    async fn wait_voters(&self, want: &[u64]) {
        wait_for_async("the expected voters", Duration::from_secs(60), || async {
            (self.voters().await == want).then_some(())
        })
        .await;
    }
}

/// GET `path` on pod `ordinal`'s metrics listener: (status, body).
async fn ops_get(pods: &Pods, ordinal: u64, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = format!("{}.{}:7402", pods.subnet, ordinal + 1);
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return (0, String::new());
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("read");
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

fn rand_byte() -> u8 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    (t ^ std::process::id()) as u8
}

fn s(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

async fn run(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SIGNET_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("signet {args:?} did not finish"))
        .expect("run signet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_form_grow_shrink_and_heal_a_cluster_by_themselves() {
    let pods = Pods::new();
    // Three pods start at once (podManagementPolicy: Parallel); pod 0 initialises only
    // once both others have said they belong to no cluster, and they join it.
    let (p0, p1, p2) = tokio::join!(pods.start(0, 3), pods.start(1, 3), pods.start(2, 3));
    pods.wait_voters(&[1, 2, 3]).await;

    // What Prometheus and the probes see: one leader, three voters, durable appends
    // timed, the certificate's expiry; every pod live and ready.
    let mut leaders = 0.0;
    for o in 0..3 {
        assert_eq!(ops_get(&pods, o, "/healthz").await.0, 200);
        assert_eq!(ops_get(&pods, o, "/readyz").await.0, 200);
        let (status, body) = ops_get(&pods, o, "/metrics").await;
        assert_eq!(status, 200);
        leaders += metric(&body, "signet_store_is_leader").expect("is_leader");
        assert_eq!(body.matches("signet_store_member{").count(), 3, "{body}");
        assert!(metric(&body, "signet_store_log_flush_seconds_count").expect("flushes") >= 1.0);
        assert!(metric(&body, "signet_tls_cert_not_after_seconds").expect("expiry") > 1.7e9);
    }
    assert_eq!(leaders, 1.0);

    // Scale up: pod 3 joins as voter 4.
    let p3 = pods.start(3, 4).await;
    pods.wait_voters(&[1, 2, 3, 4]).await;

    // Scale down: the chart's pre-upgrade hook removes node 4 before its pod goes.
    let out = pods.cluster(&["shrink", "--to", "3"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["removed"], serde_json::json!([4]));
    assert_eq!(p3.terminate(Duration::from_secs(20)).await, Some(0));
    pods.wait_voters(&[1, 2, 3]).await;
    // Shrinking again is a no-op.
    let out = pods.cluster(&["shrink", "--to", "3"]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["removed"], serde_json::json!([]));

    // A restarted pod rejoins with its data.
    assert_eq!(p1.terminate(Duration::from_secs(20)).await, Some(0));
    let p1 = pods.start(1, 3).await;
    pods.wait_voters(&[1, 2, 3]).await;

    // A pod whose volume was wiped is refused under its old id, with the runbook...
    assert_eq!(p2.terminate(Duration::from_secs(20)).await, Some(0));
    std::fs::remove_dir_all(pods.data(2)).expect("wipe");
    let mut args: Vec<String> = vec![
        "store".into(),
        "--node-id-from-hostname".into(),
        "--data-dir".into(),
        s(&pods.data(2)),
        "--raft-addr".into(),
        format!("{}.3:7400", pods.subnet),
        "--api-addr".into(),
        pods.api(2),
        "--bootstrap".into(),
        "--peers".into(),
        pods.peers(3),
    ];
    args.extend(pods.tls(Role::Store, "3"));
    let out = run(&args, &[("HOSTNAME", "signet-store-2")]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a wiped node was let in: {stderr}");
    assert!(
        stderr.contains("signet cluster remove --node-id 3"),
        "{stderr}"
    );
    pods.wait_voters(&[1, 2, 3]).await;
    // ... and the runbook heals it: remove the old member, start the pod again.
    let out = pods.cluster(&["remove", "--node-id", "3"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p2 = pods.start(2, 3).await;
    pods.wait_voters(&[1, 2, 3]).await;

    // Without a quorum, the survivor stays live but stops being ready.
    assert_eq!(p1.terminate(Duration::from_secs(20)).await, Some(0));
    assert_eq!(p2.terminate(Duration::from_secs(20)).await, Some(0));
    wait_for_async(
        "the lone store is not ready",
        Duration::from_secs(20),
        || async { (ops_get(&pods, 0, "/readyz").await.0 == 503).then_some(()) },
    )
    .await;
    assert_eq!(ops_get(&pods, 0, "/healthz").await.0, 200);
    assert_eq!(p0.terminate(Duration::from_secs(20)).await, Some(0));
}

/// `signet cluster shrink` pointed at the leader, which is also the first member removed
/// (the highest id): the next removal finds the new leader among the members that stay,
/// and the removed leader refuses it instead of taking it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrink_through_the_leader_it_removes_first() {
    let pki = TestPki::new();
    let (cert, key) = pki.files(Role::Operator, "ops").cert.expect("cert");
    let ca = pki.ca_path();
    let cluster = TestCluster::start_tls(5, pki).await;
    // A stopping leader hands over to the most up-to-date voter, the highest id among
    // equals: node 5 leads after at most a few handovers.
    for _ in 0..5 {
        let leader = cluster.wait_leader(Duration::from_secs(10)).await;
        if leader == 5 {
            break;
        }
        cluster
            .node(leader)
            .transfer_leadership()
            .await
            .expect("hand over");
    }
    assert_eq!(cluster.wait_leader(Duration::from_secs(10)).await, 5);
    let args: Vec<String> = [
        "cluster",
        "shrink",
        "--to",
        "3",
        "--endpoint",
        &cluster.api_addr(5),
        "--ca",
        &s(&ca),
        "--cert",
        &s(&cert),
        "--key",
        &s(&key),
        "--trust-domain",
        TEST_TRUST_DOMAIN,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = run(&args, &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["removed"], serde_json::json!([5, 4]));
    let leader = cluster
        .wait_leader_among(&[1, 2, 3], Duration::from_secs(20))
        .await;
    let m = cluster.node(leader).raft().metrics().borrow().clone();
    let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
    assert_eq!(voters, vec![1, 2, 3]);
    cluster.shutdown().await;
}
