//! Fault injection on the Raft network, for the testkit: drop or delay the messages from
//! one node to another.
//!
//! Only with the `test-util` feature (signet-testkit turns it on, and through it the tests
//! and benches). Without the feature, [`Faults`] is a zero-size type with no method that
//! adds a fault, and [`Faults::check`] is an inlined "deliver now": a production binary
//! carries no fault table, takes no lock per Raft RPC, and has no switch that could cut its
//! links. The type stays (rather than a `cfg` at each use) so that `StoreConfig` has the
//! same fields and the network the same single call site in both builds: the code the
//! tests run is the code that ships, minus a check the compiler folds away.

#[cfg(feature = "test-util")]
pub use table::Faults;

#[cfg(not(feature = "test-util"))]
pub use off::Faults;

#[cfg(feature = "test-util")]
mod table {
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
}

#[cfg(not(feature = "test-util"))]
mod off {
    use crate::NodeId;
    use std::time::Duration;

    /// No fault can be injected in this build (no `test-util` feature): zero-size, and
    /// every message is delivered at once. Not `Copy`, like the real table, so code that
    /// clones it is lint-clean in both builds.
    #[derive(Debug, Clone, Default)]
    pub struct Faults;

    impl Faults {
        /// No faults (and none can be added).
        pub fn new() -> Self {
            Faults
        }

        /// Every message is delivered, without delay.
        #[inline(always)]
        pub(crate) fn check(&self, _from: NodeId, _to: NodeId) -> Option<Duration> {
            Some(Duration::ZERO)
        }
    }
}
