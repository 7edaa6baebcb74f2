//! Resource servers and their custom scopes (Cognito's CreateResourceServer & co.), and
//! the one check of an app client's OAuth settings against them.

use super::STANDARD_SCOPES;
use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::store::Store;
use crate::AppError;
use signet_core::{
    Command, DeleteResourceServer, OAuthFlow, PutResourceServer, Query, ResourceServer,
    ResourceServerScope,
};
use signet_store_client::ReadConsistency::Linearizable;

/// A resource server's settings.
#[derive(Debug, Clone, Default)]
pub struct ResourceServerInput {
    /// Identifier (often an URL); scopes are `{identifier}/{scope}`.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// (name, description) of each scope.
    pub scopes: Vec<(String, String)>,
}

fn check_resource_server(input: &ResourceServerInput) -> Result<(), AppError> {
    let id_ok = !input.identifier.is_empty()
        && input.identifier.len() <= 256
        && input
            .identifier
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '\0');
    if !id_ok {
        return Err(AppError::invalid(
            "identifier must be 1 to 256 printable ASCII characters",
        ));
    }
    if input.name.is_empty() || input.name.len() > 256 {
        return Err(AppError::invalid("name must be 1 to 256 characters"));
    }
    if input.scopes.len() > 100 {
        return Err(AppError::invalid("at most 100 scopes per resource server"));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, description) in &input.scopes {
        let ok = !name.is_empty()
            && name.len() <= 256
            && name
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if !ok {
            return Err(AppError::invalid(format!(
                "scope name {name:?}: 1 to 256 printable ASCII characters, no quote or backslash"
            )));
        }
        if description.len() > 256 {
            return Err(AppError::invalid(
                "scope description: at most 256 characters",
            ));
        }
        if !seen.insert(name) {
            return Err(AppError::invalid(format!("scope {name} listed twice")));
        }
    }
    Ok(())
}

/// The resource servers feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct ResourceServers {
    store: Store,
    dir: Directory,
    clock: SharedClock,
}

impl ResourceServers {
    /// Built by the composition root.
    pub(crate) fn new(store: Store, dir: Directory, clock: SharedClock) -> ResourceServers {
        ResourceServers { store, dir, clock }
    }

    /// Check a client's OAuth settings: grants known, client_credentials only with a secret
    /// and with custom scopes, every scope standard or defined by a resource server.
    pub(crate) async fn check_oauth(
        &self,
        pool_id: &str,
        flows: &[String],
        scopes: &[String],
        has_secret: bool,
    ) -> Result<(Vec<OAuthFlow>, Vec<String>), AppError> {
        let mut parsed = Vec::new();
        for f in flows {
            if f == "implicit" {
                // RFC 9700 §2.1.2: tokens in a redirect's fragment leak (history, referrers,
                // injection) and can not be sender-constrained; code + PKCE does the same job.
                return Err(AppError::invalid(
                    "the implicit flow is not offered (RFC 9700 §2.1.2): use code with PKCE",
                ));
            }
            let flow = OAuthFlow::from_name(f).ok_or_else(|| {
                AppError::invalid(format!(
                    "unsupported OAuth flow {f:?} (client_credentials, code)"
                ))
            })?;
            if !parsed.contains(&flow) {
                parsed.push(flow);
            }
        }
        let machine = parsed.contains(&OAuthFlow::ClientCredentials);
        if machine && parsed.contains(&OAuthFlow::Code) {
            return Err(AppError::invalid(
                "client_credentials flow can not be selected along with the code flow",
            ));
        }
        if machine && !has_secret {
            return Err(AppError::invalid(
                "client_credentials flow can not be selected if client does not have a client secret.",
            ));
        }
        let mut out: Vec<String> = Vec::new();
        for scope in scopes {
            if STANDARD_SCOPES.contains(&scope.as_str()) {
                if machine {
                    return Err(AppError::invalid(format!(
                        "{scope}: client_credentials clients take custom scopes only"
                    )));
                }
            } else {
                let (server, name) = scope.rsplit_once('/').ok_or_else(|| {
                    AppError::invalid(format!(
                        "{scope} is neither standard nor {{resource server}}/{{scope}}"
                    ))
                })?;
                let rs = self
                    .describe_resource_server(pool_id, server)
                    .await
                    .map_err(|_| {
                        AppError::invalid(format!("scope {scope}: no resource server {server}"))
                    })?;
                if !rs.scopes.iter().any(|s| s.name == name) {
                    return Err(AppError::invalid(format!(
                        "scope {scope}: resource server {server} has no scope {name}"
                    )));
                }
            }
            if !out.contains(scope) {
                out.push(scope.clone());
            }
        }
        let needs_openid = ["email", "phone", "profile"];
        if out.iter().any(|s| needs_openid.contains(&s.as_str()))
            && !out.iter().any(|s| s == "openid")
        {
            return Err(AppError::invalid(
                "the email, phone and profile scopes need the openid scope",
            ));
        }
        if machine && out.is_empty() {
            return Err(AppError::invalid(
                "client_credentials needs at least one custom scope",
            ));
        }
        Ok((parsed, out))
    }

