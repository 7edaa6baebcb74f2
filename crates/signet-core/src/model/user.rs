use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lifecycle state of a user, with Cognito's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    /// Signed up, not yet confirmed.
    Unconfirmed,
    /// Confirmed and able to sign in.
    Confirmed,
    /// Created by an admin with a temporary password.
    ForceChangePassword,
    /// An admin reset the password; the user must set a new one with a code.
    ResetRequired,
    /// Created by a federated sign-in (an identity provider vouches for the user; no
    /// password).
    ExternalProvider,
}

impl UserStatus {
    /// The status named `name` (as [`UserStatus::name`] writes it).
    pub fn parse(name: &str) -> Option<UserStatus> {
        [
            UserStatus::Unconfirmed,
            UserStatus::Confirmed,
            UserStatus::ForceChangePassword,
            UserStatus::ResetRequired,
            UserStatus::ExternalProvider,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// Cognito's name.
    pub fn name(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }
}

/// A user of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable subject identifier (UUID), chosen by the proposer.
    pub sub: String,
    /// Canonical username (NFKC, case-folded unless the pool is case-sensitive).
    pub username: String,
    /// Lifecycle state.
    pub status: UserStatus,
    /// Disabled users can neither sign in nor refresh.
    pub enabled: bool,
    /// PHC-format password hash, computed by the gateway before proposing.
    pub password_hash: Option<String>,
    /// When a temporary password stops working, Unix milliseconds.
    #[serde(default)]
    pub password_expires_at_ms: Option<u64>,
    /// Standard and `custom:` attributes (`email_verified` is `"true"`/`"false"`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Tokens issued before this instant (Unix ms) are refused: GlobalSignOut.
    #[serde(default)]
    pub tokens_valid_after_ms: u64,
    /// Consecutive failed password sign-ins (cluster-wide: counted through the log).
    #[serde(default)]
    pub failed_sign_ins: u32,
    /// No password sign-in before this instant, Unix ms (lockout after repeated failures).
    #[serde(default)]
    pub locked_until_ms: u64,
    /// The SRP salt and verifier of the password (USER_SRP_AUTH), sealed by the gateways;
    /// none for a user whose password was never seen in the clear since SRP existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srp: Option<String>,
    /// Second factors (none by default).
    #[serde(default, skip_serializing_if = "super::UserMfa::is_empty")]
    pub mfa: super::UserMfa,
    /// How many devices the user has confirmed (bounded by
    /// [`super::MAX_DEVICES_PER_USER`]).
    #[serde(default, skip_serializing_if = "super::is_zero")]
    pub devices: u32,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last modification time, Unix milliseconds.
    pub updated_at_ms: u64,
}

impl User {
    /// A new enabled user without password or attributes.
    pub fn new(
        sub: impl Into<String>,
        username: impl Into<String>,
        status: UserStatus,
        at_ms: u64,
    ) -> User {
        User {
            sub: sub.into(),
            username: username.into(),
            status,
            enabled: true,
            password_hash: None,
            password_expires_at_ms: None,
            attributes: BTreeMap::new(),
            tokens_valid_after_ms: 0,
            failed_sign_ins: 0,
            locked_until_ms: 0,
            srp: None,
            mfa: Default::default(),
            devices: 0,
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        }
    }
}

/// A change to a user, applied atomically, optionally only if the user is in an expected
/// state (compare-and-set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserPatch {
    /// Apply only if the user currently has this status.
    pub expect_status: Option<UserStatus>,
    /// Apply only if the user's password hash is still this one (ChangePassword races).
    pub expect_password_hash: Option<String>,
    /// New status.
    pub status: Option<UserStatus>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New password hash (and its expiry for temporary passwords).
    pub password: Option<(String, Option<u64>)>,
    /// The new password's SRP verifier (sealed). With `password`, `None` clears the old
    /// one; alone, it adds the verifier of the current password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srp: Option<String>,
    /// Attributes to set.
    pub set_attributes: BTreeMap<String, String>,
    /// Attributes to remove.
    pub delete_attributes: Vec<String>,
    /// Refuse tokens issued before this instant (GlobalSignOut).
    pub tokens_valid_after_ms: Option<u64>,
    /// Apply only to this user (`sub`): not to another made since under the same name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_sub: Option<String>,
    /// Clear the failed sign-ins and any lockout (a sign-in whose last factor was right).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clear_sign_in_failures: bool,
    /// Time of the change, Unix milliseconds.
    pub at_ms: u64,
}
