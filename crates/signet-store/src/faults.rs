//! Fault injection on the Raft network, for the testkit: drop or delay the messages from
//! one node to another, all of them or only one kind of RPC ([`RpcKind`]).
//!
//! Faults act where a message is sent: a dropped message from `a` to `b` is an RPC that `a`
//! starts and `b` never sees (`a` gets "unreachable"). The answer of an RPC travels with
//! it, so dropping `a` to `b` cuts only the calls `a` makes: `b`'s calls to `a`, and their
//! answers, still flow. That is a one-way link failure.
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

/// The three RPCs of the Raft network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RpcKind {
    /// Log replication, and the leader's heartbeats.
    AppendEntries,
    /// A candidate's request for a vote.
    Vote,
    /// A snapshot sent to a follower whose missing entries were purged.
    InstallSnapshot,
}

impl RpcKind {
    /// Every kind.
    pub const ALL: [RpcKind; 3] = [
        RpcKind::AppendEntries,
        RpcKind::Vote,
        RpcKind::InstallSnapshot,
    ];
}

#[cfg(not(feature = "test-util"))]
pub use off::Faults;

#[cfg(feature = "test-util")]
mod table {
    use super::RpcKind;
    use crate::NodeId;
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex, RwLock};
    use std::time::Duration;

    /// (from, to, kind): one direction of one kind of RPC between two nodes.
    type Link = (NodeId, NodeId, RpcKind);

    #[derive(Debug, Default)]
    struct State {
        /// (from, to, kind): RPCs of `kind` from `from` to `to` are lost.
        blocked: HashSet<Link>,
        /// (from, to): extra latency before the message is sent.
        delay: HashMap<(NodeId, NodeId), Duration>,
        /// (from, to): the link carries this many bytes a second.
        bandwidth: HashMap<(NodeId, NodeId), u64>,
    }

    /// Shared fault table; clones see the same faults.
    #[derive(Debug, Clone, Default)]
    pub struct Faults {
        state: Arc<RwLock<State>>,
        /// How many RPCs each fault has dropped so far (kept across [`Faults::heal`]).
        dropped: Arc<Mutex<HashMap<Link, u64>>>,
    }

    impl Faults {
        /// No faults.
        pub fn new() -> Self {
            Self::default()
        }

        /// Drop every message from `from` to `to` (one way: `to`'s RPCs to `from` still
        /// flow, answers included).
        pub fn block(&self, from: NodeId, to: NodeId) {
            for kind in RpcKind::ALL {
                self.block_rpc(from, to, kind);
            }
        }

        /// Drop the RPCs of `kind` from `from` to `to` (one way); other kinds still flow.
        pub fn block_rpc(&self, from: NodeId, to: NodeId, kind: RpcKind) {
            self.state
                .write()
                .expect("faults lock")
                .blocked
                .insert((from, to, kind));
        }

        /// Deliver the RPCs of `kind` from `from` to `to` again (other faults stay).
        pub fn unblock_rpc(&self, from: NodeId, to: NodeId, kind: RpcKind) {
            self.state
                .write()
                .expect("faults lock")
                .blocked
                .remove(&(from, to, kind));
        }

        /// How many RPCs of `kind` from `from` to `to` have been dropped so far: evidence
        /// that a fault was exercised, for a test to wait on instead of sleeping.
        pub fn dropped(&self, from: NodeId, to: NodeId, kind: RpcKind) -> u64 {
            self.dropped
                .lock()
                .expect("faults counters lock")
                .get(&(from, to, kind))
                .copied()
                .unwrap_or(0)
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
            self.state
                .write()
                .expect("faults lock")
                .delay
                .insert((from, to), d);
        }

        /// Carry only `bytes_per_s` from `from` to `to`: a message waits as long as the
        /// link would take to carry it (a slow link between regions, a saturated NIC).
        pub fn bandwidth(&self, from: NodeId, to: NodeId, bytes_per_s: u64) {
            self.state
                .write()
                .expect("faults lock")
                .bandwidth
                .insert((from, to), bytes_per_s.max(1));
        }

        /// Remove every fault (the [`Faults::dropped`] counts stay).
        pub fn heal(&self) {
            let mut s = self.state.write().expect("faults lock");
            s.blocked.clear();
            s.delay.clear();
            s.bandwidth.clear();
        }

        /// How long a message of `bytes` takes on the link from `from` to `to`.
        pub(crate) fn transfer(&self, from: NodeId, to: NodeId, bytes: usize) -> Duration {
            let s = self.state.read().expect("faults lock");
            s.bandwidth
                .get(&(from, to))
                .map_or(Duration::ZERO, |&rate| {
                    Duration::from_secs_f64(bytes as f64 / rate as f64)
                })
        }

        /// What should happen to an RPC of `kind` from `from` to `to`: `None` if it is lost
        /// (and counted), else the delay to apply first.
        pub(crate) fn check(&self, from: NodeId, to: NodeId, kind: RpcKind) -> Option<Duration> {
            let s = self.state.read().expect("faults lock");
            if s.blocked.contains(&(from, to, kind)) {
                drop(s);
                *self
                    .dropped
                    .lock()
                    .expect("faults counters lock")
                    .entry((from, to, kind))
                    .or_default() += 1;
                return None;
            }
            Some(s.delay.get(&(from, to)).copied().unwrap_or_default())
        }
    }
}

