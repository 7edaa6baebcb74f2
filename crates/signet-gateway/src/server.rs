//! Starting a gateway: its servers, the loops that keep it fresh (the change stream, the
//! quorum probe, the key lifecycle, certificate reloads), and the handle that stops them.

use crate::app::Gateway;
use crate::notifier::Notifier;
use crate::store::Store;
use crate::{api, cache, keys, quorum, AppError, GatewayConfig};
use signet_store_client::StoreClient;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running gateway.
pub struct GatewayHandle {
    gateway: Arc<Gateway>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl GatewayHandle {
    /// The shared state (for in-process callers and tests).
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Where the gRPC API listens.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Where the HTTP endpoints listen.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The store API addresses this gateway reaches: its `--store` list, then the members
    /// it has learned from the stores since.
    pub fn store_endpoints(&self) -> Vec<String> {
        self.gateway.store.client().endpoints()
    }

    /// Whether the gateway is ready and says so on its health endpoints.
    pub fn is_ready(&self) -> bool {
        self.gateway.is_ready()
            && self
                .gateway
                .serving
                .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stop serving.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }
}

/// Start a gateway on the given listeners, talking to the store through `store`. It serves
/// at once; it reports ready (and signs) once its keys are usable.
pub async fn start(
    cfg: GatewayConfig,
    store: StoreClient,
    grpc: TcpListener,
    http: TcpListener,
) -> Result<GatewayHandle, AppError> {
    start_groups(cfg, vec![store], grpc, http).await
}

/// [`start`] in front of several store groups (deploy/SHARDING.md), one client each:
/// group 0 is the directory (keys, identity pools, roles, where each pool lives) and may
/// hold pools; each user pool is placed on one group and its calls are routed there.
pub async fn start_groups(
    cfg: GatewayConfig,
    groups: Vec<StoreClient>,
    grpc: TcpListener,
    http: TcpListener,
) -> Result<GatewayHandle, AppError> {
    if groups.is_empty() {
        return Err(AppError::Internal(
            "a gateway needs at least one store group".into(),
        ));
    }
    let io = |e: std::io::Error| AppError::Internal(e.to_string());
    let grpc_addr = grpc.local_addr().map_err(io)?;
    let http_addr = http.local_addr().map_err(io)?;
    // Refuse to start rather than send codes in the clear or unsigned.
    let notifier = Notifier::new(
        &cfg.notifier,
        cfg.webhook_secret.as_ref(),
        cfg.allow_insecure_loopback_http,
    )?;
    let (stop, stop_rx) = watch::channel(false);
    let gateway = Arc::new(crate::app::compose(
        cfg,
        Store::with_groups(groups),
        notifier,
        stop_rx.clone(),
    )?);
    let grpc = signet_tls::Incoming::new(grpc, gateway.cfg.tls.clone()).map_err(io)?;
    let http = signet_tls::Incoming::new(http, gateway.cfg.tls.clone()).map_err(io)?;
    // The public servers' one in-flight budget (see `api::serving`).
    let limiter = Arc::new(api::serving::Limiter::with_rates(
        gateway.cfg.serving,
        gateway.rates.clone(),
    ));
    let followed = cache::Followed {
        store: gateway.store.clone(),
        cache: gateway.cache.clone(),
        revocations: gateway.revocations.clone(),
        delay_ms: gateway.cfg.change_stream_delay_ms.clone(),
        published: gateway.published.clone(),
        keys: gateway.keys.clone(),
    };
    let lifecycle = Arc::new(keys::Lifecycle {
        store: gateway.store.clone(),
        published: gateway.published.clone(),
        keys: gateway.keys.clone(),
        clock: gateway.cfg.clock.clone(),
        cfg: keys::LifecycleSettings {
            instance: gateway.cfg.instance.clone(),
            key_lease: gateway.cfg.key_lease,
            rotation_interval: gateway.cfg.rotation_interval,
            key_overlap: gateway.cfg.key_overlap,
            jwks_max_age: gateway.cfg.jwks_max_age,
            key_publish_margin: gateway.cfg.key_publish_margin,
        },
    });
    let mut tasks: Vec<JoinHandle<()>> = gateway
        .store
        .other_groups()
        .into_iter()
        .map(|client| {
            tokio::spawn(cache::group_watch_loop(
                client,
                gateway.cache.clone(),
                stop_rx.clone(),
            ))
        })
        .collect();
    tasks.extend([
        tokio::spawn(cache::watch_loop(followed.clone(), stop_rx.clone())),
        tokio::spawn(cache::freshness_loop(followed, stop_rx.clone())),
        tokio::spawn(quorum::probe_loop(
            gateway.store.clone(),
            gateway.quorum.clone(),
            gateway.cfg.clock.clone(),
            gateway.cfg.store_probe_interval,
            gateway.cfg.store_probe_timeout,
            stop_rx.clone(),
        )),
        tokio::spawn(keys::key_lifecycle(lifecycle, stop_rx.clone())),
        tokio::spawn(crate::audit::writer_loop(
            crate::audit::Writer {
                audit: gateway.audit.clone(),
                store: gateway.store.clone(),
                dir: gateway.dir.clone(),
                stream: gateway.cfg.audit_stream.clone(),
                hooks: crate::hooks::Hooks::new(
                    gateway.cfg.webhook_secret.clone(),
                    gateway.cfg.allow_insecure_loopback_http,
                    gateway.cfg.clock.clone(),
                ),
            },
            stop_rx.clone(),
        )),
        api::grpc::serve(gateway.clone(), limiter.clone(), grpc, stop_rx.clone()),
        api::http::serve(gateway.clone(), limiter, http, stop_rx.clone()),
    ]);
    if gateway.cfg.store_discovery {
        tasks.push(tokio::spawn(crate::store::members_loop(
            gateway.store.clone(),
            crate::store::MEMBERS_REFRESH,
            stop_rx.clone(),
        )));
    }
    // Rotated certificates (public, and the one presented to the stores) are picked up
    // without a restart.
    let store_tls = match gateway.store.client().transport() {
        signet_tls::Transport::Tls { source, .. } => Some(source.clone()),
        signet_tls::Transport::Plaintext => None,
    };
    for source in gateway.cfg.tls.iter().chain(store_tls.iter()) {
        let mut stop = stop_rx.clone();
        tasks.push(
            source.spawn_reloader(signet_tls::DEFAULT_RELOAD_INTERVAL, async move {
                let _ = stop.wait_for(|s| *s).await;
            }),
        );
    }
    tracing::info!(%grpc_addr, %http_addr, public_url = %gateway.cfg.public_url, "gateway started");
    Ok(GatewayHandle {
        gateway,
        grpc_addr,
        http_addr,
        stop,
        tasks,
    })
}
