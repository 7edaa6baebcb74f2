//! What an edge authorizer enforces, per route: read from a file an operator writes (TOML,
//! `signet gateway --authorizer-config`), checked once at start.

use serde::Deserialize;
use signet_verify::PolicyDocument;

/// The authorizer's routes, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizerConfig {
    /// Say in `x-signet-decision` why each request was allowed or denied (the deciding
    /// policy statement, the missing scope): for debugging, not for production.
    #[serde(default)]
    pub debug_headers: bool,
    /// The routes; the longest matching prefix decides.
    #[serde(default, rename = "route")]
    pub routes: Vec<AuthorizerRoute>,
}

/// One route: which requests it covers and what their token must show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizerRoute {
    /// Path prefix, on segment boundaries (`/orders` covers `/orders` and `/orders/7`, not
    /// `/ordersx`).
    pub prefix: String,
    /// Methods covered (any when empty), upper case.
    #[serde(default)]
    pub methods: Vec<String>,
    /// User pools whose tokens are accepted; `"*"`: any pool of this deployment (the
    /// route's other conditions still apply).
    #[serde(default)]
    pub pools: Vec<String>,
    /// STS roles whose sessions are accepted (role ARNs, or `"*"`): requests signed with
    /// temporary credentials (AWS Signature Version 4, as botocore and every AWS SDK sign,
    /// or Signet's SIGNET4), allowed when the session's own permission policies allow
    /// action `http:<METHOD>` on the path (and the route's `policy`, if any, too).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Also take a bare STS session token, unsigned (`Authorization: Bearer <token>`, or
    /// `x-amz-security-token` alone). Off by default: the token is then a bearer
    /// credential that whoever saw it can use until it expires, where a signature needs
    /// the secret key, which never travels.
    #[serde(default)]
    pub session_tokens: bool,
    /// `access` (default) or `id`.
    #[serde(default = "access")]
    pub token_use: String,
    /// App clients accepted (any of the pools' when empty).
    #[serde(default)]
    pub clients: Vec<String>,
    /// Scopes, any of which the access token must carry (none required when empty).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Groups (`cognito:groups`), any of which the user must be in (none when empty).
    #[serde(default)]
    pub groups: Vec<String>,
    /// An IAM-style permission policy the request must be allowed by: action
    /// `http:<METHOD>`, resource the path; condition keys `signet:sub`, `signet:username`,
    /// `signet:client_id`, `signet:pool`, `signet:scope`, `cognito:groups`.
    #[serde(default)]
    pub policy: Option<String>,
}

fn access() -> String {
    "access".into()
}

/// A route checked and ready to match.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub prefix: String,
    pub methods: Vec<String>,
    pub pools: Vec<String>,
    pub roles: Vec<String>,
    pub session_tokens: bool,
    pub token_use: signet_verify::TokenUse,
    pub clients: Vec<String>,
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
    pub policy: Option<PolicyDocument>,
}

impl AuthorizerConfig {
    /// Parse a TOML file's text.
    pub fn from_toml(text: &str) -> Result<AuthorizerConfig, String> {
        let cfg: AuthorizerConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.checked()?;
        Ok(cfg)
    }

    /// The routes, checked: a bad route is an error at start, never a silent allow.
    pub(crate) fn checked(&self) -> Result<Vec<Route>, String> {
        self.routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.checked()
                    .map_err(|e| format!("route {} ({}): {e}", i + 1, r.prefix))
            })
            .collect()
    }
}

impl AuthorizerRoute {
    fn checked(&self) -> Result<Route, String> {
        if !self.prefix.starts_with('/') {
            return Err("prefix must start with /".into());
        }
        if self.pools.is_empty() && self.roles.is_empty() {
            return Err("name at least one user pool (pools) or STS role (roles)".into());
        }
        if self.session_tokens && self.roles.is_empty() {
            return Err("session_tokens needs roles: whose sessions are taken".into());
        }
        if let Some(r) = self
            .roles
            .iter()
            .find(|r| *r != "*" && signet_core::Role::name_in(r).is_none())
        {
            return Err(format!(
                "{r:?} is not a role ARN (arn:signet:iam:::role/NAME) or \"*\""
            ));
        }
        let token_use = match self.token_use.as_str() {
            "access" => signet_verify::TokenUse::Access,
            "id" => signet_verify::TokenUse::Id,
            other => return Err(format!("token_use must be access or id, not {other}")),
        };
        if token_use == signet_verify::TokenUse::Id && !self.scopes.is_empty() {
            return Err("scopes are in access tokens: use token_use = \"access\"".into());
        }
        let policy = match &self.policy {
            Some(text) => Some(PolicyDocument::parse(text).map_err(|e| format!("policy: {e}"))?),
            None => None,
        };
        Ok(Route {
            prefix: self.prefix.trim_end_matches('/').to_string(),
            methods: self
                .methods
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect(),
            pools: self.pools.clone(),
            roles: self.roles.clone(),
            session_tokens: self.session_tokens,
            token_use,
            clients: self.clients.clone(),
            scopes: self.scopes.clone(),
            groups: self.groups.clone(),
            policy,
        })
    }
}
