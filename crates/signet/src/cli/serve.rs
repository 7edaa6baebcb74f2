//! Arguments of the server roles: `signet dev`, `signet store` and `signet gateway`.

use super::parse::parse_duration;
use super::TlsArgs;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DevArgs {
    /// Where data is kept; created on first start, reused afterwards.
    #[arg(long, default_value = "./signet-data", env = "SIGNET_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Listen address of the store API (gRPC).
    #[arg(long, default_value = "127.0.0.1:7401", env = "SIGNET_API_ADDR")]
    pub api_addr: String,
    /// Listen address of the public gRPC API.
    #[arg(long, default_value = "127.0.0.1:7410", env = "SIGNET_GRPC_ADDR")]
    pub grpc_addr: String,
    /// Listen address of the HTTP endpoints (JWKS, discovery, health).
    #[arg(long, default_value = "127.0.0.1:7411", env = "SIGNET_HTTP_ADDR")]
    pub http_addr: String,
    /// Base URL of token issuers (default: http://<http-addr>).
    #[arg(long, env = "SIGNET_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A rate limit, repeatable (or ';'-separated): CLASS.KEY=N/UNIT[,burst=M] with CLASS
    /// sign-in, sign-up, codes or token, KEY address (per source address) or client (per
    /// app client), UNIT s, min or h; e.g. sign-in.address=10/s,burst=50. None by default.
    #[arg(long = "rate-limit", value_delimiter = ';', env = "SIGNET_RATE_LIMIT")]
    pub rate_limits: Vec<String>,
    /// Where a copy of every audit event goes besides the store: off (default), stdout
    /// (one JSON line per event), or an https URL (batches POSTed, signed with the webhook
    /// secret).
    #[arg(long, default_value = "off", env = "SIGNET_AUDIT_STREAM")]
    pub audit_stream: String,
    /// The region AWS-signed admin calls (boto3, the AWS CLI) must name in their signature's
    /// scope; any region when not given.
    #[arg(long, env = "SIGNET_AWS_REGION")]
    pub aws_region: Option<String>,
    /// The edge authorizer's routes (TOML; README "Enforcing at the edge"): what
    /// `/authorize` (nginx auth_request, Caddy forward_auth) and ext_authz let through.
    /// Without it every request asked about is denied.
    #[arg(long, value_name = "FILE", env = "SIGNET_AUTHORIZER_CONFIG")]
    pub authorizer_config: Option<std::path::PathBuf>,
    /// `SERVICE=NAME`: AWS-signed calls to SERVICE (`cognito-idp`, `cognito-identity` or
    /// `sts`) must carry NAME as their signature's service instead of SERVICE (for SDKs
    /// configured with another signing name); repeatable.
    #[arg(long = "aws-signing-name", value_name = "SERVICE=NAME")]
    pub aws_signing_names: Vec<String>,
    /// Signing secret of pre-token-hook POSTs (at least 32 characters); without it, pools'
    /// hooks are not called. Codes stay in the dev outbox.
    #[arg(
        long,
        env = "SIGNET_WEBHOOK_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub webhook_secret: Option<String>,
    /// Allow plaintext listeners (or store connections) on non-loopback addresses, e.g.
    /// inside a trusted network or a development container. Without it, a non-loopback
    /// address needs TLS.
    #[arg(long, env = "SIGNET_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
pub struct GatewayArgs {
    /// Store API addresses, comma-separated (any members; the leader is found, and
    /// members added later are learned from the stores every 5 s).
    #[arg(long, env = "SIGNET_STORE")]
    pub store: String,
    /// A further store group, when user pools are spread over several (deploy/SHARDING.md):
    /// its API addresses, comma-separated. Repeat for each group, in the same order on
    /// every gateway; --store is group 0, the directory.
    #[arg(long = "store-group", value_name = "ADDRS")]
    pub store_groups: Vec<String>,
    /// Reach only the stores of --store: do not learn the other members' addresses from
    /// the stores (for advertised addresses this gateway cannot route to).
    #[arg(long, env = "SIGNET_NO_STORE_DISCOVERY")]
    pub no_store_discovery: bool,
    /// Listen address of the public gRPC API.
    #[arg(long, default_value = "127.0.0.1:7410", env = "SIGNET_GRPC_ADDR")]
    pub grpc_addr: String,
    /// Listen address of the HTTP endpoints.
    #[arg(long, default_value = "127.0.0.1:7411", env = "SIGNET_HTTP_ADDR")]
    pub http_addr: String,
    /// Base URL clients reach the gateways at; a pool's issuer is <public-url>/<pool-id>.
    /// Every gateway of a cluster must use the same one.
    #[arg(long, env = "SIGNET_PUBLIC_URL")]
    pub public_url: String,
    /// Bearer secret of the admin API (at least 16 characters).
    #[arg(
        allow_hyphen_values = true,
        long,
        env = "SIGNET_ADMIN_SECRET",
        hide_env_values = true
    )]
    pub admin_secret: String,
    /// Server key, hex, at least 32 bytes; the same on every gateway.
    #[arg(
        allow_hyphen_values = true,
        long,
        env = "SIGNET_SERVER_SECRET",
        hide_env_values = true
    )]
    pub server_secret: String,
    /// POST codes to this https URL as signed JSON (needs --webhook-secret). A gateway
    /// needs this or --dev-outbox.
    #[arg(long, env = "SIGNET_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// Cache-Control max-age of JWKS responses; a new key signs this long after it is
    /// published (plus a 10 s margin).
    #[arg(long, default_value_t = 60, env = "SIGNET_JWKS_MAX_AGE_SECS")]
    pub jwks_max_age_secs: u64,
    /// How long this gateway's hold on its signing keys lasts; it renews it every third of
    /// this. The stores retire the keys of a gateway that has not renewed for this long
    /// (killed, frozen, cut off), so make it longer than the longest write outage you
    /// expect: a live gateway whose lease lapses must publish new keys.
    #[arg(long, default_value_t = 60, env = "SIGNET_KEY_LEASE_SECS", value_parser = clap::value_parser!(u64).range(3..=86_400))]
    pub key_lease_secs: u64,
    /// A request not answered within this time gets DEADLINE_EXCEEDED (gRPC) or 503
    /// (HTTP), and its work is dropped.
    #[arg(
        long,
        default_value_t = signet_gateway::ServingLimits::default().request_timeout.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        env = "SIGNET_REQUEST_TIMEOUT_MS"
    )]
    pub request_timeout_ms: u64,
    /// Requests in progress at once (gRPC and HTTP together); one more is refused at once
    /// with RESOURCE_EXHAUSTED / 503. Health, readiness and metrics are never refused.
    #[arg(
        long,
        default_value_t = signet_gateway::ServingLimits::default().max_in_flight,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..),
        env = "SIGNET_MAX_IN_FLIGHT"
    )]
    pub max_in_flight: usize,
    /// A rate limit, repeatable (or ';'-separated): CLASS.KEY=N/UNIT[,burst=M] with CLASS
    /// sign-in, sign-up, codes or token, KEY address (per source address) or client (per
    /// app client), UNIT s, min or h; e.g. sign-in.address=10/s,burst=50. None by default.
    #[arg(long = "rate-limit", value_delimiter = ';', env = "SIGNET_RATE_LIMIT")]
    pub rate_limits: Vec<String>,
    /// Where a copy of every audit event goes besides the store: off (default), stdout
    /// (one JSON line per event), or an https URL (batches POSTed, signed with the webhook
    /// secret).
    #[arg(long, default_value = "off", env = "SIGNET_AUDIT_STREAM")]
    pub audit_stream: String,
    /// The region AWS-signed admin calls (boto3, the AWS CLI) must name in their signature's
    /// scope; any region when not given.
    #[arg(long, env = "SIGNET_AWS_REGION")]
    pub aws_region: Option<String>,
    /// The edge authorizer's routes (TOML; README "Enforcing at the edge"): what
    /// `/authorize` (nginx auth_request, Caddy forward_auth) and ext_authz let through.
    /// Without it every request asked about is denied.
    #[arg(long, value_name = "FILE", env = "SIGNET_AUTHORIZER_CONFIG")]
    pub authorizer_config: Option<std::path::PathBuf>,
    /// `SERVICE=NAME`: AWS-signed calls to SERVICE (`cognito-idp`, `cognito-identity` or
    /// `sts`) must carry NAME as their signature's service instead of SERVICE (for SDKs
    /// configured with another signing name); repeatable.
    #[arg(long = "aws-signing-name", value_name = "SERVICE=NAME")]
    pub aws_signing_names: Vec<String>,
    /// Signing secret of webhook and pre-token-hook POSTs (at least 32 characters; the
    /// receivers check the Signet-Signature header with it).
    #[arg(
        long,
        env = "SIGNET_WEBHOOK_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub webhook_secret: Option<String>,
    /// DEVELOPMENT ONLY: keep codes in plaintext in the replicated store (`signet admin
    /// outbox`) instead of sending them to --webhook-url.
    #[arg(long, conflicts_with = "webhook_url", env = "SIGNET_DEV_OUTBOX")]
    pub dev_outbox: bool,
    /// Allow plain-http webhooks, hooks and JWKS URLs on loopback (127.0.0.0/8, ::1,
    /// localhost), e.g. a sidecar; every other outbound URL must be https.
    #[arg(long, env = "SIGNET_ALLOW_INSECURE_LOOPBACK_HTTP")]
    pub allow_insecure_loopback_http: bool,
    /// Certificate (PEM chain) of the public gRPC and HTTP listeners; with --tls-key they
    /// serve TLS. Reloaded when the file changes.
    #[arg(long, requires = "tls_key", env = "SIGNET_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert.
    #[arg(long, requires = "tls_cert", env = "SIGNET_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS to the stores: the cluster CA and this gateway's certificate (role gateway).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Allow plaintext listeners (or store connections) on non-loopback addresses, e.g.
    /// inside a trusted network or a development container. Without it, a non-loopback
    /// address needs TLS.
    #[arg(long, env = "SIGNET_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
}

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// Raft node id (1 or more), unique in the cluster. Never reuse the id of a node whose
    /// data was lost (until the old member is removed).
    #[arg(long, env = "SIGNET_NODE_ID", conflicts_with = "node_id_from_hostname", value_parser = clap::value_parser!(u64).range(1..))]
    pub node_id: Option<u64>,
    /// Take the node id from a StatefulSet pod's host name: ordinal + 1 (`…-0` is node 1).
    #[arg(long, env = "SIGNET_NODE_ID_FROM_HOSTNAME")]
    pub node_id_from_hostname: bool,
    /// Where this node keeps its log, state machine and snapshots.
    #[arg(long, env = "SIGNET_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Listen address for Raft traffic between store nodes.
    #[arg(long, env = "SIGNET_RAFT_ADDR")]
    pub raft_addr: String,
    /// Listen address of the Store and Cluster APIs (gateways, CLI, joining nodes).
    #[arg(long, env = "SIGNET_API_ADDR")]
    pub api_addr: String,
    /// Listen address of plain-HTTP /healthz (liveness), /readyz (can serve linearizable
    /// reads) and /metrics (Prometheus), for probes and scrapers without certificates.
    #[arg(long, env = "SIGNET_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Raft address other nodes should use, if not the listen address (e.g. a pod DNS name).
    #[arg(long, env = "SIGNET_ADVERTISE_RAFT_ADDR")]
    pub advertise_raft_addr: Option<String>,
    /// API address others should use, if not the listen address.
    #[arg(long, env = "SIGNET_ADVERTISE_API_ADDR")]
    pub advertise_api_addr: Option<String>,
    /// Create a new cluster with this node as its only voter (ignored if already initialised).
    #[arg(long, conflicts_with = "join", env = "SIGNET_INIT")]
    pub init: bool,
    /// Join the cluster of the store at this API address: added as learner, caught up,
    /// then promoted to voter. A node that does not catch up is removed again and the
    /// start fails.
    #[arg(long, env = "SIGNET_JOIN", conflicts_with = "bootstrap")]
    pub join: Option<String>,
    /// Become a member without a human (StatefulSets): with no state, join the cluster a
    /// peer belongs to; node 1 starts a new cluster only once every peer has answered that
    /// none exists. With state, just start.
    #[arg(long, env = "SIGNET_BOOTSTRAP", conflicts_with = "init")]
    pub bootstrap: bool,
    /// API addresses of every member (this node may be among them), comma-separated.
    #[arg(long, value_delimiter = ',', env = "SIGNET_PEERS")]
    pub peers: Vec<String>,
    /// How long node 1 waits for its peers before starting a new cluster.
    #[arg(long, default_value = "30s", value_parser = parse_duration, env = "SIGNET_BOOTSTRAP_WAIT")]
    pub bootstrap_wait: std::time::Duration,
    /// Mutual TLS of the Raft and API listeners and of calls to other stores: the cluster
    /// CA and this node's certificate (role store).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Allow plaintext listeners (or store connections) on non-loopback addresses, e.g.
    /// inside a trusted network or a development container. Without it, a non-loopback
    /// address needs TLS.
    #[arg(long, env = "SIGNET_INSECURE_PLAINTEXT")]
    pub insecure_plaintext: bool,
    /// While this node leads: how long a joining node may take to catch up (seconds)
    /// before its Join is rolled back. Raise it for a large store.
    #[arg(long, default_value_t = 30, env = "SIGNET_JOIN_CATCH_UP_SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub join_catch_up_secs: u64,
    /// Build a snapshot after this many applied log entries since the last one (the log
    /// before it is then purged, keeping `--keep-logs-after-snapshot` entries).
    #[arg(long, default_value_t = 20_000, env = "SIGNET_SNAPSHOT_EVERY", value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_every: u64,
    /// Raft heartbeat interval, ms. openraft 0.9 gives every append one heartbeat interval
    /// to be answered, so this must exceed the longest round trip between stores plus a
    /// follower's fsync: a leader whose round trips are longer commits nothing, and since
    /// its heartbeats still arrive, no follower replaces it. Raise it for stores in
    /// different regions (with --election-timeout-ms).
    #[arg(long, default_value_t = 100, env = "SIGNET_HEARTBEAT_MS", value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub heartbeat_ms: u64,
    /// Election timeout, ms: a follower that hears from no leader for a random time between
    /// this and twice this starts an election. At least three heartbeat intervals. The
    /// longest write outage after a leader is lost is about twice this.
    #[arg(long, default_value_t = 500, env = "SIGNET_ELECTION_TIMEOUT_MS", value_parser = clap::value_parser!(u64).range(30..=600_000))]
    pub election_timeout_ms: u64,
    /// Log entries kept behind a snapshot, so a follower slightly behind catches up from
    /// the log rather than by a whole snapshot.
    #[arg(long, default_value_t = 2_000, env = "SIGNET_KEEP_LOGS_AFTER_SNAPSHOT")]
    pub keep_logs_after_snapshot: u64,
    /// Start a new cluster from this backup (`signet cluster backup --out FILE`): needs
    /// --init and an empty --data-dir. The node leads alone with the backup's state and a
    /// new identity (the old cluster's members cannot join it); add members with --join.
    /// Harmless when repeated: a data dir restored from this same backup starts as usual.
    #[arg(long, value_name = "FILE", requires = "init")]
    pub restore: Option<std::path::PathBuf>,
    /// Memory the state machine's page cache may use, MiB (sled; its own default is
    /// 1024). Reads past it go to disk; the node's RSS is this plus the log cache plus a
    /// working set.
    #[arg(long, default_value_t = 256, env = "SIGNET_CACHE_MB", value_parser = clap::value_parser!(u64).range(8..=1_048_576))]
    pub cache_mb: u64,
    /// Compress the state machine's pages with zstd at this level (1–22; 1 is fastest). A
    /// new data dir only: an existing one keeps what it was created with. Measured at
    /// 200,000 users: about a third of the disk, about half the import rate.
    #[arg(long, value_name = "LEVEL", env = "SIGNET_STATE_COMPRESSION", value_parser = clap::value_parser!(i32).range(1..=22))]
    pub state_compression: Option<i32>,
    /// Recent log entries kept in memory for followers catching up, MiB.
    #[arg(long, default_value_t = 128, env = "SIGNET_LOG_CACHE_MB", value_parser = clap::value_parser!(u64).range(8..=1_048_576))]
    pub log_cache_mb: u64,
    /// A published signing key is never retired for its gateway's lapsed lease within this
    /// time of its publication (a lease renewal may land after the key).
    #[arg(long, default_value_t = 60, env = "SIGNET_KEY_LEASE_GRACE_SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub key_lease_grace_secs: u64,
}
