//! `signet bench`: a load generator for running gateways. It makes its own pool, clients,
//! users and identity pool through the admin API, drives one scenario with N concurrent
//! workers (closed loop, or open loop at `--rate`), and reports throughput, errors by
//! code, HDR latency percentiles, and the **servers' CPU seconds per 1,000 operations**
//! read from the gateways' own `/metrics`. It then removes what it made.
//!
//! Every run is bounded in time (and optionally in count), and refuses non-loopback
//! targets unless `--allow-remote` is given: it is a load generator, not a probe.

mod cluster;
mod driver;
mod fixtures;
mod ops;
mod report;
mod scale;
mod server;

use crate::admin_cmd::{admin_secret, with_secret};
use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use driver::Plan;
use fixtures::{Fixtures, Needs};
use ops::Op;
use report::{Argon2Reference, Report};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

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
    /// `/metrics` URLs to read server CPU from (default: `/metrics` of every --http).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Bearer secret of the admin API (else read from --data-dir, as `signet admin`).
    #[arg(long, env = "SIGNET_ADMIN_SECRET", hide_env_values = true)]
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
const MAX_USERS: usize = 10_000;
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

fn url(addr: &str) -> String {
    if addr.contains("://") {
        addr.trim_end_matches('/').to_string()
    } else {
        format!("http://{addr}")
    }
}

