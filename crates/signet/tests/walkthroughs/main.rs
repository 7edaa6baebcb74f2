//! `signet dev` as a child process, driven the way README's walkthroughs drive it: the
//! five-minute CLI walkthrough, identity pools, bulk user import, OAuth for services, and
//! the dev process itself (health, restart with its data, JWKS, clean exit).
//!
//! One test binary per topic (crates/signet/tests/<topic>/main.rs): the shared helpers and
//! every heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod cli_walkthrough;
mod dev_blackbox;
mod hosted_walkthrough;
mod identity_walkthrough;
mod import_walkthrough;
mod mfa_walkthrough;
mod oauth_walkthrough;
mod triggers_walkthrough;
