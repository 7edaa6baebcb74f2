//! The index a leader restored at startup must have applied before it serves a
//! linearizable read or makes a housekeeping decision.
//!
//! openraft 0.9 restarts a node that was leader as leader of the same term at once
//! (`Engine::startup`), with the commit index it had saved. That index is saved lazily (it
//! rides along with the next log flush), so after a crash it can be behind entries the
//! cluster had committed and acknowledged; and the state machine may be further behind
//! still (sled is not synced per entry). openraft's read index is then max(committed, the
//! term's first entry), both old: a read would be answered from before writes already
//! acknowledged. `signet chaos` found this (seed 308: a register read 0 after a write of 2
//! was acknowledged; power-loss-leader restarted the leader before the others had elected
//! a new one). Any entry in the log at startup may have been committed, so until this
//! node's vote changes (a new term brings a new first entry past them all), reads wait
//! until the log as it was at startup is applied.

use crate::types::{NodeId, Raft};
use openraft::Vote;
use std::time::Duration;

/// How long a read waits for the floor before it is refused (the client retries).
const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub(crate) struct ReadFloor {
    /// The vote at startup: the floor holds while it is unchanged.
    vote: Vote<NodeId>,
    /// The last log index at startup.
    last_log: Option<u64>,
}

impl ReadFloor {
    /// The floor of a node about to start, from its saved vote and log.
    pub(crate) fn at_start(log: &crate::LogStore) -> ReadFloor {
        let (vote, _, last) = log.state();
        ReadFloor {
            vote: vote.unwrap_or_default(),
            last_log: last.map(|l| l.index),
        }
    }

    /// The index that must be applied first, if the floor still holds and is not reached.
    fn pending(&self, raft: &Raft) -> Option<u64> {
        let floor = self.last_log?;
        let metrics = raft.metrics();
        let m = metrics.borrow();
        (m.vote == self.vote && m.last_applied.map(|l| l.index) < Some(floor)).then_some(floor)
    }

    /// Whether reads may be answered now.
    pub(crate) fn reached(&self, raft: &Raft) -> bool {
        self.pending(raft).is_none()
    }

    /// Wait until reads may be answered; an error if that takes longer than [`WAIT`].
    pub(crate) async fn wait(&self, raft: &Raft) -> Result<(), String> {
        let Some(floor) = self.pending(raft) else {
            return Ok(());
        };
        raft.wait(Some(WAIT))
            .applied_index_at_least(Some(floor), "read floor after restart")
            .await
            .map(|_| ())
            .map_err(|e| format!("restarted leader has not applied its log up to {floor}: {e}"))
    }
}
