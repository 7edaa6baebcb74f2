//! One sample of every [`Outcome`]: applied, and rejected for each [`Rejection`] reason.
//! Outcomes are persisted (the dedup table answers a retried write with the first one).

use signet_core::{ImportStatus, Outcome, Rejection as R};

/// Every sample.
pub fn all() -> Vec<Outcome> {
    let rejections = vec![
        R::PoolExists,
        R::WrongGroup { epoch: 3 },
        R::PoolNotFound,
        R::DeletionProtected,
        R::ClientExists,
        R::ClientNotFound,
        R::UsernameExists,
        R::AliasExists {
            attribute: "email".into(),
        },
        R::UserNotFound,
        R::PreconditionFailed,
        R::GroupExists,
        R::GroupNotFound,
        R::CodeNotFound,
        R::CodeExpired,
        R::CodeMismatch { attempts_left: 2 },
        R::TooManyAttempts,
        R::CodeLimitExceeded,
        R::MfaCodeReused,
        R::RefreshReused,
        R::RefreshRevoked,
        R::RefreshFamilyExists,
        R::ProviderExists,
        R::ProviderNotFound,
        R::KidConflict,
        R::KeyNotFound,
        R::InvalidKey,
        R::UnauthenticatedNotAllowed,
        R::IdentityPoolNotFound,
        R::IdentityNotFound,
        R::LoginConflict {
            provider: "accounts.example.org".into(),
        },
        R::LoginNotLinked {
            provider: "accounts.example.org".into(),
        },
        R::RoleExists,
        R::RoleNotFound,
        R::PolicyNotFound,
        R::RoleHasPolicies,
        R::ResourceServerExists,
        R::ResourceServerNotFound,
        R::TooManySecrets,
        R::AdminKeyExists,
        R::AdminKeyNotFound,
        R::SecretNotDeletable,
        R::ImportJobExists,
        R::ImportJobNotFound,
        R::ImportJobState {
            job_status: ImportStatus::Stopping,
        },
        R::ImportUploadConflict,
        R::ImportOutOfOrder { expected: 7 },
        R::ImportNotUploaded,
        R::ImportLeaseHeld,
    ];
    std::iter::once(Outcome::Applied)
        .chain(rejections.into_iter().map(Outcome::Rejected))
        .collect()
}

/// Golden file name of an outcome: `applied`, or `rejected.` and the reason's tag.
pub fn file_stem(o: &Outcome) -> String {
    match o {
        Outcome::Applied => "applied".into(),
        Outcome::Rejected(r) => format!("rejected.{}", super::golden::tag(r, "reason")),
    }
}
