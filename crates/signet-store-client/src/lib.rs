//! The client side of the replicated store: the library gateways and the CLI use to talk to
//! the store cluster ([`StoreClient`]), its error type, and the pieces both sides of the
//! wire share (read consistency, the leader-redirect metadata key, the Prometheus histogram,
//! the trace-context spans).
//!
//! Split out of `signet-store` so that a gateway links neither sled nor openraft; the store
//! depends on this crate and re-exports everything here under its old paths.
#![forbid(unsafe_code)]

mod client;
mod error;
pub mod metrics;
pub mod trace;

pub use client::{
    BoxFuture, Conn, ConnError, LocalMember, ReadAnswer, ReadConsistency, StoreClient, Written,
    MAX_REPLY_BYTES,
};
pub use error::ClientError;

/// Metadata key carrying the leader's API address on a "not leader" answer.
pub const LEADER_METADATA: &str = "x-signet-leader";
