//! openraft type configuration.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Raft node id.
pub type NodeId = u64;

/// What the cluster knows about a member: where to reach it, and which incarnation of its
/// data dir is the member (a wiped node comes back with another incarnation and is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignetNode {
    /// Address of the internal Raft listener.
    pub raft_addr: String,
    /// Address of the Store/Cluster API listener.
    pub api_addr: String,
    /// Random id of the data dir this member runs on.
    pub incarnation: u64,
}

impl fmt::Display for SignetNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "raft={} api={} inc={:016x}",
            self.raft_addr, self.api_addr, self.incarnation
        )
    }
}

/// The application data of one log entry: client writes proposed together. Each keeps
/// its own request id (so dedup stays per write) and gets its own outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch(pub Vec<signet_core::Request>);

impl fmt::Display for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch of {} writes", self.0.len())
    }
}

openraft::declare_raft_types!(
    /// Signet's Raft types: log entries carry a [`Batch`] of requests, answered by one
    /// [`signet_core::Outcome`] per request.
    pub TypeConfig:
        D = Batch,
        R = Vec<signet_core::Outcome>,
        NodeId = NodeId,
        Node = SignetNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The Raft handle.
pub type Raft = openraft::Raft<TypeConfig>;
/// Log id.
pub type LogId = openraft::LogId<NodeId>;
/// Storage error.
pub type StorageError = openraft::StorageError<NodeId>;
/// Stored membership.
pub type StoredMembership = openraft::StoredMembership<NodeId, SignetNode>;
/// Snapshot meta.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, SignetNode>;
/// Log entry.
pub type Entry = openraft::Entry<TypeConfig>;

/// Build an openraft storage error from any error, tagged with what failed.
pub(crate) fn io_err(
    subject: openraft::ErrorSubject<NodeId>,
    verb: openraft::ErrorVerb,
    e: impl std::error::Error + 'static,
) -> StorageError {
    openraft::StorageIOError::new(subject, verb, openraft::AnyError::new(&e)).into()
}
