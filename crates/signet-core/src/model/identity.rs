use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an identity pool accepts logins from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoginProvider {
    /// A Signet user pool: tokens with issuer `{public_url}/{pool_id}`.
    UserPool {
        /// Exact issuer.
        issuer: String,
        /// Accepted app clients (`aud`).
        client_ids: Vec<String>,
    },
    /// An external OpenID Connect provider.
    Oidc {
        /// Exact issuer.
        issuer: String,
        /// Where its keys are published.
        jwks_url: String,
        /// Accepted audiences.
        client_ids: Vec<String>,
    },
}

impl LoginProvider {
    /// The name logins use for this provider (Cognito uses the issuer without scheme).
    pub fn name(&self) -> String {
        let issuer = match self {
            LoginProvider::UserPool { issuer, .. } | LoginProvider::Oidc { issuer, .. } => issuer,
        };
        issuer
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string()
    }
}

/// A Cognito-style identity pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPool {
    /// `local:` + UUID, chosen by the proposer; never reused.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Hand out identities without any login (off by default).
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// Allow the classic (basic) flow (off by default).
    #[serde(default)]
    pub allow_classic_flow: bool,
    /// Accepted login providers.
    #[serde(default)]
    pub providers: Vec<LoginProvider>,
    /// Name of the developer provider whose backends may vouch for user ids.
    #[serde(default)]
    pub developer_provider: Option<String>,
    /// Creation time, Unix ms.
    pub created_at_ms: u64,
    /// Last change, Unix ms.
    pub updated_at_ms: u64,
}

/// An identity: one person (or device) across the logins linked to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `local:` + 122 random bits in UUID form.
    pub identity_id: String,
    /// Identity pool.
    pub pool_id: String,
    /// Linked logins: provider name → subject.
    #[serde(default)]
    pub logins: BTreeMap<String, String>,
    /// Creation time, Unix ms.
    pub created_at_ms: u64,
    /// Last change, Unix ms.
    pub updated_at_ms: u64,
}
