//! Fault injection on the Raft network, for the testkit. Production nodes get an empty
//! [`Faults`] and pay one uncontended read-lock per RPC.

use crate::NodeId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, Default)]
struct State {
    /// (from, to): messages from `from` to `to` are lost.
    blocked: HashSet<(NodeId, NodeId)>,
    /// (from, to): extra latency before the message is sent.
    delay: HashMap<(NodeId, NodeId), Duration>,
}

/// Shared fault table; clones see the same faults.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<RwLock<State>>);

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drop every message from `from` to `to` (one way).
    pub fn block(&self, from: NodeId, to: NodeId) {
        self.0
            .write()
            .expect("faults lock")
            .blocked
            .insert((from, to));
    }

    /// Cut every link between the two groups, both ways.
    pub fn partition(&self, a: &[NodeId], b: &[NodeId]) {
        for &x in a {
            for &y in b {
                self.block(x, y);
                self.block(y, x);
            }
        }
    }

    /// Make `node` unreachable from and to every node in `others`.
    pub fn isolate(&self, node: NodeId, others: &[NodeId]) {
        self.partition(&[node], others);
    }

    /// Add latency to messages from `from` to `to`.
    pub fn delay(&self, from: NodeId, to: NodeId, d: Duration) {
        self.0
            .write()
            .expect("faults lock")
            .delay
            .insert((from, to), d);
    }

    /// Remove every fault.
    pub fn heal(&self) {
        let mut s = self.0.write().expect("faults lock");
        s.blocked.clear();
        s.delay.clear();
    }

    /// What should happen to a message from `from` to `to`: `None` if it is lost, else
    /// the delay to apply first.
    pub(crate) fn check(&self, from: NodeId, to: NodeId) -> Option<Duration> {
        let s = self.0.read().expect("faults lock");
        if s.blocked.contains(&(from, to)) {
            return None;
        }
        Some(s.delay.get(&(from, to)).copied().unwrap_or_default())
    }
}
