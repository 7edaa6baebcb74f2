//! The servers' own accounting: `GET /metrics` of each gateway before and after the
//! measured phase, and this process's CPU time from `/proc/self/stat`.

use super::report::ServerReport;
use std::collections::BTreeMap;

/// Counters read from one or more gateways, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub cpu_s: f64,
    /// CPU of the password hashers' threads, when every server reports it.
    pub hasher_cpu_s: Option<f64>,
    pub issued: BTreeMap<String, f64>,
}

/// Parse the Prometheus text of a gateway's `/metrics` (only what the bench uses).
pub fn parse(text: &str) -> anyhow::Result<Sample> {
    let mut s = Sample::default();
    let mut saw_cpu = false;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        if name == "process_cpu_seconds_total" {
            s.cpu_s += v;
            saw_cpu = true;
        } else if name == "signet_password_hasher_cpu_seconds_total" {
            *s.hasher_cpu_s.get_or_insert(0.0) += v;
        } else if let Some(kind) = name
            .strip_prefix("signet_tokens_issued_total{kind=\"")
            .and_then(|r| r.strip_suffix("\"}"))
        {
            *s.issued.entry(kind.to_string()).or_default() += v;
        }
    }
    anyhow::ensure!(saw_cpu, "no process_cpu_seconds_total in the metrics");
    Ok(s)
}

/// Read and sum every endpoint; any failure makes the whole sample unknown, since a
/// partial sum would understate the servers' CPU.
pub async fn scrape(urls: &[String]) -> anyhow::Result<Sample> {
    let mut total = Sample {
        hasher_cpu_s: Some(0.0),
        ..Sample::default()
    };
    for url in urls {
        let text = crate::jwt_inspect::http_get(url).await?;
        let s = parse(&text).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        total.cpu_s += s.cpu_s;
        // A server too old to report it makes the sum unknown.
        total.hasher_cpu_s = total.hasher_cpu_s.zip(s.hasher_cpu_s).map(|(a, b)| a + b);
        for (k, v) in s.issued {
            *total.issued.entry(k).or_default() += v;
        }
    }
    Ok(total)
}

/// What happened between two samples, for `ops` successful operations.
pub fn delta(urls: &[String], before: &Sample, after: &Sample, ops: u64) -> ServerReport {
    let cpu_s = (after.cpu_s - before.cpu_s).max(0.0);
    let issued = after
        .issued
        .iter()
        .map(|(k, v)| (k.clone(), v - before.issued.get(k).copied().unwrap_or(0.0)))
        .collect();
    let hasher_cpu_s = after
        .hasher_cpu_s
        .zip(before.hasher_cpu_s)
        .map(|(a, b)| (a - b).max(0.0));
    ServerReport {
        endpoints: urls.to_vec(),
        cpu_s,
        hasher_cpu_s,
        cpu_s_per_1000_ops: (ops > 0).then(|| cpu_s / ops as f64 * 1000.0),
        // Below one clock tick the rate means nothing.
        ops_per_cpu_s: (cpu_s >= 0.01).then(|| ops as f64 / cpu_s),
        tokens_issued: issued,
    }
}

/// CPU seconds (user + system) of this process, from `/proc/self/stat` (USER_HZ ticks,
/// fixed at 100 for /proc); 0 without /proc.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds_of("self").unwrap_or(0.0)
}

/// CPU seconds (user + system, all threads) of process `pid` ("self" for this one).
pub fn cpu_seconds_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat_cpu_seconds(&stat))
}

fn stat_cpu_seconds(stat: &str) -> f64 {
    // Fields after the command name's closing paren start at field 3; utime is 14,
    // stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP signet_tokens_issued_total Tokens issued.\n\
        # TYPE signet_tokens_issued_total counter\n\
        signet_tokens_issued_total{kind=\"sign_in\"} 3\n\
        signet_tokens_issued_total{kind=\"client_credentials\"} 1200\n\
        # TYPE process_cpu_seconds_total counter\n\
        process_cpu_seconds_total 12.5\n\
        # TYPE signet_password_hasher_cpu_seconds_total counter\n\
        signet_password_hasher_cpu_seconds_total 4.25\n\
        # TYPE signet_ready gauge\nsignet_ready 1\n";

    #[test]
    fn metrics_text_gives_cpu_and_issued_counts() {
        let s = parse(TEXT).unwrap();
        assert_eq!(s.cpu_s, 12.5);
        assert_eq!(s.hasher_cpu_s, Some(4.25));
        assert_eq!(s.issued["client_credentials"], 1200.0);
        assert_eq!(s.issued["sign_in"], 3.0);
        assert!(parse("signet_ready 1\n").is_err());
    }

    #[test]
    fn delta_divides_cpu_by_operations() {
        let before = parse(TEXT).unwrap();
        let mut after = before.clone();
        after.cpu_s += 2.0;
        after.hasher_cpu_s = Some(5.75);
        *after.issued.get_mut("client_credentials").unwrap() += 40_000.0;
        let r = delta(&["u".into()], &before, &after, 40_000);
        assert!((r.cpu_s - 2.0).abs() < 1e-9);
        assert_eq!(r.hasher_cpu_s, Some(1.5));
        assert!((r.cpu_s_per_1000_ops.unwrap() - 0.05).abs() < 1e-9);
        assert!((r.ops_per_cpu_s.unwrap() - 20_000.0).abs() < 1e-6);
        assert_eq!(r.tokens_issued["client_credentials"], 40_000.0);
        assert_eq!(r.tokens_issued["sign_in"], 0.0);
        // No measurable CPU: no rate rather than infinity.
        assert_eq!(delta(&[], &before, &before, 10).ops_per_cpu_s, None);
    }
}
