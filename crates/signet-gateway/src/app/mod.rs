//! The composition root: builds the gateway's shared handles (store client, caches,
//! hashers, signer, notifier) from its config, starts its servers and background
//! loops, and answers for its readiness. Nothing else happens here.

mod compose;

use crate::auth::Auth;
use crate::cache::{self, Cache};
use crate::directory::Directory;
use crate::identity::pools::IdentityPools;
use crate::identity::Identities;
use crate::imports::Imports;
use crate::keys::{self, KeyAdmin, KeyManager};
use crate::metrics::Metrics;
use crate::notifier::Notifier;
use crate::oauth::resource_servers::ResourceServers;
use crate::oauth::OAuth;
use crate::pools::clients::Clients;
use crate::pools::Pools;
use crate::roles::Roles;
use crate::signup::Signup;
use crate::store::Store;
use crate::sts::Sts;
use crate::urls::Urls;
use crate::users::groups::Groups;
use crate::users::self_service::SelfService;
use crate::users::Users;
use crate::{api, quorum, AppError, GatewayConfig};
use signet_crypto::PasswordHasher;
use signet_store_client::StoreClient;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One gateway: its settings, the shared handles its background loops and readiness
/// use, and its features. API adapters call the features (`gw.auth.initiate_auth(…)`).
pub struct Gateway {
    pub(crate) cfg: GatewayConfig,
    // Shared handles.
    pub(crate) store: Store,
    pub(crate) cache: Arc<Cache>,
    pub(crate) keys: Arc<KeyManager>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) urls: Urls,
    pub(crate) dir: Directory,
    /// Counters for `/metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// Set once gRPC health reports SERVING (readiness as seen from outside).
    pub(crate) serving: std::sync::atomic::AtomicBool,
    /// Whether the store cluster answered the latest linearizable probe read.
    pub(crate) quorum: quorum::QuorumProbe,
    /// The public servers' in-flight budget and refusal counts (see `serving`).
    pub(crate) limiter: Arc<api::serving::Limiter>,
    // Features.
    pub(crate) auth: Auth,
    pub(crate) signup: Signup,
    pub(crate) users: Users,
    pub(crate) groups: Groups,
    pub(crate) self_service: SelfService,
    pub(crate) pools: Pools,
    pub(crate) clients: Clients,
    pub(crate) oauth: OAuth,
    pub(crate) resource_servers: ResourceServers,
    pub(crate) identities: Identities,
    pub(crate) identity_pools: IdentityPools,
    pub(crate) sts: Sts,
    pub(crate) roles: Roles,
    pub(crate) imports: Imports,
    pub(crate) key_admin: KeyAdmin,
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
    let gateway = Arc::new(compose::compose(
        cfg,
        Store::new(store),
        notifier,
        stop_rx.clone(),
    ));
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
