//! [`PurgeExpired`]: delete the named refresh families and revoked access tokens whose
//! records have expired at the command's time. Every key is checked again here (see
//! [`crate::purge`]), so the proposer's scan only suggests.

use super::{get, Apply};
use crate::purge::{
    family_purgeable, revocation_purgeable, revoked_token_purgeable, MAX_PURGE_BATCH,
};
use crate::{CoreError, KvTxn, Outcome, RefreshFamily, Table};
use serde::{Deserialize, Serialize};

/// Forget the named refresh-token families and revoked access tokens whose records
/// have expired at `now_ms` (see [`crate::purge`]); keys that are absent or not yet
/// expired are left alone, so the command is safe to apply late or twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeExpired {
    /// The proposer's clock, Unix ms.
    pub now_ms: u64,
    /// Family ids ([`crate::Table::RefreshFamilies`]), at most
    /// [`crate::purge::MAX_PURGE_BATCH`] are looked at.
    pub families: Vec<String>,
    /// Access-token jtis ([`crate::Table::RevokedTokens`]), at most
    /// [`crate::purge::MAX_PURGE_BATCH`] are looked at.
    pub revoked_tokens: Vec<String>,
    /// Revocation keys ([`crate::Table::Revocations`]), at most
    /// [`crate::purge::MAX_PURGE_BATCH`] are looked at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revocations: Vec<String>,
}

impl Apply for PurgeExpired {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (now_ms, families, revoked_tokens) =
            (self.now_ms, &self.families, &self.revoked_tokens);
        // Bounded work per entry whatever the proposer sent; every member ignores the same rest.
        for id in families.iter().take(MAX_PURGE_BATCH) {
            let k = id.as_bytes();
            if let Some(f) = get::<RefreshFamily>(txn, Table::RefreshFamilies, k)? {
                if family_purgeable(&f, now_ms) {
                    txn.delete(Table::RefreshFamilies, k)?;
                }
            }
        }
        for jti in revoked_tokens.iter().take(MAX_PURGE_BATCH) {
            let k = jti.as_bytes();
            if let Some(exp) = get::<u64>(txn, Table::RevokedTokens, k)? {
                if revoked_token_purgeable(exp, now_ms) {
                    txn.delete(Table::RevokedTokens, k)?;
                }
            }
        }
        for key in self.revocations.iter().take(MAX_PURGE_BATCH) {
            let k = key.as_bytes();
            if let Some(r) = get::<crate::Revocation>(txn, Table::Revocations, k)? {
                if revocation_purgeable(&r, now_ms) {
                    txn.delete(Table::Revocations, k)?;
                }
            }
        }
        Ok(Outcome::Applied)
    }
}
