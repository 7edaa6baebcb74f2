//! `signet gateway`: a stateless gateway in front of a store cluster.

use super::{announce_json, bind, check_plaintext, secrets::parse_server_secret, stop_signal};
use crate::cli::serve::GatewayArgs;
use anyhow::Context;
use signet_crypto::Secret;
use signet_gateway::{GatewayConfig, NotifierConfig};
use signet_store::StoreClient;
use signet_tls::{Role, TlsFiles, TlsSource};
use std::time::Duration;

/// The webhook signing secret of `--webhook-secret`: its UTF-8 bytes, at least 32.
pub(super) fn webhook_secret(given: Option<&str>) -> anyhow::Result<Option<Secret>> {
    given
        .map(|s| {
            Secret::new(s.as_bytes().to_vec())
                .ok_or_else(|| anyhow::anyhow!("--webhook-secret must be at least 32 characters"))
        })
        .transpose()
}

/// The budgets of `--rate-limit`.
pub(super) fn rate_limits(specs: &[String]) -> anyhow::Result<signet_gateway::RateLimits> {
    let mut limits = signet_gateway::RateLimits::default();
    for spec in specs.iter().filter(|s| !s.trim().is_empty()) {
        limits.set(spec.trim()).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(limits)
}

/// The audit stream of `--audit-stream`.
pub(super) fn audit_stream(
    given: &str,
    has_secret: bool,
) -> anyhow::Result<signet_gateway::AuditStream> {
    Ok(match given {
        "off" | "" => signet_gateway::AuditStream::Off,
        "stdout" => signet_gateway::AuditStream::Stdout,
        url if url.starts_with("https://") || url.starts_with("http://") => {
            if !has_secret {
                anyhow::bail!(
                    "--audit-stream URL needs --webhook-secret: its receiver checks the signature"
                );
            }
            signet_gateway::AuditStream::Webhook(url.to_string())
        }
        other => anyhow::bail!("--audit-stream is off, stdout or a URL, not {other}"),
    })
}

/// Where codes go. There is no default: the dev outbox keeps codes in plaintext in the
/// replicated log, so a production gateway must be told to use it.
fn code_delivery(args: &GatewayArgs, secret: Option<&Secret>) -> anyhow::Result<NotifierConfig> {
    match (&args.webhook_url, args.dev_outbox) {
        (Some(url), _) => {
            signet_gateway::check_outbound_url(url, args.allow_insecure_loopback_http)
                .map_err(|e| anyhow::anyhow!("--webhook-url {url} {e}"))?;
            anyhow::ensure!(
                secret.is_some(),
                "--webhook-url needs --webhook-secret (or SIGNET_WEBHOOK_SECRET): receivers \
                 verify the Signet-Signature header with it"
            );
            Ok(NotifierConfig::Webhook(url.clone()))
        }
        (None, true) => {
            tracing::warn!(
                "DEVELOPMENT ONLY: --dev-outbox keeps verification and reset codes in \
                 PLAINTEXT in the replicated store (signet admin outbox); never use it in \
                 production, use --webhook-url"
            );
            Ok(NotifierConfig::Outbox)
        }
        (None, false) => anyhow::bail!(
            "no code delivery configured: give --webhook-url (https, with --webhook-secret) \
             to send codes to your e-mail/SMS sender, or --dev-outbox to keep them in \
             plaintext in the store (development only)"
        ),
    }
}

pub async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    // Fail closed: no admin API without an admin secret, no tokens without a server key.
    anyhow::ensure!(
        args.admin_secret.len() >= 16,
        "an admin secret of at least 16 characters is required (--admin-secret or SIGNET_ADMIN_SECRET)"
    );
    let server_secret = parse_server_secret(&args.server_secret)?;
    let webhook_secret = webhook_secret(args.webhook_secret.as_deref())?;
    let notifier = code_delivery(&args, webhook_secret.as_ref())?;
    let addresses = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let stores = addresses(&args.store);
    anyhow::ensure!(
        !stores.is_empty(),
        "--store needs at least one store API address"
    );
    let more_groups: Vec<Vec<String>> = args.store_groups.iter().map(|g| addresses(g)).collect();
    anyhow::ensure!(
        more_groups.iter().all(|g| !g.is_empty()),
        "each --store-group needs at least one store API address"
    );
    let store_transport = args.tls.store_transport(Role::Gateway)?;
    if !store_transport.is_tls() {
        let addrs: Vec<&str> = stores
            .iter()
            .chain(more_groups.iter().flatten())
            .map(String::as_str)
            .collect();
        check_plaintext("connections to the stores", &addrs, args.insecure_plaintext)?;
    }
    let public_tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            TlsSource::load(TlsFiles {
                ca: None,
                cert: Some((cert.clone(), key.clone())),
                trust_domain: args.tls.trust_domain.clone(),
            })
            .context("loading --tls-cert and --tls-key")?,
        ),
        _ => None,
    };
    if public_tls.is_none() {
        check_plaintext(
            "the public gRPC and HTTP listeners",
            &[&args.grpc_addr, &args.http_addr],
            args.insecure_plaintext,
        )?;
    }
    let grpc = bind(&args.grpc_addr, "gateway gRPC").await?;
    let http = bind(&args.http_addr, "gateway HTTP").await?;
    let mut cfg = GatewayConfig::new(&args.public_url, args.admin_secret.clone(), server_secret);
    cfg.jwks_max_age = Duration::from_secs(args.jwks_max_age_secs);
    cfg.store_discovery = !args.no_store_discovery;
    cfg.key_lease = Duration::from_secs(args.key_lease_secs);
    cfg.serving.request_timeout = Duration::from_millis(args.request_timeout_ms);
    cfg.serving.max_in_flight = args.max_in_flight;
    cfg.serving.rate = rate_limits(&args.rate_limits)?;
    cfg.audit_stream = audit_stream(&args.audit_stream, cfg.webhook_secret.is_some())?;
    cfg.aws_region = args.aws_region.clone();
    cfg.authorizer = authorizer_config(args.authorizer_config.as_deref())?;
    cfg.aws_signing_names = aws_signing_names(&args.aws_signing_names)?;
    cfg.notifier = notifier;
    cfg.webhook_secret = webhook_secret;
    cfg.allow_insecure_loopback_http = args.allow_insecure_loopback_http;
    cfg.tls = public_tls;
    let groups = std::iter::once(stores)
        .chain(more_groups)
        .map(|endpoints| {
            StoreClient::with_transport(
                endpoints,
                Duration::from_secs(15),
                Duration::from_secs(3),
                store_transport.clone(),
            )
        })
        .collect();
    let gw = signet_gateway::start_groups(cfg, groups, grpc, http)
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

