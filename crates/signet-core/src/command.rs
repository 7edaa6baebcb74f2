//! The replicated log's entry type and the business answer to it.

use crate::{SigningKey, User, UserPool};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the log-entry format. Bumped when a change needs a migration; a binary
/// refuses entries newer than it understands instead of misreading them.
pub const LOG_FORMAT_VERSION: u32 = 1;

/// 16 random bytes chosen by the client for one logical write and reused on every retry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 16]);

impl RequestId {
    /// Hex form, used as the dedup key and in logs.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse a 32-character hex string.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(RequestId(out))
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.to_hex())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RequestId::from_hex(&s).ok_or_else(|| serde::de::Error::custom("bad request id"))
    }
}

/// One log entry's application payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Log-entry format version ([`LOG_FORMAT_VERSION`] when written).
    pub v: u32,
    /// Idempotency key of the write.
    pub request_id: RequestId,
    /// What to do.
    pub command: Command,
}

impl Request {
    /// Wrap a command with the current format version.
    pub fn new(request_id: RequestId, command: Command) -> Self {
        Request {
            v: LOG_FORMAT_VERSION,
            request_id,
            command,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.request_id, self.command.name())
    }
}

/// A state change, with everything apply needs already decided by the proposer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Create a user pool; rejected if the id exists.
    CreateUserPool {
        /// The pool.
        pool: UserPool,
    },
    /// Create a user; rejected if the canonical username or the sub is taken in the pool.
    CreateUser {
        /// Pool to create the user in.
        pool_id: String,
        /// The user record.
        user: User,
    },
    /// Delete a user and its secondary index entries.
    DeleteUser {
        /// Pool of the user.
        pool_id: String,
        /// Canonical username.
        username: String,
    },
    /// Publish the public half of a signing key.
    PublishKey {
        /// The key record.
        key: SigningKey,
    },
}

impl Command {
    /// Short name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateUserPool { .. } => "create_user_pool",
            Command::CreateUser { .. } => "create_user",
            Command::DeleteUser { .. } => "delete_user",
            Command::PublishKey { .. } => "publish_key",
        }
    }
}

/// Why a command was not applied. These are answers, not failures: the entry is committed
/// and every member reaches the same rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    /// A pool with this id exists.
    PoolExists,
    /// No pool with this id.
    PoolNotFound,
    /// The username (or the sub) is taken in the pool.
    UsernameExists,
    /// No such user.
    UserNotFound,
    /// The kid is already published with different key material.
    KidConflict,
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
