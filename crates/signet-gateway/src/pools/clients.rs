//! App clients: create, read, update, delete, list, and their secrets.

use super::check_display_name;
use super::redirects::{check_hosted, HostedInput};
use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::ids;
use crate::oauth::resource_servers::ResourceServers;
use crate::secrets::ClientSecrets;
use crate::store::Store;
use crate::validate::STANDARD_ATTRIBUTES;
use crate::AppError;
use signet_core::{
    AppClient, AuthFlow, Command, CreateAppClient, DeleteAppClient, Query, TokenValidity,
    UpdateAppClient, UserPool,
};
use signet_store_client::ReadConsistency::Linearizable;

/// Settings of a new or updated app client.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    /// Display name.
    pub name: String,
    /// Make a secret (shown once).
    pub generate_secret: bool,
    /// With `generate_secret`: the secret to use instead of a new one.
    pub secret: Option<String>,
    /// Cognito flow names.
    pub auth_flows: Vec<String>,
    /// Lifetimes in seconds; 0 means the default.
    pub access_s: u64,
    /// ID token lifetime; 0 means the default.
    pub id_s: u64,
    /// Refresh token lifetime; 0 means the default.
    pub refresh_s: u64,
    /// Readable attributes (empty: all).
    pub read_attributes: Vec<String>,
    /// Writable attributes (empty: all mutable).
    pub write_attributes: Vec<String>,
    /// Single-use refresh tokens with reuse detection.
    pub refresh_token_rotation: bool,
    /// With rotation: seconds the replaced token still refreshes (0–60).
    pub retry_grace_s: u32,
    /// OAuth 2.0 grants (`client_credentials`).
    pub oauth_flows: Vec<String>,
    /// OAuth scopes the client may ask for (`{resource server}/{scope}`).
    pub oauth_scopes: Vec<String>,
    /// The hosted sign-in's settings (callback and logout URLs, identity providers).
    pub hosted: HostedInput,
    /// Refuse the client's authentication everywhere.
    pub disabled: bool,
}

fn validity(input: &ClientInput) -> Result<TokenValidity, AppError> {
    let d = TokenValidity::default();
    let pick = |v: u64, def: u64, lo: u64, hi: u64, what: &str| {
        let v = if v == 0 { def } else { v };
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(AppError::invalid(format!(
                "{what} must be between {lo} and {hi} seconds"
            )))
        }
    };
    // The store forgets a refresh family this long after its refresh tokens expire, so no
    // access or ID token may outlive it (signet_core::purge).
    let max_s = signet_core::purge::MAX_TOKEN_LIFETIME_MS / 1000;
    Ok(TokenValidity {
        access_s: pick(
            input.access_s,
            d.access_s,
            300,
            max_s,
            "access token validity",
        )?,
        id_s: pick(input.id_s, d.id_s, 300, max_s, "id token validity")?,
        refresh_s: pick(
            input.refresh_s,
            d.refresh_s,
            3_600,
            315_360_000,
            "refresh token validity",
        )?,
    })
}

