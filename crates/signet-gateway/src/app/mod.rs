//! The gateway as the API adapters see it: its settings, the shared handles readiness and
//! the HTTP surface read, and its features, built in `compose`. Starting it (servers and
//! background loops) is `server`'s.

mod compose;

pub(crate) use compose::compose;

use crate::auth::Auth;
use crate::cache::Cache;
use crate::directory::Directory;
use crate::identity::pools::IdentityPools;
use crate::identity::Identities;
use crate::imports::Imports;
use crate::keys::{KeyAdmin, KeyManager, Published};
use crate::metrics::Metrics;
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
use crate::{quorum, GatewayConfig};
use signet_crypto::PasswordHasher;
use std::sync::Arc;

/// One gateway: its settings, the shared handles its background loops and readiness
/// use, and its features. API adapters call the features (`gw.auth.initiate_auth(…)`).
pub struct Gateway {
    pub(crate) cfg: GatewayConfig,
    // Shared handles.
    pub(crate) store: Store,
    pub(crate) cache: Arc<Cache>,
    /// The revocation stream served at `/revocations`.
    pub(crate) revocations: Arc<crate::revocations::Feed>,
    pub(crate) published: Arc<Published>,
    pub(crate) keys: Arc<KeyManager>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) urls: Urls,
    pub(crate) dir: Directory,
    /// Counters for `/metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// The audit trail's recorder (see `audit`).
    pub(crate) audit: Arc<crate::audit::Audit>,
    /// Rate limits (per address in the tower stack, per client in the handlers).
    pub(crate) rates: Arc<crate::rates::RateLimiter>,
    /// Set once gRPC health reports SERVING (readiness as seen from outside).
    pub(crate) serving: std::sync::atomic::AtomicBool,
    /// Whether the store cluster answered the latest linearizable probe read.
    pub(crate) quorum: Arc<quorum::QuorumProbe>,
    // Features.
    pub(crate) auth: Auth,
    pub(crate) signup: Signup,
    pub(crate) users: Users,
    pub(crate) groups: Groups,
    pub(crate) self_service: SelfService,
    pub(crate) pools: Pools,
    pub(crate) clients: Clients,
    pub(crate) oauth: OAuth,
    pub(crate) hosted: crate::hosted::Hosted,
    pub(crate) federation: crate::federation::Federation,
    pub(crate) resource_servers: ResourceServers,
    pub(crate) identities: Identities,
    pub(crate) identity_pools: IdentityPools,
    pub(crate) sts: Sts,
    pub(crate) roles: Roles,
    pub(crate) imports: Imports,
    pub(crate) key_admin: KeyAdmin,
    pub(crate) aws: crate::aws::Aws,
    pub(crate) authorizer: crate::authorizer::Authorizer,
}

impl Gateway {
    /// Ready to serve: the store cluster answered the latest linearizable probe, this
    /// gateway's clock is near cluster time, signing keys are usable and caches are followed
    /// by the Watch stream.
    pub fn is_ready(&self) -> bool {
        self.quorum.is_ok()
            && self.quorum.clock_skew().is_none()
            && self.keys.is_ready()
            && self.cache.is_watching()
    }

    /// Why the gateway is not ready (None when it is).
    pub fn not_ready_reason(&self) -> Option<String> {
        if !self.quorum.is_ok() {
            Some(format!("no store quorum: {}", self.quorum.why()))
        } else if let Some(skew) = self.quorum.clock_skew() {
            Some(skew)
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
}
