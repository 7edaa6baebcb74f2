//! Every failure a caller can see. What each one looks like on every surface — Cognito's
//! exception name, the gRPC code, the HTTP status, the OAuth error — is decided in one
//! table ([`table`]) and nowhere else.

mod oauth;
mod rejection;
mod table;
#[cfg(test)]
mod tests;

pub use oauth::OAuthError;
pub(crate) use rejection::rejection;

use signet_crypto::PasswordError;
use signet_store_client::ClientError;
use thiserror::Error;
use tonic::Status;
use tonic_types::StatusExt;

/// Domain of the `ErrorInfo` detail attached to every error.
pub const ERROR_DOMAIN: &str = "signet";

/// A use-case failure.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AppError {
    /// Wrong credentials, disabled user, bad or revoked token, missing admin credentials.
    #[error("{0}")]
    NotAuthorized(String),
    /// The username is taken.
    #[error("User already exists")]
    UsernameExists,
    /// A sign-in alias (e-mail, phone) is taken.
    #[error("An account with the given {0} already exists")]
    AliasExists(String),
    /// Wrong code.
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    /// Expired or unknown code.
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    /// The password breaks the pool's policy.
    #[error("Password does not conform to policy: {0}")]
    InvalidPassword(String),
    /// Bad input.
    #[error("{0}")]
    InvalidParameter(String),
    /// The user has not confirmed the sign-up.
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    /// No such user (only where user-existence errors are not hidden).
    #[error("User does not exist.")]
    UserNotFound,
    /// An admin reset the password: the user must use ForgotPassword.
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    /// Too many attempts of something.
    #[error("{0}")]
    LimitExceeded(String),
    /// Overloaded (password hashing saturated, store queue full).
    #[error("{0}")]
    TooManyRequests(String),
    /// No such pool, client or group.
    #[error("{0}")]
    ResourceNotFound(String),
    /// A group with that name exists.
    #[error("A group with the name already exists.")]
    GroupExists,
    /// The operation conflicts with the current state (e.g. deletion protection).
    #[error("{0}")]
    InvalidState(String),
    /// The gateway cannot serve yet (no usable signing key) or the store is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a storage failure.
    #[error("internal error: {0}")]
    Internal(String),
    /// The request conflicts with linked logins (identity pools).
    #[error("{0}")]
    Conflict(String),
    /// A web-identity or login token failed validation.
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// A session token or login token has expired.
    #[error("{0}")]
    ExpiredToken(String),
    /// The caller may not do this (trust policy, role choice, policy evaluation).
    #[error("{0}")]
    AccessDenied(String),
    /// A policy document is not valid.
    #[error("{0}")]
    MalformedPolicy(String),
    /// The policies do not fit in a session token.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// The identity pool lacks what the call needs (e.g. a default role).
    #[error("{0}")]
    InvalidIdentityPoolConfiguration(String),
    /// An external identity provider could not be reached or answered badly.
    #[error("{0}")]
    ExternalService(String),
    /// A role with that name exists.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// No such role or role policy.
    #[error("{0}")]
    NoSuchEntity(String),
    /// The role must be emptied first.
    #[error("{0}")]
    DeleteConflict(String),
    /// The pre-token-generation hook failed and the pool fails closed.
    #[error("{0}")]
    HookFailed(String),
    /// The request was not answered within the gateway's request timeout.
    #[error("{0}")]
    Timeout(String),
    /// An upload or a request over a size limit (a user-import file).
    #[error("{0}")]
    TooLarge(String),
    /// The pool does not offer TOTP, or the user has no authenticator to use.
    #[error("{0}")]
    SoftwareTokenMfaNotFound(String),
    /// VerifySoftwareToken failed (a wrong code, or no seed to verify).
    #[error("{0}")]
    EnableSoftwareTokenMfa(String),
    /// A trigger hook refused on purpose (Cognito: the Lambda threw).
    #[error("{0}")]
    UserLambdaValidation(String),
    /// A trigger hook answered, but not in its trigger's shape, and the pool fails closed.
    #[error("{0}")]
    InvalidLambdaResponse(String),
    /// An identity provider with this name or identifier exists in the pool.
    #[error("{0}")]
    DuplicateProvider(String),
}

impl AppError {
    /// Shorthand for an InvalidParameter error.
    pub fn invalid(msg: impl Into<String>) -> AppError {
        AppError::InvalidParameter(msg.into())
    }
}

/// Longest message a status carries, in bytes. Messages quote caller input (an id, a
/// name); uncapped, a 200 KB id came back twice (message and details) as trailers.
pub const MAX_MESSAGE_BYTES: usize = 512;

/// `message` fit to travel and to be logged: control and invisible characters escaped
/// (`\u{1b}`), so an echoed input can neither forge log lines nor hide itself, then cut to
/// [`MAX_MESSAGE_BYTES`] on a character boundary, with an ellipsis when cut.
pub fn safe_message(message: &str) -> String {
    const ELLIPSIS: &str = "…";
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_BYTES + 16));
    for c in message.chars() {
        if out.len() > MAX_MESSAGE_BYTES {
            break; // Enough to know it must be cut: the rest is never looked at.
        }
        if crate::text::is_control(c) || crate::text::is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    if out.len() <= MAX_MESSAGE_BYTES {
        return out;
    }
    let mut cut = MAX_MESSAGE_BYTES - ELLIPSIS.len();
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push_str(ELLIPSIS);
    out
}

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> AppError {
        match e {
            ClientError::Unavailable(m) => AppError::Unavailable(format!("store unavailable: {m}")),
            ClientError::Refused { code, message } => {
                AppError::Internal(format!("store refused ({code:?}): {message}"))
            }
            ClientError::Decode(m) => AppError::Internal(m),
        }
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> AppError {
        match e {
            PasswordError::Saturated => {
                AppError::TooManyRequests("Too many requests; retry later".into())
            }
            PasswordError::TooLong => AppError::InvalidPassword("password too long".into()),
            PasswordError::Malformed(m) => AppError::Internal(format!("stored password hash: {m}")),
            PasswordError::Stopped => AppError::Unavailable("password hasher stopped".into()),
            PasswordError::OutOfRange(m) => AppError::invalid(m),
        }
    }
}

/// The Cognito exception name carried by a status, if any (for clients and tests).
pub fn exception_name(status: &Status) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
}
