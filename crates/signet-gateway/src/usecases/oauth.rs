//! OAuth 2.0 for services: resource servers and custom scopes, client secrets with
//! rotation, and the token endpoint's work — client_credentials (the hot path: cached client,
//! one keyed hash compared in constant time, claims, one signature; no store round trip),
//! refresh, revocation (RFC 7009), introspection (RFC 7662) and userInfo.

use super::auth::SecretProof;
use crate::hooks::{edit_claims, edit_scopes, HookEvent, Trigger};
use crate::metrics::Issued;
use crate::{AppError, Gateway};
use serde_json::{json, Map, Value};
use signet_core::Page;
use signet_core::{
    AddClientSecret, AppClient, Command, DeleteClientSecret, DeleteResourceServer, OAuthFlow,
    PutResourceServer, Query, RefreshFamily, ResourceServer, ResourceServerScope,
    RevokeAccessToken, RevokeRefreshFamily,
};
use signet_store::ReadConsistency::Linearizable;
use signet_verify::{Expected, TokenUse};
use std::sync::Arc;

/// Scopes every pool knows (user-facing; not for client_credentials).
pub const STANDARD_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

pub use crate::error::OAuthError;

/// A client's credentials as the token endpoint received them.
#[derive(Debug, Clone, Default)]
pub struct ClientAuth {
    /// Client id.
    pub client_id: String,
    /// Client secret (absent for public clients).
    pub secret: Option<String>,
}

/// What the token endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// The ID token (refresh grant only).
    pub id_token: Option<String>,
    /// A new refresh token (refresh grant with rotation).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Granted scopes, space-separated (client_credentials).
    pub scope: Option<String>,
}

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

