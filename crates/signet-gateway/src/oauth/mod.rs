//! OAuth 2.0 for services: the token endpoint's work — client_credentials (the hot path:
//! cached client, one keyed hash compared in constant time, claims, one signature; no store
//! round trip) and refresh — and, in `inspect`, revocation (RFC 7009), introspection
//! (RFC 7662) and userInfo. Resource servers and their scopes are in `resource_servers`;
//! client secrets are managed with the clients (`pools::client_secrets`).

mod inspect;
pub(crate) mod resource_servers;

use crate::auth::Auth;
use crate::auth::SecretProof;
use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::hooks::Hooks;
use crate::hooks::{edit_claims, edit_scopes, HookEvent, Trigger};
use crate::keys::KeyManager;
use crate::metrics::Issued;
use crate::metrics::Metrics;
use crate::secrets::ClientSecrets;
use crate::store::Store;
use crate::tokens::Tokens;
use crate::urls::Urls;
use crate::users::self_service::SelfService;
use crate::AppError;
use signet_core::{AppClient, OAuthFlow};
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

/// The claims of a client_credentials access token, in the order `json!` wrote them
/// (sorted by name).
#[derive(serde::Serialize)]
struct ServiceClaims<'a> {
    auth_time: u64,
    client_id: &'a str,
    exp: u64,
    iat: u64,
    iss: String,
    jti: String,
    scope: &'a str,
    sub: &'a str,
    token_use: &'static str,
    version: u8,
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

pub(crate) use crate::ids::peek_issuer;

/// The OAuth 2.0 feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct OAuth {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    secrets: ClientSecrets,
    tokens: Tokens,
    keys: Arc<KeyManager>,
    hooks: Hooks,
    urls: Urls,
    metrics: Arc<Metrics>,
    auth: Auth,
    self_service: SelfService,
}

impl OAuth {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        dir: Directory,
        clock: SharedClock,
        secrets: ClientSecrets,
        tokens: Tokens,
        keys: Arc<KeyManager>,
        hooks: Hooks,
        urls: Urls,
        metrics: Arc<Metrics>,
        store: Store,
        auth: Auth,
        self_service: SelfService,
    ) -> OAuth {
        OAuth {
            store,
            dir,
            clock,
            secrets,
            tokens,
            keys,
            hooks,
            urls,
            metrics,
            auth,
            self_service,
        }
    }
}

impl OAuth {
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
        let client = match self.dir.active_client(&auth.client_id).await {
            Ok(c) => c,
            Err(AppError::ResourceNotFound(_) | AppError::NotAuthorized(_)) => return Err(failed()),
            Err(e) => return Err(e.into()),
        };
        if client.pool_id != pool_id {
            return Err(failed());
        }
        match (&auth.secret, client.secrets.is_empty()) {
            (Some(s), false) if self.secrets.matches(&client, s) => Ok(client),
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
        let pool = match self.dir.pool(pool_id).await {
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
        let now = self.clock.now_ms() / 1000;
        let alg = pool.config.signing_alg;
        let claims = ServiceClaims {
            auth_time: now,
            client_id: &client.client_id,
            exp: now + client.validity.access_s,
            iat: now,
            iss: self.urls.issuer(&pool.id),
            jti: signet_crypto::random_hex_id(),
            scope: &scope,
            sub: &client.client_id,
            token_use: "access",
            version: 2,
        };
        let signer = self.keys.signer(alg)?;
        let sign_err = |e: signet_crypto::SigningError| AppError::Internal(e.to_string());
        let (access_token, scope) = match &pool.config.pre_token_generation {
            // Without a hook the claims are signed as they are (no `Value` in between).
            None => (signer.sign(&claims).map_err(sign_err)?, Some(scope.clone())),
            Some(_) => {
                let mut claims =
                    serde_json::to_value(&claims).map_err(|e| AppError::Internal(e.to_string()))?;
                let event = HookEvent {
                    trigger: Trigger::ClientCredentials,
                    client_id: &client.client_id,
                    user: None,
                    scopes: granted.iter().map(|s| s.to_string()).collect(),
                };
                if let Some(e) = self.hooks.pre_token(&pool, event).await? {
                    edit_claims(&mut claims, &e.access_add, &e.access_suppress);
                    edit_scopes(&mut claims, &e.scopes_add, &e.scopes_suppress);
                }
                let scope = claims["scope"].as_str().map(str::to_string);
                (signer.sign(&claims).map_err(sign_err)?, scope)
            }
        };
        self.metrics.issued(Issued::ClientCredentials);
        Ok(TokenResponse {
            access_token,
            id_token: None,
            refresh_token: None,
            expires_in: client.validity.access_s,
            scope,
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
        let pool = self.dir.pool(pool_id).await?;
        let r = self
            .auth
            .refresh_auth(&pool, &client, refresh_token, SecretProof::Authenticated)
            .await
            .map_err(|e| match e {
                AppError::NotAuthorized(m) => OAuthError::InvalidGrant(m),
                other => OAuthError::Server(other),
            })?;
        Ok(TokenResponse {
            id_token: r.has_id_token().then(|| r.id_token.clone()),
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            expires_in: r.expires_in,
            scope: None,
        })
    }
}
