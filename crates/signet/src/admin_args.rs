//! Command-line arguments of `signet admin …` (their `///` comments are the --help text).

use crate::cli::GatewayEndpoint;
use crate::identity_args::{IdentityPoolsCommand, RolesCommand};
use crate::rpc::parse_attr;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(flatten)]
    pub gateway: GatewayEndpoint,
    /// Bearer secret of the admin API. If absent, read from <data-dir>/dev-secrets.json
    /// (written by `signet dev`).
    #[arg(
        long,
        global = true,
        env = "SIGNET_ADMIN_SECRET",
        hide_env_values = true
    )]
    pub admin_secret: Option<String>,
    /// Data dir of a `signet dev` process, to find its admin secret when none is given.
    #[arg(
        long,
        global = true,
        default_value = "./signet-data",
        env = "SIGNET_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// `--pool` and `--username`, shared by the per-user commands.
#[derive(Args, Debug)]
pub struct UserSel {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// Username (or an alias such as the e-mail address, if the pool allows it).
    #[arg(long)]
    pub username: String,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a user pool; prints it (its `id` names it in every other command).
    CreatePool {
        /// Name of the pool (need not be unique).
        #[arg(long)]
        name: String,
        /// Attribute verified by a code at sign-up (email or phone_number); repeatable.
        #[arg(long = "auto-verify")]
        auto_verify: Vec<String>,
        /// Attribute that may also be used to sign in, besides the username; repeatable.
        #[arg(long = "alias")]
        alias: Vec<String>,
        /// Attribute used *as* the username (email or phone_number); repeatable.
        #[arg(long = "username-attribute")]
        username_attribute: Vec<String>,
        /// Signing algorithm of the pool's tokens (default EdDSA).
        #[arg(long, value_parser = ["EdDSA", "ES256", "RS256"])]
        signing_alg: Option<String>,
        /// Minimum password length (upper, lower, digit and symbol stay required).
        #[arg(long)]
        min_length: Option<u32>,
        /// Let sign-in and recovery say whether a user exists (Cognito's LEGACY mode).
        #[arg(long)]
        no_prevent_user_existence_errors: bool,
    },
    /// Show a user pool.
    DescribePool {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// List every user pool.
    ListPools,
    /// Delete a user pool with its clients, users and groups.
    DeletePool {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Create an app client; prints it with its `client_id` (and its secret, shown once).
    CreateClient {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Name of the app client.
        #[arg(long)]
        name: String,
        /// Generate a client secret (callers must then send SECRET_HASH).
        #[arg(long)]
        secret: bool,
        /// Allowed auth flow; repeatable.
        #[arg(
            long = "flow",
            default_values = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        )]
        flows: Vec<String>,
        /// Issue a new refresh token on every refresh (and detect reuse of old ones).
        #[arg(long)]
        rotate_refresh_tokens: bool,
        /// Lifetime of access tokens, in seconds (default: the gateway's, one hour).
        #[arg(long)]
        access_token_validity: Option<u64>,
    },
    /// List the app clients of a pool.
    ListClients {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Create a user with a temporary password (state FORCE_CHANGE_PASSWORD).
    CreateUser {
        #[command(flatten)]
        user: UserSel,
        /// Password for the first sign-in, which must then set a new one.
        #[arg(long)]
        temporary_password: String,
        /// An attribute as name=value (e.g. email=a@example.com); repeatable.
        #[arg(long = "attr", value_parser = parse_attr)]
        attrs: Vec<(String, String)>,
    },
    /// Show a user.
    GetUser(UserSel),
    /// List the users of a pool, optionally filtered.
    ListUsers {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// `attribute = "value"` (exact) or `attribute ^= "value"` (prefix).
        #[arg(long)]
        filter: Option<String>,
    },
    /// Set a user's password.
    SetPassword {
        #[command(flatten)]
        user: UserSel,
        /// The new password.
        #[arg(long)]
        password: String,
        /// Make it permanent (else the user must change it at the next sign-in).
        #[arg(long)]
        permanent: bool,
    },
    /// Disable a user: no sign-in, no refresh.
    DisableUser(UserSel),
    /// Enable a disabled user.
    EnableUser(UserSel),
    /// Delete a user.
    DeleteUser(UserSel),
    /// Confirm a signed-up user without a code.
    ConfirmUser(UserSel),
    /// Revoke every refresh token and access token of a user.
    SignOutUser(UserSel),
    /// Create a group.
    CreateGroup {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Group name (appears in `cognito:groups`).
        #[arg(long)]
        name: String,
        /// Lower wins when a user's groups carry roles.
        #[arg(long)]
        precedence: Option<u32>,
        /// Role associated with the group (`cognito:roles`).
        #[arg(long)]
        role_arn: Option<String>,
    },
    /// Add a user to a group.
    AddToGroup {
        #[command(flatten)]
        user: UserSel,
        /// Group name.
        #[arg(long)]
        group: String,
    },
    /// The dev outbox: the codes the pool would have sent by e-mail or SMS.
    Outbox {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Signing keys: list them, rotate every gateway's keys now, or revoke one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Identity pools: logins they accept, their roles, their identities.
    IdentityPools {
        #[command(subcommand)]
        command: IdentityPoolsCommand,
    },
    /// Roles: trust policies (who may assume them) and permission policies.
    Roles {
        #[command(subcommand)]
        command: RolesCommand,
    },
}

/// `signet admin keys …`
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Every key with its state, owner, algorithm and times.
    List,
    /// Every gateway publishes new keys and retires the current ones (they stay in the
    /// JWKS until the tokens they signed have expired).
    Rotate,
    /// Take a key out of every JWKS at once; Signet refuses the tokens it signed.
    Revoke {
        /// Key id.
        #[arg(long)]
        kid: String,
    },
}
