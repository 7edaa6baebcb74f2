//! The cluster's published key set (every gateway's public keys, from the log), in every
//! form the gateway serves it: the verification set its own APIs check tokens with, the
//! JWKS document and its ETag.

use super::KeyManager;
use crate::store::Store;
use crate::AppError;
use signet_core::{Answer, KeyState, Query, SigningKey};
use signet_store_client::ReadConsistency;
use signet_verify::KeySet;
use std::sync::{Arc, RwLock};

/// The published keys, in every form the gateway serves them.
pub struct PublishedKeys {
    /// Verification keys.
    pub set: KeySet,
    /// `{"keys": [...]}`.
    pub jwks: String,
    /// Strong ETag of `jwks`.
    pub etag: String,
}

impl PublishedKeys {
    fn build(records: Vec<SigningKey>) -> PublishedKeys {
        // Published and retired keys are served; a revoked key is out of the JWKS and of
        // the key set Signet's own APIs verify with, at once.
        let mut set = KeySet::new();
        let mut jwks = Vec::new();
        for k in records.iter().filter(|k| k.state.is_published()) {
            match set.insert_jwk(&k.public_jwk) {
                Ok(()) => jwks.push(
                    serde_json::from_str::<serde_json::Value>(&k.public_jwk).unwrap_or_default(),
                ),
                Err(e) => tracing::error!(kid = %k.kid, "unusable published key: {e}"),
            }
        }
        let jwks = serde_json::json!({ "keys": jwks }).to_string();
        let etag = format!(
            "\"{}\"",
            &signet_crypto::KeyedHasher::digest_hex(jwks.as_bytes())[..32]
        );
        PublishedKeys { set, jwks, etag }
    }
}

/// The current published set; replaced whole on every reload.
pub(crate) struct Published {
    keys: RwLock<Arc<PublishedKeys>>,
}

impl Default for Published {
    fn default() -> Self {
        Published {
            keys: RwLock::new(Arc::new(PublishedKeys::build(vec![]))),
        }
    }
}

impl Published {
    /// The published key set.
    pub fn get(&self) -> Arc<PublishedKeys> {
        self.keys.read().expect("keys lock").clone()
    }

    fn set(&self, keys: PublishedKeys) {
        *self.keys.write().expect("keys lock") = Arc::new(keys);
    }

    /// Publish these verification keys (unit tests of what verifies with them).
    #[cfg(test)]
    pub(crate) fn set_for_tests(&self, set: KeySet) {
        self.set(PublishedKeys {
            set,
            jwks: String::new(),
            etag: String::new(),
        });
    }
}

/// Reload the published key set (at least as new as the stated consistency) into `cache`,
/// and stop signing with any of our keys that is no longer published.
pub(crate) async fn reload_keys(
    store: &Store,
    published: &Published,
    keys: &KeyManager,
    consistency: ReadConsistency,
) -> Result<u64, AppError> {
    let (res, applied) = store
        .client()
        .read(&Query::ListSigningKeys, consistency)
        .await?;
    let records = Vec::<SigningKey>::from_result(res).map_err(|_| {
        AppError::Internal("the store answered ListSigningKeys with another kind".into())
    })?;
    // A key that is no longer `Published` signs no more: revoked (compromised), or
    // retired — by our own rotation (we already sign with its successor), or by the stores
    // because our lease lapsed while we were alive but cut off or frozen. In that last case
    // we must stop too: a retired key leaves the JWKS one overlap after its retirement,
    // whatever it signed later.
    let stopped: std::collections::HashMap<String, &'static str> = records
        .iter()
        .filter_map(|k| match k.state {
            KeyState::Published => None,
            KeyState::Retired { .. } => Some((k.kid.clone(), "retired")),
            KeyState::Revoked { .. } => Some((k.kid.clone(), "revoked")),
        })
        .collect();
    published.set(PublishedKeys::build(records));
    keys.forget_stopped(&stopped);
    Ok(applied)
}
