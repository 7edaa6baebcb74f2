//! Attacks on the public API: the outside review's findings (`review_*`), crafted tokens,
//! the cluster-wide lockout, and failing closed without a store quorum.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../review_support/mod.rs"]
mod review_support;
#[path = "../support/mod.rs"]
mod support;

mod audit_trail;
mod fail_closed;
mod lockout;
mod mfa_codes;
mod mfa_totp;
mod rate_limits;
mod refresh_grace;
mod review_attributes;
mod review_clients;
mod review_codes;
mod review_identity;
mod review_sessions;
mod revocation_stream;
mod token_attacks;
