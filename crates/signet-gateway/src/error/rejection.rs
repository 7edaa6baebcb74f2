//! Rejection → AppError: the answer for each command the store refused.

use super::AppError;
use signet_core::Rejection;

/// The answer for a refused command, as the API reports it.
pub(crate) fn rejection(r: Rejection) -> AppError {
    match r {
        Rejection::PoolExists | Rejection::ClientExists | Rejection::KidConflict => {
            AppError::Internal(format!("identifier collision: {r:?}"))
        }
        // `Store` retries these itself; one that reaches a caller is a pool being moved.
        Rejection::WrongGroup { .. } => {
            AppError::Unavailable("The user pool is being moved; try again.".into())
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
        Rejection::CodeNotFound | Rejection::CodeExpired | Rejection::MfaCodeReused => {
            AppError::ExpiredCode
        }
        Rejection::CodeMismatch { .. } => AppError::CodeMismatch,
        Rejection::CodeLimitExceeded => AppError::LimitExceeded(
            "Attempt limit exceeded, please try after some time.".into(),
        ),
        Rejection::TooManyAttempts => {
            AppError::LimitExceeded("Attempt limit exceeded, please try after some time.".into())
        }
        Rejection::RefreshFamilyExists => {
            AppError::NotAuthorized("Authorization code has been used".into())
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
        Rejection::ProviderExists => AppError::DuplicateProvider(
            "An identity provider with this name or identifier already exists.".into(),
        ),
        Rejection::ProviderNotFound => {
            AppError::ResourceNotFound("Identity provider does not exist.".into())
        }
        Rejection::ResourceServerExists => {
            AppError::invalid("A resource server with this identifier already exists.")
        }
        Rejection::ResourceServerNotFound => {
            AppError::ResourceNotFound("Resource server does not exist.".into())
        }
        Rejection::AdminKeyExists => {
            AppError::Conflict("An admin access key with this id already exists.".into())
        }
        Rejection::AdminKeyNotFound => {
            AppError::ResourceNotFound("The admin access key does not exist.".into())
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
