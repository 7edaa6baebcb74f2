//! Signing keys: rotation and publication, revocation, and per-pool algorithms.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod key_lifecycle;
mod key_revocation;
mod pool_algorithms;
