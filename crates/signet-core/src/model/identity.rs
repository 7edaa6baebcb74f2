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
    /// Facebook (`graph.facebook.com`) or Login with Amazon (`www.amazon.com`): their
    /// access tokens, checked against their APIs.
    Social {
        /// `graph.facebook.com` or `www.amazon.com` (the name logins use).
        provider: String,
        /// The app the tokens must have been issued to (Facebook app id, Amazon client id).
        app_id: String,
        /// Where the provider's token-checking API is (its real one when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
    },
}

impl LoginProvider {
    /// The name logins use for this provider: the issuer without scheme or trailing `/`.
    pub fn name(&self) -> String {
        let issuer = match self {
            LoginProvider::UserPool { issuer, .. } | LoginProvider::Oidc { issuer, .. } => issuer,
            LoginProvider::Social { provider, .. } => provider,
        };
        issuer
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
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
    /// Default roles (GetCredentialsForIdentity).
    #[serde(default)]
    pub roles: PoolRoles,
    /// Per-provider role mappings, keyed by provider name (`issuer` without scheme, or
    /// `{issuer}:{client_id}` as Cognito spells it; both are accepted).
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
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

/// The default roles of an identity pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRoles {
    /// Role ARN for identities with at least one login.
    #[serde(default)]
    pub authenticated: Option<String>,
    /// Role ARN for guests (identities without a login).
    #[serde(default)]
    pub unauthenticated: Option<String>,
}

/// How the role of an authenticated identity is chosen for one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    /// `Token` (the token's `cognito:preferred_role` / `cognito:roles`) or `Rules`.
    pub kind: RoleMappingKind,
    /// What to do when no rule matches or the token names no usable role.
    pub ambiguous: AmbiguousRoleResolution,
    /// Rules, first match wins (kind `Rules` only; at most 25).
    #[serde(default)]
    pub rules: Vec<MappingRule>,
}

/// Kinds of role mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleMappingKind {
    /// Roles from the token's claims.
    Token,
    /// Rules on the token's claims.
    Rules,
}

/// Cognito's AmbiguousRoleResolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmbiguousRoleResolution {
    /// Fall back to the pool's authenticated role.
    AuthenticatedRole,
    /// Refuse.
    Deny,
}

/// One mapping rule: if claim `claim` matches `value` by `match_type`, use `role_arn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRule {
    /// Claim name.
    pub claim: String,
    /// How the claim is compared.
    pub match_type: MatchType,
    /// Value to compare with.
    pub value: String,
    /// Role to use when the rule matches.
    pub role_arn: String,
}

/// Comparison of a mapping rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchType {
    /// The claim equals the value (or, for a list claim, contains it as an element).
    Equals,
    /// The claim does not equal the value.
    NotEqual,
    /// The claim starts with the value.
    StartsWith,
    /// The claim contains the value.
    Contains,
}

/// A role that temporary credentials can be issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Name, unique in the cluster (`[A-Za-z0-9+=,.@_-]{1,64}`).
    pub name: String,
    /// `arn:signet:iam:::role/{name}`.
    pub arn: String,
    /// Random id, chosen by the proposer.
    pub role_id: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Trust policy (JSON, validated by the gateway before proposing).
    pub trust_policy: String,
    /// Longest session the role allows, seconds (3600 ..= 43200).
    pub max_session_s: u32,
    /// Inline permission policies: name → JSON document.
    #[serde(default)]
    pub policies: BTreeMap<String, String>,
    /// Creation time, Unix ms.
    pub created_at_ms: u64,
    /// Last change, Unix ms.
    pub updated_at_ms: u64,
}

/// The ARN prefix of roles.
pub const ROLE_ARN_PREFIX: &str = "arn:signet:iam:::role/";

impl Role {
    /// The ARN of the role named `name`.
    pub fn arn_of(name: &str) -> String {
        format!("{ROLE_ARN_PREFIX}{name}")
    }

    /// The role name in an ARN, if it is a role ARN.
    pub fn name_in(arn: &str) -> Option<&str> {
        arn.strip_prefix(ROLE_ARN_PREFIX).filter(|n| !n.is_empty())
    }
}
