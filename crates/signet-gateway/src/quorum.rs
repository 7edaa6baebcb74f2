//! Store-quorum probe. A gateway whose store cluster has lost its quorum can still follow
//! the change stream of a surviving member and still holds its signing keys, yet every
//! write and every linearizable read (sign-in, refresh, revocation checks) fails. So a
//! background task makes one cheap linearizable read every `store_probe_interval`, bounded
//! by `store_probe_timeout`, and readiness follows the latest answer.

use crate::store::Store;
use signet_core::Query;
use signet_store_client::ReadConsistency;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The latest probe's verdict.
pub(crate) struct QuorumProbe {
    ok: AtomicBool,
    /// Why the latest probe failed (empty when it succeeded).
    why: Mutex<String>,
    /// Duration of the latest probe, in microseconds.
    took_us: AtomicU64,
}

impl Default for QuorumProbe {
    fn default() -> Self {
        QuorumProbe {
            ok: AtomicBool::new(false),
            why: Mutex::new("no probe has answered yet".into()),
            took_us: AtomicU64::new(0),
        }
    }
}

impl QuorumProbe {
    /// Whether the latest linearizable read succeeded in time.
    pub(crate) fn is_ok(&self) -> bool {
        self.ok.load(Ordering::SeqCst)
    }

    /// Why the latest probe failed.
    pub(crate) fn why(&self) -> String {
        self.why.lock().expect("probe lock").clone()
    }

    /// How long the latest probe took (up to the timeout when it got no answer).
    pub(crate) fn took(&self) -> Duration {
        Duration::from_micros(self.took_us.load(Ordering::Relaxed))
    }

    fn record(&self, verdict: Result<(), String>, took: Duration) {
        self.took_us
            .store(took.as_micros() as u64, Ordering::Relaxed);
        let ok = verdict.is_ok();
        *self.why.lock().expect("probe lock") = verdict.err().unwrap_or_default();
        let was = self.ok.swap(ok, Ordering::SeqCst);
        if was && !ok {
            tracing::warn!("no store quorum ({}): not ready", self.why());
        } else if !was && ok {
            tracing::info!("store quorum reachable");
        }
    }
}

/// Probe until `stop`.
pub(crate) async fn probe_loop(
    store: Store,
    probe: Arc<QuorumProbe>,
    interval: std::time::Duration,
    timeout: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    // A point read of a pool that cannot exist: no data, just the read-index round.
    let query = Query::GetUserPool {
        pool_id: String::new(),
    };
    loop {
        let started = tokio::time::Instant::now();
        let read = store.client().read(&query, ReadConsistency::Linearizable);
        let verdict = match tokio::time::timeout(timeout, read).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no linearizable read answered within {} ms",
                timeout.as_millis()
            )),
        };
        probe.record(verdict, started.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
