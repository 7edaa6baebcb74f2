//! Generated gRPC code for Signet's APIs (see `proto/`).
#![forbid(unsafe_code)]

/// Internal store-cluster APIs: Raft transport, the `Store` service used by gateways and
/// the `Cluster` membership service.
pub mod store {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("signet.store.v1");
}

/// The public API: user-pool administration and the user-facing auth flows.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("signet.v1");
}
