//! The test's side: `signet` CLI calls against the gateways (with the public TLS's CA),
//! load loops that record every attempt, and checks of the cluster through the notes'
//! operator pod and the stores' /metrics.

use super::pod::{container_port, http_get};
use super::poll;
use super::release::Release;
use crate::support::{bin, PASSWORD};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The test's own `signet` CLI calls: a client of the gateways' public TLS.
#[derive(Clone)]
pub struct Client {
    pub ca: String,
    pub admin_secret: String,
}

impl Client {
    pub async fn run(&self, args: &[&str], admin: bool) -> Output {
        let mut cmd = tokio::process::Command::new(bin());
        cmd.args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("SIGNET_") {
                cmd.env_remove(k);
            }
        }
        if admin {
            // Secrets go through the environment, never the command line.
            cmd.env("SIGNET_ADMIN_SECRET", &self.admin_secret);
        }
        cmd.env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(90), cmd.output())
            .await
            .unwrap_or_else(|_| panic!("signet {args:?} did not finish in 90 s"))
            .expect("run signet")
    }

    /// `signet admin --endpoint <gateway> --ca … <args>`.
    pub async fn admin(&self, gateway: &str, args: &[&str]) -> Output {
        let mut all = vec!["admin", "--endpoint", gateway, "--ca", &self.ca];
        all.extend_from_slice(args);
        self.run(&all, true).await
    }

    /// `signet token --endpoint <gateway> --ca … --client-id <client> <args>`.
    pub async fn token(&self, gateway: &str, client_id: &str, args: &[&str]) -> Output {
        let mut all = vec![
            "token",
            "--endpoint",
            gateway,
            "--ca",
            &self.ca,
            "--client-id",
            client_id,
        ];
        all.extend_from_slice(args);
        self.run(&all, false).await
    }

    pub async fn sign_in(&self, gateway: &str, client_id: &str) -> Result<Value, String> {
        let out = self
            .token(
                gateway,
                client_id,
                &["sign-in", "--username", "alice", "--password", PASSWORD],
            )
            .await;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        match v["authentication_result"]["id_token"].as_str() {
            Some(_) => Ok(v),
            None => Err(format!("no tokens: {v}")),
        }
    }
}

pub fn ok(what: &str, out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `signet_ops status` (the notes' one-off operator pod), as JSON, if it answered.
pub async fn status(rel: &Release) -> Option<Value> {
    let (code, out, _) = rel.ops(&["status"]).await;
    (code == Some(0)).then(|| serde_json::from_str(&out).ok())?
}

pub fn voters_of(status: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = status["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["voter"] == true)
        .filter_map(|m| m["node_id"].as_u64())
        .collect();
    ids.sort_unstable();
    ids
}

/// Wait until the cluster's voters are exactly `want`, every member is one, and every
/// store pod agrees on one leader (by its /metrics).
pub async fn wait_healthy(rel: &Release, want: &[u64]) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out, err) = rel.ops(&["status"]).await;
        let s: Option<Value> = (code == Some(0))
            .then(|| serde_json::from_str(&out).ok())
            .flatten();
        if let Some(s) = &s {
            let members = s["members"].as_array().map_or(0, Vec::len);
            if voters_of(s) == want && members == want.len() {
                break;
            }
        }
        assert!(
            Instant::now() < end,
            "timed out after 60 s waiting for voters {want:?}; last status: {out}{err}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    poll(
        "one leader that every store pod names",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            let mut leaders = 0.0;
            let mut named = BTreeSet::new();
            for p in rel.stores.values() {
                let (code, body) = rel.sh.get(p, "metrics", "/metrics").await?;
                if code != 200 {
                    return None;
                }
                leaders += metric(&body, "signet_store_is_leader")?;
                named.insert(metric(&body, "signet_store_leader_id")? as u64);
            }
            (leaders == 1.0 && named.len() == 1).then_some(())
        },
    )
    .await;
}

pub fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Sign-in attempts of one gateway: (start, end, ok, error).
pub type Attempts = Arc<std::sync::Mutex<Vec<(Instant, Instant, bool, String)>>>;

