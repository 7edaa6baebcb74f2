//! The public identity calls: GetId, GetOpenIdToken, GetCredentialsForIdentity,
//! UnlinkIdentity, and the admin's GetOpenIdTokenForDeveloperIdentity.

mod credentials;
pub(crate) mod logins;
mod open_id;
pub(crate) mod pools;
mod role_mapping;

use self::logins::Logins;
use self::logins::VerifiedLogin;
use self::pools::IdentityPools;
use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::ids;
use crate::keys::KeyManager;
use crate::store::Store;
use crate::sts::Sts;
use crate::urls::Urls;
pub(crate) use crate::urls::IDENTITY_PROVIDER;
use crate::AppError;
use serde_json::Value;
use signet_core::{Command, GetOrCreateIdentity, Identity, IdentityPool, Query, UnlinkIdentity};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lifetime of GetOpenIdToken's tokens.
const OPEN_ID_TOKEN_S: u64 = 600;
/// Default and longest lifetime of developer-identity tokens.
const DEVELOPER_TOKEN_DEFAULT_S: u64 = 900;
const DEVELOPER_TOKEN_MAX_S: u64 = 86_400;
/// Lifetime of GetCredentialsForIdentity's credentials (Cognito's: one hour).
const CREDENTIALS_S: u64 = 3600;

/// An identity proven by the logins of a call.
struct Proven {
    identity: Identity,
    pool: Arc<IdentityPool>,
    logins: Vec<VerifiedLogin>,
}

impl Proven {
    fn authenticated(&self) -> bool {
        !self.identity.logins.is_empty()
    }

    /// `amr`: `authenticated` and the providers, or `unauthenticated`.
    fn amr(&self) -> Vec<String> {
        if !self.authenticated() {
            return vec!["unauthenticated".into()];
        }
        let mut amr = vec!["authenticated".to_string()];
        for l in &self.logins {
            if l.provider == IDENTITY_PROVIDER {
                // A developer identity's token carries its providers.
                if let Some(a) = l.claims.get("amr").and_then(Value::as_array) {
                    amr.extend(
                        a.iter()
                            .filter_map(Value::as_str)
                            .filter(|p| *p != "authenticated")
                            .map(str::to_string),
                    );
                }
            } else {
                amr.push(l.provider.clone());
            }
        }
        amr.dedup();
        amr
    }
}

/// The identity feature (GetId and the credentials of identities): it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Identities {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    urls: Urls,
    keys: Arc<KeyManager>,
    logins: Logins,
    sts: Sts,
    pools: IdentityPools,
}

impl Identities {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        urls: Urls,
        keys: Arc<KeyManager>,
        logins: Logins,
        sts: Sts,
        pools: IdentityPools,
    ) -> Identities {
        Identities {
            store,
            dir,
            clock,
            urls,
            keys,
            logins,
            sts,
            pools,
        }
    }
}

impl Identities {
    async fn identity_by_login(
        &self,
        pool_id: &str,
        login: &VerifiedLogin,
    ) -> Result<Option<Identity>, AppError> {
        self.store
            .ask(
                Query::GetIdentityByLogin {
                    pool_id: pool_id.to_string(),
                    provider: login.provider.clone(),
                    subject: login.subject.clone(),
                },
                Linearizable,
            )
            .await
    }

    /// GetId: the identity of these logins, created if none is linked yet (through the
    /// log, so concurrent calls for one login end with one id).
    pub async fn get_id(
        &self,
        pool_id: &str,
        logins: &BTreeMap<String, String>,
    ) -> Result<String, AppError> {
        let pool = self.dir.identity_pool(pool_id).await?;
        if logins.contains_key(IDENTITY_PROVIDER) {
            return Err(AppError::invalid(
                "signet-identity tokens name their identity already",
            ));
        }
        let verified = self.logins.verify_logins(&pool, logins).await?;
        if verified.is_empty() && !pool.allow_unauthenticated {
            return Err(AppError::NotAuthorized(
                "Unauthenticated access is not supported for this identity pool.".into(),
            ));
        }
        // Fast path: every login already linked to one identity → no write.
        if let Some(first) = verified.first() {
            if let Some(i) = self.identity_by_login(&pool.id, first).await? {
                if verified
                    .iter()
                    .all(|l| i.logins.get(&l.provider) == Some(&l.subject))
                {
                    return Ok(i.identity_id);
                }
            }
        }
        let new_id = format!("local:{}", ids::uuid());
        let subjects: BTreeMap<String, String> = verified
            .iter()
            .map(|l| (l.provider.clone(), l.subject.clone()))
            .collect();
        self.store
            .write(Command::GetOrCreateIdentity(GetOrCreateIdentity {
                pool_id: pool.id.clone(),
                logins: subjects,
                new_identity_id: new_id.clone(),
                into_identity_id: None,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        match verified.first() {
            None => Ok(new_id),
            Some(first) => self
                .identity_by_login(&pool.id, first)
                .await?
                .map(|i| i.identity_id)
                .ok_or_else(|| AppError::Internal("identity vanished after GetId".into())),
        }
    }

    /// Check that `logins` prove `identity_id` (or that it is a guest and none are given).
    async fn prove(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
    ) -> Result<Proven, AppError> {
        let identity = self.pools.describe_identity(identity_id).await?;
        let pool = self.dir.identity_pool(&identity.pool_id).await?;
        let verified = self.logins.verify_logins(&pool, logins).await?;
        if verified.is_empty() {
            if !identity.logins.is_empty() {
                return Err(AppError::NotAuthorized(
                    "Invalid login token. Logins are required for an authenticated identity."
                        .into(),
                ));
            }
            if !pool.allow_unauthenticated {
                return Err(AppError::NotAuthorized(
                    "Unauthenticated access is not supported for this identity pool.".into(),
                ));
            }
        }
        for l in &verified {
            let linked = if l.provider == IDENTITY_PROVIDER {
                l.subject == identity.identity_id
            } else {
                identity.logins.get(&l.provider) == Some(&l.subject)
            };
            if !linked {
                return Err(AppError::NotAuthorized(format!(
                    "Invalid login token. The login of {} is not linked to this identity.",
                    l.provider
                )));
            }
        }
        Ok(Proven {
            identity,
            pool,
            logins: verified,
        })
    }

    /// UnlinkIdentity: remove logins proven by their tokens.
    pub async fn unlink_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), AppError> {
        if remove.is_empty() {
            return Err(AppError::invalid("logins_to_remove is empty"));
        }
        let p = self.prove(identity_id, logins).await?;
        let mut unlink = BTreeMap::new();
        for provider in remove {
            let l = p
                .logins
                .iter()
                .find(|l| &l.provider == provider && l.provider != IDENTITY_PROVIDER)
                .ok_or_else(|| {
                    AppError::NotAuthorized(format!(
                        "The login of {provider} must be proven in logins to be unlinked."
                    ))
                })?;
            unlink.insert(l.provider.clone(), l.subject.clone());
        }
        self.store
            .write(Command::UnlinkIdentity(UnlinkIdentity {
                pool_id: p.pool.id.clone(),
                identity_id: identity_id.to_string(),
                logins: unlink,
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }
}
