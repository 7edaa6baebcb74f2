//! Who exists: pools, app clients, identity pools and roles (cached, kept fresh by the
//! store's change stream), users (read linearizably), and the one user check and the one
//! client check every token and every client id goes through (DESIGN §8; see `check`).
//!
//! A shared handle: features that look things up hold a clone.

mod check;

pub(crate) use check::{Dead, TokenUser, UserCheckError};

use crate::cache::Cache;
use crate::clock::SharedClock;
use crate::store::Store;
use crate::validate::{canonical_username, check_deletable, AttrWrite};
use crate::AppError;
use signet_core::{
    Answer, AppClient, Command, IdentityPool, Query, Role, UpdateUser, User, UserPatch, UserPool,
    UserView,
};
use signet_store_client::ReadConsistency::{self, Linearizable};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Directory {
    store: Store,
    cache: Arc<Cache>,
    clock: SharedClock,
}

impl Directory {
    /// Built by the composition root.
    pub(crate) fn new(store: Store, cache: Arc<Cache>, clock: SharedClock) -> Directory {
        Directory {
            store,
            cache,
            clock,
        }
    }

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
        // A caller that presents a consistency token ahead of the caches reads the store.
        let fresh_enough = crate::consistency::wanted() <= self.cache.applied();
        if fresh_enough {
            if let Some(v) = map.read().expect("cache lock").get(id) {
                return Ok(v.clone());
            }
        }
        let epoch = self.cache.epoch.load(Ordering::SeqCst);
        match self
            .store
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

    /// A pool as stored now (a linearizable read, not the cache): the admin calls that
    /// describe or change a pool see every earlier write.
    pub(crate) async fn pool_record(&self, pool_id: &str) -> Result<UserPool, AppError> {
        crate::validate::pool_id(pool_id)?;
        self.store
            .ask::<Option<_>>(
                Query::GetUserPool {
                    pool_id: pool_id.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!("User pool {pool_id} does not exist."))
            })
    }

    /// A user of a pool, by username or sign-in alias (the admin calls).
    pub(crate) async fn pool_user(&self, pool_id: &str, username: &str) -> Result<User, AppError> {
        let pool = self.pool(pool_id).await?;
        Ok(self.find_user(&pool, username).await?.user)
    }

    /// A page of a pool's app clients, and the token of the next.
    pub(crate) async fn pool_clients(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AppClient>, Option<String>), AppError> {
        self.pool(pool_id).await?;
        let query = |limit| Query::ListAppClients {
            pool_id: pool_id.into(),
            after,
            limit,
        };
        self.store
            .list(limit, query, |c: &AppClient| c.client_id.clone())
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

    /// The one client check: the app client exists and is enabled. Every public call that
    /// names a client goes through here (each flow then asks [`AppClient::allows`]); the
    /// admin API uses [`Directory::client`] to see disabled clients too.
    pub(crate) async fn active_client(&self, client_id: &str) -> Result<Arc<AppClient>, AppError> {
        let client = self.client(client_id).await?;
        if client.disabled {
            return Err(AppError::NotAuthorized("Client is disabled.".into()));
        }
        Ok(client)
    }

    /// The one user check: the token's user exists with the same sub, is enabled, has not
    /// signed out (nor had the password reset or changed) since the token's family began,
    /// and the token's client is still enabled. Linearizable: a sign-out that returned is
    /// seen by every later check on every gateway.
    pub(crate) async fn live_user(
        &self,
        pool: &UserPool,
        t: &TokenUser,
    ) -> Result<UserView, UserCheckError> {
        match self.client(&t.client_id).await {
            Ok(c) if !c.disabled && c.pool_id == pool.id => {}
            Ok(_) | Err(AppError::ResourceNotFound(_)) => {
                return Err(UserCheckError::Dead(Dead::Client))
            }
            Err(e) => return Err(UserCheckError::Other(e)),
        }
        let view = match self.find_user(pool, &t.username).await {
            Ok(v) => v,
            Err(AppError::UserNotFound | AppError::InvalidParameter(_)) => {
                return Err(UserCheckError::Dead(Dead::NoUser))
            }
            Err(e) => return Err(UserCheckError::Other(e)),
        };
        if view.user.sub != t.sub || view.user.username != t.username {
            return Err(UserCheckError::Dead(Dead::NoUser));
        }
        if t.signed_in_ms < view.user.tokens_valid_after_ms {
            return Err(UserCheckError::Dead(Dead::SignedOut));
        }
        if !view.user.enabled {
            return Err(UserCheckError::Dead(Dead::Disabled));
        }
        Ok(view)
    }

    /// Resolve a username or sign-in alias to the user and its groups.
    pub(crate) async fn find_user(
        &self,
        pool: &UserPool,
        login: &str,
    ) -> Result<UserView, AppError> {
        let login = canonical_username(login, &pool.config)?;
        self.store
            .ask::<Option<_>>(
                Query::GetUserForLogin {
                    pool_id: pool.id.clone(),
                    login,
                },
                Linearizable,
            )
            .await?
            .ok_or(AppError::UserNotFound)
    }

    pub(crate) async fn patch_user(
        &self,
        pool_id: &str,
        username: &str,
        patch: UserPatch,
    ) -> Result<(), AppError> {
        self.store
            .write(Command::UpdateUser(UpdateUser {
                pool_id: pool_id.into(),
                username: username.into(),
                patch,
            }))
            .await
            .map(|_| ())
    }

    pub(crate) async fn sign_out_everywhere(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        self.patch_user(
            pool_id,
            username,
            UserPatch {
                tokens_valid_after_ms: Some(now),
                at_ms: now,
                ..Default::default()
            },
        )
        .await
    }

    /// Remove attributes of a user; `sub`, required and immutable schema attributes stay.
    pub(crate) async fn remove_attributes(
        &self,
        pool: &UserPool,
        username: &str,
        names: &[String],
        how: AttrWrite,
    ) -> Result<(), AppError> {
        check_deletable(&pool.config, names, how)?;
        self.patch_user(
            &pool.id,
            username,
            UserPatch {
                delete_attributes: names.to_vec(),
                at_ms: self.clock.now_ms(),
                ..Default::default()
            },
        )
        .await
    }
}
