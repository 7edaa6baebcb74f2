//! Command-line arguments of `signet token …` (their `///` comments are the --help text).

use super::parse::parse_attr;
use super::GatewayEndpoint;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(flatten)]
    pub gateway: GatewayEndpoint,
    /// App client id (from `signet admin create-client`).
    #[arg(long, global = true, env = "SIGNET_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The app client's secret, if it has one: SECRET_HASH is then computed and sent (by
    /// `client-credentials`: the secret itself). `-` reads it from stdin.
    #[arg(
        long,
        global = true,
        env = "SIGNET_CLIENT_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub client_secret: Option<String>,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Register a new user; a confirmation code goes to the pool's auto-verified attribute.
    SignUp {
        /// Username to register.
        #[arg(long)]
        username: String,
        /// Password (must satisfy the pool's policy).
        #[arg(allow_hyphen_values = true, long)]
        password: String,
        /// An attribute as name=value (e.g. email=a@example.com); repeatable.
        #[arg(long = "attr", value_parser = parse_attr)]
        attrs: Vec<(String, String)>,
    },
    /// Confirm a sign-up with the code that was sent.
    Confirm {
        /// Username that signed up.
        #[arg(long)]
        username: String,
        /// The confirmation code.
        #[arg(allow_hyphen_values = true, long)]
        code: String,
    },
    /// Sign in with username and password (USER_PASSWORD_AUTH); prints the tokens, or a
    /// challenge to answer (e.g. NEW_PASSWORD_REQUIRED, see `new-password`).
    SignIn {
        /// Username (or an alias the pool allows).
        #[arg(long)]
        username: String,
        /// Password.
        #[arg(allow_hyphen_values = true, long)]
        password: String,
    },
    /// Answer the NEW_PASSWORD_REQUIRED challenge of a first sign-in.
    NewPassword {
        /// Username that signed in.
        #[arg(long)]
        username: String,
        /// The `session` printed by `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        session: String,
        /// The new, permanent password.
        #[arg(allow_hyphen_values = true, long)]
        password: String,
    },
    /// Get fresh access and ID tokens with a refresh token (REFRESH_TOKEN_AUTH).
    Refresh {
        /// The refresh token from `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        refresh_token: String,
        /// Username the token belongs to; needed only with --client-secret (SECRET_HASH).
        #[arg(long)]
        username: Option<String>,
    },
    /// Send a password-reset code to the user's verified e-mail or phone.
    ForgotPassword {
        /// Username to reset.
        #[arg(long)]
        username: String,
    },
    /// Set a new password with the code sent by `forgot-password`.
    ConfirmForgotPassword {
        /// Username to reset.
        #[arg(long)]
        username: String,
        /// The reset code.
        #[arg(allow_hyphen_values = true, long)]
        code: String,
        /// The new password.
        #[arg(allow_hyphen_values = true, long)]
        password: String,
    },
    /// Show the signed-in user (GetUser with the access token).
    Whoami {
        /// Access token from `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        access_token: String,
    },
    /// Sign out everywhere: revokes the user's refresh tokens and access tokens.
    SignOut {
        /// Access token from `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        access_token: String,
    },
    /// An access token for the app client itself (OAuth 2.0 client_credentials grant, as
    /// `POST {issuer}/oauth2/token` gives): needs --client-id and --client-secret.
    ClientCredentials {
        /// User pool id of the app client.
        #[arg(long)]
        pool: String,
        /// Space-separated scopes to ask for, e.g. "orders/read orders/write" (default: every
        /// scope the client is allowed).
        #[arg(long)]
        scope: Option<String>,
    },
    /// Set up a TOTP authenticator (AssociateSoftwareToken), with an access token or with the
    /// session of an MFA_SETUP challenge: prints the secret (base32) and an otpauth:// URI
    /// for an authenticator app; then `totp-verify` with a code it shows.
    TotpSetup {
        #[command(flatten)]
        holder: MfaHolder,
    },
    /// Verify the authenticator with a code it shows (VerifySoftwareToken). With a session
    /// (from `totp-setup --session`) it also answers MFA_SETUP and prints the tokens.
    TotpVerify {
        #[command(flatten)]
        holder: MfaHolder,
        /// The six-digit code the authenticator shows.
        #[arg(long)]
        code: String,
        /// A name for the authenticator.
        #[arg(long, default_value = "")]
        device_name: String,
        /// Username that signed in (with --session).
        #[arg(long, requires = "session")]
        username: Option<String>,
    },
    /// Answer the second factor's challenge of `sign-in` with its code: the authenticator's
    /// (SOFTWARE_TOKEN_MFA), or the one sent by SMS or e-mail.
    MfaCode {
        /// Username that signed in.
        #[arg(long)]
        username: String,
        /// The `session` printed by `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        session: String,
        /// The six-digit code.
        #[arg(long)]
        code: String,
        /// The challenge `sign-in` printed.
        #[arg(long, default_value = "SOFTWARE_TOKEN_MFA", value_parser = ["SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"])]
        challenge: String,
    },
    /// Answer SELECT_MFA_TYPE: pick one of the factors it offered (MFAS_CAN_CHOOSE); its
    /// challenge follows.
    SelectMfa {
        /// Username that signed in.
        #[arg(long)]
        username: String,
        /// The `session` printed by `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        session: String,
        /// SOFTWARE_TOKEN_MFA, SMS_MFA or EMAIL_OTP.
        #[arg(long)]
        factor: String,
    },
    /// Turn your second factors on or off, and make one preferred (SetUserMFAPreference).
    MfaPreference {
        /// Access token from `sign-in`.
        #[arg(allow_hyphen_values = true, long)]
        access_token: String,
        #[command(flatten)]
        factors: MfaFactorArgs,
    },
    /// The code an authenticator shows now for a base32 secret (RFC 6238: SHA-1, 6 digits,
    /// 30 s), for trying TOTP out without a phone. Needs no gateway.
    TotpNow {
        /// The secret from `totp-setup`.
        #[arg(long)]
        secret: String,
    },
    /// Print a JWT's header and payload. Without --verify-with-jwks nothing is verified.
    Decode {
        /// The token (ID or access token).
        #[arg(allow_hyphen_values = true)]
        token: String,
        /// Verify the token against this JWKS: http://host:port/path or a file.
        #[arg(long, requires = "issuer")]
        verify_with_jwks: Option<String>,
        /// Expected `iss` (the pool's issuer, `<public_url>/<pool id>`); with
        /// --verify-with-jwks.
        #[arg(long, requires = "verify_with_jwks")]
        issuer: Option<String>,
        /// Clock-skew leeway for exp/nbf when verifying, in seconds (at most 60).
        #[arg(long, default_value_t = 0)]
        leeway: u64,
    },
}

/// Who a TOTP set-up call is for: a signed-in user (access token) or one in the middle of
/// an MFA_SETUP challenge (session).
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct MfaHolder {
    /// Access token from `sign-in`.
    #[arg(allow_hyphen_values = true, long)]
    pub access_token: Option<String>,
    /// The `session` of an MFA_SETUP challenge (from `sign-in`, then from `totp-setup`).
    #[arg(allow_hyphen_values = true, long)]
    pub session: Option<String>,
}

/// On or off.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

/// A user's second factors to turn on or off (those not named stay as they are).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct MfaFactorArgs {
    /// TOTP from an authenticator app (SOFTWARE_TOKEN_MFA): needs a verified authenticator.
    #[arg(long, value_enum)]
    pub totp: Option<OnOff>,
    /// Codes by SMS (SMS_MFA): needs a verified phone_number.
    #[arg(long, value_enum)]
    pub sms: Option<OnOff>,
    /// Codes by email (EMAIL_OTP): needs a verified email.
    #[arg(long, value_enum)]
    pub email: Option<OnOff>,
    /// Make the one factor turned on here the preferred one.
    #[arg(long)]
    pub preferred: bool,
}
