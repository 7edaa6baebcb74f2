//! Command-line arguments of `signet bench …` (their `///` comments are the --help text).

use super::parse::parse_duration;
use super::TlsArgs;
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
    /// USER_PASSWORD_AUTH then the SOFTWARE_TOKEN_MFA challenge, for users with a TOTP
    /// authenticator in an OPTIONAL pool (set up by the bench); reports the raw argon2 rate
    /// measured in the same run. A code is accepted once per user and time step, and a
    /// user has three steps in the window: with fewer users than ten seconds' worth of
    /// sign-ins, operations wait for the next 30 s step (and their latency shows it).
    MfaSignIn {
        #[command(flatten)]
        load: LoadArgs,
        /// Users made for the run, each with an authenticator.
        #[arg(long, default_value_t = 400)]
        users: usize,
    },
    /// REFRESH_TOKEN_AUTH with refresh tokens of existing users (no rotation unless
    /// --rotate).
    Refresh {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long, default_value_t = 64)]
        users: usize,
        /// The users' client rotates refresh tokens (one compare-and-set write through the
        /// log per refresh): each caller goes on with the newest token of a user no other
        /// caller holds at that moment (give at least as many users as callers).
        #[arg(long)]
        rotate: bool,
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
    /// client_credentials against another OAuth 2.0 server, for comparison: the same HTTP
    /// load and accounting as `client-credentials --transport http`, with the server's CPU
    /// read from /proc/PID/stat (benches/peer/ starts node's oidc-provider this way).
    PeerToken {
        #[command(flatten)]
        load: LoadArgs,
        /// The peer's token endpoint (loopback unless --allow-remote).
        #[arg(long)]
        token_url: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        client_secret: String,
        #[arg(long, default_value = "")]
        scope: String,
        /// The peer server's process id: its CPU time is read from /proc.
        #[arg(long)]
        server_pid: u32,
    },
    /// The crypto floor on this machine, in this process (no server): Ed25519, ES256 and
    /// RS256 sign and verify, HMAC-SHA256, argon2id, beside Signet's own token sign and
    /// verify, per CPU-second. What the scenarios are divided by in benches/results.md.
    Floor {
        /// How long each primitive runs.
        #[arg(long, default_value = "1s", value_parser = super::parse::parse_duration)]
        time: Duration,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Offline verification throughput of signet-verify in this process (a
    /// client_credentials token against the pool's JWKS); no server work per operation.
    Verify {
        #[command(flatten)]
        load: LoadArgs,
    },
    /// The edge authorizer's forward-auth decisions (`GET /authorize`, as nginx's
    /// auth_request asks) on a client_credentials token. The gateways need a route for
    /// `/bench` open to the bench's pool, e.g. `--authorizer-config` with `[[route]]`,
    /// `prefix = "/bench"`, `pools = ["*"]` (benches/README.md).
    Authorize {
        #[command(flatten)]
        load: LoadArgs,
        /// Distinct tokens, asked about in turn. 1 (the default): the same token on every
        /// call, as a client presents its access token until it expires; the gateway then
        /// verifies it once and reuses that. More than the gateway remembers (8192)
        /// makes every decision verify a signature again.
        #[arg(long, default_value_t = 1)]
        tokens: usize,
    },
    /// GET /healthz over HTTP, or with `--transport grpc` the gRPC health check
    /// (`grpc.health.v1.Health/Check`): the same server, connections and load generator as
    /// the token scenarios with a handler that does nothing, so its CPU per request is what
    /// serving one request costs before any token work (the serving floor the others sit
    /// on). The health check skips the gateway's load shedding, so over gRPC it is a floor
    /// from below.
    ServingFloor {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long, value_enum, default_value = "http")]
        transport: Transport,
    },
    /// Start a 3-node cluster and a gateway of its own (child processes, loopback, a temp
    /// dir), bulk-import users, and measure import rate, disk and memory per node,
    /// sign-in and ListUsers latency at that size, a new node's catch-up from a snapshot
    /// and a restarted node's return.
    Scale(ScaleArgs),
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
    pub tls: TlsArgs,
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

#[derive(Args, Debug)]
pub struct ScaleArgs {
    /// Users imported into the large pool.
    #[arg(long, default_value_t = 1_000_000)]
    pub users: u64,
    /// Users of the small pool whose sign-in latency is the baseline.
    #[arg(long, default_value_t = 1_000)]
    pub baseline_users: u64,
    /// Sign-ins measured per pool (random users), and ListUsers queries.
    #[arg(long, default_value_t = 400)]
    pub samples: u64,
    /// Concurrent sign-ins (keep it at or below the cores so argon2 does not queue).
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Where the nodes keep their data (default: a new temporary directory, removed at
    /// the end unless --keep-dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub keep_dir: bool,
    /// Start the stores with `--state-compression LEVEL`.
    #[arg(long, value_name = "LEVEL", value_parser = clap::value_parser!(i32).range(1..=22))]
    pub state_compression: Option<i32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}
