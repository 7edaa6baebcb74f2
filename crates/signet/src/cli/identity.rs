//! Command-line arguments of `signet admin identity-pools …`, `signet admin roles …` and
//! `signet identity …` (their `///` comments are the --help text).
//!
//! A DOC value is the JSON itself when it starts with `{`, `-` to read it from stdin, else
//! the path of a file holding it. A token given as `-` is read from stdin.

use super::parse::parse_attr;
use super::GatewayEndpoint;
use clap::{Args, Subcommand};
use signet_proto::v1 as pb;

/// `--identity-pool`.
#[derive(Args, Debug)]
pub struct IdentityPoolSel {
    /// Identity pool id.
    #[arg(long)]
    pub identity_pool: String,
}

/// Settings of an identity pool, given whole to `create` and `update`.
#[derive(Args, Debug)]
pub struct IdentityPoolSettings {
    /// Name of the identity pool.
    #[arg(long)]
    pub name: String,
    /// Hand out guest identities to callers without logins.
    #[arg(long)]
    pub allow_unauthenticated: bool,
    /// Allow the classic flow: `identity open-id-token`, then `sts assume-role` with any
    /// role whose trust policy admits the pool.
    #[arg(long)]
    pub allow_classic_flow: bool,
    /// Accept ID tokens of a Signet user pool's app client: PROVIDER is the pool's issuer
    /// (the scheme may be left out); repeatable, once per client.
    #[arg(long = "user-pool", value_name = "PROVIDER=CLIENT_ID", value_parser = parse_user_pool)]
    pub user_pools: Vec<pb::CognitoIdentityProviderType>,
    /// Accept ID tokens of an external OpenID Connect provider for these client ids
    /// (audiences); repeatable.
    #[arg(
        long = "oidc",
        value_name = "ISSUER,JWKS_URL,CLIENT_ID[,CLIENT_ID...]",
        value_parser = parse_oidc
    )]
    pub oidc: Vec<pb::OpenIdConnectProviderType>,
    /// A social provider's app: graph.facebook.com=APP_ID or www.amazon.com=CLIENT_ID (their
    /// access tokens are checked against the provider's API); repeatable.
    #[arg(long = "login-provider", value_name = "PROVIDER=APP_ID", value_parser = parse_social)]
    pub social: Vec<(String, String)>,
    /// Name of the developer provider whose user ids a backend vouches for
    /// (`developer-token`).
    #[arg(long, value_name = "NAME")]
    pub developer_provider: Option<String>,
}

/// `signet admin identity-pools …`
#[derive(Subcommand, Debug)]
pub enum IdentityPoolsCommand {
    /// Create an identity pool; prints it (its `identity_pool_id` names it elsewhere).
    Create(IdentityPoolSettings),
    /// Show an identity pool.
    Describe(IdentityPoolSel),
    /// Replace an identity pool's settings with the ones given (omitted flags are cleared).
    Update {
        #[command(flatten)]
        pool: IdentityPoolSel,
        #[command(flatten)]
        settings: IdentityPoolSettings,
    },
    /// List every identity pool.
    List,
    /// Delete an identity pool with its identities.
    Delete(IdentityPoolSel),
    /// Set the pool's default roles and role mappings, replacing the current ones.
    SetRoles {
        #[command(flatten)]
        pool: IdentityPoolSel,
        /// Role ARN for identities with logins.
        #[arg(long, value_name = "ARN")]
        authenticated: Option<String>,
        /// Role ARN for guest identities.
        #[arg(long, value_name = "ARN")]
        unauthenticated: Option<String>,
        /// Role mappings, a DOC (JSON starting with `{`, `-` for stdin, or a file path): an
        /// object provider name -> {"type": "Token"|"Rules",
        /// "ambiguous_role_resolution": "AuthenticatedRole"|"Deny", "rules": [{"claim",
        /// "match_type": "Equals"|"NotEqual"|"StartsWith"|"Contains", "value", "role_arn"}]}
        /// (the `role_mappings` that `get-roles` prints).
        #[arg(long, value_name = "DOC")]
        mapping_json: Option<String>,
    },
    /// Show the pool's default roles and role mappings.
    GetRoles(IdentityPoolSel),
    /// List the identities of a pool.
    Identities(IdentityPoolSel),
    /// Show an identity: its linked logins and dates.
    DescribeIdentity {
        /// Identity id.
        #[arg(long)]
        identity_id: String,
    },
    /// Delete identities; prints the ids that were not found as unprocessed.
    DeleteIdentities {
        /// Identity id; repeatable (at most 60).
        #[arg(long = "identity-id", required = true)]
        identity_ids: Vec<String>,
    },
    /// As a trusted backend, get an OpenID token for a user id of the pool's developer
    /// provider (creating or linking the identity).
    DeveloperToken {
        #[command(flatten)]
        pool: IdentityPoolSel,
        /// A login as PROVIDER=USER_ID (PROVIDER: the pool's developer provider name);
        /// repeatable.
        #[arg(long = "login", value_name = "PROVIDER=USER_ID", required = true, value_parser = parse_attr)]
        logins: Vec<(String, String)>,
        /// Link the logins to this existing identity.
        #[arg(long)]
        identity_id: Option<String>,
        /// Token lifetime in seconds (default 900, at most 86400).
        #[arg(long, value_name = "SECONDS")]
        duration: Option<u64>,
    },
}

