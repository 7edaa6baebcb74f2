//! Forgetting expired once-only token state: refresh-token families and access tokens
//! revoked one by one. Both tables would otherwise grow with every sign-in and revocation.
//!
//! The rule of when a record may go lives here once and is used twice: by the store
//! leader, which scans for candidates ([`scan_expired`]) and proposes
//! [`crate::Command::PurgeExpired`], and by apply, which checks every named key again
//! against the time carried in the command. A deposed leader's late proposal, a proposal
//! applied twice, or a record rewritten in between (a family revoked again with a later
//! expiry) therefore deletes nothing that is still needed.
//!
//! Why a cursor scan and no expiry-ordered index: apply only has point reads (see
//! [`crate::KvTxn`]), so candidates are found outside apply, on the leader's committed
//! state, a bounded number of rows per housekeeping round, resuming where the last round
//! stopped. With the default 20,000 rows a round every 10 s, a full pass over ten million
//! families takes under 90 minutes — small next to the lifetimes involved (days) — and
//! costs a few milliseconds of sequential sled reads per round. An index ordered by expiry
//! would find candidates without reading live rows, but needs a second write on every
//! rotation and revocation (the hot, once-only path) and a migration of existing rows;
//! it becomes worth it only if a pass ever takes longer than the refresh lifetime.

use crate::{decode_record, CoreError, KvRead, RefreshFamily, Table};

/// Clock-skew allowance: a record stays this long after the last token it protects has
/// expired, so a gateway whose clock is behind never sees a revoked token come back.
/// Larger than every verifier's leeway.
pub const PURGE_LEEWAY_MS: u64 = 5 * 60 * 1000;

/// Longest lifetime of an access or ID token (Cognito's bound, enforced when an app client
/// is written). A family's `expires_at_ms` is its refresh tokens' expiry, but a refresh
/// just before it issues access and ID tokens (carrying the family id as `origin_jti`,
/// and checked against the family's revocation) that live up to this much longer.
pub const MAX_TOKEN_LIFETIME_MS: u64 = 86_400 * 1000;

/// Most keys of each table one purge command deletes; apply ignores the rest, so one log
/// entry stays small and its apply bounded.
pub const MAX_PURGE_BATCH: usize = 1_000;

/// Whether a refresh family's record can be forgotten at `now_ms`: every refresh token of
/// the family, and every access or ID token a refresh could have issued, has expired, with
/// [`PURGE_LEEWAY_MS`] to spare. Revoked or not: a revoked family must stay revoked exactly
/// as long as one of its tokens could still be presented, and no longer.
pub fn family_purgeable(family: &RefreshFamily, now_ms: u64) -> bool {
    family
        .expires_at_ms
        .saturating_add(MAX_TOKEN_LIFETIME_MS + PURGE_LEEWAY_MS)
        <= now_ms
}

/// Whether a revoked access token's entry (its `exp`, Unix ms) can be forgotten at `now_ms`.
pub fn revoked_token_purgeable(expires_at_ms: u64, now_ms: u64) -> bool {
    expires_at_ms.saturating_add(PURGE_LEEWAY_MS) <= now_ms
}

/// Whether a revocation row may go at `now_ms`: every token it affects has expired.
pub fn revocation_purgeable(r: &crate::Revocation, now_ms: u64) -> bool {
    r.until_ms.saturating_add(PURGE_LEEWAY_MS) <= now_ms
}

/// Where the next scan of one table starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeCursor {
    /// The last key read; `None` starts at the beginning of the table.
    pub after: Option<Vec<u8>>,
}

/// What one scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeScan {
    /// Keys (family ids or jtis) whose records are purgeable now, at most
    /// [`MAX_PURGE_BATCH`].
    pub expired: Vec<String>,
    /// Rows read.
    pub scanned: usize,
}

/// Read up to `max_rows` rows of `table` ([`Table::RefreshFamilies`] or
/// [`Table::RevokedTokens`]; other tables find nothing) after `cursor`, and collect the keys
/// purgeable at `now_ms`. The cursor moves past what was read, and back to the start once
/// the end of the table is reached, so successive calls sweep the table round and round.
pub fn scan_expired(
    kv: &impl KvRead,
    table: Table,
    cursor: &mut PurgeCursor,
    max_rows: usize,
    now_ms: u64,
) -> Result<PurgeScan, CoreError> {
    let rows = kv.scan(table, b"", cursor.after.as_deref(), max_rows.max(1))?;
    let mut out = PurgeScan {
        expired: Vec::new(),
        scanned: rows.len(),
    };
    cursor.after = if rows.len() < max_rows.max(1) {
        None
    } else {
        rows.last().map(|(k, _)| k.clone())
    };
    for (k, v) in rows {
        if out.expired.len() >= MAX_PURGE_BATCH {
            // Resume right after the last key taken, so nothing is skipped.
            break;
        }
        let purgeable = match table {
            Table::RefreshFamilies => {
                family_purgeable(&decode_record::<RefreshFamily>(table, &v)?, now_ms)
            }
            Table::RevokedTokens => revoked_token_purgeable(decode_record(table, &v)?, now_ms),
            Table::Revocations => {
                revocation_purgeable(&decode_record::<crate::Revocation>(table, &v)?, now_ms)
            }
            _ => false,
        };
        if purgeable {
            if let Ok(id) = String::from_utf8(k.clone()) {
                out.expired.push(id);
                if out.expired.len() == MAX_PURGE_BATCH {
                    cursor.after = Some(k);
                }
            }
        }
    }
    Ok(out)
}
