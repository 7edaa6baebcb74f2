//! `signet bench peer-token`: client_credentials against another OAuth 2.0 server with the
//! same generator and accounting as `signet bench client-credentials --transport http`
//! (one keep-alive HTTP/1.1 connection per caller, client_secret_basic, the response must
//! carry an access_token), the server's CPU read from `/proc/PID/stat` since a peer has no
//! Signet `/metrics`. `benches/peer/run` starts node's oidc-provider and calls this.

use super::args::is_loopback;
use super::mix::chooser;
use super::ops::{self, Op, TokenRequest};
use super::report::{Report, ServerReport};
use super::{driver, server};
use crate::cli::bench::LoadArgs;
use anyhow::{anyhow, bail};
use std::collections::BTreeMap;
use std::sync::Arc;

pub async fn run(
    load: &LoadArgs,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    scope: &str,
    pid: u32,
) -> anyhow::Result<Report> {
    let plan = load.check()?;
    if !load.allow_remote && !is_loopback(token_url) {
        bail!("{token_url} is not a loopback address; pass --allow-remote to load it");
    }
    let pid_s = pid.to_string();
    if server::cpu_seconds_of(&pid_s).is_none() {
        bail!("no process {pid} to read the server's CPU time of");
    }
    let mut op = Op::ClientCredentialsHttp {
        client: ops::http_client(),
        requests: Arc::new(vec![TokenRequest::to(
            token_url,
            client_id,
            client_secret,
            scope,
        )?]),
    };
    op.call(0)
        .await
        .map_err(|code| anyhow!("a first token request to {token_url} failed: {code}"))?;
    let before = async { (server::cpu_seconds_of(&pid_s), server::own_cpu_seconds()) };
    let (m, (before, cpu0)) = driver::run(
        &plan,
        &["client-credentials"],
        chooser(vec![1]),
        Arc::new(vec![op]),
        before,
    )
    .await;
    let cpu1 = server::own_cpu_seconds();
    let after = server::cpu_seconds_of(&pid_s);
    let ok: u64 = m.kinds.iter().map(|k| k.ok).sum();
    let mut report = Report::new(
        format!("peer client-credentials (HTTP {token_url})"),
        load.settings(&plan, serde_json::json!({"peer_token_url": token_url})),
        m,
    );
    report.bench_cpu_s = cpu1 - cpu0;
    report.bench_cpu_s_per_1000_ops = (ok > 0).then(|| report.bench_cpu_s / ok as f64 * 1000.0);
    let (Some(b), Some(a)) = (before, after) else {
        bail!("process {pid} ended during the run");
    };
    let cpu_s = (a - b).max(0.0);
    report.server = Some(ServerReport {
        endpoints: vec![format!("/proc/{pid}")],
        cpu_s,
        hasher_cpu_s: None,
        cpu_s_per_1000_ops: (ok > 0).then(|| cpu_s / ok as f64 * 1000.0),
        ops_per_cpu_s: (cpu_s >= 0.01).then(|| ok as f64 / cpu_s),
        tokens_issued: BTreeMap::new(),
    });
    Ok(report)
}
