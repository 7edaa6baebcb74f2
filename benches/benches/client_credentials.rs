//! The client_credentials token hot path, end to end, over HTTP and over gRPC.
//!
//! The server is the real `signet dev` (release build) in its own process, so its CPU time
//! can be read apart from this load generator's: `utime + stime` of the child from
//! `/proc/<pid>/stat`, before and after each measured window. The bench creates a user pool
//! (EdDSA), a resource server `orders` (scopes `read`, `write`) and an app client with a
//! secret allowed the client_credentials grant, then runs, for each scenario, N callers that
//! ask for tokens back to back:
//!
//! * HTTP: `POST /{pool}/oauth2/token`, `grant_type=client_credentials&scope=…`,
//!   client_secret_basic, through one hyper-util legacy client (keep-alive; HTTP/1.1, so one
//!   connection per concurrent caller). The request (URI, headers, body) is encoded once.
//! * gRPC: `signet.v1.UserPoolAuth/IssueClientToken` through one tonic channel (one HTTP/2
//!   connection) shared by every caller, or `BENCH_GRPC_CHANNELS` of them, round robin.
//!
//! An answer counts as a token only if it is an HTTP 200 whose body has an `access_token`,
//! or a gRPC OK with a non-empty `access_token`; anything else is an error. One token per
//! scenario is verified with `signet_verify` against the pool's JWKS, so the bench cannot
//! measure error pages without saying so.
//!
//! Needs the release binary: `cargo build --release -p signet` first (or point `SIGNET_BIN`
//! at a `signet` binary). Run: `cargo bench -p signet-benches --bench client_credentials`.
//!
//! Environment:
//! * `BENCH_SECS` — measured seconds per scenario (default 5).
//! * `BENCH_WARMUP_SECS` — warm-up seconds per scenario, not measured (default 1).
//! * `BENCH_ONLY` — comma-separated scenarios as `transport:callers`, e.g. `grpc:64,http:1`.
//! * `BENCH_GRPC_CHANNELS` — gRPC channels (connections) shared by the callers (default 1).
//! * `BENCH_SLOW_MS` — list on stderr, per scenario, the tokens slower than this many ms and
//!   when in the window they completed (default: off).
//! * `SIGNET_BIN` — the `signet` binary (default `<target dir>/release/signet`).

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use signet_verify::{Expected, JwksCache, JwksOptions, TokenUse};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic::transport::{Channel, Endpoint};

/// Scopes the bench client asks for (all it is allowed).
const SCOPE: &str = "orders/read orders/write";
/// How long to wait for callers still in a request after the window.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// How long the server's CPU is watched with no load before the first scenario.
const IDLE_PROBE: Duration = Duration::from_secs(2);
/// How much of an error answer to keep.
const ERROR_SNIPPET: usize = 300;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    Http,
    Grpc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Http => "HTTP",
            Transport::Grpc => "gRPC",
        }
    }
}

const SCENARIOS: [(Transport, usize); 6] = [
    (Transport::Http, 1),
    (Transport::Http, 16),
    (Transport::Http, 64),
    (Transport::Grpc, 1),
    (Transport::Grpc, 16),
    (Transport::Grpc, 64),
];