#[cfg(not(feature = "test-util"))]
mod off {
    use super::RpcKind;
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
        pub(crate) fn check(&self, _from: NodeId, _to: NodeId, _kind: RpcKind) -> Option<Duration> {
            Some(Duration::ZERO)
        }

        /// Links carry any size at once.
        #[inline(always)]
        pub(crate) fn transfer(&self, _from: NodeId, _to: NodeId, _bytes: usize) -> Duration {
            Duration::ZERO
        }
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_blocked_link_drops_one_way_only() {
        let f = Faults::new();
        f.block(1, 2);
        for kind in RpcKind::ALL {
            assert_eq!(f.check(1, 2, kind), None, "{kind:?} 1 -> 2");
            assert_eq!(f.check(2, 1, kind), Some(Duration::ZERO), "{kind:?} 2 -> 1");
            assert_eq!(f.check(1, 3, kind), Some(Duration::ZERO), "{kind:?} 1 -> 3");
        }
        assert_eq!(f.dropped(1, 2, RpcKind::Vote), 1);
        assert_eq!(f.dropped(2, 1, RpcKind::Vote), 0);
    }

    #[test]
    fn one_rpc_kind_is_dropped_and_the_others_flow() {
        let f = Faults::new();
        f.block_rpc(1, 2, RpcKind::Vote);
        assert_eq!(f.check(1, 2, RpcKind::Vote), None);
        assert_eq!(f.check(1, 2, RpcKind::AppendEntries), Some(Duration::ZERO));
        assert_eq!(
            f.check(1, 2, RpcKind::InstallSnapshot),
            Some(Duration::ZERO)
        );
        assert_eq!(f.check(2, 1, RpcKind::Vote), Some(Duration::ZERO));
        f.unblock_rpc(1, 2, RpcKind::Vote);
        assert_eq!(f.check(1, 2, RpcKind::Vote), Some(Duration::ZERO));
        assert_eq!(f.dropped(1, 2, RpcKind::Vote), 1);
    }

    #[test]
    fn heal_clears_faults_and_keeps_counts() {
        let f = Faults::new();
        f.partition(&[1], &[2, 3]);
        f.delay(2, 3, Duration::from_millis(5));
        assert_eq!(f.check(3, 1, RpcKind::AppendEntries), None);
        assert_eq!(
            f.check(2, 3, RpcKind::AppendEntries),
            Some(Duration::from_millis(5))
        );
        f.clone().heal();
        assert_eq!(f.check(3, 1, RpcKind::AppendEntries), Some(Duration::ZERO));
        assert_eq!(f.check(2, 3, RpcKind::AppendEntries), Some(Duration::ZERO));
        assert_eq!(f.dropped(3, 1, RpcKind::AppendEntries), 1);
    }
}
