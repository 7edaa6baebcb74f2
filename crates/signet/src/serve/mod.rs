//! Server roles: `signet dev`, `signet store` and `signet gateway`.

mod gateway;
mod secrets;

pub use gateway::gateway;

use crate::cli::{DevArgs, StoreArgs};
use anyhow::Context;
use signet_proto::store::NodeInfo;
use signet_store::{StoreClient, StoreConfig, StoreNode};
use std::time::Duration;
use tokio::net::TcpListener;

async fn bind(addr: &str, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({what})"))
}

/// One JSON line on stdout once serving, so scripts and tests learn the bound addresses
/// (useful with port 0).
fn announce(role: &str, node: &StoreNode, data_dir: &std::path::Path) {
    announce_json(serde_json::json!({
        "event": "ready",
        "role": role,
        "node_id": node.id(),
        "api_addr": node.info().api_addr,
        "raft_addr": node.info().raft_addr,
        "data_dir": data_dir.display().to_string(),
    }));
}

fn announce_json(line: serde_json::Value) {
    use std::io::Write;
    // A server must not die because nobody reads its stdout.
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        tracing::warn!("cannot write the ready line to stdout: {e}");
    }
}

/// Wait for SIGINT or SIGTERM.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

pub async fn dev(args: DevArgs) -> anyhow::Result<()> {
    let api = bind(&args.api_addr, "store API").await?;
    // A single voter never receives Raft traffic; the listener exists so the node can be
    // turned into a cluster later.
    let raft = bind("127.0.0.1:0", "raft").await?;
    let grpc = bind(&args.grpc_addr, "gateway gRPC").await?;
    let http = bind(&args.http_addr, "gateway HTTP").await?;
    let secrets = secrets::DevSecrets::load_or_create(&args.data_dir)?;
    let node = StoreNode::start(StoreConfig::new(1, args.data_dir.join("store")), raft, api)
        .await
        .context("starting the store")?;
    node.initialize_single_if_new().await?;
    node.wait_for_leader(Duration::from_secs(10)).await?;
    let http_addr = http.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{http_addr}"));
    let mut cfg = signet_gateway::GatewayConfig::new(
        &public_url,
        secrets.admin_secret.clone(),
        secrets.server_secret()?,
    );
    // Dev shortens the publish-before-sign wait: relying parties may cache the JWKS for one
    // second only, so the gateway signs about a second after it starts.
    cfg.jwks_max_age = Duration::from_secs(1);
    cfg.key_publish_margin = Duration::ZERO;
    // Dev keeps codes in its outbox and may call hooks and identity providers running on
    // this machine over plain http; every other outbound URL must still be https.
    cfg.notifier = signet_gateway::NotifierConfig::Outbox;
    cfg.allow_insecure_loopback_http = true;
    cfg.webhook_secret = gateway::webhook_secret(args.webhook_secret.as_deref())?;
    let store = StoreClient::new(vec![node.info().api_addr.clone()]);
    let gw = signet_gateway::start(cfg, store, grpc, http)
        .await
        .map_err(|e| anyhow::anyhow!("starting the gateway: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !gw.is_ready() {
        // Ready = keys usable, caches following the store, health reporting SERVING.
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "gateway not ready after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tracing::info!(data_dir = %args.data_dir.display(), grpc = %gw.grpc_addr(), http = %gw.http_addr(), "signet dev is ready");
    announce_json(serde_json::json!({
        "event": "ready",
        "role": "dev",
        "node_id": node.id(),
        "api_addr": node.info().api_addr,
        "grpc_addr": gw.grpc_addr().to_string(),
        "http_addr": gw.http_addr().to_string(),
        "public_url": public_url,
        "data_dir": args.data_dir.display().to_string(),
        "secrets_file": secrets.path.display().to_string(),
    }));
    stop_signal().await;
    tracing::info!("stopping");
    gw.shutdown().await;
    node.shutdown().await;
    Ok(())
}

pub async fn store(args: StoreArgs) -> anyhow::Result<()> {
    let raft = bind(&args.raft_addr, "raft").await?;
    let api = bind(&args.api_addr, "store API").await?;
    let mut config = StoreConfig::new(args.node_id, &args.data_dir);
    config.raft_advertise = args.advertise_raft_addr.clone();
    config.api_advertise = args.advertise_api_addr.clone();
    config.join_catch_up = Duration::from_secs(args.join_catch_up_secs);
    let node = StoreNode::start(config, raft, api)
        .await
        .context("starting the store")?;
    if args.init {
        node.initialize_single_if_new().await?;
    }
    if let Some(seed) = &args.join {
        let me = node.info();
        let info = NodeInfo {
            node_id: node.id(),
            raft_addr: me.raft_addr.clone(),
            api_addr: me.api_addr.clone(),
            incarnation: me.incarnation,
        };
        let client = StoreClient::with_timeouts(
            vec![seed.clone()],
            Duration::from_secs(120),
            Duration::from_secs(60),
        );
        match client.join(info).await {
            Ok(m) => tracing::info!(membership = %m, "joined the cluster"),
            Err(e) => {
                node.kill().await;
                return Err(anyhow::anyhow!("joining through {seed} failed: {e}"));
            }
        }
    }
    announce("store", &node, &args.data_dir);
    stop_signal().await;
    tracing::info!("stopping");
    node.shutdown().await;
    Ok(())
}
