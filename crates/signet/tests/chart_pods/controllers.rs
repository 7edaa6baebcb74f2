//! The StatefulSet and Deployment controllers (create, scale, rolling update), the
//! PodDisruptionBudget's arithmetic, and Helm's hook Jobs.

use super::cluster::{Shared, GATEWAY_IPS};
use super::pod::Pod;
use super::render::Render;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub const READY_DEADLINE: Duration = Duration::from_secs(90);

pub(super) fn statefulset(render: &Render) -> &Value {
    render.only("StatefulSet")
}

pub(super) async fn start_store(sh: &Shared, render: &Render, ordinal: u32) -> Pod {
    let sts = statefulset(render);
    let name = format!(
        "{}-{ordinal}",
        sts["metadata"]["name"].as_str().expect("name")
    );
    let claims: Vec<Value> = sts["spec"]["volumeClaimTemplates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    sh.spawn(
        render,
        &name,
        sh.store_ip(ordinal),
        &sts["spec"]["template"],
        &claims,
    )
    .await
}

/// How many more store pods a voluntary disruption may take now, by the rendered
/// PodDisruptionBudget that selects the store pods.
pub async fn disruptions_allowed(sh: &Shared, render: &Render, pods: &BTreeMap<u32, Pod>) -> i64 {
    let sts = statefulset(render);
    let labels = &sts["spec"]["template"]["metadata"]["labels"];
    let pdb = render
        .of_kind("PodDisruptionBudget")
        .find(|p| {
            p["spec"]["selector"]["matchLabels"]
                .as_object()
                .is_some_and(|m| m.iter().all(|(k, v)| labels[k] == *v))
        })
        .expect("a PodDisruptionBudget for the stores");
    let expected = sts["spec"]["replicas"].as_i64().expect("replicas");
    let desired_healthy = match (
        pdb["spec"]["maxUnavailable"].as_i64(),
        pdb["spec"]["minAvailable"].as_i64(),
    ) {
        (Some(max), None) => expected - max,
        (None, Some(min)) => min,
        _ => panic!("the harness reads integer maxUnavailable or minAvailable: {pdb}"),
    };
    let mut healthy = 0;
    for p in pods.values() {
        if sh.probe(p.ip, p.container(), "readinessProbe").await {
            healthy += 1;
        }
    }
    healthy - desired_healthy
}

pub(super) async fn assert_pdb_allows(sh: &Shared, render: &Render, pods: &BTreeMap<u32, Pod>) {
    let allowed = disruptions_allowed(sh, render, pods).await;
    sh.note(format!(
        "PodDisruptionBudget: {allowed} disruption(s) allowed"
    ));
    assert!(
        allowed >= 1,
        "the stores' PodDisruptionBudget allows no disruption now ({allowed})"
    );
}

/// The StatefulSet controller (RollingUpdate): remove ordinals above `replicas`, create
/// missing ones, then replace every pod whose template changed (or all, `restart_all`),
/// highest ordinal first, each once all pods are ready.
pub(super) async fn roll_statefulset(
    sh: &Shared,
    render: &Render,
    pods: &mut BTreeMap<u32, Pod>,
    restart_all: bool,
) {
    let sts = statefulset(render);
    let replicas = sts["spec"]["replicas"].as_u64().expect("replicas") as u32;
    let parallel = sts["spec"]["podManagementPolicy"] == "Parallel";
    assert!(
        parallel,
        "the harness implements podManagementPolicy Parallel"
    );
    assert_eq!(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
    let template = &sts["spec"]["template"];
    let started = Instant::now();
    let (mut created, mut replaced) = (Vec::new(), Vec::new());

    // Scale down: the pods above the count go together; with whenScaled: Delete, so do
    // their volumes.
    let gone: Vec<u32> = pods.keys().copied().filter(|o| *o >= replicas).collect();
    let stopping = gone.iter().map(|o| pods.remove(o).expect("pod"));
    futures::future::join_all(stopping.map(|p| sh.delete(p))).await;
    if sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"] == "Delete" {
        for o in &gone {
            for c in sts["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let claim = format!(
                    "{}-{}-{o}",
                    c["metadata"]["name"].as_str().expect("n"),
                    sts["metadata"]["name"].as_str().expect("name")
                );
                std::fs::remove_dir_all(sh.pvc_dir(&claim)).expect("delete PVC");
            }
        }
    }
    // Scale up: the missing pods together.
    for o in 0..replicas {
        if let std::collections::btree_map::Entry::Vacant(e) = pods.entry(o) {
            e.insert(start_store(sh, render, o).await);
            created.push(o);
        }
    }
    ready_all(sh, pods).await;
    for o in (0..replicas).rev() {
        if !restart_all && pods[&o].template == *template {
            continue;
        }
        assert_pdb_allows(sh, render, pods).await;
        let old = pods.remove(&o).expect("pod");
        let stopped = sh.delete(old).await;
        let mut pod = start_store(sh, render, o).await;
        let ready = sh.wait_ready(&mut pod, READY_DEADLINE).await;
        sh.note(format!(
            "{}: stopped in {:.1?}, ready again {ready:.1?} after its start",
            pod.name, stopped.took
        ));
        pods.insert(o, pod);
        ready_all(sh, pods).await;
        replaced.push(o);
    }
    sh.note(format!(
        "StatefulSet: {replicas} pods ready after {:.1?} (created {created:?}, deleted {gone:?}, \
         replaced {replaced:?})",
        started.elapsed()
    ));
}

