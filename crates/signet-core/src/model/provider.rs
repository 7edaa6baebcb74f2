use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kinds of identity provider a user pool federates with (Cognito's `ProviderType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderType {
    /// Any OpenID Connect provider (discovery, JWKS, ID token with nonce).
    #[serde(rename = "OIDC")]
    Oidc,
    /// Google (OpenID Connect with Google's endpoints).
    Google,
    /// Sign in with Apple (OpenID Connect; the client secret is an ES256 JWT).
    SignInWithApple,
    /// Facebook (OAuth 2.0 and the Graph API's user info).
    Facebook,
    /// Login with Amazon (OAuth 2.0 and its profile API).
    LoginWithAmazon,
    /// A SAML 2.0 identity provider.
    #[serde(rename = "SAML")]
    Saml,
}

impl ProviderType {
    /// Every type, in Cognito's order.
    pub const ALL: [ProviderType; 6] = [
        ProviderType::Oidc,
        ProviderType::Google,
        ProviderType::SignInWithApple,
        ProviderType::Facebook,
        ProviderType::LoginWithAmazon,
        ProviderType::Saml,
    ];

    /// Cognito's name.
    pub fn name(self) -> &'static str {
        match self {
            ProviderType::Oidc => "OIDC",
            ProviderType::Google => "Google",
            ProviderType::SignInWithApple => "SignInWithApple",
            ProviderType::Facebook => "Facebook",
            ProviderType::LoginWithAmazon => "LoginWithAmazon",
            ProviderType::Saml => "SAML",
        }
    }

    /// Parse Cognito's name.
    pub fn from_name(s: &str) -> Option<ProviderType> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// An identity provider of a user pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    /// Pool id.
    pub pool_id: String,
    /// Provider name (unique in the pool; `Google`, `Facebook`, … for the social ones).
    pub name: String,
    /// Kind.
    pub provider_type: ProviderType,
    /// Cognito's `ProviderDetails` (client_id, authorize_scopes, oidc_issuer, endpoints, …).
    /// Secret values (`client_secret`, Apple's `private_key`) are kept sealed here, never
    /// in plaintext.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// Pool attribute → provider claim (or `sub` → the provider's subject claim).
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    /// Other names a sign-in may use for the provider (`idp_identifier`, e-mail domains).
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: u64,
}

/// A provider's subject linked to an existing user of the pool (AdminLinkProviderForUser):
/// that subject's federated sign-ins sign in as this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLink {
    /// Pool id.
    pub pool_id: String,
    /// Provider name.
    pub provider: String,
    /// The user's subject at the provider.
    pub subject: String,
    /// The pool's user (canonical username).
    pub username: String,
    /// That user's `sub` when linked (a user made later under the same name is not it).
    pub sub: String,
    /// When linked, Unix milliseconds.
    pub linked_at_ms: u64,
}
