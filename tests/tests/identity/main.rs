//! Identity pools (GetId, credentials, OIDC providers) and STS.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod identity_oidc;
mod identity_pools;
mod identity_smoke;
mod sts;
