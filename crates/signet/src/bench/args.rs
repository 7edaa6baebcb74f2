//! `signet bench` arguments: the scenarios, and the load options they share.

use super::driver::Plan;
use super::scale;
use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub scenario: ScenarioCmd,
}

#[derive(Subcommand, Debug)]
pub enum ScenarioCmd {
    /// client_credentials access tokens, over HTTP (`/oauth2/token`) or gRPC
    /// (`IssueClientToken`).
    ClientCredentials {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long, value_enum, default_value = "grpc")]
        transport: Transport,
    },
    /// USER_PASSWORD_AUTH sign-ins of existing users (argon2-bound); reports the raw
    /// argon2 rate measured on this machine in the same run.
    PasswordSignIn {
        #[command(flatten)]
        load: LoadArgs,
        /// Users made for the run, signed in round robin.
        #[arg(long, default_value_t = 64)]
        users: usize,
    },
    /// REFRESH_TOKEN_AUTH with refresh tokens of existing users (no rotation).
    Refresh {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long, default_value_t = 64)]
        users: usize,
    },
    /// GetId then GetCredentialsForIdentity for existing identities (one per user).
    GetCredentials {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long, default_value_t = 16)]
        users: usize,
    },
    /// A weighted mix of the scenarios above.
    Mixed {
        #[command(flatten)]
        load: LoadArgs,
        /// Weights, `kind=weight,…`; kinds: client-credentials, password-sign-in,
        /// refresh, get-credentials.
        #[arg(
            long,
            default_value = "client-credentials=90,refresh=7,get-credentials=2,password-sign-in=1"
        )]
        mix: String,
        #[arg(long, default_value_t = 64)]
        users: usize,
        /// Transport of the client-credentials share.
        #[arg(long, value_enum, default_value = "grpc")]
        transport: Transport,
    },
    /// Offline verification throughput of signet-verify in this process (a
    /// client_credentials token against the pool's JWKS); no server work per operation.
    Verify {
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Start a 3-node cluster and a gateway of its own (child processes, loopback, a temp
    /// dir), bulk-import users, and measure import rate, disk and memory per node,
    /// sign-in and ListUsers latency at that size, a new node's catch-up from a snapshot
    /// and a restarted node's return.
    Scale(scale::ScaleArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Transport {
    Http,
    Grpc,
}

/// What every scenario takes.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// gRPC addresses of the gateways, comma-separated; load is spread round robin.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "127.0.0.1:7410",
        env = "SIGNET_ENDPOINT"
    )]
    pub endpoint: Vec<String>,
    /// HTTP addresses of the same gateways (token endpoint, JWKS, `/metrics`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "127.0.0.1:7411",
        env = "SIGNET_HTTP_ENDPOINT"
    )]
    pub http: Vec<String>,
    /// TLS to the gateways' gRPC listeners (`--ca`; the HTTP scenarios speak plaintext).
    #[command(flatten)]
    pub tls: crate::tls_args::TlsArgs,
    /// `/metrics` URLs to read server CPU from (default: `/metrics` of every --http).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Bearer secret of the admin API (else read from --data-dir, as `signet admin`).
    #[arg(
        allow_hyphen_values = true,
        long,
        env = "SIGNET_ADMIN_SECRET",
        hide_env_values = true
    )]
    pub admin_secret: Option<String>,
    /// Data dir of a `signet dev` process, to find its admin secret.
    #[arg(long, default_value = "./signet-data", env = "SIGNET_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Concurrent workers (in-flight operations at most).
    #[arg(short, long, default_value_t = 64)]
    pub concurrency: usize,
    /// Measured time, e.g. `10s`, `500ms`, `2m` (default 10 s; with --requests, a cap
    /// of 10 minutes).
    #[arg(short, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many measured operations.
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Offered load in operations per second (open loop); default: as fast as the
    /// workers go (closed loop).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Unmeasured time before the measured phase.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// gRPC connections per gateway (HTTP/2 multiplexes every worker over them).
    #[arg(long, default_value_t = 1)]
    pub connections: usize,
    /// Signing algorithm of the bench's user pool.
    #[arg(long, default_value = "EdDSA")]
    pub alg: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the pool, users and identity pool made for the run (their ids go to stderr).
    #[arg(long)]
    pub keep: bool,
    /// Allow targets that are not loopback addresses.
    #[arg(long)]
    pub allow_remote: bool,
}

/// Most workers, users and seconds a run may ask for.
const MAX_CONCURRENCY: usize = 4096;
pub(super) const MAX_USERS: usize = 10_000;
const MAX_DURATION: Duration = Duration::from_secs(3600);
const DEFAULT_DURATION: Duration = Duration::from_secs(10);
const DEFAULT_CAP: Duration = Duration::from_secs(600);

/// `10s`, `1.5s`, `500ms`, `2m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(v) = s.strip_suffix("ms") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('m') {
        (v, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("expected a duration like 10s, 500ms or 2m, got {s:?}"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("a duration must be zero or more, got {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// The host of `host:port`, `[v6]:port` or a URL.
fn host_of(target: &str) -> &str {
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback(target: &str) -> bool {
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
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

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
