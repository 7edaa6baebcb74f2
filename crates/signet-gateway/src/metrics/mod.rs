//! Prometheus metrics of a gateway (`GET /metrics`, text format 0.0.4): tokens issued by
//! kind, the process's own CPU time (so a load generator can report server CPU per
//! operation), the argon2 queue, and readiness. Counters are plain atomics: recording one
//! costs an uncontended add on the hot path.

pub(crate) mod latency;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Issued {
    /// ID + access tokens from a password sign-in or a challenge answer.
    SignIn,
    /// Tokens from a refresh.
    Refresh,
    /// A client_credentials access token (HTTP or gRPC).
    ClientCredentials,
    /// STS credentials (GetCredentialsForIdentity, AssumeRoleWithWebIdentity).
    Credentials,
}

const KINDS: [(Issued, &str); 4] = [
    (Issued::SignIn, "sign_in"),
    (Issued::Refresh, "refresh"),
    (Issued::ClientCredentials, "client_credentials"),
    (Issued::Credentials, "sts_credentials"),
];

/// The gateway's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    issued: [AtomicU64; 4],
    /// Latency of every gRPC method.
    pub(crate) rpc: std::sync::Arc<crate::metrics::latency::Latency>,
    /// Latency of every HTTP route.
    pub(crate) http: std::sync::Arc<crate::metrics::latency::Latency>,
}

impl Metrics {
    /// Count one issuance.
    pub(crate) fn issued(&self, kind: Issued) {
        let i = KINDS.iter().position(|(k, _)| *k == kind).unwrap_or(0);
        self.issued[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text; `gauges` are (name, help, value) read by the caller.
    pub(crate) fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str(
            "# HELP signet_tokens_issued_total Tokens (or credential sets) issued, by kind.\n",
        );
        out.push_str("# TYPE signet_tokens_issued_total counter\n");
        for (i, (_, name)) in KINDS.iter().enumerate() {
            let _ = writeln!(
                out,
                "signet_tokens_issued_total{{kind=\"{name}\"}} {}",
                self.issued[i].load(Ordering::Relaxed)
            );
        }
        let (user, system) = cpu_seconds();
        out.push_str(
            "# HELP process_cpu_seconds_total CPU time of this process (user + system).\n",
        );
        out.push_str("# TYPE process_cpu_seconds_total counter\n");
        let _ = writeln!(out, "process_cpu_seconds_total {}", user + system);
        out.push_str(
            "# HELP signet_password_hasher_cpu_seconds_total CPU time of the password \
             hasher's threads (argon2id; user + system).\n",
        );
        out.push_str("# TYPE signet_password_hasher_cpu_seconds_total counter\n");
        let _ = writeln!(
            out,
            "signet_password_hasher_cpu_seconds_total {}",
            hasher_cpu_seconds()
        );
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        self.rpc.render(
            &mut out,
            "signet_rpc_duration_seconds",
            "rpc",
            "Time to answer a gRPC call, by method.",
        );
        self.http.render(
            &mut out,
            "signet_http_duration_seconds",
            "route",
            "Time to answer an HTTP request, by route (failed = 5xx).",
        );
        out
    }
}

/// (user, system) CPU seconds of this process, from `/proc/self/stat` (fields 14 and 15,
/// in USER_HZ ticks, which Linux fixes at 100 for /proc). Zero where there is no /proc.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    user_system(&stat)
}

/// CPU seconds of this process's password hasher threads (`argon2-N`, named by
/// [`signet_crypto::PasswordHasher`]), summed; 0 without /proc. With the process's own CPU
/// it tells what share of a sign-in is the hash, measured by the server in the same run.
fn hasher_cpu_seconds() -> f64 {
    hasher_threads().iter().map(|(_, secs)| secs).sum()
}

/// Each hasher thread's id and CPU seconds.
fn hasher_threads() -> Vec<(String, f64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.starts_with(signet_crypto::HASHER_THREAD_PREFIX))
        })
        .filter_map(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            let (user, system) = user_system(&stat);
            Some((t.file_name().to_string_lossy().into_owned(), user + system))
        })
        .collect()
}

/// utime and stime of a `/proc/…/stat` line, in seconds.
fn user_system(stat: &str) -> (f64, f64) {
    // The command name (field 2) may contain spaces: count fields after its closing paren.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return (0.0, 0.0);
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (tick(11), tick(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the unlabelled series `name` in exposition `text`.
    fn value_of(text: &str, name: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .parse()
            .unwrap()
    }

    #[test]
    fn counters_and_cpu_time_render() {
        let m = Metrics::default();
        m.issued(Issued::ClientCredentials);
        m.issued(Issued::ClientCredentials);
        m.issued(Issued::SignIn);
        // Burn CPU until the kernel has counted at least one 10 ms tick for this process
        // (a fresh test process may have used less), with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut x = 0u64;
        while cpu_seconds() == (0.0, 0.0) && std::time::Instant::now() < deadline {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
        }
        assert_ne!(x, 1);
        let text = m.render(&[("signet_ready", "1 when ready.", 1.0)]);
        assert!(text.contains("signet_tokens_issued_total{kind=\"client_credentials\"} 2\n"));
        assert!(text.contains("signet_tokens_issued_total{kind=\"sign_in\"} 1\n"));
        assert!(text.contains("signet_tokens_issued_total{kind=\"refresh\"} 0\n"));
        assert!(text.contains("# TYPE signet_ready gauge\nsignet_ready 1\n"));
        let cpu = value_of(&text, "process_cpu_seconds_total");
        assert!(cpu > 0.0, "{text}");
        assert!(
            text.contains("# TYPE signet_password_hasher_cpu_seconds_total counter\n"),
            "{text}"
        );
    }

    /// The hasher's threads are found by name and their CPU counted: hashing raises it by
    /// about what the hashes cost. (Only this test's hasher thread is summed: other tests'
    /// hasher threads come and go in this process.)
    #[tokio::test]
    async fn the_hasher_threads_cpu_is_counted() {
        let others: std::collections::HashSet<String> =
            hasher_threads().into_iter().map(|(tid, _)| tid).collect();
        let h = signet_crypto::PasswordHasher::new(
            signet_crypto::PasswordParams::default(),
            1,
            4,
            std::time::Duration::from_secs(60),
        );
        // This hasher's thread, fixed now: a hasher another test starts later (and whose
        // thread may exit before the render below) is not counted as ours.
        let mine: std::collections::HashSet<String> = hasher_threads()
            .into_iter()
            .map(|(tid, _)| tid)
            .filter(|tid| !others.contains(tid))
            .collect();
        assert!(!mine.is_empty(), "the hasher's thread is not found by name");
        let ours = || -> f64 {
            hasher_threads()
                .iter()
                .filter(|(tid, _)| mine.contains(tid))
                .map(|(_, secs)| secs)
                .sum()
        };
        let phc = h.hash("Metrics-test-7a!").await.unwrap();
        // Hash until the kernel has counted a few 10 ms ticks on the hasher thread.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while ours() < 0.05 && std::time::Instant::now() < deadline {
            assert!(h.verify("Metrics-test-7a!", &phc).await.unwrap());
        }
        let hashed = ours();
        assert!(hashed >= 0.05, "hasher CPU {hashed} s");
        // The process's CPU includes it; the rendered counter is at least it.
        let (user, system) = cpu_seconds();
        assert!(user + system >= hashed, "{user} + {system} < {hashed}");
        let text = Metrics::default().render(&[]);
        let rendered = value_of(&text, "signet_password_hasher_cpu_seconds_total");
        assert!(rendered >= hashed, "{rendered} < {hashed}");
    }
}
