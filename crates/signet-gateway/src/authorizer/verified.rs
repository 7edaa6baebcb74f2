//! Tokens already verified for a route, remembered: a client presents the same access token
//! on every call until it expires, and the signature check (an Ed25519 verify, about twice
//! the cost of signing) is what bounds a decision. A remembered verification is reused only
//! for the very same token (keyed by its SHA-256), the same route, and the same published
//! key set (a rotated, retired or revoked key starts over); expiry is judged again on every
//! use, and the revocation check, scopes, groups and policy run on every decision as before.
//!
//! Bounded: at [`CAPACITY`] entries the map starts over empty (a burst of new tokens costs
//! what it costs without the map).

use crate::keys::PublishedKeys;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most tokens remembered at once (each holds its claims: a few KB at most).
pub(super) const CAPACITY: usize = 8192;

/// A token's verification, as reused.
#[derive(Clone)]
pub(super) struct Verified {
    pub claims: Arc<Map<String, Value>>,
    pub pool: Arc<str>,
    pub kid: Option<Arc<str>>,
}

struct Entry {
    keys: Arc<PublishedKeys>,
    verified: Verified,
    exp: u64,
    nbf: u64,
}

/// See the module doc.
#[derive(Default)]
pub(super) struct VerifiedTokens {
    map: RwLock<HashMap<([u8; 32], usize), Entry>>,
}

/// The key of `token` on route `route`.
pub(super) fn key(token: &str, route: usize) -> ([u8; 32], usize) {
    (signet_crypto::sha256(token.as_bytes()), route)
}

impl VerifiedTokens {
    /// The remembered verification of this token for this route, if it still holds at
    /// `now_s` under `keys`.
    pub(super) fn get(
        &self,
        key: &([u8; 32], usize),
        keys: &Arc<PublishedKeys>,
        now_s: u64,
    ) -> Option<Verified> {
        let map = self.map.read().expect("verified tokens lock");
        let e = map.get(key)?;
        // The verifier's rules with no leeway: expired once `exp < now`, early while
        // `nbf > now`.
        (Arc::ptr_eq(&e.keys, keys) && e.exp >= now_s && e.nbf <= now_s).then(|| e.verified.clone())
    }

    /// Remember a verification made under `keys`.
    pub(super) fn put(&self, key: ([u8; 32], usize), keys: Arc<PublishedKeys>, v: Verified) {
        let secs = |k: &str| v.claims.get(k).and_then(Value::as_u64);
        let Some(exp) = secs("exp") else {
            return;
        };
        let nbf = secs("nbf").unwrap_or(0);
        let mut map = self.map.write().expect("verified tokens lock");
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                keys,
                verified: v,
                exp,
                nbf,
            },
        );
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.read().expect("verified tokens lock").len()
    }
}
