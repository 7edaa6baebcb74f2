//! The result of a run: printed for people, or as JSON (`--json`) for scripts.

use super::driver::{KindStats, Measured};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Latency percentiles, ms.
#[derive(Debug, Serialize, Clone, Copy, Default)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// One operation kind (`mixed` has several).
#[derive(Debug, Serialize)]
pub struct KindReport {
    pub name: &'static str,
    pub ok: u64,
    pub per_second: f64,
    pub errors: BTreeMap<String, u64>,
    pub latency_ms: Latency,
}

/// The server side, from the gateways' `/metrics` before and after the measured phase.
#[derive(Debug, Serialize)]
pub struct ServerReport {
    /// `/metrics` endpoints read.
    pub endpoints: Vec<String>,
    /// CPU seconds the gateway processes used during the measured phase (in `signet dev`
    /// this includes the embedded store).
    pub cpu_s: f64,
    /// Of that, the password hashers' threads (argon2id), when the servers report it.
    pub hasher_cpu_s: Option<f64>,
    pub cpu_s_per_1000_ops: Option<f64>,
    pub ops_per_cpu_s: Option<f64>,
    /// `signet_tokens_issued_total` deltas by kind: what the servers counted.
    pub tokens_issued: BTreeMap<String, f64>,
}

/// password-sign-in only: the raw argon2 rate on this machine, measured in the same run.
#[derive(Debug, Serialize)]
pub struct Argon2Reference {
    /// argon2id verifications per CPU-second at the server's default parameters, measured
    /// in this process, one hashing thread per core: the mean of the two below.
    pub verifies_per_cpu_s: f64,
    /// The same, measured before the load started.
    pub before_per_cpu_s: f64,
    /// The same, measured after the load ended.
    pub after_per_cpu_s: f64,
    /// Sign-ins per server CPU-second as a share of that rate (1.0 = the server does
    /// nothing but the hash).
    pub sign_in_share_of_argon2: Option<f64>,
    /// The share of the servers' CPU their password hashers' threads used during the
    /// load, as the servers count it: what a sign-in is besides the hash, with no
    /// reference taken apart from the load.
    pub server_cpu_share_in_hasher: Option<f64>,
}

/// Everything a run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub signet_version: &'static str,
    /// A debug build of the load generator is much slower; its numbers are not comparable.
    pub debug_build: bool,
    pub settings: serde_json::Value,
    pub elapsed_s: f64,
    pub ok: u64,
    pub per_second: f64,
    pub errors: BTreeMap<String, u64>,
    pub warmup_errors: u64,
    /// Open loop only: operations that started more than 1 ms after their schedule.
    pub late_starts: u64,
    pub latency_ms: Latency,
    /// Per kind, when there is more than one.
    pub kinds: Vec<KindReport>,
    pub server: Option<ServerReport>,
    /// The operations ran in this process (`verify`): no server work to report.
    pub local: bool,
    /// CPU seconds of this load generator during the measured phase.
    pub bench_cpu_s: f64,
    pub bench_cpu_s_per_1000_ops: Option<f64>,
    pub argon2: Option<Argon2Reference>,
}

impl Report {
    /// Combine the kinds of `m` into one report.
    pub fn new(scenario: String, settings: serde_json::Value, m: Measured) -> Report {
        let secs = m.elapsed.as_secs_f64().max(1e-9);
        let mut all = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("bounds");
        let mut errors = BTreeMap::new();
        let mut ok = 0;
        for k in &m.kinds {
            all.add(&k.latency).expect("same bounds");
            ok += k.ok;
            for (code, n) in &k.errors {
                *errors.entry(code.clone()).or_default() += n;
            }
        }
        let kinds = if m.kinds.len() > 1 {
            m.kinds.iter().map(|k| kind_report(k, secs)).collect()
        } else {
            Vec::new()
        };
        Report {
            scenario,
            signet_version: env!("CARGO_PKG_VERSION"),
            debug_build: cfg!(debug_assertions),
            settings,
            elapsed_s: secs,
            ok,
            per_second: ok as f64 / secs,
            errors,
            warmup_errors: m.warmup_errors,
            late_starts: m.late_starts,
            latency_ms: Latency::of(&all),
            kinds,
            server: None,
            local: false,
            bench_cpu_s: 0.0,
            bench_cpu_s_per_1000_ops: None,
            argon2: None,
        }
    }

