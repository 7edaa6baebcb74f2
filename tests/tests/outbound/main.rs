//! Outbound calls: webhook code delivery, the pre-token-generation hook, and the rules
//! every outbound URL and signature follows.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod custom_auth;
mod outbound;
mod token_hook;
mod triggers;
mod webhook;
