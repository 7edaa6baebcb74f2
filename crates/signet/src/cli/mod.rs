//! Command-line interface. Every flag can also come from a `SIGNET_*` environment variable
//! or from the TOML file given with `--config` (flags win over the environment, which wins
//! over the file).

use crate::tls_args::TlsArgs;
use crate::{
    admin_cmd, bench, certs_cmd, cluster_cmd, health_cmd, identity_cmd, serve, sts_cmd, telemetry,
    token_cmd,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "signet",
    version,
    about = "Signet: a self-hosted identity and token service"
)]
#[command(args_override_self = true)]
pub struct Cli {
    /// TOML file of settings; keys are the long flag names of the subcommand.
    #[arg(long, global = true, env = "SIGNET_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log line format on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "SIGNET_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run everything in one process (a single-voter store), data in a local directory.
    Dev(DevArgs),
    /// Run a store node (a Raft voter or learner).
    Store(StoreArgs),
    /// Run a gateway (public APIs) in front of a store cluster.
    Gateway(GatewayArgs),
    /// Inspect and change the store cluster's membership (with an operator certificate
    /// when the stores speak mutual TLS).
    Cluster {
        #[command(flatten)]
        tls: TlsArgs,
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Make a CA and role certificates for the cluster's mutual TLS (tests, small installs).
    Certs(certs_cmd::CertsArgs),
    /// Administer user pools, app clients, users, groups, identity pools and roles through a
    /// gateway (JSON output).
    Admin(admin_cmd::AdminArgs),
    /// End-user flows against a gateway (sign-up, sign-in, refresh, …) and `decode` to look
    /// inside a token.
    Token(token_cmd::TokenArgs),
    /// An identity pool's public calls: the identity of some logins, its AWS-style
    /// credentials, its OpenID token (JSON output).
    Identity(identity_cmd::IdentityArgs),
    /// Security tokens: assume a role with a web identity, ask whether credentials may do an
    /// action, show whose they are (JSON output).
    Sts(sts_cmd::StsArgs),
    /// Load generator: drive a running gateway with one scenario and report throughput,
    /// latency percentiles and the servers' CPU per 1,000 operations.
    Bench(bench::BenchArgs),
    /// Ask a gateway (gRPC address) or a store node (API address) whether it is SERVING,
    /// through gRPC health; the exit status says it too (for container health checks).
    Health(health_cmd::HealthArgs),
}

/// `--endpoint` of the commands that talk to a gateway.
#[derive(Args, Debug, Clone)]
pub struct GatewayEndpoint {
    /// gRPC address of a gateway.
    #[arg(
        long,
        global = true,
        default_value = "127.0.0.1:7410",
        env = "SIGNET_ENDPOINT"
    )]
    pub endpoint: String,
    /// TLS to the gateway (`--ca` to verify its certificate; `https://` endpoints need it).
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// A failure that ends the process with its own exit status (e.g. 3 for a denial of
/// `sts authorize --fail-on-deny`) instead of 1.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

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
    /// Store API addresses, comma-separated (any members; the leader is found).
    #[arg(long, env = "SIGNET_STORE")]
    pub store: String,
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
    #[arg(long, default_value = "30s", value_parser = crate::bench::parse_duration, env = "SIGNET_BOOTSTRAP_WAIT")]
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
}

#[derive(Args, Debug, Clone)]
pub struct Endpoint {
    /// API address of any store node.
    #[arg(long, default_value = "127.0.0.1:7401", env = "SIGNET_ENDPOINT")]
    pub endpoint: String,
}

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Leader, term, members, last applied index and per-member lag, as JSON.
    Status(Endpoint),
    /// Add the node listening at --api-addr as a learner.
    AddLearner {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
        /// API address of the node to add.
        #[arg(long)]
        api_addr: String,
    },
    /// Promote a learner to voter.
    Promote {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
    },
    /// Build a snapshot on the node at --endpoint now; with --purge, also drop its log up
    /// to the snapshot (do it on the leader before adding a node to a large cluster).
    Snapshot {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        purge: bool,
    },
    /// Remove every member whose node id is above --to, highest first, one at a time: run
    /// it before a StatefulSet of stores scales down to --to pods (a no-op when none is).
    Shrink {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Members to keep: node ids 1..=to.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        to: u64,
    },
    /// Remove a voter or learner from the cluster (needs a quorum of the voters).
    Remove {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
    },
    /// OFFLINE, on a stopped store: make this node the only voter of a new cluster that
    /// keeps its whole log, when the cluster has lost quorum for good (see the README's
    /// runbook). Stop every other member for good first; add members again afterwards.
    ForceNewCluster {
        /// The stopped node's id.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        node_id: u64,
        /// The stopped node's data dir (`<dev data dir>/store` for `signet dev`).
        #[arg(long)]
        data_dir: PathBuf,
        /// Only report what the node holds (last log id, membership) and what would change.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let server = matches!(
        cli.command,
        Command::Dev(_) | Command::Store(_) | Command::Gateway(_)
    );
    let _telemetry = telemetry::init(cli.log_format, server)?;
    match cli.command {
        Command::Dev(a) => serve::dev(a).await,
        Command::Store(a) => serve::store(a).await,
        Command::Gateway(a) => serve::gateway(a).await,
        Command::Cluster { tls, command } => cluster_cmd::run(&tls, command).await,
        Command::Certs(a) => certs_cmd::run(a),
        Command::Admin(a) => admin_cmd::run(a).await,
        Command::Token(a) => token_cmd::run(a).await,
        Command::Identity(a) => identity_cmd::run(a).await,
        Command::Sts(a) => sts_cmd::run(a).await,
        Command::Bench(a) => bench::run(a).await,
        Command::Health(a) => health_cmd::run(a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_cmd::TokenCommand;

    #[test]
    fn secrets_beginning_with_a_hyphen_are_values_not_flags() {
        let cli = Cli::try_parse_from([
            "signet",
            "token",
            "--client-id",
            "abc",
            "--client-secret",
            "-9secret",
            "sign-in",
            "--username",
            "ann",
            "--password",
            "-Passw0rd!",
        ])
        .expect("parses");
        let Command::Token(t) = cli.command else {
            panic!("token command");
        };
        assert_eq!(t.client_secret.as_deref(), Some("-9secret"));
        let TokenCommand::SignIn { password, .. } = t.command else {
            panic!("sign-in");
        };
        assert_eq!(password, "-Passw0rd!");

        let cli = Cli::try_parse_from(["signet", "admin", "--admin-secret", "-x", "list-pools"])
            .expect("parses");
        let Command::Admin(a) = cli.command else {
            panic!("admin command");
        };
        assert_eq!(a.admin_secret.as_deref(), Some("-x"));
    }
}
