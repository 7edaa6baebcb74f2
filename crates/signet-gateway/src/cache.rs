//! Configuration caches (pools, app clients, the published key set), kept fresh by the
//! store's Watch stream. A cache miss reads linearizably; a change seen on the stream
//! evicts the entry; a reset (or a reconnect) drops everything.

use crate::{AppError, Gateway};
use signet_core::{Answer, AppClient, IdentityPool, Query, Role, SigningKey, Table, UserPool};
use signet_store::ReadConsistency;
use signet_verify::KeySet;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The published keys, in every form the gateway serves them.
pub struct PublishedKeys {
    /// Verification keys.
    pub set: KeySet,
    /// `{"keys": [...]}`.
    pub jwks: String,
    /// Strong ETag of `jwks`.
    pub etag: String,
}

impl PublishedKeys {
    fn build(records: Vec<SigningKey>) -> PublishedKeys {
        // Published and retired keys are served; a revoked key is out of the JWKS and of
        // the key set Signet's own APIs verify with, at once.
        let mut set = KeySet::new();
        let mut jwks = Vec::new();
        for k in records.iter().filter(|k| k.state.is_published()) {
            match set.insert_jwk(&k.public_jwk) {
                Ok(()) => jwks.push(
                    serde_json::from_str::<serde_json::Value>(&k.public_jwk).unwrap_or_default(),
                ),
                Err(e) => tracing::error!(kid = %k.kid, "unusable published key: {e}"),
            }
        }
        let jwks = serde_json::json!({ "keys": jwks }).to_string();
        let etag = format!(
            "\"{}\"",
            &signet_crypto::KeyedHasher::digest_hex(jwks.as_bytes())[..32]
        );
        PublishedKeys { set, jwks, etag }
    }
}

/// The caches of one gateway.
pub struct Cache {
    pools: RwLock<HashMap<String, Arc<UserPool>>>,
    clients: RwLock<HashMap<String, Arc<AppClient>>>,
    identity_pools: RwLock<HashMap<String, Arc<IdentityPool>>>,
    roles: RwLock<HashMap<String, Arc<Role>>>,
    keys: RwLock<Arc<PublishedKeys>>,
    /// Bumped on every eviction: a load that raced with one is not cached.
    epoch: AtomicU64,
    /// Last log index seen on the Watch stream.
    applied: AtomicU64,
    connected: AtomicBool,
    /// The change stream lags the leader by more than the allowed time.
    behind: AtomicBool,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            pools: RwLock::default(),
            clients: RwLock::default(),
            identity_pools: RwLock::default(),
            roles: RwLock::default(),
            keys: RwLock::new(Arc::new(PublishedKeys::build(vec![]))),
            epoch: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            behind: AtomicBool::new(false),
        }
    }
}

impl Cache {
    /// The published key set.
    pub fn keys(&self) -> Arc<PublishedKeys> {
        self.keys.read().expect("cache lock").clone()
    }

    /// Whether the Watch stream is connected (the caches are being kept fresh).
    pub fn is_watching(&self) -> bool {
        self.connected.load(Ordering::Relaxed) && !self.behind.load(Ordering::Relaxed)
    }

    /// Whether the change stream has fallen behind the leader.
    pub fn is_behind(&self) -> bool {
        self.behind.load(Ordering::Relaxed)
    }

    fn evict_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.pools.write().expect("cache lock").clear();
        self.clients.write().expect("cache lock").clear();
        self.identity_pools.write().expect("cache lock").clear();
        self.roles.write().expect("cache lock").clear();
    }

    fn evict(&self, table: Table, key: &[u8]) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let key = String::from_utf8_lossy(key);
        match table {
            Table::Pools => {
                self.pools.write().expect("cache lock").remove(key.as_ref());
            }
            Table::Clients => {
                let client = key.split('\0').nth(1).unwrap_or_default();
                self.clients.write().expect("cache lock").remove(client);
            }
            Table::ClientsById => {
                self.clients
                    .write()
                    .expect("cache lock")
                    .remove(key.as_ref());
            }
            Table::IdentityPools => {
                self.identity_pools
                    .write()
                    .expect("cache lock")
                    .remove(key.as_ref());
            }
            Table::Roles => {
                self.roles.write().expect("cache lock").remove(key.as_ref());
            }
            _ => {}
        }
    }
}

