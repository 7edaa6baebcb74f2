use serde::{Deserialize, Serialize};

/// Sign-in flows an app client may use (Cognito's `ExplicitAuthFlows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthFlow {
    /// InitiateAuth with USER_PASSWORD_AUTH.
    AllowUserPasswordAuth,
    /// AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH.
    AllowAdminUserPasswordAuth,
    /// REFRESH_TOKEN_AUTH.
    AllowRefreshTokenAuth,
    /// InitiateAuth with USER_SRP_AUTH (the password proven, never sent).
    AllowUserSrpAuth,
    /// InitiateAuth with CUSTOM_AUTH (challenges defined by the pool's triggers).
    AllowCustomAuth,
}

impl AuthFlow {
    /// Cognito's name for the flow.
    pub fn name(self) -> &'static str {
        match self {
            AuthFlow::AllowUserPasswordAuth => "ALLOW_USER_PASSWORD_AUTH",
            AuthFlow::AllowAdminUserPasswordAuth => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            AuthFlow::AllowRefreshTokenAuth => "ALLOW_REFRESH_TOKEN_AUTH",
            AuthFlow::AllowUserSrpAuth => "ALLOW_USER_SRP_AUTH",
            AuthFlow::AllowCustomAuth => "ALLOW_CUSTOM_AUTH",
        }
    }

    /// Parse Cognito's name.
    pub fn from_name(s: &str) -> Option<AuthFlow> {
        [
            AuthFlow::AllowUserPasswordAuth,
            AuthFlow::AllowAdminUserPasswordAuth,
            AuthFlow::AllowRefreshTokenAuth,
            AuthFlow::AllowUserSrpAuth,
            AuthFlow::AllowCustomAuth,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
}

/// OAuth 2.0 grants an app client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthFlow {
    /// `grant_type=client_credentials` (machine-to-machine; needs a client secret).
    ClientCredentials,
    /// The authorization code grant through the hosted `/oauth2/authorize` (users signing
    /// in in a browser; PKCE required for public clients).
    Code,
}

impl OAuthFlow {
    /// Cognito's name for the flow.
    pub fn name(self) -> &'static str {
        match self {
            OAuthFlow::ClientCredentials => "client_credentials",
            OAuthFlow::Code => "code",
        }
    }

    /// Parse Cognito's name.
    pub fn from_name(s: &str) -> Option<OAuthFlow> {
        [OAuthFlow::ClientCredentials, OAuthFlow::Code]
            .into_iter()
            .find(|f| f.name() == s)
    }
}

/// A resource server: an API with custom scopes that app clients may be granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServer {
    /// Pool it belongs to.
    pub pool_id: String,
    /// Identifier (often a URL); scopes are `{identifier}/{scope}`.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Its scopes.
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: u64,
}

/// One custom scope of a resource server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceServerScope {
    /// Scope name (without the resource server prefix).
    pub name: String,
    /// What it allows.
    #[serde(default)]
    pub description: String,
}

/// Token lifetimes of an app client, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenValidity {
    /// Access token lifetime (Cognito bounds: 5 minutes – 1 day).
    pub access_s: u64,
    /// ID token lifetime (5 minutes – 1 day).
    pub id_s: u64,
    /// Refresh token lifetime (1 hour – 10 years).
    pub refresh_s: u64,
}

impl Default for TokenValidity {
    fn default() -> Self {
        TokenValidity {
            access_s: 3600,
            id_s: 3600,
            refresh_s: 30 * 86400,
        }
    }
}

/// A client secret at rest: a keyed hash for constant-time checks, and the secret sealed
/// with the server key (Cognito's SECRET_HASH is an HMAC keyed *by* the secret, so the
/// secret itself must be recoverable by the gateway, never by a reader of the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecret {
    /// Identifier of this secret (for rotation).
    pub id: String,
    /// HMAC-SHA256 of the secret under the server key, hex.
    pub hash: String,
    /// The secret sealed (AES-256-GCM) under the server key, base64.
    pub sealed: String,
    /// When it was created, Unix milliseconds.
    pub created_at_ms: u64,
}

/// An app client of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClient {
    /// Client id (random, 26 characters as in Cognito).
    pub client_id: String,
    /// Pool it belongs to.
    pub pool_id: String,
    /// Display name.
    pub name: String,
    /// Secrets (none for public clients).
    #[serde(default)]
    pub secrets: Vec<ClientSecret>,
    /// Allowed sign-in flows.
    #[serde(default)]
    pub auth_flows: Vec<AuthFlow>,
    /// Token lifetimes.
    #[serde(default)]
    pub validity: TokenValidity,
    /// Attributes the client may read (empty: all).
    #[serde(default)]
    pub read_attributes: Vec<String>,
    /// Attributes the client may write (empty: all mutable ones).
    #[serde(default)]
    pub write_attributes: Vec<String>,
    /// Refresh tokens are single-use: each refresh returns a new one, and presenting a
    /// used one revokes the whole family.
    #[serde(default)]
    pub refresh_token_rotation: bool,
    /// With rotation: for this long after a refresh, the token it replaced still refreshes
    /// (Cognito's RetryGracePeriodSeconds, 0–60), so that a client retrying a refresh whose
    /// answer it lost does not revoke its family. Seconds.
    #[serde(default, skip_serializing_if = "super::is_zero")]
    pub refresh_retry_grace_s: u32,
    /// OAuth 2.0 grants of the token endpoint (Cognito's `AllowedOAuthFlows`).
    #[serde(default)]
    pub oauth_flows: Vec<OAuthFlow>,
    /// Scopes the client may ask for (`{resource server}/{scope}` for custom scopes).
    #[serde(default)]
    pub oauth_scopes: Vec<String>,
    /// Where the hosted sign-in may send users back with a code (Cognito's `CallbackURLs`):
    /// compared exactly, byte for byte, with an authorize request's `redirect_uri`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callback_urls: Vec<String>,
    /// Where `/logout` may send users after signing them out (Cognito's `LogoutURLs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logout_urls: Vec<String>,
    /// The callback used when an authorize request names none (one of `callback_urls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
    /// Who may sign users in for this client on the hosted pages: `COGNITO` (the pool's
    /// own users) and the names of the pool's identity providers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_providers: Vec<String>,
    /// A disabled client authenticates nowhere (tokens already issued stay valid until
    /// they expire or are revoked).
    #[serde(default)]
    pub disabled: bool,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: u64,
}

impl AppClient {
    /// Whether `flow` is enabled for this client.
    pub fn allows(&self, flow: AuthFlow) -> bool {
        self.auth_flows.contains(&flow)
    }
}
