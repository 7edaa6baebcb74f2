//! Leader-only purge of expired once-only token state (refresh families, revoked access
//! tokens), so those tables stay proportional to the tokens that can still be presented.
//!
//! The leader scans its applied state a bounded number of rows per round (a cursor per
//! table, kept in this task only) and proposes [`Command::PurgeExpired`] with the keys it
//! found and cluster time (`crate::cluster_time`). Apply checks every key again against the time in the command (see
//! `signet_core::purge`), so, as with key housekeeping, a deposed leader's late proposal or
//! a proposal applied twice deletes nothing still needed.

use crate::state_machine::StateMachineStore;
use signet_core::purge::{PurgeCursor, MAX_PURGE_BATCH};
use signet_core::{Command, PurgeExpired, Request, RequestId, Table};
use std::time::Duration;
use tokio::sync::watch;

/// Settings of the purge of expired token state.
#[derive(Debug, Clone, Copy)]
pub struct PurgeHousekeeping {
    /// How often the leader looks.
    pub interval: Duration,
    /// Rows of each table read per scan. A round scans again (at most
    /// [`MAX_ROUND_PROPOSALS`] times) only while scans keep filling whole batches.
    pub scan_rows: usize,
}

/// Most purge commands one round proposes: a backlog drains in steps, never in a burst
/// that would crowd out user writes.
pub const MAX_ROUND_PROPOSALS: usize = 10;

impl Default for PurgeHousekeeping {
    fn default() -> Self {
        // 20,000 rows every 10 s: a pass over ten million rows in under 90 minutes, for a
        // few milliseconds of reads per round (see signet_core::purge on why no index).
        PurgeHousekeeping {
            interval: Duration::from_secs(10),
            scan_rows: 20_000,
        }
    }
}

#[derive(Default)]
struct Cursors {
    families: PurgeCursor,
    revoked: PurgeCursor,
    revocations: PurgeCursor,
}

/// Scan both tables from the cursors: the command to propose, if anything is due, and
/// whether a scan stopped at a full batch (more may be waiting).
fn next_command(
    sm: &StateMachineStore,
    cursors: &mut Cursors,
    rows: usize,
    now: u64,
) -> Result<(Option<Command>, bool), signet_core::CoreError> {
    let families = sm.scan_expired(Table::RefreshFamilies, &mut cursors.families, rows, now)?;
    let revoked = sm.scan_expired(Table::RevokedTokens, &mut cursors.revoked, rows, now)?;
    let revocations = sm.scan_expired(Table::Revocations, &mut cursors.revocations, rows, now)?;
    let scans = [&families, &revoked, &revocations];
    let full = scans.iter().any(|s| s.expired.len() == MAX_PURGE_BATCH);
    if scans.iter().all(|s| s.expired.is_empty()) {
        return Ok((None, false));
    }
    Ok((
        Some(Command::PurgeExpired(PurgeExpired {
            now_ms: now,
            families: families.expired,
            revoked_tokens: revoked.expired,
            revocations: revocations.expired,
        })),
        full,
    ))
}

pub(crate) async fn run(
    hk: crate::housekeeping::Housekeeper,
    cfg: PurgeHousekeeping,
    mut stop: watch::Receiver<bool>,
) {
    let mut cursors = Cursors::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(cfg.interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        for _ in 0..MAX_ROUND_PROPOSALS {
            // One clock running ahead must not purge refresh families still in use.
            let Some(now) = hk.decision_time("purge") else {
                break;
            };
            // Sled reads may touch the disk: keep them off the async workers.
            let (sm2, mut c) = (hk.sm.clone(), std::mem::take(&mut cursors));
            let scanned = tokio::task::spawn_blocking(move || {
                let r = next_command(&sm2, &mut c, cfg.scan_rows, now);
                (r, c)
            })
            .await;
            let (result, c) = match scanned {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("purge scan task failed: {e}");
                    break;
                }
            };
            cursors = c;
            let (cmd, more) = match result {
                Ok((Some(cmd), more)) => (cmd, more),
                Ok((None, _)) => break,
                Err(e) => {
                    tracing::warn!("purge scan failed: {e}");
                    break;
                }
            };
            let counts = match &cmd {
                Command::PurgeExpired(PurgeExpired {
                    families,
                    revoked_tokens,
                    revocations,
                    ..
                }) => (families.len(), revoked_tokens.len(), revocations.len()),
                _ => (0, 0, 0),
            };
            let rid = RequestId(rand::random::<[u8; 16]>());
            match hk.proposer.propose(Request::new(rid, cmd)).await {
                Ok(_) => tracing::info!(
                    families = counts.0,
                    revoked_tokens = counts.1,
                    revocations = counts.2,
                    "purged expired token state"
                ),
                Err(e) => {
                    // The cursors moved on: these keys are found again next pass.
                    tracing::debug!("purge deferred: {}", e.message());
                    break;
                }
            }
            if !more {
                break;
            }
        }
    }
}
