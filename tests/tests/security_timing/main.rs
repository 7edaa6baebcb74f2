//! Security tests that measure latencies or count concurrent password guesses. They run
//! one at a time (see [`SERIAL`]): a neighbour hashing passwords on the same two cores would
//! distort what they measure, so they have a binary of their own.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../review_support/mod.rs"]
mod review_support;
#[path = "../support/mod.rs"]
mod support;

mod review_lockout;
mod security;

/// Every test of this binary holds this lock for its whole run, so they run one at a time
/// whatever the harness's thread count: as when each file was its own binary and every
/// test of it took its file's lock.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