    /// The report for people.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "signet bench {}", self.scenario);
        if self.debug_build {
            let _ = writeln!(
                o,
                "  WARNING: a debug build of signet; build with --release for real numbers"
            );
        }
        let _ = writeln!(
            o,
            "  measured   {:.2} s   ok {}   {:.1} ops/s",
            self.elapsed_s, self.ok, self.per_second
        );
        let errs: u64 = self.errors.values().sum();
        let _ = writeln!(o, "  errors     {errs}{}", codes(&self.errors));
        if self.warmup_errors > 0 {
            let _ = writeln!(
                o,
                "  warm-up    {} errors (not counted)",
                self.warmup_errors
            );
        }
        if self.late_starts > 0 {
            let _ = writeln!(
                o,
                "  late       {} operations started > 1 ms after their schedule \
                 (the offered rate was not reached; raise --concurrency)",
                self.late_starts
            );
        }
        let _ = writeln!(o, "  latency    {}", latency_line(&self.latency_ms));
        for k in &self.kinds {
            let _ = writeln!(
                o,
                "    {:<20} ok {:>9} ({:.1}/s)  errors {}{}  {}",
                k.name,
                k.ok,
                k.per_second,
                k.errors.values().sum::<u64>(),
                codes(&k.errors),
                latency_line(&k.latency_ms)
            );
        }
        match &self.server {
            Some(s) => {
                let per = s
                    .cpu_s_per_1000_ops
                    .map_or("-".to_string(), |v| format!("{v:.4}"));
                let rate = s
                    .ops_per_cpu_s
                    .map_or("-".to_string(), |v| format!("{v:.0}"));
                let source = match s.endpoints.as_slice() {
                    [one] if one.starts_with("/proc/") => one.clone(),
                    all => format!("{} /metrics", all.len()),
                };
                let _ = writeln!(
                    o,
                    "  server CPU {:.2} s   {per} CPU-s per 1,000 ops   {rate} ops per CPU-s   \
                     ({source})",
                    s.cpu_s,
                );
                let issued: Vec<String> = s
                    .tokens_issued
                    .iter()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                if !issued.is_empty() {
                    let _ = writeln!(o, "  issued     {}", issued.join(", "));
                }
            }
            None if self.local => {}
            None => {
                let _ = writeln!(o, "  server CPU unknown (no /metrics could be read)");
            }
        }
        let per = self
            .bench_cpu_s_per_1000_ops
            .map_or(String::new(), |v| format!("   {v:.4} CPU-s per 1,000 ops"));
        let _ = writeln!(o, "  bench CPU  {:.2} s{per}", self.bench_cpu_s);
        if let Some(a) = &self.argon2 {
            let share = a
                .sign_in_share_of_argon2
                .map_or("-".to_string(), |v| format!("{:.1} %", v * 100.0));
            let _ = writeln!(
                o,
                "  argon2     {:.1} verifies per CPU-s here ({:.1} before the load, {:.1} after); \
                 sign-ins reach {share} of it",
                a.verifies_per_cpu_s, a.before_per_cpu_s, a.after_per_cpu_s
            );
            if let Some(h) = a.server_cpu_share_in_hasher {
                let _ = writeln!(
                    o,
                    "             the server's password hasher used {:.1} % of its CPU",
                    h * 100.0
                );
            }
        }
        o
    }
}

fn kind_report(k: &KindStats, secs: f64) -> KindReport {
    KindReport {
        name: k.name,
        ok: k.ok,
        per_second: k.ok as f64 / secs,
        errors: k.errors.clone(),
        latency_ms: Latency::of(&k.latency),
    }
}

fn latency_line(l: &Latency) -> String {
    format!(
        "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3} ms",
        l.p50, l.p90, l.p99, l.p999, l.max
    )
}

fn codes(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("  ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_and_totals_come_from_every_kind() {
        let mut a = KindStats::new("a");
        let mut b = KindStats::new("b");
        for us in 1..=1000 {
            a.latency.record(us).unwrap();
        }
        b.latency.record(50_000).unwrap();
        a.ok = 1000;
        b.ok = 1;
        b.errors.insert("ThrottlingException".into(), 3);
        let r = Report::new(
            "mixed".into(),
            serde_json::json!({}),
            Measured {
                kinds: vec![a, b],
                elapsed: Duration::from_secs(2),
                warmup_errors: 0,
                late_starts: 0,
            },
        );
        assert_eq!(r.ok, 1001);
        assert!((r.per_second - 500.5).abs() < 1e-9);
        assert_eq!(r.errors["ThrottlingException"], 3);
        assert_eq!(r.kinds.len(), 2);
        // 1001 samples: the median is ~0.5 ms, the max the one 50 ms operation.
        assert!((r.latency_ms.p50 - 0.5).abs() < 0.01, "{:?}", r.latency_ms);
        assert!((r.latency_ms.max - 50.0).abs() < 0.1, "{:?}", r.latency_ms);
        assert!((r.kinds[0].latency_ms.p99 - 0.99).abs() < 0.01);
        let text = r.text();
        assert!(text.contains("ThrottlingException: 3"), "{text}");
    }
}