/// Cognito's RetryGracePeriodSeconds: 0 to 60, and only meaningful with rotation.
fn retry_grace(input: &ClientInput) -> Result<u32, AppError> {
    match input.retry_grace_s {
        0 => Ok(0),
        s if s > 60 => Err(AppError::invalid(
            "RetryGracePeriodSeconds must be between 0 and 60",
        )),
        // Without rotation nothing is replaced: there is no grace to give.
        _ if !input.refresh_token_rotation => Ok(0),
        s => Ok(s),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn flows(names: &[String]) -> Result<Vec<AuthFlow>, AppError> {
    if names.is_empty() {
        // Cognito's default for a new client (CUSTOM_AUTH does nothing until the pool sets
        // its three triggers).
        return Ok(vec![
            AuthFlow::AllowRefreshTokenAuth,
            AuthFlow::AllowUserSrpAuth,
            AuthFlow::AllowCustomAuth,
        ]);
    }
    names
        .iter()
        .map(|n| {
            AuthFlow::from_name(n)
                .ok_or_else(|| AppError::invalid(format!("unknown auth flow {n}")))
        })
        .collect()
}

/// Most entries of a client's flow and scope lists (Cognito: 50 OAuth scopes; the flow
/// lists name a handful of distinct values).
const MAX_AUTH_FLOWS: usize = 16;
const MAX_OAUTH_FLOWS: usize = 3;
const MAX_OAUTH_SCOPES: usize = 50;

/// What a client stores besides its name, checked the same way on Create and Update: flow
/// and scope lists bounded, read/write attributes each an attribute of the pool (standard,
/// or one of its custom ones), named once.
fn check_lists(pool: &UserPool, input: &ClientInput) -> Result<(), AppError> {
    for (what, n, max) in [
        ("ExplicitAuthFlows", input.auth_flows.len(), MAX_AUTH_FLOWS),
        (
            "AllowedOAuthFlows",
            input.oauth_flows.len(),
            MAX_OAUTH_FLOWS,
        ),
        (
            "AllowedOAuthScopes",
            input.oauth_scopes.len(),
            MAX_OAUTH_SCOPES,
        ),
    ] {
        if n > max {
            return Err(AppError::invalid(format!(
                "{what} has at most {max} entries ({n} given)"
            )));
        }
    }
    for (what, names) in [
        ("ReadAttributes", &input.read_attributes),
        ("WriteAttributes", &input.write_attributes),
    ] {
        for (i, name) in names.iter().enumerate() {
            let known = STANDARD_ATTRIBUTES.contains(&name.as_str())
                || (name.starts_with("custom:")
                    && pool.config.schema.iter().any(|a| &a.name == name));
            if !known {
                return Err(AppError::invalid(format!(
                    "{what}: {name:?} is not an attribute of the user pool"
                )));
            }
            if names[..i].contains(name) {
                return Err(AppError::invalid(format!("{what}: {name} is given twice")));
            }
        }
    }
    Ok(())
}

/// The app clients feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Clients {
    pub(super) store: Store,
    dir: Directory,
    pub(super) clock: SharedClock,
    pub(super) secrets: ClientSecrets,
    resource_servers: ResourceServers,
}

impl Clients {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        secrets: ClientSecrets,
        resource_servers: ResourceServers,
    ) -> Clients {
        Clients {
            store,
            dir,
            clock,
            secrets,
            resource_servers,
        }
    }
}

impl Clients {
    /// The names of the pool's identity providers (what SupportedIdentityProviders may
    /// name besides COGNITO).
    async fn provider_names(&self, pool_id: &str) -> Result<Vec<String>, AppError> {
        let all: Vec<signet_core::IdentityProvider> = self
            .store
            .ask(
                Query::ListIdentityProviders {
                    pool_id: pool_id.into(),
                    after: None,
                    limit: 1000,
                },
                Linearizable,
            )
            .await?;
        Ok(all.into_iter().map(|p| p.name).collect())
    }