    /// CreateResourceServer.
    pub async fn create_resource_server(
        &self,
        pool_id: &str,
        input: ResourceServerInput,
    ) -> Result<ResourceServer, AppError> {
        self.put_resource_server(pool_id, input, true).await
    }

    /// UpdateResourceServer (replaces name and scopes).
    pub async fn update_resource_server(
        &self,
        pool_id: &str,
        input: ResourceServerInput,
    ) -> Result<ResourceServer, AppError> {
        self.put_resource_server(pool_id, input, false).await
    }

    /// Refuse to remove scopes an app client of the pool is still granted: its tokens
    /// would carry scopes no resource server defines.
    async fn check_scopes_unused(
        &self,
        pool_id: &str,
        identifier: &str,
        removed: &[String],
    ) -> Result<(), AppError> {
        if removed.is_empty() {
            return Ok(());
        }
        let mut after = None;
        loop {
            let (clients, next) = self.dir.pool_clients(pool_id, after, 60).await?;
            for c in &clients {
                if let Some(s) = c.oauth_scopes.iter().find(|s| {
                    s.rsplit_once('/').is_some_and(|(rs, name)| {
                        rs == identifier && removed.iter().any(|r| r == name)
                    })
                }) {
                    return Err(AppError::invalid(format!(
                        "app client {} is granted {s}: remove the scope from the client first",
                        c.client_id
                    )));
                }
            }
            match next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }

    async fn put_resource_server(
        &self,
        pool_id: &str,
        input: ResourceServerInput,
        create: bool,
    ) -> Result<ResourceServer, AppError> {
        check_resource_server(&input)?;
        if !create {
            let current = self
                .describe_resource_server(pool_id, &input.identifier)
                .await?;
            let removed: Vec<String> = current
                .scopes
                .iter()
                .filter(|s| !input.scopes.iter().any(|(n, _)| *n == s.name))
                .map(|s| s.name.clone())
                .collect();
            self.check_scopes_unused(pool_id, &input.identifier, &removed)
                .await?;
        }
        let now = self.clock.now_ms();
        let server = ResourceServer {
            pool_id: pool_id.to_string(),
            identifier: input.identifier.clone(),
            name: input.name,
            scopes: input
                .scopes
                .into_iter()
                .map(|(name, description)| ResourceServerScope { name, description })
                .collect(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::PutResourceServer(PutResourceServer {
                server,
                create,
            }))
            .await?;
        self.describe_resource_server(pool_id, &input.identifier)
            .await
    }

    /// DescribeResourceServer.
    pub async fn describe_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<ResourceServer, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetResourceServer {
                    pool_id: pool_id.into(),
                    identifier: identifier.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!("Resource server {identifier} does not exist."))
            })
    }

    /// DeleteResourceServer: refused while an app client is granted one of its scopes.
    pub async fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<(), AppError> {
        let current = self.describe_resource_server(pool_id, identifier).await?;
        let all: Vec<String> = current.scopes.iter().map(|s| s.name.clone()).collect();
        self.check_scopes_unused(pool_id, identifier, &all).await?;
        self.store
            .write(Command::DeleteResourceServer(DeleteResourceServer {
                pool_id: pool_id.into(),
                identifier: identifier.into(),
            }))
            .await
            .map(|_| ())
    }

    /// ListResourceServers.
    pub async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<ResourceServer>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListResourceServers {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                },
                |r: &ResourceServer| r.identifier.clone(),
            )
            .await
    }
}