/// `--name` of a role.
#[derive(Args, Debug)]
pub struct RoleSel {
    /// Role name.
    #[arg(long)]
    pub name: String,
}

/// `--name` and `--policy-name`: one inline policy of a role.
#[derive(Args, Debug)]
pub struct RolePolicySel {
    /// Role name.
    #[arg(long)]
    pub name: String,
    /// Name of the role's inline policy.
    #[arg(long)]
    pub policy_name: String,
}

/// `signet admin roles …`
#[derive(Subcommand, Debug)]
pub enum RolesCommand {
    /// Create a role; prints it with its `arn`.
    Create {
        /// Role name (letters, digits and +=,.@_-).
        #[arg(long)]
        name: String,
        /// Trust policy (who may assume the role): a DOC, i.e. JSON starting with `{`, `-`
        /// for stdin, or a file path.
        #[arg(long, value_name = "DOC")]
        trust_policy: String,
        /// Description of the role.
        #[arg(long)]
        description: Option<String>,
        /// Longest session of the role, in seconds (3600..=43200, default 3600).
        #[arg(long, value_name = "SECONDS")]
        max_session: Option<u32>,
    },
    /// Show a role.
    Get(RoleSel),
    /// List every role.
    List,
    /// Change what is given of a role's trust policy, description and longest session.
    Update {
        /// Role name.
        #[arg(long)]
        name: String,
        /// New trust policy: a DOC (JSON starting with `{`, `-` for stdin, or a file path).
        #[arg(long, value_name = "DOC")]
        trust_policy: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New longest session, in seconds (3600..=43200).
        #[arg(long, value_name = "SECONDS")]
        max_session: Option<u32>,
    },
    /// Delete a role (its inline policies must be deleted first).
    Delete(RoleSel),
    /// Add or replace an inline permission policy of a role.
    PutPolicy {
        #[command(flatten)]
        policy: RolePolicySel,
        /// The policy: a DOC (JSON starting with `{`, `-` for stdin, or a file path).
        #[arg(long, value_name = "DOC")]
        document: String,
    },
    /// Show an inline policy of a role.
    GetPolicy(RolePolicySel),
    /// Delete an inline policy of a role.
    DeletePolicy(RolePolicySel),
}

/// `--login PROVIDER=TOKEN`, repeatable.
#[derive(Args, Debug)]
pub struct Logins {
    /// A login as PROVIDER=TOKEN, e.g. a user pool's issuer without the scheme and an ID
    /// token of it (TOKEN `-`: read from stdin); repeatable. None: a guest identity.
    #[arg(long = "login", value_name = "PROVIDER=TOKEN", value_parser = parse_attr)]
    pub logins: Vec<(String, String)>,
}