impl LoadArgs {
    fn check(&self) -> anyhow::Result<Plan> {
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

    fn metrics_urls(&self) -> Vec<String> {
        if self.metrics.is_empty() {
            self.http
                .iter()
                .map(|h| format!("{}/metrics", url(h)))
                .collect()
        } else {
            self.metrics.clone()
        }
    }

    fn settings(&self, plan: &Plan, extra: serde_json::Value) -> serde_json::Value {
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

/// One kind of operation of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ClientCredentials,
    PasswordSignIn,
    Refresh,
    GetCredentials,
    Verify,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ClientCredentials => "client-credentials",
            Kind::PasswordSignIn => "password-sign-in",
            Kind::Refresh => "refresh",
            Kind::GetCredentials => "get-credentials",
            Kind::Verify => "verify",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::ClientCredentials,
            Kind::PasswordSignIn,
            Kind::Refresh,
            Kind::GetCredentials,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// `kind=weight,…` → (kind, weight), weights > 0, each kind once.
fn parse_mix(s: &str) -> anyhow::Result<Vec<(Kind, u32)>> {
    let mut out: Vec<(Kind, u32)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, w) = part
            .split_once('=')
            .with_context(|| format!("--mix: expected kind=weight, got {part:?}"))?;
        let kind = Kind::parse(k.trim()).with_context(|| format!("--mix: unknown kind {k:?}"))?;
        let w: u32 = w
            .trim()
            .parse()
            .with_context(|| format!("--mix: bad weight in {part:?}"))?;
        if out.iter().any(|(o, _)| *o == kind) {
            bail!("--mix: {} given twice", kind.name());
        }
        if w > 0 {
            out.push((kind, w));
        }
    }
    if out.is_empty() {
        bail!("--mix: no kind with a weight above 0");
    }
    Ok(out)
}

/// A well-spread hash of the sequence number, so mixes interleave rather than run in
/// blocks (SplitMix64's finaliser).
fn spread(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which kind operation `n` is, for these weights.
fn chooser(weights: Vec<u32>) -> Arc<dyn Fn(u64) -> usize + Send + Sync> {
    let total: u64 = weights.iter().map(|w| *w as u64).sum();
    Arc::new(move |n| {
        let mut r = spread(n) % total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w as u64 {
                return i;
            }
            r -= *w as u64;
        }
        weights.len() - 1
    })
}

async fn connect(addr: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(url(addr))
        .with_context(|| format!("bad endpoint {addr:?}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .connect()
        .await
        .with_context(|| format!("cannot connect to the gateway at {addr} (is it running?)"))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (load, kinds, users, transport, extra) = match &args.scenario {
        ScenarioCmd::Scale(a) => return scale::run(a).await,
        ScenarioCmd::ClientCredentials { load, transport } => (
            load,
            vec![(Kind::ClientCredentials, 1)],
            0,
            *transport,
            serde_json::json!({"transport": format!("{transport:?}").to_lowercase()}),
        ),
        ScenarioCmd::PasswordSignIn { load, users } => (
            load,
            vec![(Kind::PasswordSignIn, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::Refresh { load, users } => (
            load,
            vec![(Kind::Refresh, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::GetCredentials { load, users } => (
            load,
            vec![(Kind::GetCredentials, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::Mixed {
            load,
            mix,
            users,
            transport,
        } => (
            load,
            parse_mix(mix)?,
            *users,
            *transport,
            serde_json::json!({"mix": mix, "users": users,
                "transport": format!("{transport:?}").to_lowercase()}),
        ),
        ScenarioCmd::Verify { load } => (
            load,
            vec![(Kind::Verify, 1)],
            0,
            Transport::Grpc,
            serde_json::json!({}),
        ),
    };
    let plan = load.check()?;
    let has = |k: Kind| kinds.iter().any(|(x, _)| *x == k);
    let needs_users = has(Kind::PasswordSignIn) || has(Kind::Refresh) || has(Kind::GetCredentials);
    if needs_users && !(1..=MAX_USERS).contains(&users) {
        bail!("--users must be 1..={MAX_USERS}");
    }
    let needs = Needs {
        service_client: has(Kind::ClientCredentials) || has(Kind::Verify),
        users: if needs_users { users } else { 0 },
        sign_in: has(Kind::Refresh),
        identities: has(Kind::GetCredentials),
    };
    let secret = admin_secret(load.admin_secret.clone(), &load.data_dir)?;
    let mut channels = Vec::new();
    for e in &load.endpoint {
        for _ in 0..load.connections {
            channels.push(connect(e).await?);
        }
    }
    let admin = with_secret(channels[0].clone(), &secret)?;
    let say = |m: &str| {
        if !load.json || !load.quiet {
            eprintln!("signet bench: {m}");
        }
    };
    say(&format!(
        "setting up a pool{}{}",
        if needs.service_client {
            ", a service client"
        } else {
            ""
        },
        if needs.users > 0 {
            format!(
                ", {} users (two argon2 hashes each on the server)",
                needs.users
            )
        } else {
            String::new()
        }
    ));
    let t = Instant::now();
    let fixtures = Fixtures::setup(admin.clone(), channels[0].clone(), needs, &load.alg).await?;
    say(&format!(
        "set up pool {} in {:.1} s",
        fixtures.pool_id,
        t.elapsed().as_secs_f64()
    ));
    let result = measure(load, &plan, &kinds, transport, &fixtures, &channels, extra).await;
    if load.keep {
        eprintln!(
            "signet bench: kept user pool {} (identity pool {:?}, role {:?})",
            fixtures.pool_id, fixtures.identity_pool_id, fixtures.role_name
        );
    } else if let Err(e) = fixtures.teardown(admin).await {
        eprintln!("signet bench: teardown failed: {e:#}");
    }
    let report = result?;
    if load.json {
        crate::rpc::emit(&serde_json::to_value(&report)?)?;
    } else {
        print!("{}", report.text());
    }
    if report.ok == 0 {
        return Err(crate::cli::Exit {
            code: 1,
            message: "no operation succeeded".into(),
        }
        .into());
    }
    Ok(())
}

/// Build the operations, check each works once, measure.
async fn measure(
    load: &LoadArgs,
    plan: &Plan,
    kinds: &[(Kind, u32)],
    transport: Transport,
    f: &Fixtures,
    channels: &[Channel],
    extra: serde_json::Value,
) -> anyhow::Result<Report> {
    let mut ops = Vec::new();
    for (kind, _) in kinds {
        ops.push(match kind {
            Kind::ClientCredentials if transport == Transport::Http => {
                let requests = load
                    .http
                    .iter()
                    .map(|h| ops::TokenRequest::new(&url(h), f))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                Op::ClientCredentialsHttp {
                    client: ops::http_client(),
                    requests: Arc::new(requests),
                }
            }
            Kind::ClientCredentials => Op::client_credentials_grpc(channels, f),
            Kind::PasswordSignIn => Op::password_sign_in(channels, f),
            Kind::Refresh => Op::refresh(channels, f),
            Kind::GetCredentials => Op::get_credentials(channels, f),
            Kind::Verify => verify_op(load, f, channels).await?,
        });
    }
    // One operation of each kind before anything is measured: a setup mistake should be
    // one clear error, not a run full of them.
    for (op, (kind, _)) in ops.iter_mut().zip(kinds) {
        op.call(0)
            .await
            .map_err(|code| anyhow::anyhow!("a first {} failed: {code}", kind.name()))?;
    }
    let argon2 = if kinds.iter().any(|(k, _)| *k == Kind::PasswordSignIn) && kinds.len() == 1 {
        Some(argon2_rate().await?)
    } else {
        None
    };
    let names: Vec<&'static str> = kinds.iter().map(|(k, _)| k.name()).collect();
    let weights = kinds.iter().map(|(_, w)| *w).collect();
    let local = kinds.iter().all(|(k, _)| *k == Kind::Verify);
    let urls = if local {
        Vec::new()
    } else {
        load.metrics_urls()
    };
    let before = async {
        let s = server::scrape(&urls).await;
        (s, server::own_cpu_seconds())
    };
    let (m, (before, cpu0)) =
        driver::run(plan, &names, chooser(weights), Arc::new(ops), before).await;
    let cpu1 = server::own_cpu_seconds();
    let after = server::scrape(&urls).await;
    let ok = m.kinds.iter().map(|k| k.ok).sum();
    let mut report = Report::new(
        scenario_name(kinds, transport),
        load.settings(plan, extra),
        m,
    );
    report.bench_cpu_s = cpu1 - cpu0;
    report.bench_cpu_s_per_1000_ops = (ok > 0).then(|| report.bench_cpu_s / ok as f64 * 1000.0);
    report.local = local;
    match (before, after) {
        _ if local => {}
        (Ok(b), Ok(a)) => report.server = Some(server::delta(&urls, &b, &a, ok)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("signet bench: cannot read the servers' /metrics: {e:#}")
        }
    }
    if let Some(rate) = argon2 {
        let share = report
            .server
            .as_ref()
            .and_then(|s| s.ops_per_cpu_s)
            .map(|r| r / rate);
        report.argon2 = Some(Argon2Reference {
            verifies_per_cpu_s: rate,
            sign_in_share_of_argon2: share,
        });
    }
    Ok(report)
}

fn scenario_name(kinds: &[(Kind, u32)], transport: Transport) -> String {
    match kinds {
        [(Kind::ClientCredentials, _)] => format!(
            "client-credentials ({})",
            if transport == Transport::Http {
                "HTTP /oauth2/token"
            } else {
                "gRPC IssueClientToken"
            }
        ),
        [(k, _)] => k.name().to_string(),
        _ => "mixed".to_string(),
    }
}

/// A client_credentials token and the pool's JWKS, to verify in this process.
async fn verify_op(load: &LoadArgs, f: &Fixtures, channels: &[Channel]) -> anyhow::Result<Op> {
    let mut c =
        signet_proto::v1::user_pool_auth_client::UserPoolAuthClient::new(channels[0].clone());
    let token = c
        .issue_client_token(signet_proto::v1::IssueClientTokenRequest {
            user_pool_id: f.pool_id.clone(),
            client_id: f.service_client_id.clone(),
            client_secret: f.service_client_secret.clone(),
            scope: fixtures::SCOPE.into(),
        })
        .await
        .map_err(crate::rpc::status_error)
        .context("IssueClientToken")?
        .into_inner()
        .access_token;
    let issuer = crate::jwt_inspect::claims(&token)?["iss"]
        .as_str()
        .context("token without iss")?
        .to_string();
    let jwks_url = format!("{}/{}/.well-known/jwks.json", url(&load.http[0]), f.pool_id);
    let jwks = crate::jwt_inspect::http_get(&jwks_url).await?;
    let keys = signet_verify::KeySet::from_jwks(jwks.as_bytes())
        .map_err(|e| anyhow::anyhow!("{jwks_url}: {e}"))?;
    Ok(Op::Verify {
        keys: Arc::new(keys),
        expected: Arc::new(ops::expected_access(&issuer, f)),
        token: token.into(),
    })
}

/// argon2id verifications per CPU-second at the default parameters, with one hashing
/// thread per core all busy at once, as the server's hasher runs under load (concurrent
/// hashes share caches and memory bandwidth, so one thread alone would overstate the rate).
async fn argon2_rate() -> anyhow::Result<f64> {
    use signet_crypto::{PasswordHasher, PasswordParams};
    const ROUNDS_PER_THREAD: usize = 20;
    const PASSWORD: &str = "Bench-reference-9a!";
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let h = PasswordHasher::new(
        PasswordParams::default(),
        threads,
        threads * 2,
        Duration::from_secs(60),
    );
    let phc = h.hash(PASSWORD).await?;
    let cpu0 = server::own_cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..threads {
        let (h, phc) = (h.clone(), phc.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS_PER_THREAD {
                if !h.verify(PASSWORD, &phc).await? {
                    anyhow::bail!("the argon2 reference hash did not verify");
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let cpu = server::own_cpu_seconds() - cpu0;
    anyhow::ensure!(cpu > 0.0, "no CPU time measured for the argon2 reference");
    Ok((threads * ROUNDS_PER_THREAD) as f64 / cpu)
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

    #[test]
    fn mixes_parse_and_spread_by_weight() {
        let m = parse_mix("client-credentials=90, refresh=10,get-credentials=0").unwrap();
        assert_eq!(m, vec![(Kind::ClientCredentials, 90), (Kind::Refresh, 10)]);
        assert!(parse_mix("refresh=1,refresh=2").is_err());
        assert!(parse_mix("nothing=1").is_err());
        assert!(parse_mix("refresh=0").is_err());
        let pick = chooser(vec![90, 10]);
        let refresh = (0..100_000).filter(|n| pick(*n) == 1).count();
        // 10 % ± 0.5 %, and interleaved (not one block).
        assert!((9_500..=10_500).contains(&refresh), "{refresh}");
        assert!((0..100).any(|n| pick(n) == 1));
    }
}
