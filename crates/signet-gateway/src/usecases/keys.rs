//! Admin operations on signing keys.

use crate::{AppError, Gateway};
use signet_core::{Command, Query, RequestKeyRotation, RevokeKey, SigningKey};
use signet_store::ReadConsistency::Linearizable;

impl Gateway {
    /// ListSigningKeys: every key the cluster knows, in every state.
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKey>, AppError> {
        self.ask(Query::ListSigningKeys, Linearizable).await
    }

    /// RotateSigningKeys: every gateway rotates its keys now (they follow the request
    /// through the log); returns once the request is committed.
    pub async fn rotate_signing_keys(&self) -> Result<(), AppError> {
        self.write(Command::RequestKeyRotation(RequestKeyRotation {
            at_ms: self.now_ms(),
        }))
        .await
        .map(|_| ())
    }

    /// RevokeSigningKey: out of every JWKS and refused by Signet's APIs at once; its owner
    /// stops signing with it and rotates. The record stays as a tombstone until every token
    /// it could have signed has expired.
    pub async fn revoke_signing_key(&self, kid: &str) -> Result<(), AppError> {
        let at_ms = self.now_ms();
        self.write(Command::RevokeKey(RevokeKey {
            kid: kid.into(),
            at_ms,
            drop_after_ms: at_ms + self.cfg.key_overlap.as_millis() as u64,
        }))
        .await
        .map(|_| ())
    }
}