struct Settings {
    secs: f64,
    warmup: f64,
    scenarios: Vec<(Transport, usize)>,
    grpc_channels: usize,
    slow_ms: Option<f64>,
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let scenarios = match std::env::var("BENCH_ONLY") {
            Err(_) => SCENARIOS.to_vec(),
            Ok(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    let (t, n) = s.trim().split_once(':').unwrap_or_else(|| {
                        panic!("BENCH_ONLY entry {s:?} is not transport:callers")
                    });
                    let t = match t.to_ascii_lowercase().as_str() {
                        "http" => Transport::Http,
                        "grpc" => Transport::Grpc,
                        other => panic!("BENCH_ONLY transport {other:?}: expected http or grpc"),
                    };
                    let n: usize = n.parse().expect("BENCH_ONLY caller count");
                    assert!(n > 0, "BENCH_ONLY caller count must be positive");
                    (t, n)
                })
                .collect(),
        };
        let grpc_channels: usize = env_num("BENCH_GRPC_CHANNELS", 1);
        assert!(grpc_channels > 0, "BENCH_GRPC_CHANNELS must be positive");
        Settings {
            secs: env_num("BENCH_SECS", 5.0),
            warmup: env_num("BENCH_WARMUP_SECS", 1.0),
            scenarios,
            grpc_channels,
            slow_ms: std::env::var("BENCH_SLOW_MS").ok().map(|v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("BENCH_SLOW_MS={v:?} is not a number"))
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------
// CPU accounting from /proc.

/// Clock ticks per second of the times in /proc (USER_HZ). Linux fixes it at 100 for
/// /proc whatever the kernel's own tick rate, as the gateway's `/metrics` and `signet bench`
/// assume too; asking sysconf(_SC_CLK_TCK) would take `unsafe`, which the workspace forbids.
fn clock_ticks_per_sec() -> f64 {
    100.0
}

/// `utime + stime` of a process, in clock ticks (all its threads, not its children).
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; fields restart after it.
    // After ")" come field 3 (state) onwards, so utime (14) and stime (15) are at 11, 12.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// (busy, idle) ticks of the whole machine, summed over CPUs, from the first line of
/// /proc/stat. Idle includes iowait; steal counts as busy (someone else had the core).
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    let busy: u64 = v.iter().take(8).sum::<u64>() - idle;
    Some((busy, idle))
}

/// Run time of a process's live threads in ns, summed from `/proc/<pid>/task/*/schedstat`
/// (the scheduler's own clock, not tick samples). Threads that exit are lost, so this is
/// only a cross-check of [`process_ticks`].
fn process_sched_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            total += s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Some(total)
}

#[derive(Clone, Copy)]
struct CpuSnapshot {
    at: Instant,
    server: u64,
    server_sched_ns: u64,
    bench: u64,
    busy: u64,
    idle: u64,
}

fn cpu_snapshot(server_pid: u32) -> CpuSnapshot {
    let (busy, idle) = machine_ticks().unwrap_or((0, 0));
    CpuSnapshot {
        at: Instant::now(),
        server: process_ticks(server_pid).expect("read the server's /proc/<pid>/stat"),
        server_sched_ns: process_sched_ns(server_pid).unwrap_or(0),
        bench: process_ticks(std::process::id()).unwrap_or(0),
        busy,
        idle,
    }
}

/// CPU seconds spent during a window, split by who spent them.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    wall: f64,
    server: f64,
    /// The server's CPU seconds by schedstat, to cross-check `server`.
    server_sched: f64,
    bench: f64,
    /// Busy time of the machine used by neither (other processes, interrupts).
    other: f64,
    idle: f64,
}

fn cpu_use(a: CpuSnapshot, b: CpuSnapshot, hz: f64) -> CpuUse {
    let d = |x: u64, y: u64| y.saturating_sub(x) as f64 / hz;
    let server = d(a.server, b.server);
    let bench = d(a.bench, b.bench);
    CpuUse {
        wall: (b.at - a.at).as_secs_f64(),
        server,
        server_sched: b.server_sched_ns.saturating_sub(a.server_sched_ns) as f64 / 1e9,
        bench,
        other: (d(a.busy, b.busy) - server - bench).max(0.0),
        idle: d(a.idle, b.idle),
    }
}

// ---------------------------------------------------------------------------------------
// The server: `signet dev` as a child process.

struct DevServer {
    child: tokio::process::Child,
    pid: u32,
    grpc_addr: String,
    http_addr: String,
    public_url: String,
    admin_secret: String,
    _data: tempfile::TempDir,
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .join("target"),
    }
}

fn signet_binary() -> PathBuf {
    let bin = std::env::var_os("SIGNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release").join("signet"));
    if !bin.is_file() {
        eprintln!(
            "client_credentials: no signet binary at {}.\n\
             Build it first:  cargo build --release -p signet\n\
             (or set SIGNET_BIN to a signet binary)",
            bin.display()
        );
        std::process::exit(2);
    }
    bin
}