#[derive(Args, Debug)]
pub struct IdentityArgs {
    #[command(flatten)]
    pub gateway: GatewayEndpoint,
    #[command(subcommand)]
    pub command: IdentityCommand,
}

/// `signet identity …`
#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// The identity id of the logins in an identity pool (created on first use).
    GetId {
        #[command(flatten)]
        pool: IdentityPoolSel,
        #[command(flatten)]
        logins: Logins,
    },
    /// GetId, then credentials of that identity's role; prints `identity_id` and
    /// `credentials`.
    GetCredentials {
        #[command(flatten)]
        pool: IdentityPoolSel,
        #[command(flatten)]
        logins: Logins,
        /// Ask for this role (one the pool's role mapping offers the identity).
        #[arg(long, value_name = "ARN")]
        custom_role_arn: Option<String>,
    },
    /// An OpenID token of an identity, for `sts assume-role` (the classic flow).
    OpenIdToken {
        /// Identity id (from `get-id`).
        #[arg(long)]
        identity_id: String,
        #[command(flatten)]
        logins: Logins,
    },
}

/// `PROVIDER=APP_ID` of `--login-provider`.
fn parse_social(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((p, id)) if !p.is_empty() && !id.is_empty() => Ok((p.to_string(), id.to_string())),
        _ => Err(format!("expected PROVIDER=APP_ID, got {s:?}")),
    }
}

/// `PROVIDER=CLIENT_ID` of `--user-pool` (split at the last `=`: client ids have none).
fn parse_user_pool(s: &str) -> Result<pb::CognitoIdentityProviderType, String> {
    match s.rsplit_once('=') {
        Some((provider, client)) if !provider.trim().is_empty() && !client.trim().is_empty() => {
            Ok(pb::CognitoIdentityProviderType {
                provider_name: provider.trim().to_string(),
                client_id: client.trim().to_string(),
            })
        }
        _ => Err(format!("expected PROVIDER=CLIENT_ID, got {s:?}")),
    }
}

/// `ISSUER,JWKS_URL,CLIENT_ID[,CLIENT_ID...]` of `--oidc`.
fn parse_oidc(s: &str) -> Result<pb::OpenIdConnectProviderType, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [issuer, jwks_url, client_ids @ ..]
            if !client_ids.is_empty() && parts.iter().all(|p| !p.is_empty()) =>
        {
            Ok(pb::OpenIdConnectProviderType {
                issuer: issuer.to_string(),
                jwks_url: jwks_url.to_string(),
                client_ids: client_ids.iter().map(|c| c.to_string()).collect(),
            })
        }
        _ => Err(format!(
            "expected ISSUER,JWKS_URL,CLIENT_ID[,CLIENT_ID...], got {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_pool_providers_split_at_the_last_equals_sign() {
        let p = parse_user_pool("http://127.0.0.1:7411/pool_1=client9").unwrap();
        assert_eq!(p.provider_name, "http://127.0.0.1:7411/pool_1");
        assert_eq!(p.client_id, "client9");
        for bad in ["issuer", "=client", "issuer=", ""] {
            assert!(parse_user_pool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oidc_providers_need_an_issuer_a_jwks_url_and_clients() {
        let o = parse_oidc("https://idp.example,https://idp.example/jwks,a, b").unwrap();
        assert_eq!(o.issuer, "https://idp.example");
        assert_eq!(o.jwks_url, "https://idp.example/jwks");
        assert_eq!(o.client_ids, ["a", "b"]);
        for bad in [
            "https://idp.example,https://idp.example/jwks",
            "https://idp.example,,a",
            "https://idp.example,https://idp.example/jwks,a,",
        ] {
            assert!(parse_oidc(bad).is_err(), "{bad}");
        }
    }
}