impl Gateway {
    /// A cached record, or a linearizable read of it (cached unless an eviction raced).
    async fn cached<T>(
        &self,
        map: &RwLock<HashMap<String, Arc<T>>>,
        id: &str,
        query: Query,
        missing: impl FnOnce() -> AppError,
    ) -> Result<Arc<T>, AppError>
    where
        Option<T>: Answer,
    {
        if let Some(v) = map.read().expect("cache lock").get(id) {
            return Ok(v.clone());
        }
        let epoch = self.cache.epoch.load(Ordering::SeqCst);
        match self
            .ask::<Option<T>>(query, ReadConsistency::Linearizable)
            .await?
        {
            Some(v) => {
                let v = Arc::new(v);
                if self.cache.epoch.load(Ordering::SeqCst) == epoch {
                    map.write()
                        .expect("cache lock")
                        .insert(id.to_string(), v.clone());
                }
                Ok(v)
            }
            None => Err(missing()),
        }
    }

    /// A pool by id (cached).
    pub(crate) async fn pool(&self, id: &str) -> Result<Arc<UserPool>, AppError> {
        // A malformed id names no pool: answered as unknown (token checks map that to
        // NotAuthorized), without a store read and without echoing it. The admin calls
        // that name a pool refuse a malformed id as such first (validate::pool_id).
        if crate::validate::pool_id(id).is_err() {
            return Err(AppError::ResourceNotFound(
                "User pool does not exist.".into(),
            ));
        }
        let q = Query::GetUserPool {
            pool_id: id.to_string(),
        };
        self.cached(&self.cache.pools, id, q, || {
            AppError::ResourceNotFound(format!("User pool {id} does not exist."))
        })
        .await
    }

    /// An app client by id alone (cached).
    pub(crate) async fn client(&self, id: &str) -> Result<Arc<AppClient>, AppError> {
        // A malformed id names no client: answered as unknown (the flows that hide which
        // clients exist keep doing so), without a store read and without echoing it.
        if crate::validate::client_id(id).is_err() {
            return Err(AppError::ResourceNotFound("Client does not exist.".into()));
        }
        let q = Query::GetAppClientById {
            client_id: id.to_string(),
        };
        self.cached(&self.cache.clients, id, q, || {
            AppError::ResourceNotFound(format!("Client {id} does not exist."))
        })
        .await
    }

    /// An identity pool by id (cached).
    pub(crate) async fn identity_pool(&self, id: &str) -> Result<Arc<IdentityPool>, AppError> {
        let q = Query::GetIdentityPool {
            pool_id: id.to_string(),
        };
        self.cached(&self.cache.identity_pools, id, q, || {
            AppError::ResourceNotFound(format!("IdentityPool '{id}' not found."))
        })
        .await
    }

    /// A role by name (cached).
    pub(crate) async fn role(&self, name: &str) -> Result<Arc<Role>, AppError> {
        let q = Query::GetRole {
            name: name.to_string(),
        };
        self.cached(&self.cache.roles, name, q, || {
            AppError::NoSuchEntity(format!("The role with name {name} cannot be found."))
        })
        .await
    }

