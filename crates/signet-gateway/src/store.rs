//! The gateway's handle on the store: writes whose business rejections come back as API
//! errors, and reads that name their answer type and their consistency. Features hold a
//! clone (it shares the clients' connections).
//!
//! Usually the store is one Raft group. A gateway can also be given several groups
//! (deploy/SHARDING.md): group 0 is the directory (signing keys, identity pools, roles,
//! admin keys, refresh families, where each pool lives) and may hold pools too; every
//! command and query that names a user pool goes to the pool's group, routed with the
//! pool's epoch ([`signet_core::Routed`]) so that a group that does not own the pool at
//! that epoch refuses it. All routing is here, so no feature knows how many groups there
//! are.

use crate::error::rejection;
use crate::AppError;
use signet_core::{
    Answer, Command, IndexClient, Outcome, Page, PlacePool, Placement, Query, QueryResult,
    Rejection, RequestId, Routed, Table, UserPool,
};
use signet_store_client::{ClientError, ReadConsistency, StoreClient, Written};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Store {
    /// Group 0: the only group, or the directory.
    client: StoreClient,
    /// Set when pools are spread over several groups.
    groups: Option<Arc<Groups>>,
}

/// The groups of a sharded store and what the gateway knows of where pools live.
struct Groups {
    /// One client per group, by group number (`[0]` is the directory).
    clients: Vec<StoreClient>,
    /// Pool → placement, read from the directory; evicted when the change stream shows
    /// a placement row changed, refreshed when a group refuses a routed command.
    placements: RwLock<HashMap<String, Placement>>,
    /// Client id → pool (a client never changes pools).
    client_pools: RwLock<HashMap<String, String>>,
}

/// How many times a write refused for a stale placement is sent again.
const ROUTE_ATTEMPTS: usize = 3;

impl Store {
    /// Wrap a client: one group.
    pub(crate) fn new(client: StoreClient) -> Store {
        Store {
            client,
            groups: None,
        }
    }

    /// One client per group, group 0 first; with one, the same as [`Store::new`].
    pub(crate) fn with_groups(mut clients: Vec<StoreClient>) -> Store {
        assert!(!clients.is_empty(), "a store has at least one group");
        if clients.len() == 1 {
            return Store::new(clients.remove(0));
        }
        Store {
            client: clients[0].clone(),
            groups: Some(Arc::new(Groups {
                clients,
                placements: RwLock::default(),
                client_pools: RwLock::default(),
            })),
        }
    }

    /// Group 0's client (readiness probes, the change stream, key reloads).
    pub(crate) fn client(&self) -> &StoreClient {
        &self.client
    }

    /// The clients of the groups after the first (their change streams).
    pub(crate) fn other_groups(&self) -> Vec<StoreClient> {
        self.groups
            .as_ref()
            .map(|g| g.clients[1..].to_vec())
            .unwrap_or_default()
    }

    /// Propose a command; a rejection becomes the matching API error. Returns the index
    /// the write committed at (in the group that took it).
    pub(crate) async fn write(&self, cmd: Command) -> Result<u64, AppError> {
        let w = self.write_raw(cmd).await?;
        match w.outcome {
            Outcome::Applied => Ok(w.index),
            Outcome::Rejected(r) => Err(rejection(r)),
        }
    }

    /// Propose a command where it belongs and return the store's answer as it is
    /// (callers for whom a rejection is information, not an error).
    pub(crate) async fn write_raw(&self, cmd: Command) -> Result<Written, ClientError> {
        self.write_with_id(RequestId(signet_crypto::random_bytes::<16>()), cmd)
            .await
    }

