//! Pools and app clients.

use super::ids;
use crate::{now_ms, AppError, Gateway};
use signet_core::{
    AppClient, AuthFlow, ClientSecret, Command, PasswordPolicy, PoolConfig, Query, QueryResult,
    SchemaAttribute, TokenValidity, UserPool,
};
use signet_crypto::Algorithm;

/// Settings of a new or updated pool.
#[derive(Debug, Clone, Default)]
pub struct PoolInput {
    /// Display name.
    pub name: String,
    /// Configuration (validated before use).
    pub config: PoolConfig,
}

/// Settings of a new or updated app client.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    /// Display name.
    pub name: String,
    /// Make a secret (shown once).
    pub generate_secret: bool,
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
    /// OAuth 2.0 grants (`client_credentials`).
    pub oauth_flows: Vec<String>,
    /// OAuth scopes the client may ask for (`{resource server}/{scope}`).
    pub oauth_scopes: Vec<String>,
    /// Refuse the client's authentication everywhere.
    pub disabled: bool,
}

/// `allow_loopback_http`: the gateway's `allow_insecure_loopback_http`.
fn check_config(c: &PoolConfig, allow_loopback_http: bool) -> Result<(), AppError> {
    if let Some(h) = &c.pre_token_generation {
        crate::outbound::check_outbound_url(&h.url, allow_loopback_http)
            .map_err(|e| AppError::invalid(format!("pre_token_generation.url {:?} {e}", h.url)))?;
        if !(1..=3).contains(&h.version) {
            return Err(AppError::invalid(
                "pre_token_generation.version must be V1_0, V2_0 or V3_0",
            ));
        }
        if !(100..=5000).contains(&h.timeout_ms) {
            return Err(AppError::invalid(
                "pre_token_generation.timeout_ms must be 100 to 5000",
            ));
        }
    }
    let subset = |given: &[String], allowed: &[&str], what: &str| match given
        .iter()
        .find(|a| !allowed.contains(&a.as_str()))
    {
        Some(a) => Err(AppError::invalid(format!("{what}: {a} is not allowed"))),
        None => Ok(()),
    };
    subset(
        &c.username_attributes,
        &["email", "phone_number"],
        "username_attributes",
    )?;
    subset(
        &c.alias_attributes,
        &["email", "phone_number", "preferred_username"],
        "alias_attributes",
    )?;
    subset(
        &c.auto_verified_attributes,
        &["email", "phone_number"],
        "auto_verified_attributes",
    )?;
    if !c.username_attributes.is_empty() && !c.alias_attributes.is_empty() {
        return Err(AppError::invalid(
            "username_attributes and alias_attributes cannot both be set",
        ));
    }
    let p: &PasswordPolicy = &c.password_policy;
    if !(6..=99).contains(&p.minimum_length) {
        return Err(AppError::invalid("minimum_length must be between 6 and 99"));
    }
    if !(1..=365).contains(&p.temporary_password_validity_days) {
        return Err(AppError::invalid(
            "temporary_password_validity_days must be between 1 and 365",
        ));
    }
    for a in &c.schema {
        check_schema_attribute(a)?;
    }
    if Algorithm::from_name(&c.signing_alg).is_none() {
        return Err(AppError::invalid(
            "signing_alg must be EdDSA, ES256 or RS256",
        ));
    }
    Ok(())
}

