//! Command-line interface: the clap argument types, one file per command group. Every flag
//! can also come from a `SIGNET_*` environment variable or from the TOML file given with
//! `--config` (flags win over the environment, which wins over the file).
//!
//! Only what the flags are lives here (their `///` comments are the --help text), with the
//! value parsers and the small methods that read the flags back (e.g. [`TlsArgs`]'s
//! transports); what a command does lives in `crate::cmd`, `crate::serve` and
//! `crate::bench`, which depend on this module and never the other way round.

pub mod admin;
pub mod bench;
pub mod certs;
pub mod chaos;
pub mod cluster;
pub mod config_file;
pub mod health;
pub mod identity;
pub mod import;
pub mod parse;
pub mod serve;
pub mod sts;
pub mod tls;
pub mod token;

pub use tls::TlsArgs;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cluster::ClusterCommand;
use serve::{DevArgs, GatewayArgs, StoreArgs};
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
    Certs(certs::CertsArgs),
    /// Administer user pools, app clients, users, groups, identity pools and roles through a
    /// gateway (JSON output).
    Admin(admin::AdminArgs),
    /// End-user flows against a gateway (sign-up, sign-in, refresh, …) and `decode` to look
    /// inside a token.
    Token(token::TokenArgs),
    /// An identity pool's public calls: the identity of some logins, its AWS-style
    /// credentials, its OpenID token (JSON output).
    Identity(identity::IdentityArgs),
    /// Security tokens: assume a role with a web identity, ask whether credentials may do an
    /// action, show whose they are (JSON output).
    Sts(sts::StsArgs),
    /// Load generator: drive a running gateway with one scenario and report throughput,
    /// latency percentiles and the servers' CPU per 1,000 operations.
    Bench(bench::BenchArgs),
    /// Chaos testing: a local cluster of real processes, faults on a seeded schedule, a
    /// recorded history and a checker that says whether the guarantees held.
    Chaos(chaos::ChaosArgs),
    /// Ask a gateway (gRPC address) or a store node (API address) whether it is SERVING,
    /// through gRPC health; the exit status says it too (for container health checks).
    Health(health::HealthArgs),
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

#[cfg(test)]
mod tests {
    use super::*;
    use token::TokenCommand;

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