    /// [`Store::write_raw`] under a request id the caller keeps for its retries.
    pub(crate) async fn write_with_id(
        &self,
        rid: RequestId,
        cmd: Command,
    ) -> Result<Written, ClientError> {
        let Some(groups) = &self.groups else {
            let w = self.client.write_with_id(rid, cmd).await?;
            crate::consistency::record(w.index);
            return Ok(w);
        };
        if let Command::RecordAuditEvents(batch) = &cmd {
            return self.write_audit(groups, rid, batch).await;
        }
        let Some(pool_id) = cmd.user_pool_id().map(str::to_string) else {
            return self.client.write_with_id(rid, cmd).await;
        };
        if let Command::CreateUserPool(c) = &cmd {
            self.place_new_pool(groups, &c.pool).await?;
        }
        let mut last = None;
        for _ in 0..ROUTE_ATTEMPTS {
            let Some(placement) = self.placement(groups, &pool_id).await? else {
                // Placed nowhere: a pool from before sharding, in group 0.
                return self.client.write_with_id(rid, cmd).await;
            };
            let client = groups.client(placement.group)?;
            if let Command::CreateAppClient(c) = &cmd {
                if placement.group != 0 {
                    let index = Command::IndexClient(IndexClient {
                        client_id: c.client.client_id.clone(),
                        pool_id: pool_id.clone(),
                    });
                    let w = self.client.write(index).await?;
                    if w.outcome != Outcome::Applied {
                        return Ok(w);
                    }
                }
            }
            let routed = Command::Routed(Routed {
                group: placement.group,
                epoch: placement.epoch,
                command: Box::new(cmd.clone()),
            });
            let w = client.write_with_id(rid, routed).await?;
            let Outcome::Rejected(Rejection::WrongGroup { epoch }) = w.outcome else {
                return Ok(w);
            };
            tracing::info!(
                pool = %pool_id,
                group = placement.group,
                routed_epoch = placement.epoch,
                group_epoch = epoch,
                "write refused for a stale placement; refreshing it"
            );
            groups.forget_placement(&pool_id);
            last = Some(w);
        }
        // The directory still sends us where the pool is refused: it is moving.
        Err(ClientError::Unavailable(format!(
            "pool {pool_id} is being moved between store groups ({:?}); retry",
            last.map(|w| w.outcome)
        )))
    }

