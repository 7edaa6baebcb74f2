//! Identity pools (admin): create, describe, update, delete, list; default roles and role
//! mappings; listing, describing and deleting identities.

use super::{ids, page, page_size};
use crate::{AppError, Gateway};
use signet_core::Page;
use signet_core::{
    Command, CreateIdentityPool, DeleteIdentities, DeleteIdentityPool, Identity, IdentityPool,
    LoginProvider, PoolRoles, Query, Role, RoleMapping, RoleMappingKind, SetIdentityPoolRoles,
    UpdateIdentityPool,
};
use signet_store::ReadConsistency::Linearizable;
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
}

/// The provider name of Signet's own identity tokens in login maps and trust policies.
pub const IDENTITY_PROVIDER: &str = "signet-identity";

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

impl Gateway {
    /// The issuer of identity-pool OpenID tokens.
    pub(crate) fn identity_issuer(&self) -> String {
        format!("{}/identity", self.cfg.public_url)
    }

    /// The issuer of STS session tokens.
    pub(crate) fn sts_issuer(&self) -> String {
        format!("{}/sts", self.cfg.public_url)
    }

    async fn providers(&self, input: &IdentityPoolInput) -> Result<Vec<LoginProvider>, AppError> {
        let mut out: Vec<LoginProvider> = Vec::new();
        let mut by_issuer: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let base = self
            .cfg
            .public_url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string();
        for (name, client) in &input.user_pools {
            let bare = name
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let pool_id = bare
                .strip_prefix(&base)
                .and_then(|r| r.strip_prefix('/'))
                .filter(|r| !r.is_empty() && !r.contains('/'))
                .ok_or_else(|| {
                    AppError::invalid(format!(
                        "provider {name} is not a user pool of this service ({base}/<pool id>)"
                    ))
                })?;
            self.pool(pool_id).await?;
            let c = self.client(client).await?;
            if c.pool_id != pool_id {
                return Err(AppError::invalid(format!(
                    "client {client} does not belong to user pool {pool_id}"
                )));
            }
            by_issuer
                .entry(self.cfg.issuer(pool_id))
                .or_default()
                .push(client.clone());
        }
        for (issuer, client_ids) in by_issuer {
            out.push(LoginProvider::UserPool { issuer, client_ids });
        }
        for (issuer, jwks_url, client_ids) in &input.oidc {
            http_url("issuer", issuer)?;
            // Fetched by the gateway: the outbound rule (https; loopback http if allowed).
            crate::outbound::check_outbound_url(jwks_url, self.cfg.allow_insecure_loopback_http)
                .map_err(|e| AppError::invalid(format!("jwks_url {jwks_url} {e}")))?;
            if client_ids.is_empty() || client_ids.iter().any(|c| c.is_empty()) {
                return Err(AppError::invalid(format!(
                    "OIDC provider {issuer} needs at least one client id"
                )));
            }
            out.push(LoginProvider::Oidc {
                // Exactly as configured: tokens' `iss` must equal it byte for byte.
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                client_ids: client_ids.clone(),
            });
        }
        let mut names: Vec<String> = out.iter().map(LoginProvider::name).collect();
        if let Some(d) = &input.developer_provider {
            check_name("developer_provider_name", d, 100)?;
            names.push(d.clone());
        }
        names.push(IDENTITY_PROVIDER.into());
        let n = names.len();
        names.sort();
        names.dedup();
        if names.len() != n {
            return Err(AppError::invalid(
                "provider names must be distinct (and not signet-identity)",
            ));
        }
        Ok(out)
    }

    /// CreateIdentityPool.
    pub async fn create_identity_pool(
        &self,
        input: IdentityPoolInput,
    ) -> Result<IdentityPool, AppError> {
        check_name("identity_pool_name", &input.name, 128)?;
        let providers = self.providers(&input).await?;
        let now = self.now_ms();
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
        self.write(Command::CreateIdentityPool(CreateIdentityPool {
            pool: pool.clone(),
        }))
        .await?;
        Ok(pool)
    }

    /// DescribeIdentityPool (a linearizable read).
    pub async fn describe_identity_pool(&self, id: &str) -> Result<IdentityPool, AppError> {
        self.ask::<Option<_>>(
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
            updated_at_ms: self.now_ms(),
        };
        self.write(Command::UpdateIdentityPool(UpdateIdentityPool { pool }))
            .await?;
        self.describe_identity_pool(id).await
    }

    /// DeleteIdentityPool.
    pub async fn delete_identity_pool(&self, id: &str) -> Result<(), AppError> {
        self.write(Command::DeleteIdentityPool(DeleteIdentityPool {
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
        let limit = page_size(limit);
        let Page { items: p, more } = self
            .ask(
                Query::ListIdentityPools { after: next, limit },
                Linearizable,
            )
            .await?;
        Ok(page(p, limit, more, |p| p.id.clone()))
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
            self.role(name).await?;
        }
        self.write(Command::SetIdentityPoolRoles(SetIdentityPoolRoles {
            pool_id: id.to_string(),
            roles,
            role_mappings: mappings,
            at_ms: self.now_ms(),
        }))
        .await
        .map(|_| ())
    }

    /// ListIdentities.
    pub async fn list_identities(
        &self,
        pool_id: &str,
        limit: usize,
        next: Option<String>,
    ) -> Result<(Vec<Identity>, Option<String>), AppError> {
        self.describe_identity_pool(pool_id).await?;
        let limit = page_size(limit);
        let Page { items: i, more } = self
            .ask(
                Query::ListIdentities {
                    pool_id: pool_id.to_string(),
                    after: next,
                    limit,
                },
                Linearizable,
            )
            .await?;
        Ok(page(i, limit, more, |i| i.identity_id.clone()))
    }

    /// An identity by id alone (a linearizable read).
    pub async fn describe_identity(&self, identity_id: &str) -> Result<Identity, AppError> {
        self.ask::<Option<_>>(
            Query::GetIdentityById {
                identity_id: identity_id.to_string(),
            },
            Linearizable,
        )
        .await?
        .ok_or_else(|| AppError::ResourceNotFound(format!("Identity '{identity_id}' not found.")))
    }

    /// DeleteIdentities: returns the ids that were not found.
    pub async fn delete_identities(&self, ids: &[String]) -> Result<Vec<String>, AppError> {
        if ids.is_empty() || ids.len() > 60 {
            return Err(AppError::invalid("give 1 to 60 identity ids"));
        }
        let mut by_pool: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.describe_identity(id).await {
                Ok(i) => by_pool.entry(i.pool_id).or_default().push(i.identity_id),
                Err(AppError::ResourceNotFound(_)) => missing.push(id.clone()),
                Err(e) => return Err(e),
            }
        }
        for (pool_id, identity_ids) in by_pool {
            self.write(Command::DeleteIdentities(DeleteIdentities {
                pool_id,
                identity_ids,
            }))
            .await?;
        }
        Ok(missing)
    }
}
