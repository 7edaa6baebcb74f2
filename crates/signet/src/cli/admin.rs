//! Command-line arguments of `signet admin …` (their `///` comments are the --help text).

use super::identity::{IdentityPoolsCommand, RolesCommand};
use super::import::{ExportUsersArgs, ImportJobsCommand, ImportUsersArgs};
use super::parse::parse_attr;
use super::GatewayEndpoint;
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
        hide_env_values = true,
        allow_hyphen_values = true
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

/// `--pool` and `--client-id`, shared by the per-client commands.
#[derive(Args, Debug)]
pub struct ClientSel {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// App client id.
    #[arg(long)]
    pub client_id: String,
}

/// The OAuth 2.0 grants of an app client (`create-client`, `update-client`).
#[derive(Args, Debug)]
pub struct OAuthGrants {
    /// OAuth 2.0 grant: client_credentials (services; needs a client secret and at least one
    /// --oauth-scope) or code (the hosted sign-in; needs --callback-url and
    /// --identity-provider); repeatable.
    #[arg(long, value_parser = ["client_credentials", "code"])]
    pub oauth_flow: Vec<String>,
    /// Scope the client may ask for: `{resource server identifier}/{scope}`, or a standard
    /// one (openid, email, …; not with client_credentials); repeatable.
    #[arg(long)]
    pub oauth_scope: Vec<String>,
    /// Where the hosted sign-in may send users back with a code (matched exactly): https, or
    /// http on localhost, or an app's own scheme; repeatable.
    #[arg(long)]
    pub callback_url: Vec<String>,
    /// Where /logout may send users afterwards; repeatable.
    #[arg(long)]
    pub logout_url: Vec<String>,
    /// The callback used when an authorize request names none (one of --callback-url).
    #[arg(long)]
    pub default_redirect_uri: Option<String>,
    /// Who signs users in on the hosted pages: COGNITO (the pool's own users) or one of the
    /// pool's identity providers; repeatable.
    #[arg(long)]
    pub identity_provider: Vec<String>,
}

/// The triggers `set-trigger` and `clear-trigger` know, by Cognito's names.
/// (`CustomAuth` in `clear-trigger` names the three custom-auth triggers, which
/// `set-custom-auth` sets together.)
pub const TRIGGERS: [&str; 6] = [
    "PreSignUp",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "UserMigration",
    "CustomMessage",
];

/// What `clear-trigger` removes.
pub const CLEARABLE: [&str; 7] = [
    "PreSignUp",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "UserMigration",
    "CustomMessage",
    "CustomAuth",
];

