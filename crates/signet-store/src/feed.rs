//! The change feed behind `Store.Watch`: every applied entry's written keys, kept in a
//! bounded ring for watchers that reconnect, and broadcast to live watchers.

use signet_core::ChangedKey;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// How many applied entries a watcher can resume from without a reset.
const RING: usize = 16_384;

/// One applied entry's effect, or a reset (state replaced by a snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Log index of the entry (for a reset: the snapshot's last index).
    pub index: u64,
    /// Keys written by the entry.
    pub keys: Vec<ChangedKey>,
    /// The state was replaced wholesale: drop every cache.
    pub reset: bool,
}

pub(crate) struct ChangeFeed {
    ring: Mutex<VecDeque<Change>>,
    tx: broadcast::Sender<Change>,
}

impl ChangeFeed {
    pub(crate) fn new() -> Self {
        let (tx, _) = broadcast::channel(RING);
        ChangeFeed {
            ring: Mutex::new(VecDeque::with_capacity(RING)),
            tx,
        }
    }

    pub(crate) fn publish(&self, change: Change) {
        let mut ring = self.ring.lock().expect("feed lock poisoned");
        if ring.len() == RING {
            ring.pop_front();
        }
        ring.push_back(change.clone());
        // No receivers is fine.
        let _ = self.tx.send(change);
    }

    /// Subscribe from `from_index`: the backlog still in the ring, then live changes.
    /// When the ring no longer reaches back to `from_index`, the backlog starts with a reset.
    pub(crate) fn subscribe(&self, from_index: u64) -> (Vec<Change>, broadcast::Receiver<Change>) {
        let ring = self.ring.lock().expect("feed lock poisoned");
        // Subscribing under the lock means nothing published is missed or doubled.
        let rx = self.tx.subscribe();
        let mut backlog: Vec<Change> = ring
            .iter()
            .filter(|c| c.index >= from_index)
            .cloned()
            .collect();
        let covered = ring.front().is_some_and(|c| c.index <= from_index);
        if !covered && from_index > 0 {
            let index = ring.front().map(|c| c.index.saturating_sub(1)).unwrap_or(0);
            backlog.insert(
                0,
                Change {
                    index,
                    keys: vec![],
                    reset: true,
                },
            );
        }
        (backlog, rx)
    }
}
