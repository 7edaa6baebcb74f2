//! The load loop: `concurrency` workers run operations back to back (closed loop) or on a
//! fixed schedule (`--rate`, open loop), first for the warm-up, then for the measured
//! phase, which ends after a duration or a number of operations (always within a time
//! cap). Latencies go into one HDR histogram per worker and kind, merged at the end.

use super::ops::Op;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest latency the histograms hold, µs (larger values are clamped to it).
const MAX_LATENCY_US: u64 = 120_000_000;

/// How long and how hard.
#[derive(Debug, Clone)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    /// Measured phase length; with `requests`, the time cap.
    pub duration: Duration,
    /// Stop the measured phase after this many operations.
    pub requests: Option<u64>,
    /// Operations per second, all workers together (open loop); `None` = closed loop.
    pub rate: Option<f64>,
    /// Print a progress line every second on stderr.
    pub progress: bool,
}

/// What one operation kind did in the measured phase.
pub struct KindStats {
    pub name: &'static str,
    /// Latency of successful operations, µs. With `--rate`, from the operation's scheduled
    /// start, so time spent waiting behind a slow server counts (no coordinated omission).
    pub latency: Histogram<u64>,
    pub ok: u64,
    /// Failed operations by error code.
    pub errors: BTreeMap<String, u64>,
}

impl KindStats {
    pub fn new(name: &'static str) -> KindStats {
        KindStats {
            name,
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("histogram bounds"),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }

    fn merge(&mut self, other: KindStats) {
        self.latency
            .add(&other.latency)
            .expect("same histogram bounds");
        self.ok += other.ok;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }

    /// Failed operations, all codes.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The measured phase.
pub struct Measured {
    pub kinds: Vec<KindStats>,
    /// From the phase's start until its last operation finished.
    pub elapsed: Duration,
    /// Failed operations during the warm-up (not counted above).
    pub warmup_errors: u64,
    /// Operations scheduled (open loop) but started late by more than a millisecond
    /// because every worker was busy: the offered rate was not reached.
    pub late_starts: u64,
}

struct Shared {
    next: AtomicU64,
    ok: AtomicU64,
    errors: AtomicU64,
    late: AtomicU64,
    /// Wakes the progress line when the phase has ended.
    done: tokio::sync::Notify,
}

/// A phase's bounds.
#[derive(Clone, Copy)]
struct Phase {
    start: Instant,
    end: Instant,
    /// Sequence numbers of this phase start here (so `mixed` and the user choice continue
    /// across phases).
    base: u64,
    requests: Option<u64>,
    rate: Option<f64>,
    record: bool,
}

/// Run the warm-up, await `between` (e.g. reading the servers' CPU counters), then the
/// measured phase. `kind_of(n)` names the kind operation `n` belongs to (an index into
/// `kind_names` and `ops`); every worker gets its own handles onto `ops`.
pub async fn run<T>(
    plan: &Plan,
    kind_names: &[&'static str],
    kind_of: Arc<dyn Fn(u64) -> usize + Send + Sync>,
    ops: Arc<Vec<Op>>,
    between: impl Future<Output = T>,
) -> (Measured, T) {
    let mut base = 0;
    let mut warmup_errors = 0;
    if !plan.warmup.is_zero() {
        let start = Instant::now();
        let phase = Phase {
            start,
            end: start + plan.warmup,
            base,
            requests: None,
            rate: plan.rate,
            record: false,
        };
        let (kinds, shared, _) =
            phase_run(plan, kind_names, &kind_of, &ops, phase, "warm-up").await;
        warmup_errors = kinds.iter().map(KindStats::error_count).sum();
        base = shared.next.load(Ordering::Relaxed);
    }
    let got = between.await;
    let start = Instant::now();
    let phase = Phase {
        start,
        end: start + plan.duration,
        base,
        requests: plan.requests,
        rate: plan.rate,
        record: true,
    };
    let (kinds, shared, elapsed) =
        phase_run(plan, kind_names, &kind_of, &ops, phase, "measure").await;
    let measured = Measured {
        kinds,
        elapsed,
        warmup_errors,
        late_starts: shared.late.load(Ordering::Relaxed),
    };
    (measured, got)
}

async fn phase_run(
    plan: &Plan,
    kind_names: &[&'static str],
    kind_of: &Arc<dyn Fn(u64) -> usize + Send + Sync>,
    ops: &Arc<Vec<Op>>,
    phase: Phase,
    label: &'static str,
) -> (Vec<KindStats>, Arc<Shared>, Duration) {
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        ok: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        late: AtomicU64::new(0),
        done: tokio::sync::Notify::new(),
    });
    let ticker = plan
        .progress
        .then(|| tokio::spawn(progress(shared.clone(), phase.start, label)));
    let mut workers = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency.max(1) {
        let ops: Vec<Op> = ops.iter().map(Op::share).collect();
        let names = kind_names.to_vec();
        let kind_of = kind_of.clone();
        let shared = shared.clone();
        workers.push(tokio::spawn(worker(ops, names, kind_of, shared, phase)));
    }
    let mut kinds: Vec<KindStats> = kind_names.iter().map(|n| KindStats::new(n)).collect();
    for w in workers {
        match w.await {
            Ok(got) => {
                for (k, g) in kinds.iter_mut().zip(got) {
                    k.merge(g);
                }
            }
            Err(e) => {
                // A panicking operation is a bug in the bench; count it rather than lose it.
                *kinds[0]
                    .errors
                    .entry(format!("worker failed: {e}"))
                    .or_default() += 1;
            }
        }
    }
    let elapsed = phase.start.elapsed();
    // notify_one stores a permit, so the line ends even if the ticker is mid-print.
    shared.done.notify_one();
    if let Some(t) = ticker {
        let _ = t.await;
    }
    (kinds, shared, elapsed)
}

async fn worker(
    mut ops: Vec<Op>,
    names: Vec<&'static str>,
    kind_of: Arc<dyn Fn(u64) -> usize + Send + Sync>,
    shared: Arc<Shared>,
    phase: Phase,
) -> Vec<KindStats> {
    let mut stats: Vec<KindStats> = names.iter().map(|n| KindStats::new(n)).collect();
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if phase.requests.is_some_and(|max| i >= max) {
            break;
        }
        let t0 = match phase.rate {
            Some(rate) => {
                let due = phase.start + Duration::from_secs_f64(i as f64 / rate);
                if due >= phase.end {
                    break;
                }
                let now = Instant::now();
                if due > now {
                    tokio::time::sleep_until(due.into()).await;
                } else if now - due > Duration::from_millis(1) {
                    shared.late.fetch_add(1, Ordering::Relaxed);
                }
                due
            }
            None => {
                let now = Instant::now();
                if now >= phase.end {
                    break;
                }
                now
            }
        };
        let n = phase.base + i;
        let kind = kind_of(n);
        let result = ops[kind].call(n).await;
        let us = t0.elapsed().as_micros().min(MAX_LATENCY_US as u128) as u64;
        let s = &mut stats[kind];
        match result {
            Ok(()) => {
                shared.ok.fetch_add(1, Ordering::Relaxed);
                if phase.record {
                    s.latency.saturating_record(us.max(1));
                }
                s.ok += 1;
            }
            Err(code) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                *s.errors.entry(code).or_default() += 1;
            }
        }
    }
    stats
}