    /// CreateUserPoolClient. Returns the client and, if generated, its secret (shown once:
    /// the store keeps only a keyed hash and a sealed copy).
    pub async fn create_client(
        &self,
        pool_id: &str,
        input: ClientInput,
    ) -> Result<(AppClient, Option<String>), AppError> {
        let pool = self.dir.pool_record(pool_id).await?;
        check_display_name("ClientName", &input.name)?;
        check_lists(&pool, &input)?;
        let now = self.clock.now_ms();
        let client_id = ids::client_id();
        let (secrets, secret) = match (input.generate_secret, input.secret.as_deref()) {
            (true, given) => {
                let (record, plain) = self.secrets.new_secret(&client_id, now, given)?;
                (vec![record], Some(plain))
            }
            (false, None) => (vec![], None),
            (false, Some(_)) => return Err(AppError::invalid(
                "ClientSecret is given but GenerateSecret is not: a public client has no secret",
            )),
        };
        let (oauth_flows, oauth_scopes) = self
            .resource_servers
            .check_oauth(
                pool_id,
                &input.oauth_flows,
                &input.oauth_scopes,
                secret.is_some(),
            )
            .await?;
        check_hosted(
            &input.hosted,
            &oauth_flows,
            &self.provider_names(pool_id).await?,
        )?;
        let client = AppClient {
            client_id,
            pool_id: pool_id.into(),
            name: input.name.clone(),
            secrets,
            auth_flows: flows(&input.auth_flows)?,
            validity: validity(&input)?,
            read_attributes: input.read_attributes.clone(),
            write_attributes: input.write_attributes.clone(),
            refresh_token_rotation: input.refresh_token_rotation,
            refresh_retry_grace_s: retry_grace(&input)?,
            oauth_flows,
            oauth_scopes,
            callback_urls: input.hosted.callback_urls.clone(),
            logout_urls: input.hosted.logout_urls.clone(),
            default_redirect_uri: non_empty(&input.hosted.default_redirect_uri),
            identity_providers: input.hosted.identity_providers.clone(),
            disabled: input.disabled,
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::CreateAppClient(CreateAppClient {
                client: client.clone(),
            }))
            .await?;
        Ok((client, secret))
    }

    /// DescribeUserPoolClient.
    pub async fn describe_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClient, AppError> {
        crate::validate::pool_id(pool_id)?;
        crate::validate::client_id(client_id)?;
        self.store
            .ask::<Option<_>>(
                Query::GetAppClient {
                    pool_id: pool_id.into(),
                    client_id: client_id.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!("Client {client_id} does not exist."))
            })
    }

    /// UpdateUserPoolClient: name, flows, lifetimes, attributes, rotation (secrets stay).
    pub async fn update_client(
        &self,
        pool_id: &str,
        client_id: &str,
        input: ClientInput,
    ) -> Result<AppClient, AppError> {
        let pool = self.dir.pool_record(pool_id).await?;
        let mut c = self.describe_client(pool_id, client_id).await?;
        // An empty name keeps the current one; any other goes through Create's check.
        if !input.name.is_empty() {
            check_display_name("ClientName", &input.name)?;
            c.name = input.name.clone();
        }
        check_lists(&pool, &input)?;
        c.auth_flows = flows(&input.auth_flows)?;
        c.validity = validity(&input)?;
        c.read_attributes = input.read_attributes.clone();
        c.write_attributes = input.write_attributes.clone();
        c.refresh_token_rotation = input.refresh_token_rotation;
        c.refresh_retry_grace_s = retry_grace(&input)?;
        (c.oauth_flows, c.oauth_scopes) = self
            .resource_servers
            .check_oauth(
                pool_id,
                &input.oauth_flows,
                &input.oauth_scopes,
                !c.secrets.is_empty(),
            )
            .await?;
        check_hosted(
            &input.hosted,
            &c.oauth_flows,
            &self.provider_names(pool_id).await?,
        )?;
        c.callback_urls = input.hosted.callback_urls.clone();
        c.logout_urls = input.hosted.logout_urls.clone();
        c.default_redirect_uri = non_empty(&input.hosted.default_redirect_uri);
        c.identity_providers = input.hosted.identity_providers.clone();
        c.disabled = input.disabled;
        c.updated_at_ms = self.clock.now_ms();
        self.store
            .write(Command::UpdateAppClient(UpdateAppClient {
                client: c.clone(),
            }))
            .await?;
        Ok(c)
    }

    /// DeleteUserPoolClient.
    pub async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteAppClient(DeleteAppClient {
                pool_id: pool_id.into(),
                client_id: client_id.into(),
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }

    /// ListUserPoolClients.
    pub async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AppClient>, Option<String>), AppError> {
        self.dir.pool_clients(pool_id, after, limit).await
    }
}
