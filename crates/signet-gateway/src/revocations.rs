//! The revocation stream this gateway serves to relying services and edge authorizers
//! (`GET /revocations`, the wire format is `signet_verify::revocation`'s).
//!
//! The store's revocation log (`signet-core` `apply/revocations.rs`) is mirrored here:
//! loaded in full whenever the change stream (re)starts, and extended as the change stream
//! shows new rows, so serving a poll needs no store round trip. Identifiers that would say
//! who exists are hashed on the way out.

use crate::store::Store;
use crate::AppError;
use signet_core::{Page, Query, Revocation, Revoked};
use signet_store_client::ReadConsistency;
use signet_verify::revocation::{
    revocation_hash, RevocationEntry, RevocationPage, RevocationSet, Revoked as Wire,
    RevokedBecause,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;
use tokio::sync::watch;

/// Most entries in one answer.
const PAGE: usize = 1000;

/// Most long polls held at once; more are answered at once (as with `wait=0`).
pub(crate) const MAX_HELD_POLLS: usize = 10_000;

/// The mirrored log and who waits on it.
pub(crate) struct Feed {
    rows: RwLock<BTreeMap<u64, RevocationEntry>>,
    /// The latest sequence number known.
    last: watch::Sender<u64>,
    loaded: AtomicBool,
    pub(crate) held: tokio::sync::Semaphore,
    /// Set when the gateway stops: held polls answer at once.
    stopping: watch::Receiver<bool>,
    /// When expired rows were last dropped (Unix ms).
    pruned_at: AtomicU64,
    /// The same rows as a follower holds them: what this gateway's own checks (the edge
    /// authorizer) refuse.
    set: RwLock<RevocationSet>,
}

/// A store row as the stream publishes it.
fn wire(r: Revocation) -> RevocationEntry {
    let what = match r.what {
        Revoked::User {
            pool_id,
            sub,
            before_ms,
        } => Wire::User {
            pool_id,
            sub_hash: revocation_hash(&sub),
            before_ms,
        },
        Revoked::Family { family_id } => Wire::Family {
            family_hash: revocation_hash(&family_id),
        },
        Revoked::Token { jti } => Wire::Token {
            jti_hash: revocation_hash(&jti),
        },
        Revoked::Client {
            pool_id,
            client_id,
            before_ms,
        } => Wire::Client {
            pool_id,
            client_id,
            before_ms,
        },
        Revoked::Pool { pool_id } => Wire::Pool { pool_id },
        Revoked::Key { kid } => Wire::Key { kid },
    };
    RevocationEntry {
        seq: r.seq,
        until_ms: r.until_ms,
        what,
    }
}

impl Feed {
    /// An empty mirror; held polls end when `stopping` turns true.
    pub(crate) fn new(stopping: watch::Receiver<bool>) -> Feed {
        Feed {
            rows: RwLock::default(),
            last: watch::Sender::new(0),
            loaded: AtomicBool::new(false),
            held: tokio::sync::Semaphore::new(MAX_HELD_POLLS),
            stopping,
            pruned_at: AtomicU64::new(0),
            set: RwLock::default(),
        }
    }

    /// Whether the gateway is stopping.
    pub(crate) fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Whether the mirror has been loaded since the gateway started.
    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::SeqCst)
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.rows.read().expect("feed lock").len()
    }

    /// The latest sequence number known.
    pub(crate) fn last(&self) -> u64 {
        *self.last.borrow()
    }

    /// Replace the mirror with the store's log as of `consistency`.
    pub(crate) async fn reload(
        &self,
        store: &Store,
        consistency: ReadConsistency,
    ) -> Result<(), AppError> {
        let seq: u64 = store.ask(Query::RevocationSeq, consistency).await?;
        let rows = read_after(store, 0, consistency).await?;
        let last = rows.keys().next_back().copied().unwrap_or(0).max(seq);
        let page = RevocationPage {
            revocations: rows.values().cloned().collect(),
            last,
            reset: true,
        };
        self.set.write().expect("feed lock").apply(&page);
        *self.rows.write().expect("feed lock") = rows;
        self.loaded.store(true, Ordering::SeqCst);
        self.last.send_replace(last);
        Ok(())
    }

    /// Add the rows after the latest known, reading at least at log index `index`.
    pub(crate) async fn catch_up(&self, store: &Store, index: u64) -> Result<(), AppError> {
        let rows = read_after(store, self.last(), ReadConsistency::AtLeast(index)).await?;
        if let Some(last) = rows.keys().next_back().copied() {
            let page = RevocationPage {
                revocations: rows.values().cloned().collect(),
                last,
                reset: false,
            };
            self.set.write().expect("feed lock").apply(&page);
            self.rows.write().expect("feed lock").extend(rows);
            self.last.send_if_modified(|l| {
                let grew = last > *l;
                *l = (*l).max(last);
                grew
            });
        }
        Ok(())
    }

    /// Whether a verified token (its header's `kid`, its claims) is revoked.
    pub(crate) fn check(
        &self,
        kid: Option<&str>,
        claims: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), RevokedBecause> {
        self.set.read().expect("feed lock").check(kid, claims)
    }

    /// Take in a page as if read from the store (unit tests).
    #[cfg(test)]
    pub(crate) fn apply_for_tests(&self, page: &RevocationPage) {
        self.set.write().expect("feed lock").apply(page);
        self.last.send_replace(page.last);
    }

    /// Forget rows whose tokens have all expired (at most once a second).
    pub(crate) fn prune(&self, now_ms: u64) {
        let last = self.pruned_at.load(Ordering::Relaxed);
        if now_ms < last.saturating_add(1000)
            || self
                .pruned_at
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.rows
            .write()
            .expect("feed lock")
            .retain(|_, e| e.until_ms > now_ms);
        self.set.write().expect("feed lock").prune(now_ms);
    }

    /// The answer to a poll from `after`, at once.
    pub(crate) fn page(&self, after: u64, now_ms: u64) -> RevocationPage {
        let last = self.last();
        let reset = after > last;
        let from = if reset { 0 } else { after };
        let rows = self.rows.read().expect("feed lock");
        let revocations: Vec<RevocationEntry> = rows
            .range(from + 1..)
            .map(|(_, e)| e)
            .filter(|e| e.until_ms > now_ms)
            .take(PAGE)
            .cloned()
            .collect();
        let full = revocations.len() == PAGE;
        RevocationPage {
            last: match (full, revocations.last()) {
                (true, Some(e)) => e.seq,
                _ => last,
            },
            revocations,
            reset,
        }
    }

    /// Wait until the latest sequence number is past `after`, at most `timeout`.
    pub(crate) async fn wait_past(&self, after: u64, timeout: Duration) {
        let mut rx = self.last.subscribe();
        let mut stop = self.stopping.clone();
        tokio::select! {
            _ = tokio::time::timeout(timeout, rx.wait_for(|l| *l > after)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    /// Wait until the latest sequence number reaches `seq`, at most `timeout`.
    pub(crate) async fn wait_reach(&self, seq: u64, timeout: Duration) {
        let mut rx = self.last.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|l| *l >= seq)).await;
    }
}

async fn read_after(
    store: &Store,
    mut after: u64,
    consistency: ReadConsistency,
) -> Result<BTreeMap<u64, RevocationEntry>, AppError> {
    let mut out = BTreeMap::new();
    loop {
        let Page { items, more } = store
            .ask::<Page<Revocation>>(Query::ListRevocations { after, limit: PAGE }, consistency)
            .await?;
        let n = items.len();
        for r in items {
            after = after.max(r.seq);
            out.insert(r.seq, wire(r));
        }
        if n < PAGE && !more || n == 0 {
            return Ok(out);
        }
    }
}