/// Newest modification time of the sources the binary is built from (`crates/`, `proto/`,
/// the root manifest and lockfile), to warn about a stale binary.
fn newest_source() -> Option<(SystemTime, PathBuf)> {
    fn walk(dir: &Path, best: &mut Option<(SystemTime, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                if p.file_name().is_some_and(|n| n != "target" && n != "tests") {
                    walk(&p, best);
                }
            } else if p
                .extension()
                .is_some_and(|x| x == "rs" || x == "proto" || x == "toml")
            {
                if let Ok(m) = meta.modified() {
                    if best.as_ref().is_none_or(|(t, _)| m > *t) {
                        *best = Some((m, p));
                    }
                }
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let mut best = None;
    walk(&root.join("crates"), &mut best);
    walk(&root.join("proto"), &mut best);
    for f in ["Cargo.toml", "Cargo.lock"] {
        if let Ok(m) = std::fs::metadata(root.join(f)).and_then(|m| m.modified()) {
            if best.as_ref().is_none_or(|(t, _)| m > *t) {
                best = Some((m, root.join(f)));
            }
        }
    }
    best
}

impl DevServer {
    async fn start(bin: &Path) -> DevServer {
        let data = tempfile::tempdir().expect("temp dir");
        let dir = data.path().to_str().expect("utf-8 temp dir").to_string();
        let mut cmd = tokio::process::Command::new(bin);
        cmd.args(signet_testkit::dev_args(&dir));
        // Nothing from the caller's environment may change what is measured.
        for var in [
            "SIGNET_DATA_DIR",
            "SIGNET_API_ADDR",
            "SIGNET_GRPC_ADDR",
            "SIGNET_HTTP_ADDR",
            "SIGNET_PUBLIC_URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let pid = child.id().expect("child pid");

        // Forward the server's stderr (warnings), marked, but not the admin secret it
        // prints on first start.
        let stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            let mut hide_next = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("generated an admin secret") {
                    hide_next = true;
                    continue;
                }
                if hide_next && !line.trim().is_empty() {
                    hide_next = false;
                    continue;
                }
                if !line.trim().is_empty() {
                    eprintln!("  [signet dev] {line}");
                }
            }
        });

        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read server stdout") {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["event"] == "ready" {
                        return v;
                    }
                }
            }
            panic!("signet dev exited before printing its ready line");
        })
        .await
        .expect("signet dev not ready within 60 s");
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let field = |k: &str| {
            ready[k]
                .as_str()
                .unwrap_or_else(|| panic!("ready line without {k}: {ready}"))
                .to_string()
        };
        let secrets_path = data.path().join("dev-secrets.json");
        let secrets: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&secrets_path)
                .unwrap_or_else(|e| panic!("read {}: {e}", secrets_path.display())),
        )
        .expect("dev-secrets.json is JSON");
        let admin_secret = secrets["admin_secret"]
            .as_str()
            .expect("admin_secret in dev-secrets.json")
            .to_string();
        DevServer {
            pid,
            grpc_addr: field("grpc_addr"),
            http_addr: field("http_addr"),
            public_url: field("public_url"),
            admin_secret,
            child,
            _data: data,
        }
    }

    /// Panic if the server has exited (a crash mid-run would make every number wrong).
    fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("signet dev exited during the bench: {status}");
        }
    }

    /// SIGTERM, then wait up to 10 s (then the drop kills it).
    async fn stop(mut self) -> String {
        // Our own child, not reaped yet, so the pid is still its own. kill(1) sends the
        // signal: kill(2) through libc would take `unsafe`, which the workspace forbids.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(Ok(s)) => format!("stopped: {s}"),
            Ok(Err(e)) => format!("wait failed: {e}"),
            Err(_) => "did not stop within 10 s of SIGTERM; killed".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Setup through the admin API.

struct BenchClient {
    pool_id: String,
    client_id: String,
    client_secret: String,
}

fn with_admin<T>(secret: &str, msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {secret}").parse().expect("ascii secret"),
    );
    r
}

async fn grpc_channel(addr: &str) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

