//! What the load flags of `signet bench` mean: their limits, the loopback-only rule, the
//! plan of a run and the settings echoed in its report.

use super::driver::Plan;
use crate::cli::bench::LoadArgs;
use anyhow::bail;
use std::time::Duration;

/// Most workers, users and seconds a run may ask for.
const MAX_CONCURRENCY: usize = 4096;
pub(super) const MAX_USERS: usize = 10_000;
const MAX_DURATION: Duration = Duration::from_secs(3600);
const DEFAULT_DURATION: Duration = Duration::from_secs(10);
const DEFAULT_CAP: Duration = Duration::from_secs(600);

/// The host of `host:port`, `[v6]:port` or a URL.
fn host_of(target: &str) -> &str {
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

pub(super) fn is_loopback(target: &str) -> bool {
    let host = host_of(target);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn url(addr: &str) -> String {
    if addr.contains("://") {
        addr.trim_end_matches('/').to_string()
    } else {
        format!("http://{addr}")
    }
}

impl LoadArgs {
    pub(super) fn check(&self) -> anyhow::Result<Plan> {
        if self.endpoint.is_empty() || self.http.is_empty() {
            bail!("give at least one --endpoint and one --http address");
        }
        if !self.allow_remote {
            let targets = self.endpoint.iter().chain(&self.http).chain(&self.metrics);
            if let Some(t) = targets.into_iter().find(|t| !is_loopback(t)) {
                bail!("{t} is not a loopback address; pass --allow-remote to load it");
            }
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            bail!("--concurrency must be 1..={MAX_CONCURRENCY}");
        }
        if !(1..=64).contains(&self.connections) {
            bail!("--connections must be 1..=64");
        }
        if let Some(r) = self.rate {
            if !(r.is_finite() && r > 0.0) {
                bail!("--rate must be a positive number of operations per second");
            }
        }
        if self.requests == Some(0) {
            bail!("--requests must be at least 1");
        }
        let duration = self.duration.unwrap_or(if self.requests.is_some() {
            DEFAULT_CAP
        } else {
            DEFAULT_DURATION
        });
        if duration.is_zero() || duration > MAX_DURATION || self.warmup > MAX_DURATION {
            bail!("--duration must be more than 0 and --duration/--warmup at most an hour");
        }
        Ok(Plan {
            concurrency: self.concurrency,
            warmup: self.warmup,
            duration,
            requests: self.requests,
            rate: self.rate,
            progress: !self.quiet,
        })
    }

    pub(super) fn metrics_urls(&self) -> Vec<String> {
        if self.metrics.is_empty() {
            self.http
                .iter()
                .map(|h| format!("{}/metrics", url(h)))
                .collect()
        } else {
            self.metrics.clone()
        }
    }

    pub(super) fn settings(&self, plan: &Plan, extra: serde_json::Value) -> serde_json::Value {
        let mut v = serde_json::json!({
            "grpc": self.endpoint,
            "http": self.http,
            "concurrency": plan.concurrency,
            "warmup_s": plan.warmup.as_secs_f64(),
            "duration_s": plan.duration.as_secs_f64(),
            "requests": plan.requests,
            "rate": plan.rate,
            "connections_per_gateway": self.connections,
            "alg": self.alg,
        });
        if let (Some(v), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
            v.extend(extra);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_by_default() {
        for t in [
            "127.0.0.1:7410",
            "http://127.0.0.1:7411",
            "localhost:1",
            "[::1]:7410",
            "http://[::1]:80/metrics",
        ] {
            assert!(is_loopback(t), "{t}");
        }
        for t in ["10.0.0.1:7410", "example.com:443", "http://8.8.8.8/metrics"] {
            assert!(!is_loopback(t), "{t}");
        }
    }
}
