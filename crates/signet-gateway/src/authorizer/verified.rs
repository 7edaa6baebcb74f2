//! Tokens already verified for a route, remembered ([`crate::keys::Remembered`]): reused
//! only for the very same token (keyed by its SHA-256), the same route, and the same
//! published key set; expiry is judged again on every use, and the revocation check, scopes,
//! groups and policy run on every decision as before.

use crate::keys::Remembered;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A token's verification, as reused.
#[derive(Clone)]
pub(super) struct Verified {
    pub claims: Arc<Map<String, Value>>,
    pub pool: Arc<str>,
    pub kid: Option<Arc<str>>,
}

/// Verifications per (token, route).
pub(super) type VerifiedTokens = Remembered<([u8; 32], usize), Verified>;

/// The key of `token` on route `route`.
pub(super) fn key(token: &str, route: usize) -> ([u8; 32], usize) {
    (signet_crypto::sha256(token.as_bytes()), route)
}
