//! Runs the Helm chart's rendered pods as local processes (see helm_processes.rs):
//!
//! * `render` — `check_chart.py render` (Helm's own code) and the image's ENTRYPOINT;
//! * `launch` — a rendered container → a command line and environment, `$(VAR)`s and
//!   `secretKeyRef`s resolved, the forced rewrites recorded and checked;
//! * `cluster` — pod addresses on 127.a.b.0/24, cluster DNS, Services, the kubelet's
//!   variables; `kubelet` — volumes, the process, probes on their periods, the stop;
//! * `controllers` — StatefulSet and Deployment rolling updates, the PodDisruptionBudget,
//!   hook Jobs; `release` — install, upgrade, restart, uninstall, the notes' `signet_ops`;
//! * `pki` — the Secrets the README has the operator make; `client` — the test's CLI
//!   calls, load loops and cluster checks.
// Each part is used by the test crate that includes this module.
#![allow(dead_code)]

pub mod client;
pub mod cluster;
pub mod controllers;
pub mod kubelet;
pub mod launch;
pub mod pki;
pub mod pod;
pub mod release;
pub mod render;

use std::future::Future;
use std::time::{Duration, Instant};

/// A random 127.a.b.0/24 for this run, so that runs in parallel do not meet.
pub fn random_net() -> [u8; 2] {
    use std::hash::BuildHasher;
    let h = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    [1 + (h % 250) as u8, 1 + ((h >> 8) % 250) as u8]
}

/// Poll `cond` every `every` until it returns `Some`, or fail with `what` after `deadline`.
pub async fn poll<T, F, Fut>(what: &str, deadline: Duration, every: Duration, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}
