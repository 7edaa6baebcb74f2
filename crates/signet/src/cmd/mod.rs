//! What the operator commands do, one module per command group (`signet admin …`,
//! `signet token …`, …). Each takes its parsed arguments from `crate::cli` and uses the
//! shared leaf helpers (`rpc`, `input`, `output`, `proto_json`, `jwt_inspect`, `exit`);
//! nothing here is used by `cli`, `serve` or `bench`.

pub mod admin;
pub mod certs;
pub mod cluster;
pub mod health;
pub mod identity;
mod mfa;
pub mod sts;
pub mod token;

use crate::cli::GatewayEndpoint;
use tonic::transport::Channel;

/// Connect to the gateway's gRPC address (`host:port`, `http://…`, or `https://…` /
/// `--ca` for a gateway serving TLS).
async fn connect(gateway: &GatewayEndpoint) -> anyhow::Result<Channel> {
    let transport = gateway.tls.gateway_transport(&gateway.endpoint)?;
    crate::rpc::connect_to(&gateway.endpoint, &transport).await
}