async fn setup(server: &DevServer) -> BenchClient {
    let secret = server.admin_secret.as_str();
    let mut admin = UserPoolAdminClient::new(grpc_channel(&server.grpc_addr).await);
    let pool = admin
        .create_user_pool(with_admin(
            secret,
            pb::CreateUserPoolRequest {
                pool_name: "bench-client-credentials".into(),
                signing_alg: "EdDSA".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("CreateUserPool")
        .into_inner()
        .user_pool
        .expect("pool in answer");
    let scope = |name: &str| pb::ResourceServerScopeType {
        scope_name: name.into(),
        scope_description: format!("{name} orders"),
    };
    admin
        .create_resource_server(with_admin(
            secret,
            pb::ResourceServerType {
                user_pool_id: pool.id.clone(),
                identifier: "orders".into(),
                name: "Orders API".into(),
                scopes: vec![scope("read"), scope("write")],
            },
        ))
        .await
        .expect("CreateResourceServer");
    let client = admin
        .create_user_pool_client(with_admin(
            secret,
            pb::CreateUserPoolClientRequest {
                user_pool_id: pool.id.clone(),
                client_name: "bench-service".into(),
                generate_secret: true,
                allowed_oauth_flows: vec!["client_credentials".into()],
                allowed_oauth_scopes: vec!["orders/read".into(), "orders/write".into()],
                ..Default::default()
            },
        ))
        .await
        .expect("CreateUserPoolClient")
        .into_inner()
        .user_pool_client
        .expect("client in answer");
    assert!(
        !client.client_secret.is_empty(),
        "CreateUserPoolClient did not return the secret"
    );
    BenchClient {
        pool_id: pool.id,
        client_id: client.client_id,
        client_secret: client.client_secret,
    }
}

// ---------------------------------------------------------------------------------------
// Callers.

/// `application/x-www-form-urlencoded` encoding (RFC 6749 §2.3.1 wants it for the Basic
/// credentials too).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The token request, encoded once; each call only clones reference-counted parts.
struct HttpRequestTemplate {
    uri: Uri,
    authorization: HeaderValue,
    content_type: HeaderValue,
    body: Bytes,
}

impl HttpRequestTemplate {
    fn new(http_addr: &str, c: &BenchClient) -> HttpRequestTemplate {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_encode(&c.client_id),
            form_encode(&c.client_secret)
        ));
        HttpRequestTemplate {
            uri: format!("http://{http_addr}/{}/oauth2/token", c.pool_id)
                .parse()
                .expect("token URI"),
            authorization: HeaderValue::from_str(&format!("Basic {basic}")).expect("header"),
            content_type: HeaderValue::from_static("application/x-www-form-urlencoded"),
            body: Bytes::from(format!(
                "grant_type=client_credentials&scope={}",
                form_encode(SCOPE)
            )),
        }
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut r = Request::new(Full::new(self.body.clone()));
        *r.method_mut() = http::Method::POST;
        *r.uri_mut() = self.uri.clone();
        let h = r.headers_mut();
        h.insert(AUTHORIZATION, self.authorization.clone());
        h.insert(CONTENT_TYPE, self.content_type.clone());
        r
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(conn)
}

/// What one caller saw.
#[derive(Default)]
struct CallerStats {
    /// Latency of each token answered inside the window, µs.
    lat_us: Vec<u32>,
    /// Non-token answers completed inside the window.
    errors: u64,
    /// Non-token answers during the warm-up.
    warmup_errors: u64,
    first_error: Option<String>,
    /// One access token from the window, to verify.
    sample: Option<String>,
    /// (seconds into the window, µs) of tokens slower than `BENCH_SLOW_MS`.
    slow: Vec<(f64, u32)>,
}

#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    to: Instant,
    /// Note tokens slower than this (`BENCH_SLOW_MS`), µs.
    slow_us: Option<u32>,
}

impl CallerStats {
    /// Count an answer by its completion time `t1`. `token` is only called for the
    /// first good answer in the window.
    fn record(
        &mut self,
        w: Window,
        t0: Instant,
        t1: Instant,
        outcome: Result<(), String>,
        token: impl FnOnce() -> Option<String>,
    ) {
        match outcome {
            Ok(()) if t1 >= w.from && t1 <= w.to => {
                let us = (t1 - t0).as_micros().min(u32::MAX as u128) as u32;
                self.lat_us.push(us);
                if w.slow_us.is_some_and(|slow| us > slow) {
                    self.slow.push(((t1 - w.from).as_secs_f64(), us));
                }
                if self.sample.is_none() {
                    self.sample = token();
                }
            }
            Ok(()) => {}
            Err(e) => {
                if t1 < w.from {
                    self.warmup_errors += 1;
                } else if t1 <= w.to {
                    self.errors += 1;
                } else {
                    return;
                }
                self.first_error.get_or_insert(e);
            }
        }
    }
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    s.chars().take(ERROR_SNIPPET).collect()
}

/// One HTTP answer: Ok(body) for a 200 whose body carries an access token.
async fn http_call(client: &HttpClient, req: Request<Full<Bytes>>) -> Result<Bytes, String> {
    let resp = client
        .request(req)
        .await
        .map_err(|e| format!("HTTP transport: {e:?}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("HTTP body: {e}"))?
        .to_bytes();
    const NEEDLE: &[u8] = b"\"access_token\":\"";
    if status == StatusCode::OK && body.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
        Ok(body)
    } else {
        Err(format!("HTTP {status}: {}", snippet(&body)))
    }
}

fn token_from_json(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v["access_token"].as_str().map(str::to_string)
}

async fn http_caller(
    client: HttpClient,
    tpl: Arc<HttpRequestTemplate>,
    w: Window,
    keep_sample: bool,
) -> CallerStats {
    let mut st = CallerStats::default();
    while Instant::now() < w.to {
        let req = tpl.request();
        let t0 = Instant::now();
        let res = http_call(&client, req).await;
        let t1 = Instant::now();
        let (outcome, body) = match res {
            Ok(b) => (Ok(()), Some(b)),
            Err(e) => (Err(e), None),
        };
        st.record(w, t0, t1, outcome, || {
            body.filter(|_| keep_sample)
                .and_then(|b| token_from_json(&b))
        });
    }
    st
}

async fn grpc_caller(
    mut client: UserPoolAuthClient<Channel>,
    req: pb::IssueClientTokenRequest,
    w: Window,
    keep_sample: bool,
) -> CallerStats {
    let mut st = CallerStats::default();
    while Instant::now() < w.to {
        let r = tonic::Request::new(req.clone());
        let t0 = Instant::now();
        let res = client.issue_client_token(r).await;
        let t1 = Instant::now();
        let (outcome, token) = match res {
            Ok(a) if !a.get_ref().access_token.is_empty() => {
                (Ok(()), Some(a.into_inner().access_token))
            }
            Ok(_) => (Err("gRPC OK without an access_token".to_string()), None),
            Err(s) => (
                Err(format!(
                    "gRPC {:?}: {}",
                    s.code(),
                    snippet(s.message().as_bytes())
                )),
                None,
            ),
        };
        st.record(w, t0, t1, outcome, || token.filter(|_| keep_sample));
    }
    st
}

// ---------------------------------------------------------------------------------------
// Scenarios.

struct Row {
    transport: Transport,
    callers: usize,
    window: f64,
    /// Sorted latencies, µs.
    lat_us: Vec<u32>,
    errors: u64,
    warmup_errors: u64,
    first_error: Option<String>,
    cpu: CpuUse,
    /// Ok, or why the sample token did not verify.
    verified: Result<(), String>,
}

struct Ctx {
    server_pid: u32,
    http_addr: String,
    grpc_addr: String,
    client: BenchClient,
    jwks: JwksCache,
    expected: Expected,
    hz: f64,
}

async fn run_scenario(ctx: &Ctx, transport: Transport, callers: usize, s: &Settings) -> Row {
    // Fresh connections per scenario; they are opened during the warm-up.
    let start = Instant::now() + Duration::from_millis(20);
    let w = Window {
        from: start + Duration::from_secs_f64(s.warmup),
        to: start + Duration::from_secs_f64(s.warmup + s.secs),
        slow_us: s.slow_ms.map(|ms| (ms * 1000.0) as u32),
    };
    let mut tasks = Vec::with_capacity(callers);
    match transport {
        Transport::Http => {
            let client = http_client();
            let tpl = Arc::new(HttpRequestTemplate::new(&ctx.http_addr, &ctx.client));
            for i in 0..callers {
                tasks.push(tokio::spawn(http_caller(
                    client.clone(),
                    tpl.clone(),
                    w,
                    i == 0,
                )));
            }
        }
        Transport::Grpc => {
            let mut channels = Vec::with_capacity(s.grpc_channels);
            for _ in 0..s.grpc_channels {
                channels.push(grpc_channel(&ctx.grpc_addr).await);
            }
            let req = pb::IssueClientTokenRequest {
                user_pool_id: ctx.client.pool_id.clone(),
                client_id: ctx.client.client_id.clone(),
                client_secret: ctx.client.client_secret.clone(),
                scope: SCOPE.into(),
            };
            for i in 0..callers {
                let client = UserPoolAuthClient::new(channels[i % channels.len()].clone());
                tasks.push(tokio::spawn(grpc_caller(client, req.clone(), w, i == 0)));
            }
        }
    }

    tokio::time::sleep_until(w.from.into()).await;
    let before = cpu_snapshot(ctx.server_pid);
    tokio::time::sleep_until(w.to.into()).await;
    let after = cpu_snapshot(ctx.server_pid);

    let mut all = CallerStats::default();
    let mut sample = None;
    let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    for t in tasks {
        let abort = t.abort_handle();
        match tokio::time::timeout_at(deadline, t).await {
            Ok(Ok(st)) => {
                all.lat_us.extend(st.lat_us);
                all.errors += st.errors;
                all.warmup_errors += st.warmup_errors;
                if all.first_error.is_none() {
                    all.first_error = st.first_error;
                }
                if sample.is_none() {
                    sample = st.sample;
                }
                all.slow.extend(st.slow);
            }
            Ok(Err(e)) => panic!("caller task failed: {e}"),
            Err(_) => {
                abort.abort();
                all.errors += 1;
                all.first_error
                    .get_or_insert_with(|| "caller still waiting 10 s after the window".into());
            }
        }
    }
    all.lat_us.sort_unstable();
    if let Some(slow) = w.slow_us {
        all.slow.sort_by(|a, b| a.0.total_cmp(&b.0));
        eprintln!(
            "  {} token(s) slower than {:.1} ms (s into the window: ms):",
            all.slow.len(),
            slow as f64 / 1000.0
        );
        for (at, us) in all.slow.iter().take(60) {
            eprintln!("    {at:7.3}: {:.2}", *us as f64 / 1000.0);
        }
    }

    let verified = match sample {
        None => Err("no token in the window to verify".to_string()),
        Some(token) => match ctx.jwks.verify(&token, &ctx.expected).await {
            Err(e) => Err(format!("signet_verify: {e}")),
            Ok(claims) if claims.get("scope").and_then(|v| v.as_str()) != Some(SCOPE) => {
                Err(format!("unexpected scope claim {:?}", claims.get("scope")))
            }
            Ok(claims)
                if claims.get("sub").and_then(|v| v.as_str()) != Some(&ctx.client.client_id) =>
            {
                Err(format!("unexpected sub claim {:?}", claims.get("sub")))
            }
            Ok(_) => Ok(()),
        },
    };

    Row {
        transport,
        callers,
        window: s.secs,
        lat_us: all.lat_us,
        errors: all.errors,
        warmup_errors: all.warmup_errors,
        first_error: all.first_error,
        cpu: cpu_use(before, after, ctx.hz),
        verified,
    }
}

/// One token over each transport before anything is measured, so a broken setup fails
/// fast with the server's own answer.
async fn smoke(ctx: &Ctx) {
    let tpl = HttpRequestTemplate::new(&ctx.http_addr, &ctx.client);
    let body = http_call(&http_client(), tpl.request())
        .await
        .unwrap_or_else(|e| panic!("first HTTP token request failed: {e}"));
    let token = token_from_json(&body).expect("access_token in the first HTTP answer");
    ctx.jwks
        .verify(&token, &ctx.expected)
        .await
        .unwrap_or_else(|e| panic!("first HTTP token does not verify: {e}"));
    let mut auth = UserPoolAuthClient::new(grpc_channel(&ctx.grpc_addr).await);
    let t = auth
        .issue_client_token(pb::IssueClientTokenRequest {
            user_pool_id: ctx.client.pool_id.clone(),
            client_id: ctx.client.client_id.clone(),
            client_secret: ctx.client.client_secret.clone(),
            scope: SCOPE.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("first IssueClientToken failed: {e}"))
        .into_inner();
    ctx.jwks
        .verify(&t.access_token, &ctx.expected)
        .await
        .unwrap_or_else(|e| panic!("first gRPC token does not verify: {e}"));
}

// ---------------------------------------------------------------------------------------
// Report.

/// Nearest-rank percentile of sorted µs samples, in ms.
fn pct_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn shell_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let vm = info
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "hypervisor"));
    if vm {
        format!("{model}, virtual machine")
    } else {
        model
    }
}

