//! Linearizable reads share their leadership checks. A linearizable read needs the leader to
//! confirm, *after the read arrived*, that it still leads (a heartbeat round to a quorum),
//! and then to have applied up to the commit index it saw then. One confirmation serves
//! every read that arrived before it began: reads that come while a round is under way
//! wait for the next one, which starts after that round ends, so each read is still covered
//! by a check that began after it arrived. Under load one round serves a whole batch of
//! reads instead of one heartbeat round (and two cross-task messages to the Raft core)
//! each. Only the check is shared: each read then waits for the apply itself, so a slow
//! apply never holds back the next round (on a deposed leader, that next round is what
//! answers "not leader" at once).
//!
//! Rounds run in a task of their own while reads are waiting, so a caller that gives up
//! (a client's timeout dropping its future) never strands the others.

use crate::read_floor::ReadFloor;
use crate::types::Raft;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tonic::Status;

type Waiter = oneshot::Sender<Result<u64, Status>>;

#[derive(Default)]
struct Batch {
    /// Reads waiting for a round that has not begun yet.
    waiting: Vec<Waiter>,
    /// Whether the round task is running.
    running: bool,
}

/// Reads served and rounds run, since the node started.
#[derive(Default)]
struct Counts {
    reads: AtomicU64,
    rounds: AtomicU64,
}

/// See the module doc. Cheap to clone (one shared batch).
#[derive(Clone)]
pub(crate) struct ReadIndex {
    raft: Raft,
    floor: ReadFloor,
    batch: Arc<Mutex<Batch>>,
    counts: Arc<Counts>,
}

impl ReadIndex {
    pub(crate) fn new(raft: Raft, floor: ReadFloor) -> ReadIndex {
        ReadIndex {
            raft,
            floor,
            batch: Arc::default(),
            counts: Arc::default(),
        }
    }

    /// Wait until a leadership check that began after this call has passed and this node
    /// has applied what it must (as [`crate::api::linearizable`]); its error otherwise
    /// ("not leader" with the leader's address, or unavailable).
    pub(crate) async fn ensure(&self) -> Result<(), Status> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut b = self.batch.lock().expect("read batch lock");
            b.waiting.push(tx);
            !std::mem::replace(&mut b.running, true)
        };
        self.counts.reads.fetch_add(1, Relaxed);
        if start {
            tokio::spawn(self.clone().rounds());
        }
        let read_index = rx
            .await
            .unwrap_or_else(|_| Err(Status::unavailable("the store is stopping")))?;
        crate::api::applied_up_to(&self.raft, &self.floor, read_index).await
    }

    /// (linearizable reads, leadership rounds run for them) since the node started.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.counts.reads.load(Relaxed),
            self.counts.rounds.load(Relaxed),
        )
    }

    /// Run rounds until no read is waiting.
    async fn rounds(self) {
        loop {
            let batch = {
                let mut b = self.batch.lock().expect("read batch lock");
                if b.waiting.is_empty() {
                    b.running = false;
                    return;
                }
                std::mem::take(&mut b.waiting)
            };
            // Every read in `batch` arrived before this check begins.
            self.counts.rounds.fetch_add(1, Relaxed);
            let result = crate::api::read_index(&self.raft).await;
            for waiter in batch {
                let _ = waiter.send(result.clone());
            }
        }
    }
}