pub(super) async fn ready_all(sh: &Shared, pods: &mut BTreeMap<u32, Pod>) {
    let waits = pods.values_mut().map(|p| sh.wait_ready(p, READY_DEADLINE));
    futures::future::join_all(waits).await;
}

/// The Deployment controller, for its RollingUpdate with maxSurge 1 and maxUnavailable 0:
/// a new pod, ready, then one old pod leaves (preStop, SIGTERM), and so on.
pub(super) async fn roll_deployment(sh: &Shared, render: &Render, pods: &mut Vec<Pod>) {
    let dep = render.only("Deployment");
    let replicas = dep["spec"]["replicas"]
        .as_u64()
        .expect("gateway replicas (the harness runs no HPA: autoscaling off)")
        as usize;
    let ru = &dep["spec"]["strategy"]["rollingUpdate"];
    assert_eq!(
        (ru["maxSurge"].as_i64(), ru["maxUnavailable"].as_i64()),
        (Some(1), Some(0)),
        "the harness implements maxSurge 1, maxUnavailable 0"
    );
    let template = &dep["spec"]["template"];
    let name = dep["metadata"]["name"].as_str().expect("name");
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        template.to_string().hash(&mut h);
        format!("{:010x}", h.finish() & 0xff_ffff_ffff)
    };
    let (mut current, mut old): (Vec<Pod>, Vec<Pod>) =
        pods.drain(..).partition(|p| p.template == *template);
    let (started, replaced) = (Instant::now(), old.len());
    let new_pod = || async {
        let k = sh.next_gateway_ip.fetch_add(1, Ordering::Relaxed);
        assert!(k < GATEWAY_IPS as usize, "out of gateway addresses");
        let pod_name = format!("{name}-{hash}-{}", sh.suffix());
        let mut pod = sh
            .spawn(render, &pod_name, sh.ip(100 + k as u8), template, &[])
            .await;
        let ready = sh.wait_ready(&mut pod, READY_DEADLINE).await;
        sh.note(format!("{pod_name}: ready {ready:.1?} after its start"));
        pod
    };
    // Pods missing outright (an install, a scale-up) start together; ...
    let missing = replicas.saturating_sub(current.len() + old.len());
    current.extend(futures::future::join_all((0..missing).map(|_| new_pod())).await);
    // ... old ones are replaced one at a time: a new pod, ready, then an old one leaves.
    let mut stopping = Vec::new();
    while let Some(p) = old.pop() {
        if current.len() < replicas {
            current.push(new_pod().await);
        }
        // Out of the Services now; preStop, SIGTERM and the exit run meanwhile.
        sh.forget(&p);
        let (name, log) = (p.name.clone(), p.log.clone());
        stopping.push((name, log, tokio::spawn(p.terminate())));
    }
    for (name, log, stop) in stopping {
        let stopped = stop.await.expect("terminate task");
        assert!(
            !stopped.killed && stopped.code == Some(0),
            "pod {name} did not stop cleanly on SIGTERM ({stopped:?}); its log: {}",
            log.display()
        );
    }
    sh.note(format!(
        "Deployment: {replicas} pods ready after {:.1?} ({replaced} replaced)",
        started.elapsed()
    ));
    *pods = current;
}

/// A hook Job: its pod, retried up to backoffLimit times; returns the successful pod's
/// stdout.
pub(super) async fn run_job(sh: &Shared, render: &Render, job: &Value) -> String {
    let name = job["metadata"]["name"].as_str().expect("name");
    let tries = 1 + job["spec"]["backoffLimit"].as_u64().unwrap_or(6);
    let deadline = Duration::from_secs(
        job["spec"]["activeDeadlineSeconds"]
            .as_u64()
            .unwrap_or(120)
            .min(120),
    );
    let mut failures = Vec::new();
    for _ in 0..tries {
        let pod = format!("{name}-{}", sh.suffix());
        let (code, out, err) = sh
            .run_to_completion(render, &pod, &job["spec"]["template"], deadline)
            .await;
        if code == Some(0) {
            return out;
        }
        failures.push(format!("{pod}: exit {code:?}: {err}"));
    }
    panic!("hook Job {name} failed:\n{}", failures.join("\n"));
}
