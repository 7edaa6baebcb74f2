//! Apply of [`crate::Command::PurgeExpired`]: delete the named refresh families and revoked
//! access tokens whose records have expired at the command's time. Every key is checked
//! again here (see [`crate::purge`]), so the proposer's scan only suggests.

use super::get;
use crate::purge::{family_purgeable, revoked_token_purgeable, MAX_PURGE_BATCH};
use crate::{CoreError, KvTxn, Outcome, RefreshFamily, Table};

pub(super) fn purge_expired(
    txn: &mut impl KvTxn,
    now_ms: u64,
    families: &[String],
    revoked_tokens: &[String],
) -> Result<Outcome, CoreError> {
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
    Ok(Outcome::Applied)
}
