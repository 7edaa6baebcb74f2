//! Sign-in: password flows, the NEW_PASSWORD_REQUIRED challenge, the second factor
//! (TOTP, SMS and email codes), refresh, and token issuance. A password sign-in is one linearizable read, one argon2 verify and the
//! signatures; it writes nothing. Refresh with rotation is one compare-and-set write.

mod challenge;
mod custom;
mod devices;
mod mfa;
mod password;
mod refresh;
mod session;
mod srp;

use crate::clock::SharedClock;
use crate::codes::Codes;
use crate::directory::Directory;
use crate::hooks::Hooks;
use crate::names::{Challenge, InitiateFlow, WireName};
use crate::passwords::Passwords;
use crate::secrets::ClientSecrets;
use crate::store::Store;
pub use crate::tokens::AuthResult;
use crate::tokens::Tokens;
use crate::AppError;
pub use devices::{DeviceSecret, Owner as DeviceOwner};
pub use mfa::{MfaSettings, Setting as MfaSetting};
use signet_core::AuthFlow;
use signet_crypto::Sealer;
use std::collections::BTreeMap;

/// How a client with a secret proved it on a refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretProof<'a> {
    /// Cognito's SECRET_HASH (InitiateAuth).
    Hash(Option<&'a str>),
    /// The client authenticated with its secret already (the OAuth token endpoint).
    Authenticated,
}

/// Tokens, or a challenge to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Signed in.
    Tokens(AuthResult),
    /// The user must answer a challenge.
    Challenge {
        /// Which challenge.
        name: Challenge,
        /// Sealed session to send back.
        session: String,
        /// Parameters (USER_ID_FOR_SRP, requiredAttributes, …).
        parameters: BTreeMap<String, String>,
    },
    /// Every factor is done, on a hosted sign-in page (only inside [`for_hosted_page`]):
    /// the page issues an authorization code instead of tokens.
    SignedIn(SignedIn),
}

/// A user who has just proven every factor on a hosted sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The user's `sub`.
    pub sub: String,
    /// The user's username.
    pub username: String,
}

tokio::task_local! {
    static HOSTED_PAGE: ();
}

/// Run a sign-in for a hosted page: where every factor is done it ends in
/// [`AuthOutcome::SignedIn`] (after PostAuthentication) instead of signed tokens: the page
/// turns that into a session and an authorization code, and the tokens come from the code.
pub(crate) async fn for_hosted_page<F: std::future::Future>(f: F) -> F::Output {
    HOSTED_PAGE.scope((), f).await
}

fn on_hosted_page() -> bool {
    HOSTED_PAGE.try_with(|_| ()).is_ok()
}

fn wrong_credentials() -> AppError {
    AppError::NotAuthorized("Incorrect username or password.".into())
}

/// How sign-in behaves (from the gateway's config).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthSettings {
    /// Lifetime of a challenge session.
    pub session_ttl: std::time::Duration,
}

/// The sign-in feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Auth {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    passwords: Passwords,
    sealer: Sealer,
    secrets: ClientSecrets,
    tokens: Tokens,
    hooks: Hooks,
    codes: Codes,
    settings: AuthSettings,
}

impl Auth {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        passwords: Passwords,
        sealer: Sealer,
        secrets: ClientSecrets,
        tokens: Tokens,
        hooks: Hooks,
        codes: Codes,
        settings: AuthSettings,
    ) -> Auth {
        Auth {
            store,
            dir,
            clock,
            passwords,
            sealer,
            secrets,
            tokens,
            hooks,
            codes,
            settings,
        }
    }
}

impl Auth {
    /// InitiateAuth / AdminInitiateAuth. `admin` selects ADMIN_USER_PASSWORD_AUTH.
    pub async fn initiate_auth(
        &self,
        client_id: &str,
        flow: InitiateFlow,
        params: &BTreeMap<String, String>,
        admin: bool,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.dir.active_client(client_id).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        match flow {
            InitiateFlow::UserPassword
            | InitiateFlow::AdminUserPassword
            | InitiateFlow::AdminNoSrp => {
                let (needed, wanted_admin) = if flow == InitiateFlow::UserPassword {
                    (AuthFlow::AllowUserPasswordAuth, false)
                } else {
                    (AuthFlow::AllowAdminUserPasswordAuth, true)
                };
                if wanted_admin != admin || !client.allows(needed) {
                    return Err(AppError::invalid(format!(
                        "{} flow not enabled for this client",
                        flow.wire()
                    )));
                }
                let username = params
                    .get("USERNAME")
                    .ok_or_else(|| AppError::invalid("Missing required parameter USERNAME"))?;
                let password = params
                    .get("PASSWORD")
                    .ok_or_else(|| AppError::invalid("Missing required parameter PASSWORD"))?;
                self.secrets
                    .check_secret_hash(&client, username, secret_hash)?;
                let device = params.get("DEVICE_KEY").map(String::as_str);
                self.password_auth(&pool, &client, username, password, device)
                    .await
            }
            InitiateFlow::UserSrp => {
                if admin || !client.allows(AuthFlow::AllowUserSrpAuth) {
                    return Err(AppError::invalid(
                        "USER_SRP_AUTH flow not enabled for this client",
                    ));
                }
                let username = params
                    .get("USERNAME")
                    .ok_or_else(|| AppError::invalid("Missing required parameter USERNAME"))?;
                let srp_a = params
                    .get("SRP_A")
                    .ok_or_else(|| AppError::invalid("Missing required parameter SRP_A"))?;
                self.secrets
                    .check_secret_hash(&client, username, secret_hash)?;
                let device = params.get("DEVICE_KEY").map(String::as_str);
                self.srp_start(&pool, &client, username, srp_a, device)
                    .await
            }
            InitiateFlow::Custom => {
                if admin || !client.allows(AuthFlow::AllowCustomAuth) {
                    return Err(AppError::invalid(
                        "CUSTOM_AUTH flow not enabled for this client",
                    ));
                }
                let username = params
                    .get("USERNAME")
                    .ok_or_else(|| AppError::invalid("Missing required parameter USERNAME"))?;
                if params.contains_key("SRP_A") {
                    return Err(AppError::invalid(
                        "CUSTOM_AUTH with SRP_A (a password before the custom challenges) is not offered",
                    ));
                }
                self.secrets
                    .check_secret_hash(&client, username, secret_hash)?;
                self.custom_start(&pool, &client, username).await
            }
            InitiateFlow::RefreshToken | InitiateFlow::RefreshTokenLegacy => {
                if !client.allows(AuthFlow::AllowRefreshTokenAuth) {
                    return Err(AppError::invalid(
                        "REFRESH_TOKEN_AUTH flow not enabled for this client",
                    ));
                }
                let token = params
                    .get("REFRESH_TOKEN")
                    .ok_or_else(|| AppError::invalid("Missing required parameter REFRESH_TOKEN"))?;
                self.refresh_auth(&pool, &client, token, SecretProof::Hash(secret_hash))
                    .await
                    .map(AuthOutcome::Tokens)
            }
        }
    }
}
