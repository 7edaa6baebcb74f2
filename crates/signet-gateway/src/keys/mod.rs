//! This gateway's signing keys. Each gateway makes its own key pairs at start; the private
//! halves never leave this process. The public halves are published through the log, and
//! a key signs only once its publish entry is committed, `usable_from` has passed (every
//! relying party's cached JWKS has expired by then) and this gateway's own key set has it.

mod admin;
mod published;
mod remembered;
pub(crate) use admin::KeyAdmin;
pub(crate) use published::{reload_keys, Published, PublishedKeys};
pub(crate) use remembered::{OwnTokens, Remembered};

use crate::clock::SharedClock;
use crate::store::Store;
use crate::AppError;
use signet_core::{Command, Outcome, PublishKey, RenewKeyLease, RetireKey, SigningKey};
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
    /// Wakes the key lifecycle to rotate now (an admin request, or one of our keys revoked).
    rotate_now: tokio::sync::Notify,
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

    /// Ask the lifecycle to rotate at once.
    pub(crate) fn request_rotation(&self) {
        self.rotate_now.notify_one();
    }

    /// Stop signing at once with any key in `stopped` (kid → "retired" or "revoked";
    /// issuance with that algorithm pauses until the replacement is usable) and rotate.
    /// Returns whether one of ours was hit.
    pub(crate) fn forget_stopped(
        &self,
        stopped: &std::collections::HashMap<String, &'static str>,
    ) -> bool {
        let mut signers = self.signers.write().expect("keys lock");
        let mut hit = Vec::new();
        signers.retain(|_, k| match stopped.get(k.kid()) {
            Some(why) => {
                hit.push((k.kid().to_string(), *why));
                false
            }
            None => true,
        });
        drop(signers);
        for (kid, why) in &hit {
            tracing::warn!(
                kid,
                "one of this gateway's signing keys was {why}; rotating"
            );
        }
        if !hit.is_empty() {
            self.rotate_now.notify_one();
        }
        !hit.is_empty()
    }
}

/// Retry `op` until it succeeds or `stop` is set (None).
async fn until_done<T, F, Fut>(what: &str, stop: &mut watch::Receiver<bool>, mut op: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        match op().await {
            Ok(v) => return Some(v),
            Err(e) => tracing::warn!("{what}: {e}; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|s| *s) => return None,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// How this gateway's keys live (from the gateway's config).
#[derive(Debug, Clone)]
pub(crate) struct LifecycleSettings {
    /// This gateway's instance name: the owner its keys and lease name.
    pub instance: String,
    /// How long the key lease lasts without renewal.
    pub key_lease: Duration,
    /// How often a fresh key replaces the current one.
    pub rotation_interval: Duration,
    /// How long a rotated-out key stays published.
    pub key_overlap: Duration,
    /// How long relying parties may cache the JWKS.
    pub jwks_max_age: Duration,
    /// Extra wait after `jwks_max_age` before a newly published key signs.
    pub key_publish_margin: Duration,
}

/// What the key lifecycle works on.
pub(crate) struct Lifecycle {
    pub store: Store,
    pub published: Arc<Published>,
    pub keys: Arc<KeyManager>,
    pub clock: SharedClock,
    pub cfg: LifecycleSettings,
}

impl Lifecycle {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

async fn write(gw: &Lifecycle, cmd: Command) -> Result<Outcome, String> {
    gw.store
        .write_raw(cmd)
        .await
        .map(|w| w.outcome)
        .map_err(|e| e.to_string())
}

async fn renew_lease(gw: &Lifecycle) -> Result<Outcome, String> {
    let until_ms = gw.now_ms() + gw.cfg.key_lease.as_millis() as u64;
    write(
        gw,
        Command::RenewKeyLease(RenewKeyLease {
            owner: gw.cfg.instance.clone(),
            until_ms,
        }),
    )
    .await
}

/// The whole key life of this gateway: renew its lease, publish a key per algorithm, sign
/// with them once usable, rotate every `rotation_interval` (the old keys retire and stay
/// published for `key_overlap`).
pub(crate) async fn key_lifecycle(gw: Arc<Lifecycle>, mut stop: watch::Receiver<bool>) {
    // The lease comes first, so the housekeeper never sees our key without a live owner.
    if until_done("renewing the key lease", &mut stop, || renew_lease(&gw))
        .await
        .is_none()
    {
        return;
    }
    let renewer = {
        let gw = gw.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(gw.cfg.key_lease / 3) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                if let Err(e) = renew_lease(&gw).await {
                    tracing::warn!("renewing the key lease: {e}");
                }
            }
        })
    };
    let mut current = match publish_and_install(&gw, &mut stop).await {
        Some(kids) => kids,
        None => return renewer.abort(),
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(gw.cfg.rotation_interval) => {}
            _ = gw.keys.rotate_now.notified() => {}
            _ = stop.wait_for(|s| *s) => return renewer.abort(),
        }
        let Some(next) = publish_and_install(&gw, &mut stop).await else {
            return renewer.abort();
        };
        let at_ms = gw.now_ms();
        let drop_after_ms = at_ms + gw.cfg.key_overlap.as_millis() as u64;
        for kid in std::mem::replace(&mut current, next) {
            let retire = || {
                write(
                    &gw,
                    Command::RetireKey(RetireKey {
                        kid: kid.clone(),
                        reason: signet_core::RetireReason::Rotated,
                        at_ms,
                        drop_after_ms,
                    }),
                )
            };
            if until_done("retiring a rotated key", &mut stop, retire)
                .await
                .is_none()
            {
                return renewer.abort();
            }
        }
        tracing::info!("signing keys rotated");
    }
}