fn mem_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0 / 1024.0)
}

struct RunInfo {
    bin: PathBuf,
    bin_note: String,
    hz: f64,
    load_before: String,
    /// The server's CPU while nobody asked it anything, before the first scenario.
    idle_server: CpuUse,
}

fn print_report(s: &Settings, info: &RunInfo, rows: &[Row]) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    println!("## client_credentials\n");
    let command = signet_benches::command_line(
        "client_credentials",
        &["BENCH_GRPC_CHANNELS", "BENCH_SLOW_MS", "SIGNET_BIN"],
    );
    println!("* command: `{command}`");
    println!(
        "* machine: {nproc} × {} (nproc {nproc}), {:.1} GiB RAM, Linux {kernel}",
        cpu_model(),
        mem_gib()
    );
    println!(
        "* date: {}",
        shell_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default()
    );
    println!("* server: `{}` ({})", info.bin.display(), info.bin_note);
    println!(
        "* per scenario: {} s warm-up, {} s measured; HTTP callers share one hyper-util client \
         (keep-alive, client_secret_basic); gRPC callers share {} channel(s)",
        s.warmup, s.secs, s.grpc_channels
    );
    println!(
        "* CPU: from /proc at {} ticks/s (sysconf); server = `signet dev` process, bench = this \
         process (all callers), other = the rest of the machine's busy time; \
         **client and server share the {nproc} cores**",
        info.hz
    );
    println!(
        "* server CPU with no requests (over {:.0} s before the first scenario): {:.3} CPU-s \
         per s ({:.3} by schedstat)",
        info.idle_server.wall,
        info.idle_server.server / info.idle_server.wall,
        info.idle_server.server_sched / info.idle_server.wall
    );
    println!("* load average before the run: {}\n", info.load_before);
    println!(
        "| transport | callers | tokens | tokens/s | p50 ms | p90 ms | p99 ms | max ms | errors \
         | server CPU s | **tokens / server CPU-s** | bench CPU s | other CPU s | idle CPU s | verified |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let n = r.lat_us.len();
        let per_cpu = if r.cpu.server > 0.0 {
            format!("{:.0}", n as f64 / r.cpu.server)
        } else {
            "–".into()
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {:.2} | **{}** | {:.2} | {:.2} | {:.2} | {} |",
            r.transport.name(),
            r.callers,
            n,
            n as f64 / r.window,
            pct_ms(&r.lat_us, 50.0),
            pct_ms(&r.lat_us, 90.0),
            pct_ms(&r.lat_us, 99.0),
            r.lat_us.last().map_or(f64::NAN, |v| *v as f64 / 1000.0),
            r.errors,
            r.cpu.server,
            per_cpu,
            r.cpu.bench,
            r.cpu.other,
            r.cpu.idle,
            if r.verified.is_ok() { "yes" } else { "**NO**" },
        );
    }
    println!();
    let check: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} × {} {:.2} s",
                r.transport.name(),
                r.callers,
                r.cpu.server_sched
            )
        })
        .collect();
    println!(
        "* server CPU cross-check, by the scheduler's per-thread run time \
         (`/proc/<pid>/task/*/schedstat`, live threads): {}",
        check.join(", ")
    );
    for r in rows {
        let what = format!("{} × {}", r.transport.name(), r.callers);
        if let Some(e) = &r.first_error {
            println!(
                "* first error ({what}; {} in the window, {} in the warm-up): {e}",
                r.errors, r.warmup_errors
            );
        }
        if let Err(e) = &r.verified {
            println!("* token NOT verified ({what}): {e}");
        }
        let drift = (r.cpu.wall - r.window).abs();
        if drift > 0.05 {
            println!(
                "* CPU window ({what}) was {:.3} s, not {} s (a late timer)",
                r.cpu.wall, r.window
            );
        }
    }
}

