//! The Helm chart, run: deploy/helm/signet rendered with 3 stores and 2 gateways
//! (deploy/helm/tests/values-processes.yaml), every rendered pod's container command, args
//! and env started as a local process, the way the kubelet and the StatefulSet and
//! Deployment controllers would (chart_pods/). Each pod has its own loopback address
//! (127.a.b.N, random a.b per run), the headless Service's DNS names lead to those, every
//! PVC is a directory. Only what the environment forces is rewritten (mount paths, cluster
//! DNS names, 0.0.0.0 listen addresses, the image's entrypoint), and each pod's start
//! checks that nothing else changed.
//!
//! Then, with time bounds: the cluster bootstraps from empty with mutual TLS; sign-up,
//! confirmation and sign-in work through both gateways; a rolling restart of the stores
//! (one pod at a time, with the PodDisruptionBudget's leave) loses no acknowledged write
//! and stops sign-ins for no longer than an election; the backup CronJob's pod writes
//! whole backups into its volume and keeps the newest; `helm upgrade` to 5 stores and
//! back (with the pre-upgrade shrink Job) works; a wiped store is refused and the install
//! notes' runbook lets it back in.
//!
//! It stays a test binary of its own (not one of the topic directories): it runs up to
//! five stores and two gateways on the machine and bounds the sign-in gap of a rolling
//! restart to about one election, so it must not share the cores with another binary's
//! tests; and `cargo test -p signet --test helm_processes` (README) keeps its name.

mod chart_pods;
mod support;

use chart_pods::client::{
    client_ids, metric, ok, sign_in_loop, sign_in_verified, status, successes_after, wait_healthy,
    worst_gap, write_loop, Attempts, Client,
};
use chart_pods::cluster::{Shared, GATEWAY_IPS};
use chart_pods::pki::{self, Provided};
use chart_pods::release::Release;
use chart_pods::render::{repo, Render};
use chart_pods::{poll, random_net};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{bin, PASSWORD};

const RELEASE: &str = "signet";
const NAMESPACE: &str = "ids";
/// secrets.existingSecret and gateway.publicUrl of values-processes.yaml.
const SECRETS: &str = "signet-processes-secrets";
const PUBLIC_URL: &str = "https://ids.example.com";
/// The longest a sign-in may keep failing while the stores roll: about one election
/// (a stopping leader hands over first), with margin for a loaded CI machine.
const MAX_SIGN_IN_GAP: Duration = Duration::from_secs(5);

fn values() -> PathBuf {
    repo().join("deploy/helm/tests/values-processes.yaml")
}

/// Secrets the rendered pods (and the notes' operator pod) use that the chart does not
/// make: the operator has to create them before the install.
fn secrets_needed(render: &Render) -> BTreeSet<String> {
    let made: BTreeSet<&str> = render
        .of_kind("Secret")
        .filter_map(|s| s["metadata"]["name"].as_str())
        .collect();
    let (_, ops) = chart_pods::release::ops_pod(render.notes(), &[]);
    let mut templates: Vec<&Value> = render
        .objects()
        .map(|o| &o["spec"]["template"])
        .filter(|t| t.is_object())
        .collect();
    templates.push(&ops);
    let mut needed = BTreeSet::new();
    for t in templates {
        for v in t["spec"]["volumes"].as_array().into_iter().flatten() {
            needed.extend(v["secret"]["secretName"].as_str().map(String::from));
        }
        for c in t["spec"]["containers"].as_array().into_iter().flatten() {
            for e in c["env"].as_array().into_iter().flatten() {
                let name = e["valueFrom"]["secretKeyRef"]["name"].as_str();
                needed.extend(name.map(String::from));
            }
        }
    }
    needed.retain(|n| !made.contains(n.as_str()));
    needed
}

/// Measured times, printed as they come and at the end.
struct Report(Vec<String>);

impl Report {
    fn add(&mut self, line: String) {
        eprintln!("chart-pods: {line}");
        self.0.push(line);
    }