/// Once a second: elapsed time, the last second's rate, totals; a last line at the end.
async fn progress(shared: Arc<Shared>, start: Instant, label: &'static str) {
    let tty = std::io::stderr().is_terminal();
    let mut tick = tokio::time::interval_at(
        (start + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    let mut last = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shared.done.notified() => {
                let line = format!(
                    "{label:>8} {:6.1} s  done             ok {:>10}  errors {:>6}",
                    start.elapsed().as_secs_f64(),
                    shared.ok.load(Ordering::Relaxed),
                    shared.errors.load(Ordering::Relaxed)
                );
                let mut err = std::io::stderr().lock();
                let _ = if tty {
                    writeln!(err, "\r{line}")
                } else {
                    writeln!(err, "{line}")
                };
                return;
            }
        }
        let ok = shared.ok.load(Ordering::Relaxed);
        let line = format!(
            "{label:>8} {:6.1} s  {:>9} ops/s  ok {:>10}  errors {:>6}",
            start.elapsed().as_secs_f64(),
            ok - last,
            ok,
            shared.errors.load(Ordering::Relaxed)
        );
        last = ok;
        let mut err = std::io::stderr().lock();
        let _ = if tty {
            write!(err, "\r{line}")
        } else {
            writeln!(err, "{line}")
        };
    }
}
