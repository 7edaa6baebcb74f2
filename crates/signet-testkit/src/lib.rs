//! Test harness for Signet clusters.
//!
//! * [`TestCluster`]: N store nodes in this process on loopback port 0, each with its own
//!   temporary data dir; kill and restart a node on the same data dir and address; wipe a
//!   node; add fresh nodes; Raft-network faults through [`signet_store::Faults`]: cut links
//!   both ways or one way, drop one kind of RPC ([`RpcKind`]), delay, count what was dropped.
//! * [`TestEnv`]: stores and gateways in front of them, started together.
//! * [`spawn_writers`] and [`assert_all_applied_once`]: concurrent write load, and the check
//!   that every acknowledged write is applied exactly once on every surviving member.
//! * [`wait_for`]: poll a condition until a deadline instead of sleeping blindly.
//! * [`start_gateway`]: gateways in front of a cluster, with admin and auth clients.
//! * [`ChildProcess`]: the real `signet` binary as a child process, for black-box tests,
//!   and [`http_get`] / [`metric`] to probe its `/readyz` and `/metrics`.
#![forbid(unsafe_code)]

mod child;
mod cluster;
mod env;
mod gateways;
mod http;
mod load;
mod pki;
mod wait;

pub use child::{dev_args, ChildProcess};
pub use cluster::{fast_config, TestCluster};
pub use env::TestEnv;
pub use gateways::{
    admin, admin_client, auth_client, channel, identity_admin_client, identity_client,
    start_gateway, start_gateway_groups, start_gateway_on, sts_client, test_gateway_config,
    TEST_ADMIN_SECRET, TEST_PUBLIC_URL, TEST_WEBHOOK_SECRET,
};
pub use http::{http_get, metric};
pub use load::{
    assert_all_applied_once, check_applied_once, spawn_writers, Acked, Failed, LoadReport,
    LoadWrite, WriteLoad,
};
pub use pki::{TestPki, TEST_TRUST_DOMAIN};
pub use signet_store::RpcKind;
pub use wait::{wait_for, wait_for_async};

/// Install a test log subscriber once (respects `RUST_LOG`, default warnings only).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