fn main() {
    let settings = Settings::from_env();
    let bin = signet_binary();
    let hz = clock_ticks_per_sec();
    let bin_time = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let bin_date = shell_line(
        "date",
        &[
            "-u",
            "-r",
            bin.to_str().unwrap_or_default(),
            "+%Y-%m-%d %H:%M UTC",
        ],
    )
    .unwrap_or_else(|| "unknown".into());
    let mut bin_note = format!("built {bin_date}");
    if let (Some(b), Some((src, path))) = (bin_time, newest_source()) {
        if src > b {
            eprintln!(
                "client_credentials: WARNING: {} is newer than {}; rebuild with \
                 `cargo build --release -p signet` to measure the current code",
                path.display(),
                bin.display()
            );
            bin_note.push_str(&format!("; OLDER than {}", path.display()));
        }
    }
    if let Some(commit) = shell_line("git", &["rev-parse", "--short", "HEAD"]) {
        bin_note.push_str(&format!("; HEAD {commit}"));
        if shell_line("git", &["status", "--porcelain", "--", "crates", "proto"]).is_some() {
            bin_note.push_str(", with uncommitted changes under crates/ or proto/");
        }
    }
    let load_before = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (rows, idle_server) = rt.block_on(async {
        let t0 = Instant::now();
        let mut server = DevServer::start(&bin).await;
        let client = setup(&server).await;
        let issuer = format!("{}/{}", server.public_url, client.pool_id);
        let jwks_url = format!(
            "http://{}/{}/.well-known/jwks.json",
            server.http_addr, client.pool_id
        );
        let ctx = Ctx {
            server_pid: server.pid,
            http_addr: server.http_addr.clone(),
            grpc_addr: server.grpc_addr.clone(),
            jwks: JwksCache::new(&jwks_url, JwksOptions::default()).expect("JWKS URL"),
            expected: Expected {
                issuer,
                token_use: TokenUse::Access,
                clients: Some(vec![client.client_id.clone()]),
                leeway_s: 5,
            },
            client,
            hz,
        };
        smoke(&ctx).await;
        eprintln!(
            "client_credentials: signet dev (pid {}) ready and set up in {:.1?}",
            ctx.server_pid,
            t0.elapsed()
        );
        // What the server burns on its own (Raft heartbeats, cache freshness checks…).
        let a = cpu_snapshot(ctx.server_pid);
        tokio::time::sleep(IDLE_PROBE).await;
        let idle_server = cpu_use(a, cpu_snapshot(ctx.server_pid), hz);
        let mut rows = Vec::new();
        for &(transport, callers) in &settings.scenarios {
            eprintln!(
                "client_credentials: {} × {callers} caller(s)…",
                transport.name()
            );
            let row = run_scenario(&ctx, transport, callers, &settings).await;
            server.assert_alive();
            eprintln!(
                "  {} tokens, {} errors, server {:.2} CPU-s ({:.2} by schedstat)",
                row.lat_us.len(),
                row.errors,
                row.cpu.server,
                row.cpu.server_sched
            );
            rows.push(row);
        }
        eprintln!("client_credentials: signet dev {}", server.stop().await);
        (rows, idle_server)
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    print_report(
        &settings,
        &RunInfo {
            bin,
            bin_note,
            hz,
            load_before,
            idle_server,
        },
        &rows,
    );
    if rows
        .iter()
        .any(|r| r.verified.is_err() || r.lat_us.is_empty())
    {
        std::process::exit(1);
    }
}
