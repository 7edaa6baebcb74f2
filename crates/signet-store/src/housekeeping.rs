//! Leader-only housekeeping of signing keys: retire keys whose owner (a gateway) stopped
//! renewing its lease, and drop retired or revoked keys once their overlap has passed.
//!
//! Only the leader proposes, but nothing relies on that for safety: every command is
//! conditional on the state it finds when applied (a retirement checks the owner's recorded
//! lease against the proposal's time, a drop checks the overlap), so a deposed leader's
//! late proposal, or the same proposal twice, changes nothing. No wall-clock lease decides
//! who may act, and the time decided with is cluster time (`crate::cluster_time`): a
//! leader whose clock runs ahead retires and drops nothing early.

use crate::proposer::Proposer;
use crate::state_machine::StateMachineStore;
use crate::types::Raft;
use openraft::ServerState;
use signet_core::{
    Command, DropKey, KeyState, Query, QueryResult, Request, RequestId, RetireKey, RetireReason,
};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// Settings of the key housekeeper.
#[derive(Debug, Clone, Copy)]
pub struct KeyHousekeeping {
    /// How often the leader looks.
    pub interval: Duration,
    /// A key is never retired for a lapsed lease within this time of its publication (its
    /// owner renews before publishing, but a lease may land after the key).
    pub lease_grace: Duration,
    /// How long a retired key stays published: the longest token lifetime plus clock-skew
    /// leeway, so every token it signed expires before it leaves the JWKS.
    pub overlap: Duration,
}

impl Default for KeyHousekeeping {
    fn default() -> Self {
        KeyHousekeeping {
            interval: Duration::from_secs(5),
            lease_grace: Duration::from_secs(60),
            // Cognito's longest access/ID token lifetime (1 day) + 60 s leeway.
            overlap: Duration::from_secs(86_400 + 60),
        }
    }
}

/// What the leader should propose now, given the keys and leases it sees.
pub(crate) fn due(sm: &StateMachineStore, cfg: &KeyHousekeeping, now: u64) -> Vec<Command> {
    let keys = match sm.query(&Query::ListSigningKeys) {
        Ok(QueryResult::SigningKeys(k)) => k,
        _ => return vec![],
    };
    let leases: HashMap<String, u64> = match sm.query(&Query::ListKeyLeases) {
        Ok(QueryResult::KeyLeases(l)) => l.into_iter().collect(),
        _ => return vec![],
    };
    let overlap = cfg.overlap.as_millis() as u64;
    let grace = cfg.lease_grace.as_millis() as u64;
    keys.into_iter()
        .filter_map(|k| match k.state {
            KeyState::Published => {
                let lease = leases.get(&k.owner).copied().unwrap_or(0);
                (lease < now && k.published_at_ms + grace < now).then(|| {
                    Command::RetireKey(RetireKey {
                        kid: k.kid,
                        reason: RetireReason::LeaseLapsed,
                        at_ms: now,
                        drop_after_ms: now + overlap,
                    })
                })
            }
            KeyState::Retired { drop_after_ms, .. } | KeyState::Revoked { drop_after_ms, .. } => {
                (drop_after_ms <= now).then_some(Command::DropKey(DropKey {
                    kid: k.kid,
                    at_ms: now,
                }))
            }
        })
        .collect()
}

/// What the leader's housekeeping tasks (keys here, expired state in `crate::purging`)
/// decide with.
#[derive(Clone)]
pub(crate) struct Housekeeper {
    pub(crate) raft: Raft,
    pub(crate) sm: StateMachineStore,
    pub(crate) proposer: Proposer,
    pub(crate) floor: crate::read_floor::ReadFloor,
    pub(crate) clock: crate::cluster_time::ClusterClock,
}

impl Housekeeper {
    /// The time to decide with, when this node may decide now: it leads, it has applied
    /// the log it was restored with (a leader restored at startup decides only from a
    /// state that has caught up), and it knows cluster time. Retiring and dropping keys
    /// and purging are never decided on this node's clock alone: deferred until a
    /// majority's clocks are known (`crate::cluster_time`).
    pub(crate) fn decision_time(&self, what: &str) -> Option<u64> {
        if self.raft.metrics().borrow().state != ServerState::Leader
            || !self.floor.reached(&self.raft)
        {
            return None;
        }
        let now = self.clock.agreed_ms();
        if now.is_none() {
            tracing::debug!("{what} deferred: no cluster time yet");
        }
        now
    }
}

pub(crate) async fn run(
    hk: Housekeeper,
    cfg: KeyHousekeeping,
    rounds: std::sync::Arc<std::sync::atomic::AtomicU64>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(cfg.interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let Some(now) = hk.decision_time("key housekeeping") else {
            continue;
        };
        rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for cmd in due(&hk.sm, &cfg, now) {
            let what = cmd.name();
            let rid = RequestId(rand::random::<[u8; 16]>());
            match hk.proposer.propose(Request::new(rid, cmd)).await {
                Ok((outcome, _)) => tracing::info!(what, ?outcome, "key housekeeping"),
                Err(e) => {
                    tracing::debug!(what, "key housekeeping deferred: {}", e.message());
                    break;
                }
            }
        }
    }
}
