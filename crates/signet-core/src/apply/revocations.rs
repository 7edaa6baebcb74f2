//! The revocation log: one row per change that voids tokens already handed out — a user
//! signed out, disabled, reset or deleted; a refresh-token family revoked or caught being
//! reused; one access token revoked; an app client disabled or deleted; a pool deleted; a
//! signing key revoked. Gateways serve it as a resumable stream to relying services and
//! edge authorizers (`signet-verify`'s revocation follower), which refuse such tokens
//! within a second instead of at their expiry.
//!
//! Rows are keyed by a sequence number that only grows, so a follower resumes after the
//! last one it saw on any gateway. A row is kept until every token it affects has expired
//! (`until_ms`) and is then purged like expired refresh families: the table at any moment is
//! the compact snapshot a new follower starts from.

use super::{get, put};
use crate::purge::MAX_TOKEN_LIFETIME_MS;
use crate::{CoreError, KvTxn, Table};
use serde::{Deserialize, Serialize};

/// One revocation, as stored and as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Position in the log of revocations (from 1).
    pub seq: u64,
    /// When every token it affects has expired (Unix ms): the row may go then.
    pub until_ms: u64,
    /// What is revoked.
    #[serde(flatten)]
    pub what: Revoked,
}

/// What a revocation voids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Revoked {
    /// Every token of the user whose sign-in (its refresh family) began before
    /// `before_ms`: a sign-out, a disable, a password reset or change, a deletion
    /// (`u64::MAX`: every token).
    User {
        /// User pool.
        pool_id: String,
        /// The user's `sub`.
        sub: String,
        /// Tokens of sign-ins before this time (Unix ms) are void.
        before_ms: u64,
    },
    /// Every token of one sign-in: its refresh-token family (the tokens' `origin_jti`).
    Family {
        /// Family id.
        family_id: String,
    },
    /// One access token (`jti`).
    Token {
        /// Token id.
        jti: String,
    },
    /// Every token issued to an app client before `before_ms` (disabled or deleted).
    Client {
        /// User pool.
        pool_id: String,
        /// Client id.
        client_id: String,
        /// Tokens issued (`iat`) before this time (Unix ms) are void.
        before_ms: u64,
    },
    /// Every token of a deleted user pool.
    Pool {
        /// User pool.
        pool_id: String,
    },
    /// Every token signed with a revoked key.
    Key {
        /// Key id.
        kid: String,
    },
}

/// Where the latest sequence number is kept.
pub(crate) const META_REVOCATION_SEQ: &[u8] = b"revocation_seq";

/// The key of the row at `seq`: fixed-width decimal, so rows sort by sequence and keys are
/// text like every other purgeable table's.
pub fn revocation_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// Append a revocation whose effects end at `until_ms`.
pub(crate) fn revoke(txn: &mut impl KvTxn, what: Revoked, until_ms: u64) -> Result<(), CoreError> {
    let seq = get::<u64>(txn, Table::Meta, META_REVOCATION_SEQ)?.unwrap_or(0) + 1;
    put(txn, Table::Meta, META_REVOCATION_SEQ, &seq)?;
    let row = Revocation {
        seq,
        until_ms,
        what,
    };
    put(
        txn,
        Table::Revocations,
        revocation_key(seq).as_bytes(),
        &row,
    )
}

/// Until when a revocation at `at_ms` matters for tokens issued up to `at_ms`: the longest
/// any of them lives.
pub(crate) fn after_last_token(at_ms: u64) -> u64 {
    at_ms.saturating_add(MAX_TOKEN_LIFETIME_MS)
}
