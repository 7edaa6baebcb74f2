//! Command-line arguments of `signet sts …` (their `///` comments are the --help text).
//!
//! A DOC value is the JSON itself when it starts with `{`, `-` to read it from stdin, else
//! the path of a file holding it. A token given as `-` is read from stdin.

use super::parse::parse_attr;
use super::GatewayEndpoint;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct StsArgs {
    #[command(flatten)]
    pub gateway: GatewayEndpoint,
    #[command(subcommand)]
    pub command: StsCommand,
}

/// `--session-token`.
#[derive(Args, Debug)]
pub struct SessionToken {
    /// Session token of the credentials (`-`: read from stdin).
    #[arg(allow_hyphen_values = true, long)]
    pub session_token: String,
}

/// `signet sts …`
#[derive(Subcommand, Debug)]
pub enum StsCommand {
    /// Credentials of a role for the holder of a web-identity token (an identity pool's
    /// OpenID token or an OIDC ID token) that the role's trust policy admits.
    AssumeRole {
        /// ARN of the role.
        #[arg(long, value_name = "ARN")]
        role_arn: String,
        /// Name of the session (appears in the assumed-role ARN).
        #[arg(long)]
        session_name: String,
        /// The web-identity token (`-`: read from stdin).
        #[arg(allow_hyphen_values = true, long, value_name = "TOKEN")]
        web_identity_token: String,
        /// Lifetime of the credentials in seconds (900 to the role's longest session;
        /// default 3600, capped at that).
        #[arg(long, value_name = "SECONDS")]
        duration: Option<u32>,
        /// Session policy that narrows the role's permissions: a DOC (JSON starting with
        /// `{`, `-` for stdin, or a file path).
        #[arg(long, value_name = "DOC")]
        policy: Option<String>,
    },
    /// May these credentials do ACTION on RESOURCE? Prints the decision and the statement
    /// that made it; exits 0 for a denial too, unless --fail-on-deny.
    Authorize {
        #[command(flatten)]
        session: SessionToken,
        /// Access key id of the credentials; if given, it must match the session token.
        #[arg(long)]
        access_key_id: Option<String>,
        /// The action, e.g. orders:GetOrder.
        #[arg(long)]
        action: String,
        /// The resource ARN.
        #[arg(long)]
        resource: String,
        /// A request-context value for conditions, as KEY=VALUE; repeatable (keys
        /// `signet:*` come from the session token).
        #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_attr)]
        context: Vec<(String, String)>,
        /// Exit with status 3 when the answer is a denial.
        #[arg(long)]
        fail_on_deny: bool,
    },
    /// Whose credentials these are: user id, account and assumed-role ARN.
    CallerIdentity(SessionToken),
}
