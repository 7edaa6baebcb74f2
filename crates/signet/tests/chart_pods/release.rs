//! A Helm release of the chart as local processes: install, upgrade (hooks first),
//! rolling restart, pod deletion, uninstall, and the one-off operator pod that the install
//! notes define.

use super::cluster::Shared;
use super::controllers::{
    assert_pdb_allows, roll_deployment, roll_statefulset, run_job, start_store,
};
use super::pod::{container_port, Pod, Stopped};
use super::render::Render;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The chart, installed.
pub struct Release {
    // Dropped in this order: the pods (killed) before their directories.
    pub stores: BTreeMap<u32, Pod>,
    pub gateways: Vec<Pod>,
    pub render: Render,
    pub sh: Shared,
}

impl Release {
    /// `helm install`: every store pod at once (podManagementPolicy Parallel) and the
    /// gateways; returns when all are ready.
    pub async fn install(sh: Shared, render: Render) -> Release {
        let mut r = Release {
            sh,
            render,
            stores: BTreeMap::new(),
            gateways: Vec::new(),
        };
        let Release {
            sh,
            render,
            stores,
            gateways,
        } = &mut r;
        tokio::join!(
            roll_statefulset(sh, render, stores, false),
            roll_deployment(sh, render, gateways)
        );
        r
    }

    /// `helm upgrade` to `render`: the pre-upgrade hook Jobs first (their stdout is
    /// returned), then the StatefulSet and the Deployment roll to the new templates.
    pub async fn upgrade(&mut self, render: Render) -> Vec<String> {
        let mut outputs = Vec::new();
        for job in render.hook_jobs("pre-upgrade") {
            outputs.push(run_job(&self.sh, &render, job).await);
        }
        self.render = render;
        let Release {
            sh,
            render,
            stores,
            gateways,
        } = self;
        tokio::join!(
            roll_statefulset(sh, render, stores, false),
            roll_deployment(sh, render, gateways)
        );
        outputs
    }

    /// `kubectl rollout restart statefulset`: every store pod, one at a time, highest
    /// ordinal first. Before each stop, the PodDisruptionBudget must allow it.
    pub async fn restart_stores(&mut self) {
        roll_statefulset(&self.sh, &self.render, &mut self.stores, true).await;
    }

    /// `kubectl delete pod <store>` without the controller bringing it back (the harness
    /// starts it again with [`Release::start_store`]).
    pub async fn stop_store(&mut self, ordinal: u32) -> Stopped {
        assert_pdb_allows(&self.sh, &self.render, &self.stores).await;
        let pod = self.stores.remove(&ordinal).expect("store pod");
        self.sh.delete(pod).await
    }

    /// The StatefulSet (re)creating pod `ordinal` (not waiting for it).
    pub async fn start_store(&mut self, ordinal: u32) {
        let pod = start_store(&self.sh, &self.render, ordinal).await;
        self.stores.insert(ordinal, pod);
    }

    /// The CronJob controller's turn for the chart's one CronJob: a Job from its
    /// jobTemplate, run to completion. Returns the pod's stdout.
    pub async fn run_cronjob(&self) -> String {
        let cj = self.render.only("CronJob");
        let job = json!({"metadata": cj["metadata"], "spec": cj["spec"]["jobTemplate"]["spec"]});
        run_job(&self.sh, &self.render, &job).await
    }

    /// `signet_ops <args>` as the install notes define it: a one-off pod with the operator
    /// certificate running `signet cluster <args> --endpoint=<store Service> …`.
    /// Returns (exit code, stdout, stderr).
    pub async fn ops(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let (name, template) = ops_pod(self.render.notes(), args);
        self.sh
            .run_to_completion(&self.render, &name, &template, Duration::from_secs(90))
            .await
    }

    /// The gRPC endpoints of the gateway pods, `https://<ip>:<port>` (or http).
    pub fn gateway_endpoints(&self) -> Vec<String> {
        self.gateways
            .iter()
            .map(|p| {
                let port = container_port(p.container(), &json!("grpc"));
                let tls = p.launch.args.iter().any(|a| a.starts_with("--tls-cert"));
                let scheme = if tls { "https" } else { "http" };
                format!("{scheme}://{}:{port}", p.ip)
            })
            .collect()
    }

    /// Stop everything (gateways first), as `helm uninstall` would; returns the pods'
    /// names with how they stopped.
    pub async fn uninstall(mut self) -> Vec<(String, Stopped)> {
        let mut out = Vec::new();
        let sh = &self.sh;
        let gws = futures::future::join_all(self.gateways.drain(..).map(|p| async move {
            let n = p.name.clone();
            (n, sh.delete(p).await)
        }))
        .await;
        out.extend(gws);
        let stores = std::mem::take(&mut self.stores);
        let st = futures::future::join_all(stores.into_values().map(|p| async move {
            let n = p.name.clone();
            (n, sh.delete(p).await)
        }))
        .await;
        out.extend(st);
        out
    }
}

/// The one-off pod of the notes' `signet_ops`: `kubectl run <name> --image=… --labels=…
/// --overrides='<pod spec>' -- cluster "$@" --endpoint=… …`, parsed from the rendered
/// NOTES.txt, with `args` for `"$@"`.
pub fn ops_pod(notes: &str, args: &[&str]) -> (String, Value) {
    let body = notes
        .split_once("signet_ops() {")
        .and_then(|(_, rest)| rest.split_once("\n  }"))
        .map(|(b, _)| b.replace("\\\n", " "))
        .expect("the notes define signet_ops() { … }");
    let words = shell_words(&body.replace("\"$@\"", "\u{0}"));
    let at = |flag: &str| {
        words
            .iter()
            .find_map(|w| w.strip_prefix(flag))
            .unwrap_or_else(|| panic!("signet_ops has no {flag}"))
    };
    let run = words.iter().position(|w| w == "run").expect("kubectl run");
    let name = words[run + 1].clone();
    assert!(
        !at("--image=").is_empty(),
        "signet_ops runs the chart's image"
    );
    let labels: serde_json::Map<String, Value> = at("--labels=")
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v");
            (k.to_string(), json!(v))
        })
        .collect();
    let overrides: Value = serde_json::from_str(at("--overrides=")).expect("overrides JSON");
    let dashdash = words.iter().position(|w| w == "--").expect("--");
    let mut container_args = Vec::new();
    for w in &words[dashdash + 1..] {
        if w == "\u{0}" {
            container_args.extend(args.iter().map(|a| a.to_string()));
        } else {
            container_args.push(w.clone());
        }
    }
    // kubectl run makes a container named like the pod; the strategic-merge overrides
    // add to it by name.
    let mut spec = overrides["spec"].clone();
    let mut container = json!({ "name": name, "args": container_args });
    let over = spec["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name.as_str()))
        .cloned()
        .unwrap_or(Value::Null);
    for (k, v) in over.as_object().into_iter().flatten() {
        container[k] = v.clone();
    }
    spec["containers"] = json!([container]);
    (
        name,
        json!({ "metadata": { "labels": labels }, "spec": spec }),
    )
}

/// Split like the shell: whitespace, '…' and "…" quoting.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    cur.push(q);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}
