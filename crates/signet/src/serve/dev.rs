//! `signet dev`: a single-voter store and a gateway in one process, data in one directory.

use super::{announce_json, bind, check_plaintext, gateway, secrets, stop_signal};
use crate::cli::serve::DevArgs;
use anyhow::Context;
use signet_store::{StoreConfig, StoreNode};
use std::time::Duration;

pub async fn dev(args: DevArgs) -> anyhow::Result<()> {
    super::exit_on_panic();
    check_plaintext(
        "signet dev's listeners",
        &[&args.api_addr, &args.grpc_addr, &args.http_addr],
        args.insecure_plaintext,
    )?;
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
    cfg.serving.rate = gateway::rate_limits(&args.rate_limits)?;
    cfg.audit_stream = gateway::audit_stream(&args.audit_stream, cfg.webhook_secret.is_some())?;
    cfg.aws_region = args.aws_region.clone();
    cfg.authorizer = gateway::authorizer_config(args.authorizer_config.as_deref())?;
    cfg.aws_signing_names = gateway::aws_signing_names(&args.aws_signing_names)?;
    // The gateway calls its own store in the process: the same API, retries and encoding
    // as over the network, without the loopback connection (HTTP/2 both ways per read).
    let store = node.in_process_client();
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
    tokio::select! {
        _ = stop_signal() => {}
        why = node.failed() => return Err(super::store::failed(&why)),
    }
    tracing::info!("stopping");
    gw.shutdown().await;
    node.shutdown().await;
    Ok(())
}
