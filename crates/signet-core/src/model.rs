//! Records kept in the state machine. New fields must be `#[serde(default)]` so records
//! written by older binaries keep decoding.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A user pool: a directory of users with its own issuer and configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPool {
    /// `{region-like prefix}_{random}` identifier, chosen by the proposer.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, Unix milliseconds (proposer's clock).
    pub created_at_ms: u64,
}

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
    /// An admin reset the password; the user must set a new one.
    ResetRequired,
}

/// A user of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable subject identifier (UUID-like), chosen by the proposer.
    pub sub: String,
    /// Canonical username (NFKC, case-folded by the gateway before proposing).
    pub username: String,
    /// Lifecycle state.
    pub status: UserStatus,
    /// Disabled users can neither sign in nor refresh.
    pub enabled: bool,
    /// PHC-format password hash, computed by the gateway before proposing.
    pub password_hash: Option<String>,
    /// Standard and `custom:` attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last modification time, Unix milliseconds.
    pub updated_at_ms: u64,
}

/// The public half of a gateway's signing key, as published through the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// Key id; never reused with other key material.
    pub kid: String,
    /// Gateway instance that holds the private half.
    pub owner: String,
    /// JWS algorithm (`EdDSA`, `ES256`, `RS256`).
    pub alg: String,
    /// The public key as a JWK (JSON text).
    pub public_jwk: String,
    /// When the publish entry was proposed, Unix milliseconds.
    pub published_at_ms: u64,
    /// Earliest time the owner may sign with it, Unix milliseconds.
    pub usable_from_ms: u64,
}
