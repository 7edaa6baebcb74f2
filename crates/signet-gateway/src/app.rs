//! The composition root: builds the gateway's shared handles (store client, caches,
//! hashers, signer, notifier) from its config, starts its servers and background
//! loops, and answers for its readiness. Nothing else happens here.

use crate::cache::{self, Cache};
use crate::keys::{self, KeyManager};
use crate::notifier::Notifier;
use crate::{api, hooks, metrics, quorum, usecases, AppError, GatewayConfig};
use signet_crypto::{KeyedHasher, PasswordHasher, Sealer};
use signet_store::StoreClient;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Shared state of one gateway; every use case is a method on it.
pub struct Gateway {
    pub(crate) cfg: GatewayConfig,
    pub(crate) store: crate::store::Store,
    pub(crate) cache: Cache,
    pub(crate) keys: KeyManager,
    pub(crate) hasher: PasswordHasher,
    pub(crate) keyed: KeyedHasher,
    pub(crate) sealer: Sealer,
    pub(crate) notifier: Notifier,
    /// Parsed role documents, by role name (see `usecases::sts`).
    pub(crate) role_docs:
        std::sync::Mutex<std::collections::HashMap<String, Arc<usecases::sts::RoleDocs>>>,
    /// Counters for `/metrics`.
    pub(crate) metrics: metrics::Metrics,
    /// Client of pre-token-generation hooks.
    pub(crate) hooks: hooks::HookClient,
    /// JWKS caches of external OIDC providers, by JWKS URL.
    pub(crate) oidc:
        std::sync::Mutex<std::collections::HashMap<String, Arc<signet_verify::JwksCache>>>,
    /// Set once gRPC health reports SERVING (readiness as seen from outside).
    pub(crate) serving: std::sync::atomic::AtomicBool,
    /// Becomes true when the gateway shuts down: background work (import runners) ends.
    pub(crate) stopping: watch::Receiver<bool>,
    /// Import jobs this gateway is running (a repeated start does not run a job twice).
    pub(crate) importing: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Whether the store cluster answered the latest linearizable probe read.
    pub(crate) quorum: quorum::QuorumProbe,
    /// Signing-key administration.
    pub(crate) key_admin: keys::KeyAdmin,
    /// Roles and their policies.
    pub(crate) roles: crate::roles::Roles,
    /// The public servers' in-flight budget and refusal counts (see `serving`).
    pub(crate) limiter: Arc<api::serving::Limiter>,
}

impl Gateway {
    /// Ready to serve: the store cluster answered the latest linearizable probe, signing
    /// keys are usable and caches are followed by the Watch stream.
    pub fn is_ready(&self) -> bool {
        self.quorum.is_ok() && self.keys.is_ready() && self.cache.is_watching()
    }

    /// Why the gateway is not ready (None when it is).
    pub fn not_ready_reason(&self) -> Option<String> {
        if !self.quorum.is_ok() {
            Some(format!("no store quorum: {}", self.quorum.why()))
        } else if !self.keys.is_ready() {
            Some("signing keys not usable yet".into())
        } else if self.cache.is_behind() {
            Some("the store's change stream is behind the leader".into())
        } else if !self.cache.is_watching() {
            Some("not following the store's change stream".into())
        } else {
            None
        }
    }

    /// The settings.
    pub fn config(&self) -> &GatewayConfig {
        &self.cfg
    }

    /// Now, by the gateway's clock (see `clock`).
    pub(crate) fn now_ms(&self) -> u64 {
        self.cfg.clock.now_ms()
    }
}

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
    let store = crate::store::Store::new(store);
    let gateway = Arc::new(Gateway {
        hasher: PasswordHasher::new(
            cfg.password,
            cfg.hash_workers,
            cfg.hash_queue,
            cfg.hash_queue_deadline,
        ),
        keyed: KeyedHasher::new(&cfg.server_secret),
        sealer: Sealer::new(&cfg.server_secret),
        notifier,
        oidc: Default::default(),
        hooks: Default::default(),
        metrics: Default::default(),
        role_docs: Default::default(),
        cache: Cache::default(),
        keys: KeyManager::default(),
        serving: std::sync::atomic::AtomicBool::new(false),
        stopping: stop_rx.clone(),
        importing: Default::default(),
        quorum: Default::default(),
        limiter: Arc::new(api::serving::Limiter::new(cfg.serving)),
        roles: crate::roles::Roles::new(store.clone(), cfg.clock.clone()),
        key_admin: keys::KeyAdmin::new(store.clone(), cfg.clock.clone(), cfg.key_overlap),
        store,
        cfg,
    });
    let grpc = signet_tls::Incoming::new(grpc, gateway.cfg.tls.clone()).map_err(io)?;
    let http = signet_tls::Incoming::new(http, gateway.cfg.tls.clone()).map_err(io)?;
    let mut tasks = vec![
        tokio::spawn(cache::watch_loop(gateway.clone(), stop_rx.clone())),
        tokio::spawn(cache::freshness_loop(gateway.clone(), stop_rx.clone())),
        tokio::spawn(quorum::probe_loop(gateway.clone(), stop_rx.clone())),
        tokio::spawn(keys::key_lifecycle(gateway.clone(), stop_rx.clone())),
        api::grpc::serve(gateway.clone(), grpc, stop_rx.clone()),
        api::http::serve(gateway.clone(), http, stop_rx.clone()),
    ];
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