    /// Reload the published key set (at least as new as `index`).
    pub(crate) async fn reload_keys(&self, consistency: ReadConsistency) -> Result<u64, AppError> {
        let (res, applied) = self
            .store
            .client()
            .read(&Query::ListSigningKeys, consistency)
            .await?;
        let records = Vec::<SigningKey>::from_result(res).map_err(|_| {
            AppError::Internal("the store answered ListSigningKeys with another kind".into())
        })?;
        let revoked: std::collections::HashSet<String> = records
            .iter()
            .filter(|k| !k.state.is_published())
            .map(|k| k.kid.clone())
            .collect();
        *self.cache.keys.write().expect("cache lock") = Arc::new(PublishedKeys::build(records));
        self.keys.forget_revoked(&revoked);
        Ok(applied)
    }
}

/// Follow the store's Watch stream until `stop`, reconnecting as needed.
pub(crate) async fn watch_loop(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    loop {
        let session = async {
            // Start from a full reload, then follow changes from there.
            let applied = gw.reload_keys(ReadConsistency::Linearizable).await?;
            gw.cache.evict_all();
            gw.cache.applied.store(applied, Ordering::SeqCst);
            let mut stream = gw.store.client().watch(applied + 1).await?;
            gw.cache.connected.store(true, Ordering::SeqCst);
            while let Some(change) = stream
                .message()
                .await
                .map_err(|s| AppError::Unavailable(format!("watch: {}", s.message())))?
            {
                if change.reset {
                    gw.cache.evict_all();
                    gw.reload_keys(ReadConsistency::AtLeast(change.index))
                        .await?;
                } else {
                    let mut keys_changed = false;
                    for k in &change.keys {
                        let Some(table) = u8::try_from(k.table).ok().and_then(Table::from_prefix)
                        else {
                            continue;
                        };
                        keys_changed |= table == Table::SigningKeys;
                        if table == Table::KeyRequests {
                            gw.keys.request_rotation();
                        }
                        gw.cache.evict(table, &k.key);
                    }
                    if keys_changed {
                        gw.reload_keys(ReadConsistency::AtLeast(change.index))
                            .await?;
                    }
                }
                gw.cache.applied.fetch_max(change.index, Ordering::SeqCst);
            }
            Err::<(), AppError>(AppError::Unavailable("watch stream ended".into()))
        };
        tokio::select! {
            res = session => {
                gw.cache.connected.store(false, Ordering::SeqCst);
                if let Err(e) = res {
                    tracing::warn!("cache watch interrupted: {e}; reconnecting");
                }
            }
            _ = stop.wait_for(|s| *s) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// How far behind the leader the change stream may fall before the gateway says it is not
/// ready: every entry the leader had applied this long ago must have reached us.
const MAX_LAG: Duration = Duration::from_secs(2);

/// Compare, once a second, how far the Watch stream has got with what the leader had
/// applied `MAX_LAG` ago. A gateway whose caches (and key set) trail the log reports
/// not-ready, so a load balancer stops sending it traffic.
pub(crate) async fn freshness_loop(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    use std::collections::VecDeque;
    let mut samples: VecDeque<(tokio::time::Instant, u64)> = VecDeque::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        // Any linearizable read answers with the leader's applied index.
        let q = Query::GetUserPool {
            pool_id: String::new(),
        };
        let Ok((_, leader_applied)) = gw
            .store
            .client()
            .read(&q, ReadConsistency::Linearizable)
            .await
        else {
            continue;
        };
        let now = tokio::time::Instant::now();
        samples.push_back((now, leader_applied));
        while samples.len() > 1 && now.duration_since(samples[1].0) >= MAX_LAG {
            samples.pop_front();
        }
        let due = samples
            .front()
            .filter(|(t, _)| now.duration_since(*t) >= MAX_LAG)
            .map(|(_, i)| *i);
        let seen = gw.cache.applied.load(Ordering::SeqCst);
        let behind = due.is_some_and(|i| seen < i);
        if behind != gw.cache.behind.swap(behind, Ordering::SeqCst) {
            if behind {
                tracing::warn!(
                    seen,
                    leader = leader_applied,
                    "change stream fell behind the leader: not ready"
                );
            } else {
                tracing::info!("change stream caught up: ready");
            }
        }
    }
}
