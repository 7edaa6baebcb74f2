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
