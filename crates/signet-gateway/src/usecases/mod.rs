//! Use cases: one method of [`crate::Gateway`] per API operation, taking domain inputs and
//! returning domain outputs. gRPC and HTTP handlers only convert.

pub mod auth;
pub mod clients;
pub mod groups;
pub mod identity;
pub mod identity_pools;
pub mod import_csv;
pub(crate) mod import_runner;
pub(crate) mod import_upload;
pub mod imports;
pub(crate) mod logins;
pub mod oauth;
pub mod pools;
pub(crate) mod principal;
pub(crate) mod role_mapping;
pub mod selfservice;
pub mod signup;
pub mod sts;
pub mod users;

use crate::{AppError, Gateway};
use base64::Engine;
use signet_core::{Answer, Command, Query, Rejection};
use signet_store::ReadConsistency;

/// The answer for a refused command, as the API reports it.
pub(crate) fn rejection(r: Rejection) -> AppError {
    match r {
        Rejection::PoolExists | Rejection::ClientExists | Rejection::KidConflict => {
            AppError::Internal(format!("identifier collision: {r:?}"))
        }
        Rejection::PoolNotFound => AppError::ResourceNotFound("User pool does not exist.".into()),
        Rejection::DeletionProtected => {
            AppError::InvalidState("The user pool has deletion protection activated.".into())
        }
        Rejection::ClientNotFound => {
            AppError::ResourceNotFound("User pool client does not exist.".into())
        }
        Rejection::UsernameExists => AppError::UsernameExists,
        Rejection::AliasExists { attribute } => AppError::AliasExists(attribute),
        Rejection::UserNotFound => AppError::UserNotFound,
        Rejection::PreconditionFailed => {
            AppError::NotAuthorized("The user's state changed; try again.".into())
        }
        Rejection::GroupExists => AppError::GroupExists,
        Rejection::GroupNotFound => AppError::ResourceNotFound("Group not found.".into()),
        Rejection::CodeNotFound | Rejection::CodeExpired => AppError::ExpiredCode,
        Rejection::CodeMismatch { .. } => AppError::CodeMismatch,
        Rejection::CodeLimitExceeded => AppError::LimitExceeded(
            "Attempt limit exceeded, please try after some time.".into(),
        ),
        Rejection::TooManyAttempts => {
            AppError::LimitExceeded("Attempt limit exceeded, please try after some time.".into())
        }
        Rejection::RefreshReused | Rejection::RefreshRevoked => {
            AppError::NotAuthorized("Refresh Token has been revoked".into())
        }
        Rejection::InvalidKey => AppError::invalid("identifier contains a forbidden character"),
        Rejection::KeyNotFound => AppError::ResourceNotFound("Signing key not found.".into()),
        Rejection::UnauthenticatedNotAllowed => AppError::NotAuthorized(
            "Unauthenticated access is not supported for this identity pool.".into(),
        ),
        Rejection::IdentityPoolNotFound => {
            AppError::ResourceNotFound("Identity pool does not exist.".into())
        }
        Rejection::IdentityNotFound => AppError::ResourceNotFound("Identity not found.".into()),
        Rejection::LoginConflict { provider } => AppError::Conflict(format!(
            "The identity already has a different login for provider {provider}."
        )),
        Rejection::LoginNotLinked { provider } => AppError::NotAuthorized(format!(
            "The login for provider {provider} is not linked to this identity."
        )),
        Rejection::RoleExists => {
            AppError::EntityAlreadyExists("Role with this name already exists.".into())
        }
        Rejection::RoleNotFound => AppError::NoSuchEntity("The role cannot be found.".into()),
        Rejection::PolicyNotFound => {
            AppError::NoSuchEntity("The role policy cannot be found.".into())
        }
        Rejection::RoleHasPolicies => {
            AppError::DeleteConflict("Cannot delete entity, must delete policies first.".into())
        }
        Rejection::ResourceServerExists => {
            AppError::invalid("A resource server with this identifier already exists.")
        }
        Rejection::ResourceServerNotFound => {
            AppError::ResourceNotFound("Resource server does not exist.".into())
        }
        Rejection::TooManySecrets => {
            AppError::LimitExceeded("A client holds at most two secrets.".into())
        }
        Rejection::SecretNotDeletable => AppError::invalid(
            "No such secret, or it is the client's last one (a confidential client cannot become public).",
        ),
        Rejection::ImportJobExists => AppError::Internal(format!("identifier collision: {r:?}")),
        Rejection::ImportJobNotFound => {
            AppError::ResourceNotFound("Import job does not exist.".into())
        }
        Rejection::ImportJobState { job_status } => {
            AppError::InvalidState(format!("The import job is {}.", job_status.name()))
        }
        Rejection::ImportUploadConflict | Rejection::ImportOutOfOrder { .. } => {
            AppError::InvalidState("A CSV file was already uploaded to this import job.".into())
        }
        Rejection::ImportNotUploaded => AppError::InvalidState(
            "No complete CSV file has been uploaded to this import job.".into(),
        ),
        Rejection::ImportLeaseHeld => {
            AppError::InvalidState("Another gateway is running this import job.".into())
        }
    }
}