/// The pre-token-generation hook of a pool (`create-pool`, `update-pool`).
#[derive(Args, Debug)]
pub struct PreTokenHookArgs {
    /// POST Cognito's pre-token-generation event to this http(s) URL before tokens are
    /// signed; its answer may add, change or suppress claims (replaces any current hook).
    #[arg(long)]
    pub pre_token_hook_url: Option<String>,
    /// Event version: V1_0 (ID tokens, the default), V2_0 (ID and access tokens), V3_0
    /// (also client_credentials tokens).
    #[arg(long, requires = "pre_token_hook_url", value_parser = ["V1_0", "V2_0", "V3_0"])]
    pub pre_token_hook_version: Option<String>,
    /// How long to wait for the hook, 100 to 5000 ms (default 1000).
    #[arg(long, requires = "pre_token_hook_url")]
    pub pre_token_hook_timeout_ms: Option<u32>,
    /// When the hook fails or times out, issue the tokens unchanged (default: refuse them).
    #[arg(long, requires = "pre_token_hook_url")]
    pub pre_token_hook_fail_open: bool,
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
        /// Only administrators create users: SignUp is refused (Cognito's
        /// AllowAdminCreateUserOnly).
        #[arg(long)]
        admin_create_user_only: bool,
        #[command(flatten)]
        pre_token_hook: PreTokenHookArgs,
    },
    /// Show a user pool.
    DescribePool {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Change a user pool (what is not given keeps its value); prints it.
    UpdatePool {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// New name of the pool.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        pre_token_hook: PreTokenHookArgs,
        /// Remove the pre-token-generation hook.
        #[arg(long, conflicts_with = "pre_token_hook_url")]
        clear_pre_token_hook: bool,
        /// The hosted pages' logo: an https URL (with --primary-color and
        /// --background-color, replaces the pages' look).
        #[arg(long)]
        logo_url: Option<String>,
        /// The hosted pages' buttons and links, #rrggbb.
        #[arg(long)]
        primary_color: Option<String>,
        /// The hosted pages' background, #rrggbb.
        #[arg(long)]
        background_color: Option<String>,
        /// Back to the hosted pages' default look.
        #[arg(long, conflicts_with_all = ["logo_url", "primary_color", "background_color"])]
        clear_ui: bool,
        /// Whether only administrators create users (SignUp refused): true or false.
        #[arg(long)]
        admin_create_user_only: Option<bool>,
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
        /// Generate a client secret (callers must then send SECRET_HASH, or the secret itself
        /// for client_credentials).
        #[arg(long)]
        secret: bool,
        /// Allowed auth flow; repeatable.
        #[arg(
            long = "flow",
            default_values = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        )]
        flows: Vec<String>,
        /// Issue a new refresh token on every refresh (and detect reuse of old ones).
        #[arg(long)]
        rotate_refresh_tokens: bool,
        /// With --rotate-refresh-tokens: for this many seconds (0–60) after a refresh, the
        /// token it replaced still refreshes (a client retrying a lost answer).
        #[arg(long, default_value_t = 0, requires = "rotate_refresh_tokens")]
        retry_grace_secs: u32,
        /// Lifetime of access tokens, in seconds (default: the gateway's, one hour).
        #[arg(long)]
        access_token_validity: Option<u64>,
        #[command(flatten)]
        oauth: OAuthGrants,
    },
    /// Change an app client (what is not given keeps its value); prints it.
    UpdateClient {
        #[command(flatten)]
        client: ClientSel,
        /// New name of the app client.
        #[arg(long)]
        name: Option<String>,
        /// Disable the client: it authenticates nowhere (sign-in, refresh, client_credentials).
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable a disabled client.
        #[arg(long)]
        enable: bool,
        /// OAuth grants and scopes: given ones replace the current ones (flows and scopes
        /// separately).
        #[command(flatten)]
        oauth: OAuthGrants,
        /// Remove every OAuth grant and scope of the client.
        #[arg(
            long,
            conflicts_with_all = [
                "oauth_flow",
                "oauth_scope",
                "callback_url",
                "logout_url",
                "default_redirect_uri",
                "identity_provider"
            ]
        )]
        clear_oauth: bool,
    },
    /// A client's secrets: add a second one to rotate, list them, delete the old one.
    ClientSecrets {
        #[command(subcommand)]
        command: ClientSecretsCommand,
    },
    /// Resource servers: the custom OAuth scopes (`{identifier}/{scope}`) clients may be
    /// granted.
    ResourceServers {
        #[command(subcommand)]
        command: ResourceServersCommand,
    },
    /// Identity providers of a pool: federated sign-in on the hosted pages (OIDC, Google).
    IdentityProviders {
        #[command(subcommand)]
        command: IdentityProvidersCommand,
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
        #[arg(allow_hyphen_values = true, long)]
        temporary_password: String,
        /// An attribute as name=value (e.g. email=a@example.com); repeatable.
        #[arg(long = "attr", value_parser = parse_attr)]
        attrs: Vec<(String, String)>,
    },
    /// Set a user's attributes (AdminUpdateUserAttributes). A changed email or phone_number
    /// is unverified unless the same call sets email_verified / phone_number_verified.
    UpdateUser {
        #[command(flatten)]
        user: UserSel,
        /// An attribute as name=value; repeatable.
        #[arg(long = "attr", value_parser = parse_attr, required = true)]
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
        #[arg(allow_hyphen_values = true, long)]
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
    /// Set a pool's MFA (SetUserPoolMfaConfig): OFF; ON (every user answers a second factor;
    /// one without sets an authenticator up at sign-in); OPTIONAL (users who turned theirs on).
    SetMfaConfig {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// OFF, ON or OPTIONAL.
        #[arg(long, value_parser = ["OFF", "ON", "OPTIONAL"])]
        mfa: String,
        /// Offer TOTP (authenticator apps). ON or OPTIONAL need at least one factor.
        #[arg(long, value_enum, default_value = "on")]
        totp: super::token::OnOff,
        /// Offer codes by SMS to a verified phone_number (SMS_MFA; through the notifier).
        #[arg(long, value_enum)]
        sms: Option<super::token::OnOff>,
        /// Offer codes by email to a verified email (EMAIL_OTP; through the notifier).
        #[arg(long, value_enum)]
        email: Option<super::token::OnOff>,
    },
    /// A user's security events (AdminListUserAuthEvents), newest first.
    ListAuthEvents {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Username.
        #[arg(long)]
        username: String,
    },
    /// Set one of a pool's triggers (Cognito's LambdaConfig, as a webhook); prints the pool.
    SetTrigger {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Which trigger.
        #[arg(long, value_parser = TRIGGERS)]
        trigger: String,
        /// Where to POST its events (https; http to loopback where the gateway allows it).
        #[arg(long)]
        url: String,
        /// How long to wait for the answer (100 to 5000 ms).
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u32,
        /// When the hook fails (no answer, 5xx, nonsense), go on as if it were not set.
        #[arg(long)]
        fail_open: bool,
    },
    /// Set the three CUSTOM_AUTH triggers (they go together); prints the pool.
    SetCustomAuth {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// DefineAuthChallenge's URL.
        #[arg(long)]
        define_url: String,
        /// CreateAuthChallenge's URL.
        #[arg(long)]
        create_url: String,
        /// VerifyAuthChallengeResponse's URL.
        #[arg(long)]
        verify_url: String,
        /// How long to wait for each answer (100 to 5000 ms).
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u32,
    },
    /// Remove one of a pool's triggers (CustomAuth: the three custom-auth ones); prints
    /// the pool.
    ClearTrigger {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Which trigger.
        #[arg(long, value_parser = CLEARABLE)]
        trigger: String,
    },
    /// Print the key a pool's hook calls are signed with (give it to the hook's receiver),
    /// derived from the gateways' webhook secret, read from SIGNET_WEBHOOK_SECRET. Nothing
    /// is sent anywhere.
    HookKey {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Add a custom attribute to a pool's schema (AddCustomAttributes); users already in
    /// the pool are untouched.
    AddCustomAttribute {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Name (`custom:` is put in front if missing): 1–20 letters, digits or _.
        #[arg(long)]
        name: String,
        /// String, Number, Boolean or DateTime.
        #[arg(long = "type", default_value = "String", value_parser = ["String", "Number", "Boolean", "DateTime"])]
        data_type: String,
        /// Once set, users cannot change it (administrators can).
        #[arg(long)]
        immutable: bool,
        /// Longest value, characters.
        #[arg(long)]
        max_length: Option<u32>,
    },
    /// Show a pool's MFA configuration (GetUserPoolMfaConfig).
    GetMfaConfig {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// A user's remembered devices (AdminListDevices).
    ListDevices(UserSel),
    /// Forget a user's device (AdminForgetDevice): its key no longer stands in for the
    /// second factor.
    ForgetDevice {
        #[command(flatten)]
        user: UserSel,
        /// The device key (from list-devices).
        #[arg(long)]
        device_key: String,
    },
    /// Turn a user's second factors on or off (AdminSetUserMFAPreference): TOTP needs a
    /// verified authenticator, SMS a verified phone_number, email a verified email.
    SetUserMfa {
        #[command(flatten)]
        user: UserSel,
        #[command(flatten)]
        factors: super::token::MfaFactorArgs,
    },
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
    /// Bulk user import jobs (Cognito's): the CSV header, create, upload, start, follow, stop.
    ImportJobs {
        #[command(subcommand)]
        command: ImportJobsCommand,
    },
    /// Import users from a CSV file: create a job, upload the file, start it (--wait: follow
    /// it to the end).
    ImportUsers(ImportUsersArgs),
    /// Export a pool's users to a CSV file in the import format (status, enabled and groups
    /// included; password hashes only with --include-password-hashes), page by page;
    /// --resume continues an interrupted export where it stopped.
    ExportUsers(ExportUsersArgs),
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
    /// Admin access keys: what signs admin calls over AWS's protocols (boto3, the AWS CLI)
    /// with AWS Signature Version 4.
    AccessKeys {
        #[command(subcommand)]
        command: AccessKeysCommand,
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

/// `signet admin client-secrets …`
#[derive(Subcommand, Debug)]
pub enum ClientSecretsCommand {
    /// Add a secret (at most two per client); prints its value, shown only this once.
    Add(ClientSel),
    /// The client's secrets: ids and creation dates, never the values.
    List(ClientSel),
    /// Delete a secret; the client's last one cannot be deleted.
    Delete {
        #[command(flatten)]
        client: ClientSel,
        /// Id of the secret (from `add` or `list`).
        #[arg(long)]
        secret_id: String,
    },
}

/// `--pool` and `--identifier`: one resource server.
#[derive(Args, Debug)]
pub struct ResourceServerSel {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// Identifier of the resource server (the prefix of its scopes, e.g. `orders` or
    /// `https://api.example.com`).
    #[arg(long)]
    pub identifier: String,
}

/// A resource server, given whole to `create` and `update`.
#[derive(Args, Debug)]
pub struct ResourceServerSettings {
    #[command(flatten)]
    pub server: ResourceServerSel,
    /// Name of the resource server.
    #[arg(long)]
    pub name: String,
    /// A scope as NAME or NAME=DESCRIPTION; clients are granted IDENTIFIER/NAME; repeatable.
    #[arg(long = "scope", value_parser = parse_scope)]
    pub scopes: Vec<(String, String)>,
}

/// `signet admin resource-servers …`
#[derive(Subcommand, Debug)]
pub enum ResourceServersCommand {
    /// Create a resource server with its scopes; prints it.
    Create(ResourceServerSettings),
    /// Show a resource server.
    Describe(ResourceServerSel),
    /// Replace the name and scopes of a resource server (a scope still granted to a client
    /// cannot be removed).
    Update(ResourceServerSettings),
    /// Delete a resource server.
    Delete(ResourceServerSel),
    /// List the resource servers of a pool.
    List {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
}

/// Parse `--scope NAME[=DESCRIPTION]`.
fn parse_scope(s: &str) -> Result<(String, String), String> {
    if s.contains('=') {
        return parse_attr(s);
    }
    match s.trim() {
        "" => Err("expected NAME or NAME=DESCRIPTION, got an empty scope".into()),
        name => Ok((name.to_string(), String::new())),
    }
}

/// `--pool` and `--name`: one identity provider.
#[derive(Args, Debug)]
pub struct ProviderSel {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// Provider name (`Google` for the Google type; any name for OIDC).
    #[arg(long)]
    pub name: String,
}

/// An identity provider's settings (`create`; `update` keeps what is not given).
#[derive(Args, Debug)]
pub struct ProviderSettings {
    #[command(flatten)]
    pub provider: ProviderSel,
    /// Provider details as KEY=VALUE (client_id, client_secret, authorize_scopes,
    /// oidc_issuer, attributes_request_method, authorize_url, token_url, attributes_url,
    /// jwks_uri; for SAML MetadataURL); repeatable.
    #[arg(long = "detail", value_parser = parse_attr)]
    pub details: Vec<(String, String)>,
    /// SAML: the IdP's metadata document, read from this file (the MetadataFile detail).
    #[arg(long = "metadata-file")]
    pub metadata_file: Option<std::path::PathBuf>,
    /// Attribute mapping as POOL_ATTRIBUTE=PROVIDER_CLAIM (e.g. email=email); repeatable.
    #[arg(long = "map", value_parser = parse_attr)]
    pub mapping: Vec<(String, String)>,
    /// An identifier of the provider (`idp_identifier`, e.g. an e-mail domain); repeatable.
    #[arg(long = "identifier")]
    pub identifiers: Vec<String>,
}

/// `signet admin identity-providers …`
#[derive(Subcommand, Debug)]
pub enum IdentityProvidersCommand {
    /// Create an identity provider; prints it (never its secret).
    Create {
        #[command(flatten)]
        settings: ProviderSettings,
        /// OIDC, Google, SignInWithApple, Facebook, LoginWithAmazon or SAML.
        #[arg(long = "type")]
        provider_type: String,
    },
    /// Show an identity provider.
    Describe(ProviderSel),
    /// Change an identity provider (given details replace the current ones; the secret is
    /// kept unless given).
    Update(ProviderSettings),
    /// Delete an identity provider.
    Delete(ProviderSel),
    /// List a pool's identity providers.
    List {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// A provider's user signs in as an existing user of the pool from now on
    /// (AdminLinkProviderForUser; a subject that signed in on its own is not merged).
    Link {
        #[command(flatten)]
        provider: ProviderSel,
        /// The user's subject at the provider.
        #[arg(long)]
        subject: String,
        /// The pool's user they sign in as.
        #[arg(long)]
        username: String,
    },
    /// Undo a link; a federated user of that subject is disabled
    /// (AdminDisableProviderForUser).
    Disable {
        #[command(flatten)]
        provider: ProviderSel,
        /// The user's subject at the provider.
        #[arg(long)]
        subject: String,
    },
}

/// `signet admin access-keys …`
#[derive(Subcommand, Debug)]
pub enum AccessKeysCommand {
    /// Make a key; prints its id and secret (the only time the secret is shown).
    Create {
        /// What the key is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Every key, without secrets.
    List,
    /// Stop a key signing anything (the first half of a rotation).
    Deactivate {
        /// Access key id.
        #[arg(long)]
        id: String,
    },
    /// Let a deactivated key sign again.
    Activate {
        /// Access key id.
        #[arg(long)]
        id: String,
    },
    /// Delete a key.
    Delete {
        /// Access key id.
        #[arg(long)]
        id: String,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn admin(args: &[&str]) -> Result<AdminCommand, clap::Error> {
        let all = ["signet", "admin"].iter().chain(args);
        match Cli::try_parse_from(all)?.command {
            Command::Admin(a) => Ok(a.command),
            other => panic!("not an admin command: {other:?}"),
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn a_scope_is_a_name_with_an_optional_description() {
        assert_eq!(parse_scope("read").unwrap(), ("read".into(), String::new()));
        assert_eq!(
            parse_scope("write=Create orders").unwrap(),
            ("write".into(), "Create orders".into())
        );
        assert!(parse_scope(" ").is_err());
        assert!(parse_scope("=x").is_err());
    }

    #[test]
    fn contradictory_flags_are_refused_before_any_call() {
        let client = ["update-client", "--pool", "p", "--client-id", "c"];
        let with = |extra: &[&'static str]| {
            let mut all = client.to_vec();
            all.extend_from_slice(extra);
            admin(&all)
        };
        assert!(with(&["--disable", "--enable"]).is_err());
        assert!(with(&["--clear-oauth", "--oauth-scope", "orders/read"]).is_err());
        assert!(with(&["--oauth-flow", "implicit"]).is_err());
        assert!(with(&["--disable", "--oauth-scope", "orders/read"]).is_ok());
        let pool = ["update-pool", "--pool", "p"];
        let with = |extra: &[&'static str]| {
            let mut all = pool.to_vec();
            all.extend_from_slice(extra);
            admin(&all)
        };
        assert!(with(&["--pre-token-hook-version", "V2_0"]).is_err());
        assert!(with(&["--clear-pre-token-hook", "--pre-token-hook-url", "http://h"]).is_err());
        let Ok(AdminCommand::UpdatePool { pre_token_hook, .. }) = with(&[
            "--pre-token-hook-url",
            "http://h/hook",
            "--pre-token-hook-fail-open",
        ]) else {
            panic!("update-pool with a hook must parse");
        };
        assert!(pre_token_hook.pre_token_hook_fail_open);
        assert_eq!(pre_token_hook.pre_token_hook_version, None);
    }
}