/// `--aws-signing-name SERVICE=NAME` values as the gateway's map (AWS's service name →
/// the signing name its signatures must carry).
pub(crate) fn aws_signing_names(
    given: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for g in given {
        let (service, name) = g
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--aws-signing-name {g}: expected SERVICE=NAME"))?;
        if !["cognito-idp", "cognito-identity", "sts"].contains(&service) {
            anyhow::bail!(
                "--aws-signing-name {g}: SERVICE is cognito-idp, cognito-identity or sts"
            );
        }
        let fits = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !fits {
            anyhow::bail!("--aws-signing-name {g}: NAME is 1-64 of a-z, 0-9 and -");
        }
        if out.insert(service.to_string(), name.to_string()).is_some() {
            anyhow::bail!("--aws-signing-name: {service} is named twice");
        }
    }
    Ok(out)
}

/// The edge authorizer's routes from `--authorizer-config` (none: deny everything).
pub(crate) fn authorizer_config(
    path: Option<&std::path::Path>,
) -> anyhow::Result<signet_gateway::authorizer::AuthorizerConfig> {
    let Some(path) = path else {
        return Ok(Default::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --authorizer-config {}", path.display()))?;
    signet_gateway::authorizer::AuthorizerConfig::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("--authorizer-config {}: {e}", path.display()))
}
