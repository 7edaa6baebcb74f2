//! The OAuth 2.0 endpoints: the token endpoint's grants, revocation and introspection.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod edge_authorizer;
mod hosted_browser;
mod hosted_federation;
mod hosted_saml;
mod hosted_sign_in;
mod oauth_revoke_introspect;
mod oauth_token;