fn check_schema_attribute(a: &SchemaAttribute) -> Result<(), AppError> {
    let standard = crate::validate::STANDARD_ATTRIBUTES.contains(&a.name.as_str());
    let custom = a.name.strip_prefix("custom:").is_some_and(|n| {
        !n.is_empty() && n.len() <= 20 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !standard && !custom {
        return Err(AppError::invalid(format!(
            "schema attribute {} must be standard or custom:<1-20 letters, digits, _>",
            a.name
        )));
    }
    Ok(())
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

fn flows(names: &[String]) -> Result<Vec<AuthFlow>, AppError> {
    if names.is_empty() {
        // Cognito's default for a new client.
        return Ok(vec![AuthFlow::AllowRefreshTokenAuth]);
    }
    names
        .iter()
        .map(|n| {
            AuthFlow::from_name(n)
                .ok_or_else(|| AppError::invalid(format!("unknown auth flow {n}")))
        })
        .collect()
}

impl Gateway {
    /// CreateUserPool.
    pub async fn create_user_pool(&self, input: PoolInput) -> Result<UserPool, AppError> {
        if input.name.is_empty() || input.name.len() > 128 {
            return Err(AppError::invalid("pool name must be 1 to 128 characters"));
        }
        check_config(&input.config, self.cfg.allow_insecure_loopback_http)?;
        let now = now_ms();
        let pool = UserPool {
            id: ids::pool_id(),
            name: input.name,
            created_at_ms: now,
            updated_at_ms: now,
            config: input.config,
        };
        self.write(Command::CreateUserPool { pool: pool.clone() })
            .await?;
        Ok(pool)
    }

    /// DescribeUserPool (linearizable: an admin sees its own changes).
    pub async fn describe_user_pool(&self, pool_id: &str) -> Result<UserPool, AppError> {
        match self
            .read(Query::GetUserPool {
                pool_id: pool_id.into(),
            })
            .await?
        {
            QueryResult::UserPool(Some(p)) => Ok(p),
            _ => Err(AppError::ResourceNotFound(format!(
                "User pool {pool_id} does not exist."
            ))),
        }
    }

    /// UpdateUserPool: replaces the name and configuration.
    pub async fn update_user_pool(
        &self,
        pool_id: &str,
        input: PoolInput,
    ) -> Result<UserPool, AppError> {
        check_config(&input.config, self.cfg.allow_insecure_loopback_http)?;
        self.write(Command::UpdateUserPool {
            pool_id: pool_id.into(),
            name: input.name,
            config: input.config,
            at_ms: now_ms(),
        })
        .await?;
        self.describe_user_pool(pool_id).await
    }

    /// DeleteUserPool.
    pub async fn delete_user_pool(&self, pool_id: &str) -> Result<(), AppError> {
        self.write(Command::DeleteUserPool {
            pool_id: pool_id.into(),
            at_ms: now_ms(),
        })
        .await
        .map(|_| ())
    }

    /// ListUserPools: a page and the token of the next one.
    pub async fn list_user_pools(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<UserPool>, Option<String>), AppError> {
        let limit = super::page_size(limit);
        match self.read(Query::ListUserPools { after, limit }).await? {
            QueryResult::UserPools(p) => Ok(super::page(p, limit, |p| p.id.clone())),
            other => Err(AppError::Internal(format!("unexpected {other:?}"))),
        }
    }

    /// CreateUserPoolClient. Returns the client and, if generated, its secret (shown once:
    /// the store keeps only a keyed hash and a sealed copy).
    pub async fn create_client(
        &self,
        pool_id: &str,
        input: ClientInput,
    ) -> Result<(AppClient, Option<String>), AppError> {
        self.describe_user_pool(pool_id).await?;
        if input.name.is_empty() || input.name.len() > 128 {
            return Err(AppError::invalid("client name must be 1 to 128 characters"));
        }
        let now = now_ms();
        let client_id = ids::client_id();
        let (secrets, secret) = match input.generate_secret {
            true => {
                let (record, plain) = self.new_client_secret(&client_id, now);
                (vec![record], Some(plain))
            }
            false => (vec![], None),
        };
        let (oauth_flows, oauth_scopes) = self
            .check_oauth(
                pool_id,
                &input.oauth_flows,
                &input.oauth_scopes,
                secret.is_some(),
            )
            .await?;
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
            oauth_flows,
            oauth_scopes,
            disabled: input.disabled,
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.write(Command::CreateAppClient {
            client: client.clone(),
        })
        .await?;
        Ok((client, secret))
    }

    /// A new client secret: (the record kept, the plaintext shown once).
    pub(crate) fn new_client_secret(&self, client_id: &str, now: u64) -> (ClientSecret, String) {
        let plain = signet_crypto::random_token::<32>();
        let record = ClientSecret {
            id: signet_crypto::random_hex_id(),
            hash: self.client_secret_hash(client_id, &plain),
            sealed: self
                .sealer
                .seal(&format!("client-secret:{client_id}"), plain.as_bytes()),
            created_at_ms: now,
        };
        (record, plain)
    }

    /// The keyed hash a client secret is stored and checked as.
    pub(crate) fn client_secret_hash(&self, client_id: &str, secret: &str) -> String {
        self.keyed
            .hash("client-secret", &[client_id.as_bytes(), secret.as_bytes()])
    }

    /// DescribeUserPoolClient.
    pub async fn describe_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClient, AppError> {
        match self
            .read(Query::GetAppClient {
                pool_id: pool_id.into(),
                client_id: client_id.into(),
            })
            .await?
        {
            QueryResult::AppClient(Some(c)) => Ok(c),
            _ => Err(AppError::ResourceNotFound(format!(
                "Client {client_id} does not exist."
            ))),
        }
    }

    /// UpdateUserPoolClient: name, flows, lifetimes, attributes, rotation (secrets stay).
    pub async fn update_client(
        &self,
        pool_id: &str,
        client_id: &str,
        input: ClientInput,
    ) -> Result<AppClient, AppError> {
        let mut c = self.describe_client(pool_id, client_id).await?;
        if !input.name.is_empty() {
            c.name = input.name.clone();
        }
        c.auth_flows = flows(&input.auth_flows)?;
        c.validity = validity(&input)?;
        c.read_attributes = input.read_attributes.clone();
        c.write_attributes = input.write_attributes.clone();
        c.refresh_token_rotation = input.refresh_token_rotation;
        (c.oauth_flows, c.oauth_scopes) = self
            .check_oauth(
                pool_id,
                &input.oauth_flows,
                &input.oauth_scopes,
                !c.secrets.is_empty(),
            )
            .await?;
        c.disabled = input.disabled;
        c.updated_at_ms = now_ms();
        self.write(Command::UpdateAppClient { client: c.clone() })
            .await?;
        Ok(c)
    }

    /// DeleteUserPoolClient.
    pub async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<(), AppError> {
        self.write(Command::DeleteAppClient {
            pool_id: pool_id.into(),
            client_id: client_id.into(),
        })
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
        let limit = super::page_size(limit);
        match self
            .read(Query::ListAppClients {
                pool_id: pool_id.into(),
                after,
                limit,
            })
            .await?
        {
            QueryResult::AppClients(c) => Ok(super::page(c, limit, |c| c.client_id.clone())),
            other => Err(AppError::Internal(format!("unexpected {other:?}"))),
        }
    }

    /// Check a client's secret material for a request: the SECRET_HASH for user flows.
    /// Clients without a secret need none; clients with one must send a matching hash.
    pub(crate) fn check_secret_hash(
        &self,
        client: &AppClient,
        username: &str,
        given: Option<&str>,
    ) -> Result<(), AppError> {
        if client.secrets.is_empty() {
            return Ok(());
        }
        let Some(given) = given.filter(|g| !g.is_empty()) else {
            return Err(AppError::NotAuthorized(format!(
                "Client {} is configured with secret but SECRET_HASH was not received",
                client.client_id
            )));
        };
        for s in &client.secrets {
            let Some(secret) = self
                .sealer
                .open(&format!("client-secret:{}", client.client_id), &s.sealed)
            else {
                continue;
            };
            let secret = String::from_utf8_lossy(&secret);
            let expected = super::secret_hash(&secret, username, &client.client_id);
            if signet_crypto::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return Ok(());
            }
        }
        Err(AppError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.client_id
        )))
    }
}
