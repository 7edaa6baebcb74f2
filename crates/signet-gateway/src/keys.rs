//! This gateway's signing keys. Each gateway makes its own key pairs at start; the private
//! halves never leave this process. The public halves are published through the log, and
//! a key signs only once its publish entry is committed, `usable_from` has passed (every
//! relying party's cached JWKS has expired by then) and this gateway's own key set has it.

use crate::{AppError, Gateway};
use signet_core::{Command, Outcome, SigningKey};
use signet_crypto::{Algorithm, SigningKeyPair};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// Algorithms every gateway holds a key for, so any pool can sign on any gateway.
pub const ALGORITHMS: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

/// The usable signing keys of this gateway.
#[derive(Default)]
pub struct KeyManager {
    signers: RwLock<HashMap<Algorithm, Arc<SigningKeyPair>>>,
}

impl KeyManager {
    /// The key to sign with for `alg`, once one is usable.
    pub fn signer(&self, alg: Algorithm) -> Result<Arc<SigningKeyPair>, AppError> {
        self.signers
            .read()
            .expect("keys lock")
            .get(&alg)
            .cloned()
            .ok_or_else(|| {
                AppError::Unavailable("signing key not usable yet; retry shortly".into())
            })
    }

    /// Whether every algorithm has a usable key.
    pub fn is_ready(&self) -> bool {
        self.signers.read().expect("keys lock").len() == ALGORITHMS.len()
    }

    fn install(&self, key: Arc<SigningKeyPair>) {
        self.signers
            .write()
            .expect("keys lock")
            .insert(key.alg(), key);
    }
}

fn now_ms() -> u64 {
    crate::now_ms()
}

/// Generate and publish a key for every algorithm, then (after one shared wait) install
/// them all. Retries store failures until `stop`.
pub(crate) async fn publish_keys(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    let wait = gw.cfg.jwks_max_age + gw.cfg.key_publish_margin;
    let mut published = Vec::new();
    for alg in ALGORITHMS {
        let key = match tokio::task::spawn_blocking(move || SigningKeyPair::generate(alg)).await {
            Ok(Ok(k)) => Arc::new(k),
            Ok(Err(e)) => return tracing::error!("cannot generate a {} key: {e}", alg.name()),
            Err(e) => return tracing::error!("key generation task failed: {e}"),
        };
        let mut backoff = Duration::from_millis(100);
        let record = loop {
            let published_at_ms = now_ms();
            let record = SigningKey {
                kid: key.kid().to_string(),
                owner: gw.cfg.instance.clone(),
                alg: alg.name().to_string(),
                public_jwk: key.public_jwk().to_string(),
                published_at_ms,
                usable_from_ms: published_at_ms + wait.as_millis() as u64,
                state: Default::default(),
            };
            match gw
                .store
                .write(Command::PublishKey {
                    key: record.clone(),
                })
                .await
            {
                Ok(w) if w.outcome == Outcome::Applied => break record,
                Ok(w) => {
                    return tracing::error!(kid = %key.kid(), "key publication refused: {:?}", w.outcome)
                }
                Err(e) => tracing::warn!("publishing signing key: {e}; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        };
        published.push((key, record));
    }
    // Sign only after relying parties' caches have expired and our own set has the keys.
    for (key, record) in published {
        loop {
            let due = record.usable_from_ms.saturating_sub(now_ms());
            let known = gw.cache.keys().set.contains(&record.kid);
            if due == 0 && known {
                break;
            }
            let pause = Duration::from_millis(due.clamp(10, 200));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        tracing::info!(kid = %record.kid, alg = %record.alg, "signing key usable");
        gw.keys.install(key);
    }
}
