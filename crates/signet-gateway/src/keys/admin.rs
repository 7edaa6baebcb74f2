//! Admin operations on signing keys (ListSigningKeys, RotateSigningKeys,
//! RevokeSigningKey): a feature holding only the store, the clock and the key overlap.

use crate::clock::SharedClock;
use crate::store::Store;
use crate::AppError;
use signet_core::{Command, Query, RequestKeyRotation, RevokeKey, SigningKey};
use signet_store_client::ReadConsistency::Linearizable;

/// The key administration feature.
#[derive(Clone)]
pub(crate) struct KeyAdmin {
    store: Store,
    clock: SharedClock,
    /// How long a revoked key's record stays (the longest token lifetime plus leeway).
    key_overlap: std::time::Duration,
}

impl KeyAdmin {
    /// Built by the composition root.
    pub(crate) fn new(store: Store, clock: SharedClock, key_overlap: std::time::Duration) -> Self {
        KeyAdmin {
            store,
            clock,
            key_overlap,
        }
    }

    /// ListSigningKeys: every key the cluster knows, in every state.
    pub(crate) async fn list(&self) -> Result<Vec<SigningKey>, AppError> {
        self.store.ask(Query::ListSigningKeys, Linearizable).await
    }

    /// RotateSigningKeys: every gateway rotates its keys now (they follow the request
    /// through the log); returns once the request is committed.
    pub(crate) async fn rotate(&self) -> Result<(), AppError> {
        self.store
            .write(Command::RequestKeyRotation(RequestKeyRotation {
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }

    /// RevokeSigningKey: out of every JWKS and refused by Signet's APIs at once; its owner
    /// stops signing with it and rotates. The record stays as a tombstone until every token
    /// it could have signed has expired.
    pub(crate) async fn revoke(&self, kid: &str) -> Result<(), AppError> {
        let at_ms = self.clock.now_ms();
        self.store
            .write(Command::RevokeKey(RevokeKey {
                kid: kid.into(),
                at_ms,
                drop_after_ms: at_ms + self.key_overlap.as_millis() as u64,
            }))
            .await
            .map(|_| ())
    }
}