    /// A step's line, then what the controllers noted during it.
    fn step(&mut self, sh: &Shared, line: String) {
        self.add(line);
        self.0
            .extend(sh.take_notes().into_iter().map(|n| format!("  {n}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_chart_runs_as_local_processes() {
    let t_render = Instant::now();
    let r3 = Render::new(&values(), &[], RELEASE, NAMESPACE).await;
    eprintln!(
        "chart-pods: first render took {:?} (makes the checker's venv once)",
        t_render.elapsed()
    );
    let started = Instant::now();
    let mut report = Report(Vec::new());

    // The operator's preparations (README): the TLS Secrets and the gateways' secrets.
    let net = random_net();
    let gateway_ips: Vec<Ipv4Addr> = (0..GATEWAY_IPS)
        .map(|k| Ipv4Addr::new(127, net[0], net[1], 100 + k))
        .collect();
    let Provided {
        secrets,
        ca,
        admin_secret,
        dir: _pki,
    } = pki::provide(bin(), RELEASE, NAMESPACE, SECRETS, &gateway_ips).await;
    assert_eq!(
        secrets_needed(&r3),
        secrets.keys().cloned().collect::<BTreeSet<_>>(),
        "the Secrets the rendered pods mount or read are the ones the README makes"
    );
    for name in secrets.keys() {
        assert!(
            r3.notes().contains(name.as_str()),
            "the notes name Secret {name}"
        );
    }
    let client = Client {
        ca: ca.to_str().expect("utf-8").to_string(),
        admin_secret,
    };
    let sh = Shared::new(bin(), net, secrets, &ca);

    // (1) `helm install`: every pod starts empty; the cluster forms with mutual TLS.
    let t = Instant::now();
    let mut rel = Release::install(sh, r3).await;
    wait_healthy(&rel, &[1, 2, 3]).await;
    report.step(
        &rel.sh,
        format!("install → 3 voters, 2 gateways ready: {:.1?}", t.elapsed()),
    );

    // (2) Sign-up → confirm → sign-in, through both gateways.
    let t = Instant::now();
    let gws = rel.gateway_endpoints();
    assert_eq!(gws.len(), 2);
    let pool = ok(
        "create-pool",
        &client
            .admin(
                &gws[0],
                &["create-pool", "--name", "demo", "--auto-verify", "email"],
            )
            .await,
    )["user_pool"]["id"]
        .as_str()
        .expect("pool id")
        .to_string();
    let app = ok(
        "create-client",
        &client
            .admin(
                &gws[1],
                &["create-client", "--pool", &pool, "--name", "web"],
            )
            .await,
    )["user_pool_client"]["client_id"]
        .as_str()
        .expect("client id")
        .to_string();
    ok(
        "sign-up",
        &client
            .token(
                &gws[0],
                &app,
                &[
                    "sign-up",
                    "--username",
                    "alice",
                    "--password",
                    PASSWORD,
                    "--attr",
                    "email=alice@example.com",
                ],
            )
            .await,
    );
    let outbox = ok(
        "outbox",
        &client.admin(&gws[1], &["outbox", "--pool", &pool]).await,
    );
    let code = outbox["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["username"] == "alice" && m["purpose"] == "confirm")
        .and_then(|m| m["code"].as_str())
        .expect("alice's confirmation code")
        .to_string();
    ok(
        "confirm",
        &client
            .token(
                &gws[1],
                &app,
                &["confirm", "--username", "alice", "--code", &code],
            )
            .await,
    );
    for g in 0..2 {
        sign_in_verified(&rel, &client, g, PUBLIC_URL, &pool, &app).await;
    }
    report.add(format!(
        "sign-up, confirm, sign-in through both gateways: {:.1?}",
        t.elapsed()
    ));

    // (3) A rolling restart of the stores under load: sign-ins through both gateways and
    // writes (new app clients) through both, each acknowledged one recorded.
    let stop = Arc::new(AtomicBool::new(false));
    let attempts: Vec<Attempts> = gws.iter().map(|_| Attempts::default()).collect();
    let signers: Vec<_> = gws
        .iter()
        .zip(&attempts)
        .map(|(g, a)| {
            let (c, g, app, a, stop) = (
                client.clone(),
                g.clone(),
                app.clone(),
                a.clone(),
                stop.clone(),
            );
            tokio::spawn(sign_in_loop(c, g, app, a, stop))
        })
        .collect();
    let writer = tokio::spawn(write_loop(
        client.clone(),
        gws.clone(),
        pool.clone(),
        stop.clone(),
    ));
    let load_from = Instant::now();
    // The load runs before the first store stops, …
    poll(
        "a sign-in through each gateway",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            attempts
                .iter()
                .all(|a| successes_after(a, load_from) >= 1)
                .then_some(())
        },
    )
    .await;
    let t = Instant::now();
    rel.restart_stores().await;
    let rolled = t.elapsed();
    wait_healthy(&rel, &[1, 2, 3]).await;
    // … and after the last one is back.
    let after = Instant::now();
    poll(
        "sign-ins through each gateway after the restart",
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            attempts
                .iter()
                .all(|a| successes_after(a, after) >= 2)
                .then_some(())
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for s in signers {
        s.await.expect("signer");
    }
    let (acked, failed_writes) = writer.await.expect("writer");
    let mut worst = Duration::ZERO;
    for (g, a) in attempts.iter().enumerate() {
        let a = a.lock().unwrap();
        let (gap, failures) = worst_gap(&a, load_from);
        let errors: BTreeSet<&str> = a.iter().filter(|a| !a.2).map(|a| a.3.as_str()).collect();
        report.add(format!(
            "rolling restart, gateway {g}: {} sign-ins, {failures} failed, longest without one {gap:.1?}{}",
            a.len(),
            if errors.is_empty() { String::new() } else { format!(" (errors: {errors:?})") }
        ));
        worst = worst.max(gap);
    }
    assert!(
        worst <= MAX_SIGN_IN_GAP,
        "sign-ins failed for {worst:?} during the rolling restart (more than {MAX_SIGN_IN_GAP:?})"
    );
    assert!(
        !acked.is_empty(),
        "no write was acknowledged during the rolling restart"
    );
    for g in &gws {
        let present = client_ids(&client, g, &pool).await;
        let lost: Vec<&String> = acked.iter().filter(|id| !present.contains(*id)).collect();
        assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    }
    report.step(&rel.sh, format!(
        "rolling restart of 3 stores: {rolled:.1?}; {} writes acknowledged, none lost, {} failed{}; worst sign-in gap {worst:.1?}",
        acked.len(),
        failed_writes.len(),
        if failed_writes.is_empty() { String::new() } else { format!(" ({:?})", failed_writes.iter().collect::<BTreeSet<_>>()) }
    ));

    // (3b) The backup CronJob's pod, three times: consistent, checksummed files in the chart's
    // volume holding every write acknowledged so far; `keep` bounds how many stay.
    let t = Instant::now();
    let mut files = Vec::new();
    for _ in 0..3 {
        let out: Value = serde_json::from_str(&rel.run_cronjob().await).expect("backup JSON");
        let name = std::path::Path::new(out["file"].as_str().expect("file"))
            .file_name()
            .expect("file name")
            .to_owned();
        let local = rel.sh.pvc_dir("signet-backups").join(name);
        let info = signet_store::inspect_backup(&local).expect("a whole backup in the volume");
        assert_eq!(out["index"].as_u64(), Some(info.index), "{out}");
        assert_eq!(info.voters, vec![1, 2, 3]);
        files.push(local);
    }
    let left = std::fs::read_dir(rel.sh.pvc_dir("signet-backups"))
        .expect("backups volume")
        .count();
    assert_eq!(left, 2, "keep: 2");
    assert!(!files[0].exists() && files[2].exists());
    report.step(
        &rel.sh,
        format!("backup CronJob (3 runs, 2 kept): {:.1?}", t.elapsed()),
    );

    // (4) `helm upgrade --set store.replicas=5`, then back to 3: the pre-upgrade hook runs
    // `signet cluster shrink` first, the controllers roll stores and gateways.
    let t = Instant::now();
    let r5 = Render::new(&values(), &["store.replicas=5"], RELEASE, NAMESPACE).await;
    let hooks = rel.upgrade(r5).await;
    let shrink: Value = serde_json::from_str(&hooks[0]).expect("shrink JSON");
    assert_eq!(shrink["removed"], serde_json::json!([]), "{shrink}");
    wait_healthy(&rel, &[1, 2, 3, 4, 5]).await;
    for g in 0..2 {
        sign_in_verified(&rel, &client, g, PUBLIC_URL, &pool, &app).await;
    }
    report.step(
        &rel.sh,
        format!(
            "upgrade to 5 stores (stores and gateways rolled): {:.1?}",
            t.elapsed()
        ),
    );
    let t = Instant::now();
    let r3 = Render::new(&values(), &["store.replicas=3"], RELEASE, NAMESPACE).await;
    let hooks = rel.upgrade(r3).await;
    let shrink: Value = serde_json::from_str(&hooks[0]).expect("shrink JSON");
    assert_eq!(shrink["removed"], serde_json::json!([5, 4]), "{shrink}");
    wait_healthy(&rel, &[1, 2, 3]).await;
    for o in [3, 4] {
        assert!(
            !rel.sh.pvc_dir(&format!("data-signet-store-{o}")).exists(),
            "the volume of pod {o} went with it (whenScaled: Delete)"
        );
    }
    let gws = rel.gateway_endpoints();
    for g in 0..2 {
        sign_in_verified(&rel, &client, g, PUBLIC_URL, &pool, &app).await;
    }
    let present = client_ids(&client, &gws[0], &pool).await;
    assert!(
        acked.iter().all(|id| present.contains(id)),
        "writes lost by scaling"
    );
    report.step(
        &rel.sh,
        format!(
            "upgrade back to 3 stores (shrink Job removed 5, 4): {:.1?}",
            t.elapsed()
        ),
    );

    // (5) A store whose volume is wiped is refused; the notes' runbook lets it back in.
    let t = Instant::now();
    rel.stop_store(2).await;
    let pvc = rel.sh.pvc_dir("data-signet-store-2");
    std::fs::remove_dir_all(&pvc).expect("wipe");
    std::fs::create_dir(&pvc).expect("a new, empty volume");
    rel.start_store(2).await;
    let (ip, container) = (rel.stores[&2].ip, rel.stores[&2].container().clone());
    let end = Instant::now() + Duration::from_secs(60);
    let status_code = loop {
        if let Some(s) = rel.stores.get_mut(&2).expect("pod 2").exited() {
            break s;
        }
        assert!(
            !rel.sh.probe(ip, &container, "readinessProbe").await,
            "a wiped store became ready"
        );
        assert!(
            Instant::now() < end,
            "a wiped store was neither refused nor stopped in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let refused = rel.stores.remove(&2).expect("pod 2");
    rel.sh.forget(&refused);
    let log = std::fs::read_to_string(&refused.log).unwrap_or_default();
    assert!(!status_code.success(), "the wiped store exited 0: {log}");
    assert!(
        log.contains("signet cluster remove --node-id 3"),
        "the refusal names the runbook: {log}"
    );
    report.add(format!(
        "wiped pod 2 refused ({status_code}) after {:.1?}",
        refused.started.elapsed()
    ));
    // The runbook: the quorum is there, node 3 is still a member (its old incarnation).
    let s = status(&rel).await.expect("signet_ops status");
    assert!(s["leader"].as_u64().is_some(), "{s}");
    assert!(
        s["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["node_id"] == 3),
        "{s}"
    );
    let (code, _, err) = rel.ops(&["remove", "--node-id", "3"]).await;
    assert_eq!(code, Some(0), "signet_ops remove --node-id 3: {err}");
    // kubectl delete pod signet-store-2: the StatefulSet makes it again, same volume.
    rel.start_store(2).await;
    let pod = rel.stores.get_mut(&2).expect("pod 2");
    rel.sh.wait_ready(pod, Duration::from_secs(90)).await;
    wait_healthy(&rel, &[1, 2, 3]).await;
    // Its data converges: after one more write, every store applies the same index.
    ok(
        "create-client",
        &client
            .admin(
                &gws[0],
                &["create-client", "--pool", &pool, "--name", "after-wipe"],
            )
            .await,
    );
    let applied = poll(
        "every store at the same applied index",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let mut idx = BTreeSet::new();
            for p in rel.stores.values() {
                let (_, body) = rel.sh.get(p, "metrics", "/metrics").await?;
                idx.insert(metric(&body, "signet_store_applied_index")? as u64);
            }
            (idx.len() == 1).then(|| *idx.first().expect("index"))
        },
    )
    .await;
    report.step(
        &rel.sh,
        format!(
            "runbook (remove node 3, pod again) → 3 voters, all at applied index {applied}: {:.1?}",
            t.elapsed()
        ),
    );

    // `helm uninstall`: every pod stops cleanly on SIGTERM.
    let t = Instant::now();
    let stopped = rel.uninstall().await;
    report.add(format!(
        "uninstall ({} pods stopped cleanly): {:.1?}",
        stopped.len(),
        t.elapsed()
    ));
    report.add(format!(
        "total (after the first render): {:.1?}",
        started.elapsed()
    ));
    eprintln!("chart-pods report:\n  {}", report.0.join("\n  "));
}
