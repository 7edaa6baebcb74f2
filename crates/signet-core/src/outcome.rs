//! The business answer to an applied command. Outcomes are persisted too: the dedup
//! table answers a retried write with its first outcome.

use crate::ImportStatus;
use serde::{Deserialize, Serialize};

/// Why a command was not applied. These are answers, not failures: the entry is committed
/// and every member reaches the same rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    /// A pool with this id exists or existed.
    PoolExists,
    /// The command was routed to a group that does not own its pool at the epoch it was
    /// routed with (`Placement`): nothing was applied; the sender refreshes its placement
    /// map and sends it again. Never remembered as the request's outcome.
    WrongGroup {
        /// The pool's epoch as this group knows it (0: it has no row for the pool).
        epoch: u64,
    },
    /// No pool with this id.
    PoolNotFound,
    /// The pool has deletion protection on.
    DeletionProtected,
    /// An app client with this id exists.
    ClientExists,
    /// No such app client.
    ClientNotFound,
    /// The username (or the sub) is taken in the pool.
    UsernameExists,
    /// Another user already uses this value of a sign-in attribute.
    AliasExists {
        /// The attribute (`email`, `phone_number`, `preferred_username`).
        attribute: String,
    },
    /// No such user.
    UserNotFound,
    /// The record is not in the state the command expected (a concurrent change won; for
    /// a `CasRegister`, the register does not hold the expected value).
    PreconditionFailed,
    /// A group with this name exists.
    GroupExists,
    /// No such group.
    GroupNotFound,
    /// No code is pending for this purpose.
    CodeNotFound,
    /// The code expired (it is destroyed).
    CodeExpired,
    /// Wrong code.
    CodeMismatch {
        /// Attempts left before the code is destroyed.
        attempts_left: u32,
    },
    /// The last attempt was used up; the code is destroyed.
    TooManyAttempts,
    /// The user's code budget for this purpose is spent (too many codes issued or too
    /// many failed redemptions in the window): nothing was issued or checked.
    CodeLimitExceeded,
    /// A TOTP code for a time step not after the last one accepted: a replay.
    MfaCodeReused,
    /// A rotated refresh token was presented again: the family is now revoked.
    RefreshReused,
    /// The refresh-token family was revoked.
    RefreshRevoked,
    /// An identity provider with this name (or one of its identifiers) exists.
    ProviderExists,
    /// No identity provider with this name.
    ProviderNotFound,
    /// The refresh-token family was started already: its authorization code was redeemed
    /// before (a replay).
    RefreshFamilyExists,
    /// The kid is already published with different key material, or was dropped.
    KidConflict,
    /// No such signing key.
    KeyNotFound,
    /// An id or name contains a NUL byte or is empty (or, for a register, is not 1 to 64
    /// bytes of `[A-Za-z0-9._:-]`).
    InvalidKey,
    /// The identity pool does not hand out identities without a login.
    UnauthenticatedNotAllowed,
    /// No such identity pool.
    IdentityPoolNotFound,
    /// No such identity in the pool.
    IdentityNotFound,
    /// Linking would give one identity two subjects of one provider.
    LoginConflict {
        /// The provider.
        provider: String,
    },
    /// The login is not linked to this identity.
    LoginNotLinked {
        /// The provider.
        provider: String,
    },
    /// A role with this name exists.
    RoleExists,
    /// No such role.
    RoleNotFound,
    /// No such inline policy on the role.
    PolicyNotFound,
    /// The role still has inline policies.
    RoleHasPolicies,
    /// A resource server with this identifier exists.
    ResourceServerExists,
    /// No such resource server.
    ResourceServerNotFound,
    /// The client has two secrets already.
    TooManySecrets,
    /// An admin access key with this id exists.
    AdminKeyExists,
    /// No admin access key with this id.
    AdminKeyNotFound,
    /// No such secret, or it is the client's last one.
    SecretNotDeletable,
    /// An import job with this id exists.
    ImportJobExists,
    /// No such import job in the pool.
    ImportJobNotFound,
    /// The import job's status does not allow this.
    ImportJobState {
        /// Its status (not `status`: [`Outcome`]'s tag already uses that name).
        job_status: ImportStatus,
    },
    /// The job already has (part of) an upload from another upload, or is fully uploaded.
    ImportUploadConflict,
    /// A chunk other than the expected one.
    ImportOutOfOrder {
        /// The chunk the job expects.
        expected: u32,
    },
    /// The job cannot start: its CSV file has not been (completely) uploaded.
    ImportNotUploaded,
    /// Another gateway holds the job and its lease has not lapsed.
    ImportLeaseHeld,
}

/// The answer to an applied command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The command took effect.
    Applied,
    /// The command was valid but refused by the current state.
    Rejected(Rejection),
}