/// The unverified `iss` of a JWT, to route it (it is verified right after).
fn peek_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    if token.len() > signet_verify::MAX_TOKEN_BYTES {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

impl Gateway {
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
            let flow = OAuthFlow::from_name(f).ok_or_else(|| {
                AppError::invalid(format!("unsupported OAuth flow {f:?} (client_credentials)"))
            })?;
            if !parsed.contains(&flow) {
                parsed.push(flow);
            }
        }
        let machine = parsed.contains(&OAuthFlow::ClientCredentials);
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
            let (clients, next) = self.list_clients(pool_id, after, 60).await?;
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
        let now = self.now_ms();
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
        self.write(Command::PutResourceServer(PutResourceServer {
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
        self.ask::<Option<_>>(
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
        self.write(Command::DeleteResourceServer(DeleteResourceServer {
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
        self.pool(pool_id).await?;
        let limit = super::page_size(limit);
        let Page { items: r, more } = self
            .ask(
                Query::ListResourceServers {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                },
                Linearizable,
            )
            .await?;
        Ok(super::page(r, limit, more, |r| r.identifier.clone()))
    }

    /// AddUserPoolClientSecret: a second secret for rotation (shown once). Returns
    /// (secret id, secret, created at).
    pub async fn add_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<(String, String, u64), AppError> {
        let client = self.describe_client(pool_id, client_id).await?;
        if client.secrets.is_empty() {
            return Err(AppError::invalid(
                "a public client (created without a secret) cannot get one",
            ));
        }
        let now = self.now_ms();
        let (record, plain) = self.new_client_secret(client_id, now);
        let id = record.id.clone();
        self.write(Command::AddClientSecret(AddClientSecret {
            pool_id: pool_id.into(),
            client_id: client_id.into(),
            secret: record,
        }))
        .await?;
        Ok((id, plain, now))
    }

    /// ListUserPoolClientSecrets: (id, created at) of each secret; never the secret.
    pub async fn list_client_secrets(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<(String, u64)>, AppError> {
        let client = self.describe_client(pool_id, client_id).await?;
        Ok(client
            .secrets
            .iter()
            .map(|s| (s.id.clone(), s.created_at_ms))
            .collect())
    }

    /// DeleteUserPoolClientSecret (never the last one).
    pub async fn delete_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        secret_id: &str,
    ) -> Result<(), AppError> {
        self.write(Command::DeleteClientSecret(DeleteClientSecret {
            pool_id: pool_id.into(),
            client_id: client_id.into(),
            secret_id: secret_id.into(),
        }))
        .await
        .map(|_| ())
    }

    /// Whether `given` is one of the client's secrets (constant time per secret).
    pub(crate) fn secret_matches(&self, client: &AppClient, given: &str) -> bool {
        let h = self.client_secret_hash(&client.client_id, given);
        // Check every secret, so the time does not say which one matched.
        client.secrets.iter().fold(false, |ok, s| {
            signet_crypto::constant_time_eq(h.as_bytes(), s.hash.as_bytes()) | ok
        })
    }

    /// Authenticate a client at the token endpoint: it must belong to `pool_id`, and a
    /// client with secrets must present one of them; a public client presents none.
    pub(crate) async fn authenticate_client(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
    ) -> Result<Arc<AppClient>, OAuthError> {
        let failed = || OAuthError::InvalidClient("Client authentication failed.".into());
        if auth.client_id.is_empty() {
            return Err(failed());
        }
        let client = match self.active_client(&auth.client_id).await {
            Ok(c) => c,
            Err(AppError::ResourceNotFound(_) | AppError::NotAuthorized(_)) => return Err(failed()),
            Err(e) => return Err(e.into()),
        };
        if client.pool_id != pool_id {
            return Err(failed());
        }
        match (&auth.secret, client.secrets.is_empty()) {
            (Some(s), false) if self.secret_matches(&client, s) => Ok(client),
            (None, true) => Ok(client),
            _ => Err(failed()),
        }
    }

    /// `grant_type=client_credentials`: the client's own access token, with the requested
    /// scopes (all the client's custom scopes when none are asked for).
    pub async fn client_credentials(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let pool = match self.pool(pool_id).await {
            Ok(p) => p,
            Err(AppError::ResourceNotFound(_)) => {
                return Err(OAuthError::InvalidClient(
                    "Client authentication failed.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let client = self.authenticate_client(&pool.id, auth).await?;
        if !client.oauth_flows.contains(&OAuthFlow::ClientCredentials) {
            return Err(OAuthError::UnauthorizedClient(
                "The client may not use the client_credentials grant.".into(),
            ));
        }
        let granted: Vec<&str> = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => client.oauth_scopes.iter().map(String::as_str).collect(),
            Some(asked) => {
                let mut granted = Vec::new();
                for s in asked.split(' ').filter(|s| !s.is_empty()) {
                    if !client.oauth_scopes.iter().any(|c| c == s) {
                        return Err(OAuthError::InvalidScope(format!(
                            "The scope {s} is not allowed for this client."
                        )));
                    }
                    if !granted.contains(&s) {
                        granted.push(s);
                    }
                }
                granted
            }
        };
        let scope = granted.join(" ");
        let now = self.now_ms() / 1000;
        let alg = pool.config.signing_alg;
        let claims = json!({
            "sub": client.client_id,
            "token_use": "access",
            "scope": scope,
            "auth_time": now,
            "iss": self.cfg.issuer(&pool.id),
            "exp": now + client.validity.access_s,
            "iat": now,
            "version": 2,
            "jti": signet_crypto::random_hex_id(),
            "client_id": client.client_id,
        });
        let mut claims = claims;
        if pool.config.pre_token_generation.is_some() {
            let event = HookEvent {
                trigger: Trigger::ClientCredentials,
                client_id: &client.client_id,
                user: None,
                scopes: granted.iter().map(|s| s.to_string()).collect(),
            };
            if let Some(e) = self.pre_token_hook(&pool, event).await? {
                edit_claims(&mut claims, &e.access_add, &e.access_suppress);
                edit_scopes(&mut claims, &e.scopes_add, &e.scopes_suppress);
            }
        }
        let access_token = self
            .keys
            .signer(alg)?
            .sign(&claims)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        self.metrics.issued(Issued::ClientCredentials);
        Ok(TokenResponse {
            access_token,
            id_token: None,
            refresh_token: None,
            expires_in: client.validity.access_s,
            scope: claims["scope"].as_str().map(str::to_string),
        })
    }

    /// `grant_type=refresh_token` at the token endpoint.
    pub async fn refresh_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        refresh_token: &str,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(pool_id, auth).await?;
        if !client.allows(signet_core::AuthFlow::AllowRefreshTokenAuth) {
            return Err(OAuthError::UnauthorizedClient(
                "The client may not use refresh tokens.".into(),
            ));
        }
        let pool = self.pool(pool_id).await?;
        let r = self
            .refresh_auth(&pool, &client, refresh_token, SecretProof::Authenticated)
            .await
            .map_err(|e| match e {
                AppError::NotAuthorized(m) => OAuthError::InvalidGrant(m),
                other => OAuthError::Server(other),
            })?;
        Ok(TokenResponse {
            access_token: r.access_token,
            id_token: Some(r.id_token),
            refresh_token: r.refresh_token,
            expires_in: r.expires_in,
            scope: None,
        })
    }

    /// The claims of `token` if it is an access token of `pool_id` that this gateway's keys
    /// verify (any client, no leeway); revocation is not checked.
    fn access_claims(&self, pool_id: &str, token: &str) -> Option<Map<String, Value>> {
        let expected = Expected {
            issuer: self.cfg.issuer(pool_id),
            token_use: TokenUse::Access,
            clients: None,
            leeway_s: 0,
        };
        self.verify_own(token, &expected).ok()
    }

    /// Verify an access token of `pool_id` and check it was not revoked: its own jti, its
    /// refresh family, a sign-out of its user. Returns the claims, or `None` if inactive.
    async fn active_access_token(
        &self,
        pool_id: &str,
        token: &str,
    ) -> Result<Option<Map<String, Value>>, AppError> {
        let Some(claims) = self.access_claims(pool_id, token) else {
            return Ok(None);
        };
        let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
        let revoked: Vec<bool> = self
            .ask(
                Query::RevokedTokens {
                    jtis: vec![jti.to_string()],
                },
                Linearizable,
            )
            .await?;
        let revoked = revoked.first().copied().unwrap_or(true);
        if revoked {
            return Ok(None);
        }
        if claims.contains_key("username") {
            // A user's token: the same checks as every self-service call.
            return match self.authenticate(token).await {
                Ok(_) => Ok(Some(claims)),
                Err(AppError::NotAuthorized(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        // A machine token: its client must still be enabled (the one client check).
        let client_id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        match self.active_client(client_id).await {
            Ok(_) => Ok(Some(claims)),
            Err(AppError::NotAuthorized(_) | AppError::ResourceNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// RFC 7662 introspection by an authenticated client of the pool.
    pub async fn introspect(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<Value, OAuthError> {
        let caller = self.authenticate_client(pool_id, auth).await?;
        if caller.secrets.is_empty() {
            return Err(OAuthError::InvalidClient(
                "Only confidential clients may introspect tokens.".into(),
            ));
        }
        let inactive = json!({ "active": false });
        if peek_issuer(token).is_some() {
            let Some(c) = self.active_access_token(pool_id, token).await? else {
                return Ok(inactive);
            };
            // RFC 7662 §4: a client learns about the tokens issued to it, nothing about
            // another client's (not even that they are active).
            if c.get("client_id").and_then(Value::as_str) != Some(caller.client_id.as_str()) {
                return Ok(inactive);
            }
            let mut out = json!({
                "active": true,
                "token_type": "access_token",
                "scope": c.get("scope").cloned().unwrap_or(Value::Null),
                "client_id": c.get("client_id").cloned().unwrap_or(Value::Null),
                "sub": c.get("sub").cloned().unwrap_or(Value::Null),
                "iss": c.get("iss").cloned().unwrap_or(Value::Null),
                "exp": c.get("exp").cloned().unwrap_or(Value::Null),
                "iat": c.get("iat").cloned().unwrap_or(Value::Null),
                "jti": c.get("jti").cloned().unwrap_or(Value::Null),
                "token_use": "access",
            });
            if let Some(u) = c.get("username") {
                out["username"] = u.clone();
            }
            return Ok(out);
        }
        // A refresh token: sealed; only its own client may see it active.
        let Ok(client) = self.client_of_refresh(token).await else {
            return Ok(inactive);
        };
        // Only its own client may learn that (and whose) a refresh token is.
        if client.pool_id != pool_id || client.client_id != caller.client_id {
            return Ok(inactive);
        }
        let Ok(p) = self.open_refresh(&client, token) else {
            return Ok(inactive);
        };
        // The same checks as the token endpoint's refresh grant.
        let pool = self.pool(pool_id).await?;
        match self.refresh_user(&pool, &p).await {
            Ok(_) => {}
            Err(AppError::NotAuthorized(_)) => return Ok(inactive),
            Err(e) => return Err(e.into()),
        }
        let family: Option<RefreshFamily> = self
            .ask(
                Query::GetRefreshFamily {
                    family_id: p.fam.clone(),
                },
                Linearizable,
            )
            .await?;
        if family.is_some_and(|f| f.revoked) {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": p.client,
            "sub": p.sub,
            "username": p.username,
            "exp": p.exp_ms / 1000,
            "iat": p.iat_ms / 1000,
            "iss": self.cfg.issuer(&p.pool),
        }))
    }

    /// The client a sealed refresh token names (not yet checked).
    async fn client_of_refresh(&self, token: &str) -> Result<Arc<AppClient>, AppError> {
        let p: crate::tokens::RefreshPayload = self
            .sealer
            .open(crate::tokens::REFRESH_PURPOSE, token)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| AppError::NotAuthorized("not a refresh token".into()))?;
        self.client(&p.client).await
    }

    /// RFC 7009 revocation: a refresh token (its whole family) or an access token (by
    /// jti) issued to the calling client. Unknown or invalid tokens are not an error.
    /// Returns only once the revocation is committed.
    pub async fn revoke(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        token: &str,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(pool_id, auth).await?;
        if peek_issuer(token).is_some() {
            let Some(claims) = self.access_claims(pool_id, token) else {
                return Ok(());
            };
            if claims.get("client_id").and_then(Value::as_str) != Some(&client.client_id) {
                return Err(OAuthError::UnauthorizedClient(
                    "The token was not issued to this client.".into(),
                ));
            }
            let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
            let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
            self.write(Command::RevokeAccessToken(RevokeAccessToken {
                jti: jti.to_string(),
                expires_at_ms: exp * 1000,
            }))
            .await?;
            return Ok(());
        }
        match self.client_of_refresh(token).await {
            Ok(owner) if owner.client_id != client.client_id => {
                return Err(OAuthError::UnauthorizedClient(
                    "The token was not issued to this client.".into(),
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
        let Ok(p) = self.open_refresh(&client, token) else {
            return Ok(());
        };
        self.write(Command::RevokeRefreshFamily(RevokeRefreshFamily {
            family_id: p.fam,
            expires_at_ms: p.exp_ms,
        }))
        .await?;
        Ok(())
    }

    /// OIDC userInfo: the attributes of the user an access token of `pool_id` belongs to.
    pub async fn user_info(&self, pool_id: &str, token: &str) -> Result<Value, OAuthError> {
        let invalid = |m: &str| OAuthError::InvalidToken(m.to_string());
        if peek_issuer(token).as_deref() != Some(self.cfg.issuer(pool_id).as_str()) {
            return Err(invalid("The access token was not issued by this pool."));
        }
        let user = match self.get_user(token).await {
            Ok(u) => u,
            Err(AppError::NotAuthorized(m)) => return Err(invalid(&m)),
            Err(e) => return Err(e.into()),
        };
        let mut out = Map::new();
        for (k, v) in &user.attributes {
            out.insert(k.clone(), Value::String(v.clone()));
        }
        out.insert("sub".into(), user.sub.clone().into());
        out.insert("username".into(), user.username.clone().into());
        Ok(Value::Object(out))
    }
}
