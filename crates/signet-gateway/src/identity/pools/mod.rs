//! Identity pools (admin): create, describe, update, delete, list; default roles and role
//! mappings; listing, describing and deleting identities.

mod identities;
mod providers;

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::ids;
use crate::store::Store;
use crate::urls::Urls;
use crate::AppError;
use signet_core::{
    Command, CreateIdentityPool, DeleteIdentityPool, IdentityPool, PoolRoles, Query, Role,
    RoleMapping, RoleMappingKind, SetIdentityPoolRoles, UpdateIdentityPool,
};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

/// Settings of a new or updated identity pool.
#[derive(Debug, Clone, Default)]
pub struct IdentityPoolInput {
    /// Display name.
    pub name: String,
    /// Hand out guest identities.
    pub allow_unauthenticated: bool,
    /// Allow GetOpenIdToken → AssumeRoleWithWebIdentity for any role that trusts the pool.
    pub allow_classic_flow: bool,
    /// Signet user pools: (issuer with or without scheme, client id), one per client.
    pub user_pools: Vec<(String, String)>,
    /// External OIDC providers: (issuer, JWKS URL, client ids).
    pub oidc: Vec<(String, String, Vec<String>)>,
    /// Developer provider name.
    pub developer_provider: Option<String>,
    /// Facebook / Login with Amazon: (provider name, app id, token-check endpoint).
    pub social: Vec<(String, String, Option<String>)>,
}

/// An issuer is compared, never fetched: http(s) with a host is enough.
fn http_url(what: &str, url: &str) -> Result<(), AppError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "{what} must be an http(s) URL: {url}"
        )))
    }
}

fn check_name(what: &str, name: &str, max: usize) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.chars().count() <= max
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || " _+=,.@-:/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "{what} must be 1 to {max} letters, digits, spaces or _+=,.@-:/"
        )))
    }
}

/// The identity pools (admin) feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct IdentityPools {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    urls: Urls,
    allow_loopback_http: bool,
}

impl IdentityPools {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        urls: Urls,
        allow_loopback_http: bool,
    ) -> IdentityPools {
        IdentityPools {
            store,
            dir,
            clock,
            urls,
            allow_loopback_http,
        }
    }
}

impl IdentityPools {
    /// CreateIdentityPool.
    pub async fn create_identity_pool(
        &self,
        input: IdentityPoolInput,
    ) -> Result<IdentityPool, AppError> {
        check_name("identity_pool_name", &input.name, 128)?;
        let providers = self.providers(&input).await?;
        let now = self.clock.now_ms();
        let pool = IdentityPool {
            id: format!("local:{}", ids::uuid()),
            name: input.name,
            allow_unauthenticated: input.allow_unauthenticated,
            allow_classic_flow: input.allow_classic_flow,
            providers,
            developer_provider: input.developer_provider,
            roles: PoolRoles::default(),
            role_mappings: BTreeMap::new(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::CreateIdentityPool(CreateIdentityPool {
                pool: pool.clone(),
            }))
            .await?;
        Ok(pool)
    }

    /// DescribeIdentityPool (a linearizable read).
    pub async fn describe_identity_pool(&self, id: &str) -> Result<IdentityPool, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetIdentityPool {
                    pool_id: id.to_string(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| AppError::ResourceNotFound(format!("IdentityPool '{id}' not found.")))
    }

    /// UpdateIdentityPool: replaces the settings (roles and mappings are kept).
    pub async fn update_identity_pool(
        &self,
        id: &str,
        input: IdentityPoolInput,
    ) -> Result<IdentityPool, AppError> {
        check_name("identity_pool_name", &input.name, 128)?;
        let current = self.describe_identity_pool(id).await?;
        let providers = self.providers(&input).await?;
        let pool = IdentityPool {
            id: id.to_string(),
            name: input.name,
            allow_unauthenticated: input.allow_unauthenticated,
            allow_classic_flow: input.allow_classic_flow,
            providers,
            developer_provider: input.developer_provider,
            roles: current.roles,
            role_mappings: current.role_mappings,
            created_at_ms: current.created_at_ms,
            updated_at_ms: self.clock.now_ms(),
        };
        self.store
            .write(Command::UpdateIdentityPool(UpdateIdentityPool { pool }))
            .await?;
        self.describe_identity_pool(id).await
    }

    /// DeleteIdentityPool.
    pub async fn delete_identity_pool(&self, id: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteIdentityPool(DeleteIdentityPool {
                pool_id: id.to_string(),
            }))
            .await
            .map(|_| ())
    }

    /// ListIdentityPools.
    pub async fn list_identity_pools(
        &self,
        limit: usize,
        next: Option<String>,
    ) -> Result<(Vec<IdentityPool>, Option<String>), AppError> {
        self.store
            .list(
                limit,
                |limit| Query::ListIdentityPools { after: next, limit },
                |p: &IdentityPool| p.id.clone(),
            )
            .await
    }

    /// SetIdentityPoolRoles: every named role must exist; at most 25 rules per mapping.
    pub async fn set_identity_pool_roles(
        &self,
        id: &str,
        roles: PoolRoles,
        mappings: BTreeMap<String, RoleMapping>,
    ) -> Result<(), AppError> {
        let mut arns: Vec<&String> = roles
            .authenticated
            .iter()
            .chain(roles.unauthenticated.iter())
            .collect();
        for (provider, m) in &mappings {
            if provider.is_empty() {
                return Err(AppError::invalid("role mapping without a provider name"));
            }
            if m.rules.len() > 25 {
                return Err(AppError::invalid("at most 25 rules per role mapping"));
            }
            if m.kind == RoleMappingKind::Rules && m.rules.is_empty() {
                return Err(AppError::invalid(format!(
                    "role mapping of {provider}: type Rules needs at least one rule"
                )));
            }
            if m.kind == RoleMappingKind::Token && !m.rules.is_empty() {
                return Err(AppError::invalid(format!(
                    "role mapping of {provider}: type Token takes no rules"
                )));
            }
            for r in &m.rules {
                if r.claim.is_empty() || r.value.is_empty() || r.value.len() > 128 {
                    return Err(AppError::invalid(format!(
                        "role mapping of {provider}: a rule needs a claim and a value of 1 to 128 characters"
                    )));
                }
                arns.push(&r.role_arn);
            }
        }
        for arn in arns {
            let name = Role::name_in(arn)
                .ok_or_else(|| AppError::invalid(format!("{arn} is not a role ARN")))?;
            self.dir.role(name).await?;
        }
        self.store
            .write(Command::SetIdentityPoolRoles(SetIdentityPoolRoles {
                pool_id: id.to_string(),
                roles,
                role_mappings: mappings,
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }
}
