//! The replicated store: Raft (openraft 0.9) over a durable log (raft-log, fdatasync'd with
//! group commit) and a sled state machine, plus the gRPC services gateways and operators use
//! and the client library that hides leader changes.
//!
//! This is the only crate that touches sled. The client library, and what client and server
//! share (read consistency, the leader-redirect key, the metrics and trace helpers), live in
//! `signet-store-client`, which links neither sled nor openraft; they are re-exported here
//! under their old paths.
#![forbid(unsafe_code)]
// openraft's trait signatures fix the (large) storage and RPC error types.
#![allow(clippy::result_large_err)]

mod access;
mod admission;
mod api;
mod backup;
mod cluster;
mod cluster_time;
mod durable;
mod error;
mod failpoints;
mod faults;
mod feed;
mod health;
mod housekeeping;
mod identity;
mod log_store;
mod membership;
mod network;
mod node;
mod ops;
mod proposer;
mod purging;
mod raft_service;
mod read_floor;
mod read_index;
mod recovery;
mod sled_kv;
mod snapshot;
mod state_machine;
mod types;

pub use api::MAX_PROPOSER_SKEW;
pub use backup::{
    download as download_backup, inspect as inspect_backup, BackupInfo, BackupWriter,
};
pub use error::StoreError;
pub use failpoints::{validate as validate_failpoints, ALL as FAILPOINTS, ENV as FAILPOINTS_ENV};
pub use faults::{Faults, RpcKind};
pub use feed::Change;
pub use housekeeping::KeyHousekeeping;
pub use identity::NodeIdentity;
pub use log_store::{LogLimits, LogStore};
pub use membership::JOIN_CATCH_UP;
pub use node::{StoreConfig, StoreNode, DEFAULT_SM_CACHE_BYTES};
pub use openraft::ServerState;
pub use purging::{PurgeHousekeeping, MAX_ROUND_PROPOSALS};
pub use recovery::{force_new_cluster, Recovery};
pub use snapshot::SnapshotFence;
pub use state_machine::StateMachineStore;
pub use types::{Batch, NodeId, Raft, SignetNode, TypeConfig};

// The client side, at the paths it had before it moved to its own crate.
pub use signet_store_client::{
    metrics, trace, ClientError, ReadConsistency, StoreClient, Written, LEADER_METADATA,
    MAX_REPLY_BYTES,
};

/// Accepted connections with Nagle's algorithm off. Servers fed their own listener do not
/// get tonic's socket options, and with Nagle on, a small response queued behind an
/// unacknowledged one waits for the peer's delayed ACK: ~40 ms per Raft round trip after
/// every write, which made a linearizable read following a write 20 times slower.
pub fn no_delay(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|s| {
        if let Ok(s) = &s {
            if let Err(e) = s.set_nodelay(true) {
                tracing::warn!("cannot set TCP_NODELAY: {e}");
            }
        }
        s
    })
}
