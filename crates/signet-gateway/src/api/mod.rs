//! The public API surfaces: thin adapters (decode → use case → encode) for gRPC and HTTP,
//! and the tower stack both servers share.

pub(crate) mod aws;
pub(crate) mod grpc;
pub(crate) mod http;
pub(crate) mod serving;
