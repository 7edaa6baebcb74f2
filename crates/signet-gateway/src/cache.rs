//! Configuration caches (pools, app clients, identity pools, roles; the published key set
//! is `keys::Published`), kept fresh by the
//! store's Watch stream. A cache miss reads linearizably; a change seen on the stream
//! evicts the entry; a reset (or a reconnect) drops everything.

use crate::keys::{reload_keys, KeyManager, Published};
use crate::store::Store;
use crate::AppError;
use signet_core::{AppClient, IdentityPool, Query, Role, Table, UserPool};
use signet_store_client::{ReadConsistency, StoreClient};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The caches of one gateway.
pub struct Cache {
    pub(crate) pools: RwLock<HashMap<String, Arc<UserPool>>>,
    pub(crate) clients: RwLock<HashMap<String, Arc<AppClient>>>,
    pub(crate) identity_pools: RwLock<HashMap<String, Arc<IdentityPool>>>,
    pub(crate) roles: RwLock<HashMap<String, Arc<Role>>>,
    /// Bumped on every eviction: a load that raced with one is not cached.
    pub(crate) epoch: AtomicU64,
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
            epoch: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            behind: AtomicBool::new(false),
        }
    }
}

impl Cache {
    /// Whether the Watch stream is connected (the caches are being kept fresh).
    pub fn is_watching(&self) -> bool {
        self.connected.load(Ordering::Relaxed) && !self.behind.load(Ordering::Relaxed)
    }

    /// The last log index the change stream has applied to the caches.
    pub(crate) fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
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

/// What the loops that follow the store's change stream work on.
#[derive(Clone)]
pub(crate) struct Followed {
    pub store: Store,
    pub cache: Arc<Cache>,
    pub revocations: Arc<crate::revocations::Feed>,
    /// Fault injection: how long each change is held, ms
    /// (`GatewayConfig::change_stream_delay_ms`).
    pub delay_ms: Arc<AtomicU64>,
    pub published: Arc<Published>,
    pub keys: Arc<KeyManager>,
}

/// Follow the store's Watch stream until `stop`, reconnecting as needed.
pub(crate) async fn watch_loop(gw: Followed, mut stop: watch::Receiver<bool>) {
    loop {
        let session = async {
            // Start from a full reload, then follow changes from there.
            let applied = reload_keys(
                &gw.store,
                &gw.published,
                &gw.keys,
                ReadConsistency::Linearizable,
            )
            .await?;
            gw.cache.evict_all();
            gw.store.evict_all();
            gw.revocations
                .reload(&gw.store, ReadConsistency::AtLeast(applied))
                .await?;
            gw.cache.applied.store(applied, Ordering::SeqCst);
            let mut stream = gw.store.client().watch(applied + 1).await?;
            gw.cache.connected.store(true, Ordering::SeqCst);
            while let Some(change) = stream
                .message()
                .await
                .map_err(|s| AppError::Unavailable(format!("watch: {}", s.message())))?
            {
                let held = gw.delay_ms.load(Ordering::Relaxed);
                if held > 0 {
                    tokio::time::sleep(Duration::from_millis(held)).await;
                }
                if change.reset {
                    gw.cache.evict_all();
                    gw.store.evict_all();
                    reload_keys(
                        &gw.store,
                        &gw.published,
                        &gw.keys,
                        ReadConsistency::AtLeast(change.index),
                    )
                    .await?;
                    gw.revocations
                        .reload(&gw.store, ReadConsistency::AtLeast(change.index))
                        .await?;
                } else {
                    let mut keys_changed = false;
                    let mut revoked = false;
                    for k in &change.keys {
                        let Some(table) = u8::try_from(k.table).ok().and_then(Table::from_prefix)
                        else {
                            continue;
                        };
                        keys_changed |= table == Table::SigningKeys;
                        revoked |= table == Table::Revocations;
                        if table == Table::KeyRequests {
                            gw.keys.request_rotation();
                        }
                        gw.cache.evict(table, &k.key);
                        gw.store.evict(table, &k.key);
                    }
                    if keys_changed {
                        reload_keys(
                            &gw.store,
                            &gw.published,
                            &gw.keys,
                            ReadConsistency::AtLeast(change.index),
                        )
                        .await?;
                    }
                    if revoked {
                        gw.revocations.catch_up(&gw.store, change.index).await?;
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

/// Follow the change stream of one more store group (pools spread over several groups,
/// deploy/SHARDING.md) until `stop`: what changes there is evicted from the caches; a reset
/// or a reconnect drops them all. Signing keys and routing live in group 0, followed by
/// [`watch_loop`].
pub(crate) async fn group_watch_loop(
    client: StoreClient,
    cache: Arc<Cache>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let session = async {
            // Any linearizable read answers with the group's applied index.
            let q = Query::GetUserPool {
                pool_id: String::new(),
            };
            let (_, applied) = client.read(&q, ReadConsistency::Linearizable).await?;
            cache.evict_all();
            let mut stream = client.watch(applied + 1).await?;
            while let Some(change) = stream
                .message()
                .await
                .map_err(|s| AppError::Unavailable(format!("watch: {}", s.message())))?
            {
                if change.reset {
                    cache.evict_all();
                    continue;
                }
                for k in &change.keys {
                    if let Some(table) = u8::try_from(k.table).ok().and_then(Table::from_prefix) {
                        cache.evict(table, &k.key);
                    }
                }
            }
            Err::<(), AppError>(AppError::Unavailable("watch stream ended".into()))
        };
        tokio::select! {
            res = session => {
                if let Err(e) = res {
                    tracing::warn!("store group watch interrupted: {e}; reconnecting");
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
pub(crate) async fn freshness_loop(gw: Followed, mut stop: watch::Receiver<bool>) {
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