impl Gateway {
    /// Propose a command; a rejection becomes the matching API error.
    pub(crate) async fn write(&self, cmd: Command) -> Result<u64, AppError> {
        self.store.write(cmd).await
    }

    /// A read at the stated consistency, as the answer type expected (see `store`).
    pub(crate) async fn ask<T: Answer>(
        &self,
        q: Query,
        consistency: ReadConsistency,
    ) -> Result<T, AppError> {
        self.store.ask(q, consistency).await
    }
}

/// Cognito's page sizes: 0 (unset) means the maximum, 60.
pub(crate) fn page_size(limit: usize) -> usize {
    if limit == 0 {
        60
    } else {
        limit.min(60)
    }
}

/// A page and the token of the next one: full pages, and pages the store cut short by
/// size (`more`), continue after their last item.
pub(crate) fn page<T>(
    items: Vec<T>,
    limit: usize,
    more: bool,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let next = (items.len() == limit || more)
        .then(|| items.last().map(&key))
        .flatten();
    (items, next)
}

/// A new refresh-token family id: the sign-in time in milliseconds (12 hex digits) then 128
/// random bits. Every token of the family carries it (`origin_jti`), so "issued before a
/// sign-out" is decided at millisecond precision, where `iat` has only seconds.
pub(crate) fn new_family_id(now_ms: u64) -> String {
    format!("{now_ms:012x}{}", signet_crypto::random_hex_id())
}

/// The sign-in time encoded in a family id (see [`new_family_id`]).
pub(crate) fn family_time_ms(family: &str) -> Option<u64> {
    family
        .get(..12)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .filter(|_| family.len() == 44)
}

/// Random identifiers in the shapes Cognito uses.
pub(crate) mod ids {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

    fn pick(alphabet: &[u8], n: usize) -> String {
        // Rejection sampling keeps the distribution uniform.
        let limit = 256 - 256 % alphabet.len();
        let mut out = String::with_capacity(n);
        while out.len() < n {
            for b in signet_crypto::random_bytes::<32>() {
                if (b as usize) < limit && out.len() < n {
                    out.push(alphabet[b as usize % alphabet.len()] as char);
                }
            }
        }
        out
    }

    /// `local_` + 12 alphanumerics (~71 bits).
    pub fn pool_id() -> String {
        format!("local_{}", pick(ALNUM, 12))
    }

    /// 26 lowercase alphanumerics (~134 bits), like Cognito's client ids.
    pub fn client_id() -> String {
        pick(LOWER, 26)
    }

    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// `ASIA` and 26 base-32 characters (130 bits): temporary access key ids.
    pub fn access_key_id() -> String {
        format!("ASIA{}", pick(BASE32, 26))
    }

    /// `AROA` and 20 base-32 characters (100 bits): role ids.
    pub fn role_id() -> String {
        format!("AROA{}", pick(BASE32, 20))
    }

    /// `import-` and 22 alphanumerics (~131 bits): user import job ids.
    pub fn import_job_id() -> String {
        format!("import-{}", pick(ALNUM, 22))
    }

    /// A random UUID (version 4 layout).
    pub fn uuid() -> String {
        let mut b = signet_crypto::random_bytes::<16>();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// A temporary password that satisfies any policy Cognito allows (up to 99 chars is
    /// never needed: 16 random alphanumerics plus one of each required class).
    pub fn temporary_password() -> String {
        format!("{}Aa1!", pick(ALNUM, 16))
    }
}

/// Cognito's SECRET_HASH: Base64(HMAC-SHA256(key = client secret, msg = username + client id)).
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mac = signet_crypto::hmac_sha256(
        secret.as_bytes(),
        format!("{username}{client_id}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(mac)
}
