//! `signet gateway`: a stateless gateway in front of a store cluster.

use super::{announce_json, bind, secrets::parse_server_secret, stop_signal};
use crate::cli::GatewayArgs;
use signet_gateway::{GatewayConfig, NotifierConfig};
use signet_store::StoreClient;
use std::time::Duration;

pub async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    // Fail closed: no admin API without an admin secret, no tokens without a server key.
    anyhow::ensure!(
        args.admin_secret.len() >= 16,
        "an admin secret of at least 16 characters is required (--admin-secret or SIGNET_ADMIN_SECRET)"
    );
    let server_secret = parse_server_secret(&args.server_secret)?;
    let stores: Vec<String> = args
        .store
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    anyhow::ensure!(
        !stores.is_empty(),
        "--store needs at least one store API address"
    );
    let grpc = bind(&args.grpc_addr, "gateway gRPC").await?;
    let http = bind(&args.http_addr, "gateway HTTP").await?;
    let mut cfg = GatewayConfig::new(&args.public_url, args.admin_secret.clone(), server_secret);
    cfg.jwks_max_age = Duration::from_secs(args.jwks_max_age_secs);
    cfg.notifier = match &args.webhook_url {
        Some(url) => NotifierConfig::Webhook(url.clone()),
        None => {
            tracing::warn!("no --webhook-url: codes go to the dev outbox (signet admin outbox)");
            NotifierConfig::Outbox
        }
    };
    let gw = signet_gateway::start(cfg, StoreClient::new(stores), grpc, http)
        .await
        .map_err(|e| anyhow::anyhow!("starting the gateway: {e}"))?;
    announce_json(serde_json::json!({
        "event": "ready",
        "role": "gateway",
        "grpc_addr": gw.grpc_addr().to_string(),
        "http_addr": gw.http_addr().to_string(),
        "public_url": args.public_url,
    }));
    stop_signal().await;
    tracing::info!("stopping");
    gw.shutdown().await;
    Ok(())
}