    /// Place a pool about to be created: its group, chosen from its id, records it first,
    /// then the directory (so that nothing routes to a group that would refuse). Retried
    /// creations find the placement and keep it.
    async fn place_new_pool(&self, groups: &Groups, pool: &UserPool) -> Result<(), ClientError> {
        if self.placement(groups, &pool.id).await?.is_some() {
            return Ok(());
        }
        let group = groups.group_for_new_pool(&pool.id);
        let place = Command::PlacePool(PlacePool {
            pool_id: pool.id.clone(),
            placement: Placement {
                group,
                epoch: 1,
                frozen: false,
            },
        });
        for g in [group, 0] {
            let w = groups.client(g)?.write(place.clone()).await?;
            if w.outcome != Outcome::Applied {
                return Err(ClientError::Unavailable(format!(
                    "placing pool {} on group {group}: {:?}",
                    pool.id, w.outcome
                )));
            }
            if group == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Audit events go to their pools' groups: one batch per group.
    async fn write_audit(
        &self,
        groups: &Groups,
        rid: RequestId,
        batch: &signet_core::RecordAuditEvents,
    ) -> Result<Written, ClientError> {
        let mut by_group: std::collections::BTreeMap<u32, Vec<signet_core::AuditEvent>> =
            Default::default();
        for e in &batch.events {
            let group = match e.pool_id.as_str() {
                "" => 0,
                pool => self.placement(groups, pool).await?.map_or(0, |p| p.group),
            };
            by_group.entry(group).or_default().push(e.clone());
        }
        let mut last = None;
        for (i, (group, events)) in by_group.into_iter().enumerate() {
            // One request id per batch sent: derive the others from the caller's.
            let mut id = rid.0;
            id[15] ^= i as u8;
            let cmd = Command::RecordAuditEvents(signet_core::RecordAuditEvents { events });
            last = Some(
                groups
                    .client(group)?
                    .write_with_id(RequestId(id), cmd)
                    .await?,
            );
        }
        last.ok_or_else(|| ClientError::Unavailable("an empty audit batch".into()))
    }

    /// Where a pool lives: the gateway's map, or the directory's row.
    async fn placement(
        &self,
        groups: &Groups,
        pool_id: &str,
    ) -> Result<Option<Placement>, ClientError> {
        if let Some(p) = groups.placements.read().expect("lock").get(pool_id) {
            return Ok(Some(*p));
        }
        let q = Query::GetPlacement {
            pool_id: pool_id.to_string(),
        };
        let (res, _) = self.client.read(&q, ReadConsistency::Linearizable).await?;
        let placement = Option::<Placement>::from_result(res)
            .map_err(|r| ClientError::Decode(format!("placement answered {r:?}")))?;
        if let Some(p) = placement {
            groups
                .placements
                .write()
                .expect("lock")
                .insert(pool_id.to_string(), p);
        }
        Ok(placement)
    }

    /// The client of the group that holds what `q` reads.
    async fn reader(&self, q: &Query) -> Result<&StoreClient, ClientError> {
        let Some(groups) = &self.groups else {
            return Ok(&self.client);
        };
        let pool_id = match q {
            Query::GetAppClientById { client_id } => {
                match self.pool_of_client(groups, client_id).await? {
                    Some(pool) => pool,
                    None => return Ok(&self.client),
                }
            }
            q => match q.user_pool_id() {
                Some(pool) => pool.to_string(),
                None => return Ok(&self.client),
            },
        };
        match self.placement(groups, &pool_id).await? {
            Some(p) => groups.client(p.group),
            None => Ok(&self.client),
        }
    }

    /// The pool of an app client from the directory (`None`: a client of group 0, or none).
    async fn pool_of_client(
        &self,
        groups: &Groups,
        client_id: &str,
    ) -> Result<Option<String>, ClientError> {
        if let Some(p) = groups.client_pools.read().expect("lock").get(client_id) {
            return Ok(Some(p.clone()));
        }
        let q = Query::GetClientPool {
            client_id: client_id.to_string(),
        };
        let (res, _) = self.client.read(&q, ReadConsistency::Linearizable).await?;
        let pool = Option::<String>::from_result(res)
            .map_err(|r| ClientError::Decode(format!("client directory answered {r:?}")))?;
        if let Some(p) = &pool {
            groups
                .client_pools
                .write()
                .expect("lock")
                .insert(client_id.to_string(), p.clone());
        }
        Ok(pool)
    }

    /// Read `q` where its pool lives; listings of pools gather every group's page.
    pub(crate) async fn read(
        &self,
        q: &Query,
        consistency: ReadConsistency,
    ) -> Result<(QueryResult, u64), ClientError> {
        match (&self.groups, q) {
            (Some(groups), Query::ListUserPools { limit, .. }) => {
                let mut pages = Vec::with_capacity(groups.clients.len());
                let mut applied = 0;
                for (g, client) in groups.clients.iter().enumerate() {
                    let (res, index) = client.read(q, consistency).await?;
                    if g == 0 {
                        applied = index;
                    }
                    pages.push(res);
                }
                Ok((merge_pool_pages(pages, *limit)?, applied))
            }
            _ => self.reader(q).await?.read(q, consistency).await,
        }
    }

    /// A change the directory's stream showed: drop what the routing cached from it.
    pub(crate) fn evict(&self, table: Table, key: &[u8]) {
        let Some(groups) = &self.groups else { return };
        let key = String::from_utf8_lossy(key);
        match table {
            Table::Placements => groups.forget_placement(&key),
            Table::ClientDirectory => {
                groups
                    .client_pools
                    .write()
                    .expect("lock")
                    .remove(key.as_ref());
            }
            _ => {}
        }
    }

    /// The directory's stream reset or reconnected: forget all routing.
    pub(crate) fn evict_all(&self) {
        if let Some(groups) = &self.groups {
            groups.placements.write().expect("lock").clear();
            groups.client_pools.write().expect("lock").clear();
        }
    }

    /// One page of a listing, at Cognito's page sizes: `query` is built for the clamped
    /// limit and read linearizably; the next token is the key of the last item of a full
    /// page (or of a page the store cut short by size).
    pub(crate) async fn list<T>(
        &self,
        limit: usize,
        query: impl FnOnce(usize) -> Query,
        key: impl Fn(&T) -> String,
    ) -> Result<(Vec<T>, Option<String>), AppError>
    where
        Page<T>: Answer,
    {
        let limit = page_size(limit);
        let Page { items, more } = self
            .ask(query(limit), ReadConsistency::Linearizable)
            .await?;
        Ok(page(items, limit, more, key))
    }

    /// A read at the consistency the caller states, as the answer type it expects
    /// (`Option<User>`, `Page<Group>`, …). A result of another kind is a defect, reported
    /// here once rather than as an "unexpected" arm at every call.
    pub(crate) async fn ask<T: Answer>(
        &self,
        q: Query,
        consistency: ReadConsistency,
    ) -> Result<T, AppError> {
        let (result, _) = self.read(&q, consistency).await?;
        T::from_result(result).map_err(|other| {
            let mut got = format!("{other:?}");
            got.truncate(120);
            AppError::Internal(format!(
                "the store answered {got} where {} was expected",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl Groups {
    fn client(&self, group: u32) -> Result<&StoreClient, ClientError> {
        self.clients.get(group as usize).ok_or_else(|| {
            ClientError::Unavailable(format!(
                "a pool is placed on store group {group}; this gateway knows {} groups",
                self.clients.len()
            ))
        })
    }

    fn forget_placement(&self, pool_id: &str) {
        self.placements.write().expect("lock").remove(pool_id);
    }

    /// The group a new pool is placed on: spread by a hash of its (random) id.
    fn group_for_new_pool(&self, pool_id: &str) -> u32 {
        let h = signet_crypto::sha256(pool_id.as_bytes());
        let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        n % self.clients.len() as u32
    }
}

/// One page of pools from every group's page of the same listing: in id order, at most
/// `limit`, and never past the last row of a group whose page the store cut short by size
/// (rows after it in that group were not read).
fn merge_pool_pages(pages: Vec<QueryResult>, limit: usize) -> Result<QueryResult, ClientError> {
    let mut pools: Vec<UserPool> = Vec::new();
    let mut cut_at: Option<String> = None;
    for page in pages {
        let Page { items, more } = Page::<UserPool>::from_result(page)
            .map_err(|r| ClientError::Decode(format!("a pool listing answered {r:?}")))?;
        if more {
            if let Some(last) = items.last() {
                if cut_at.as_ref().is_none_or(|c| last.id < *c) {
                    cut_at = Some(last.id.clone());
                }
            }
        }
        pools.extend(items);
    }
    pools.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(cut) = &cut_at {
        pools.retain(|p| p.id <= *cut);
    }
    pools.truncate(limit);
    let page = QueryResult::UserPools(pools);
    Ok(if cut_at.is_some() {
        QueryResult::Partial(Box::new(page))
    } else {
        page
    })
}

/// How often a gateway asks the stores for their membership.
pub(crate) const MEMBERS_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Keep the store client's member list current until `stop`: a store replaced under a new
/// address (a wiped node joined under a new id, a moved machine) is reached without
/// restarting the gateway with a new `--store` list, even once every store it was started
/// with is gone.
pub(crate) async fn members_loop(
    store: Store,
    interval: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let others = store.other_groups();
        for client in std::iter::once(&store.client).chain(&others) {
            if let Err(e) = client.refresh_members().await {
                tracing::debug!("store membership not refreshed: {e}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Cognito's page sizes: 0 (unset) means the maximum, 60.
pub(crate) fn page_size(limit: usize) -> usize {
    if limit == 0 {
        60
    } else {
        limit.min(60)
    }
}

/// A page and the token of the next one: full pages, and pages the store cut short by
/// size (`more`), continue after their last item.
pub(crate) fn page<T>(
    items: Vec<T>,
    limit: usize,
    more: bool,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let next = (items.len() == limit || more)
        .then(|| items.last().map(&key))
        .flatten();
    (items, next)
}
