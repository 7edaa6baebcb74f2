//! Store-quorum probe. A gateway whose store cluster has lost its quorum can still follow
//! the change stream of a surviving member and still holds its signing keys, yet every
//! write and every linearizable read (sign-in, refresh, revocation checks) fails. So a
//! background task makes one cheap linearizable read every `store_probe_interval`, bounded
//! by `store_probe_timeout`, and readiness follows the latest answer.
//!
//! The same read brings cluster time (the middle store clock, as the leader measures it).
//! The gateway stamps its commands with its own clock, and the stores refuse a command
//! whose clock is more than [`MAX_PROPOSER_SKEW`] from theirs; a gateway whose clock is
//! that far off would take requests only to fail their writes and sign tokens whose `iat`
//! and `exp` are off, so it reports not ready, saying by how much its clock is off.

use crate::clock::SharedClock;
use crate::store::Store;
use signet_core::{Query, MAX_PROPOSER_SKEW};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
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
    /// This gateway's clock minus cluster time, as the latest probe that said measured it
    /// (ms), and to within how much (half the round trip).
    clock_off_ms: AtomicI64,
    clock_err_ms: AtomicI64,
}

impl Default for QuorumProbe {
    fn default() -> Self {
        QuorumProbe {
            ok: AtomicBool::new(false),
            why: Mutex::new("no probe has answered yet".into()),
            took_us: AtomicU64::new(0),
            clock_off_ms: AtomicI64::new(0),
            clock_err_ms: AtomicI64::new(0),
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

    /// Why this gateway's clock is too far from the stores' to serve, if it is: off by
    /// more than [`MAX_PROPOSER_SKEW`] beyond the measurement's error.
    pub(crate) fn clock_skew(&self) -> Option<String> {
        let off = self.clock_off_ms.load(Ordering::Relaxed);
        let err = self.clock_err_ms.load(Ordering::Relaxed);
        (off.abs() - err > MAX_PROPOSER_SKEW.as_millis() as i64).then(|| {
            format!(
                "this gateway's clock is {} s {} the store cluster's (more than the {} s the \
                 stores accept): check NTP",
                (off.abs() + 500) / 1000,
                if off > 0 { "ahead of" } else { "behind" },
                MAX_PROPOSER_SKEW.as_secs()
            )
        })
    }

    /// The gateway's clock minus cluster time, ms (for metrics and tests).
    pub(crate) fn clock_offset_ms(&self) -> i64 {
        self.clock_off_ms.load(Ordering::Relaxed)
    }

    /// Record a probe that saw cluster time `cluster_ms` in a call sent at `sent_ms` (on
    /// this gateway's clock) that took `took`.
    fn record_clock(&self, sent_ms: u64, took: Duration, cluster_ms: u64) {
        let half = (took.as_millis() / 2) as i64;
        let off = sent_ms as i64 + half - cluster_ms as i64;
        let was = self.clock_skew().is_some();
        self.clock_off_ms.store(off, Ordering::Relaxed);
        self.clock_err_ms.store(half, Ordering::Relaxed);
        match (was, self.clock_skew()) {
            (false, Some(why)) => tracing::warn!("{why}: not ready"),
            (true, None) => {
                tracing::info!("clock back within {MAX_PROPOSER_SKEW:?} of the stores'")
            }
            _ => {}
        }
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
    clock: SharedClock,
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
        let sent_ms = clock.now_ms();
        let read = store.client().cluster_time(&query);
        let verdict = match tokio::time::timeout(timeout, read).await {
            Ok(Ok(cluster_ms)) => {
                if let Some(cluster_ms) = cluster_ms {
                    probe.record_clock(sent_ms, started.elapsed(), cluster_ms);
                }
                Ok(())
            }
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
