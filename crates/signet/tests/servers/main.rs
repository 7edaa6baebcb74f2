//! The server roles started as separate processes: stores that form, grow, shrink and heal
//! a cluster by themselves, membership changes against `signet dev`, mutual TLS with
//! certificates from `signet certs`, a gateway's refusal to start without an explicit
//! delivery choice, `signet health`, and `signet chaos run` on a cluster of its own or
//! attached to one it did not start.
//!
//! One test binary per topic (crates/signet/tests/<topic>/main.rs): the shared helpers and
//! every heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

/// The tests that start a cluster of real processes and time it (the chaos runs, the
/// crash-consistency and clock-skew cases, chaos against an attached cluster) run one at a
/// time: side by side on two cores, each slows the others' elections and commits, and the
/// chaos run's bound on the write outage after a fault was exceeded that way (an 11 s
/// outage after mute-leader, in full-suite runs only).
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Wait for the other cluster tests (from a plain `#[test]`).
fn one_cluster_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME.blocking_lock()
}

/// Wait for the other cluster tests (from an async test).
async fn one_cluster_at_a_time_async() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_CLUSTER_AT_A_TIME.lock().await
}

mod chaos_attach;
mod chaos_run;
mod chaos_run_signins;
mod clock_skew;
mod crash_consistency;
mod gateway_delivery;
mod health_cli;
mod membership_blackbox;
mod store_bootstrap;
mod tls_blackbox;