/// Generate and publish a key for every algorithm, then (after one shared wait) install
/// them all. Returns their kids; `None` if stopped.
async fn publish_and_install(
    gw: &Arc<Lifecycle>,
    stop: &mut watch::Receiver<bool>,
) -> Option<Vec<String>> {
    let wait = gw.cfg.jwks_max_age + gw.cfg.key_publish_margin;
    let mut published = Vec::new();
    for alg in ALGORITHMS {
        let key = match tokio::task::spawn_blocking(move || SigningKeyPair::generate(alg)).await {
            Ok(Ok(k)) => Arc::new(k),
            Ok(Err(e)) => {
                tracing::error!("cannot generate a {} key: {e}", alg.name());
                return None;
            }
            Err(e) => {
                tracing::error!("key generation task failed: {e}");
                return None;
            }
        };
        let publish = || {
            let published_at_ms = gw.now_ms();
            let record = SigningKey {
                kid: key.kid().to_string(),
                owner: gw.cfg.instance.clone(),
                alg: alg.name().to_string(),
                public_jwk: key.public_jwk().to_string(),
                published_at_ms,
                usable_from_ms: published_at_ms + wait.as_millis() as u64,
                state: Default::default(),
            };
            async move {
                match write(
                    gw,
                    Command::PublishKey(PublishKey {
                        key: record.clone(),
                    }),
                )
                .await?
                {
                    Outcome::Applied => Ok(record),
                    other => Err(format!("publication refused: {other:?}")),
                }
            }
        };
        let record = until_done("publishing a signing key", stop, publish).await?;
        published.push((key, record));
    }
    // Sign only after relying parties' caches have expired and our own set has the keys.
    for (_, record) in &published {
        loop {
            let due = record.usable_from_ms.saturating_sub(gw.now_ms());
            if due == 0 && gw.published.get().set.contains(&record.kid) {
                break;
            }
            let pause = Duration::from_millis(due.clamp(10, 200));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return None,
            }
        }
    }
    let kids = published.iter().map(|(k, _)| k.kid().to_string()).collect();
    for (key, record) in published {
        tracing::info!(kid = %record.kid, alg = %record.alg, "signing key usable");
        gw.keys.install(key);
    }
    Some(kids)
}