/// Sign in through `gateway` over and over (one attempt every 250 ms at most) until
/// `stop`, recording every attempt.
pub async fn sign_in_loop(
    c: Client,
    gateway: String,
    client_id: String,
    attempts: Attempts,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let r = c.sign_in(&gateway, &client_id).await;
        let end = Instant::now();
        let err = r.err().unwrap_or_default();
        attempts
            .lock()
            .unwrap()
            .push((start, end, err.is_empty(), err));
        tokio::time::sleep_until((start + Duration::from_millis(250)).into()).await;
    }
}

/// Successful sign-ins that ended after `t`.
pub fn successes_after(attempts: &Attempts, t: Instant) -> usize {
    attempts
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.2 && a.1 > t)
        .count()
}

/// Create app clients through the gateways in turn until `stop`: the ids of the
/// acknowledged ones, and the errors of the others.
pub async fn write_loop(
    c: Client,
    gateways: Vec<String>,
    pool: String,
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<String>) {
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let gw = &gateways[n % gateways.len()];
        let name = format!("w-{n}");
        let out = c
            .admin(gw, &["create-client", "--pool", &pool, "--name", &name])
            .await;
        let id = serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| {
                v["user_pool_client"]["client_id"]
                    .as_str()
                    .map(String::from)
            });
        match (out.status.success(), id) {
            (true, Some(id)) => acked.push(id),
            _ => failed.push(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        }
        n += 1;
        tokio::time::sleep_until((start + Duration::from_millis(250)).into()).await;
    }
    (acked, failed)
}

/// The longest time without a successful sign-in in `attempts` (from `from`), and the
/// number of failed attempts.
pub fn worst_gap(
    attempts: &[(Instant, Instant, bool, String)],
    from: Instant,
) -> (Duration, usize) {
    let mut last_ok = from;
    let mut worst = Duration::ZERO;
    for (_, end, ok, _) in attempts {
        if *ok {
            worst = worst.max(*end - last_ok);
            last_ok = *end;
        }
    }
    if let Some((_, end, _, _)) = attempts.last() {
        worst = worst.max(end.saturating_duration_since(last_ok));
    }
    (worst, attempts.iter().filter(|a| !a.2).count())
}

/// Every app client of `pool`, listed through `gateway`.
pub async fn client_ids(c: &Client, gateway: &str, pool: &str) -> BTreeSet<String> {
    let v = ok(
        "list-clients",
        &c.admin(gateway, &["list-clients", "--pool", pool]).await,
    );
    v["user_pool_clients"]
        .as_array()
        .expect("clients")
        .iter()
        .map(|c| c["client_id"].as_str().expect("id").to_string())
        .collect()
}

/// A sign-in through `gateway` whose ID token verifies against the JWKS that the gateway
/// serves (fetched over its public TLS), with the pool's issuer under the public URL.
pub async fn sign_in_verified(
    rel: &Release,
    c: &Client,
    gateway: usize,
    public_url: &str,
    pool: &str,
    client_id: &str,
) {
    let endpoint = &rel.gateway_endpoints()[gateway];
    let tokens = c
        .sign_in(endpoint, client_id)
        .await
        .unwrap_or_else(|e| panic!("sign-in through {endpoint}: {e}"));
    let id_token = tokens["authentication_result"]["id_token"]
        .as_str()
        .expect("id token");
    let pod = &rel.gateways[gateway];
    let port = container_port(pod.container(), &serde_json::json!("http"));
    let (code, jwks) = http_get(
        pod.ip,
        port,
        &format!("/{pool}/.well-known/jwks.json"),
        Some(&rel.sh.probe_tls),
        Duration::from_secs(5),
    )
    .await
    .expect("JWKS answered");
    assert_eq!(code, 200, "JWKS of {pool}: {jwks}");
    let file = rel.sh.root.path().join(format!("jwks-{gateway}.json"));
    std::fs::write(&file, jwks).expect("write JWKS");
    let issuer = format!("{public_url}/{pool}");
    let v = ok(
        "token decode --verify-with-jwks",
        &c.run(
            &[
                "token",
                "--client-id",
                client_id,
                "decode",
                id_token,
                "--verify-with-jwks",
                file.to_str().expect("utf-8"),
                "--issuer",
                &issuer,
            ],
            false,
        )
        .await,
    );
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["payload"]["iss"], issuer.as_str());
    assert_eq!(v["payload"]["cognito:username"], "alice");
}
