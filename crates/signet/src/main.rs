//! `signet`: one binary for every role and for the operator CLI.
//!
//! Layout (no module imports one that imports it back; `tests/tooling/module_graph.rs`
//! checks it):
//! * `cli`: the clap argument types, one file per command group; uses only leaf helpers.
//! * `cmd`: what each operator command does, one module per command group.
//! * `serve`: the server roles (`dev`, `store`, `gateway`).
//! * `bench`: the load generator.
//! * `telemetry`: logs and trace export.
//! * leaves, using nothing of ours: `rpc` (gateway connections, admin secret, paging),
//!   `input` (values read from stdin or files), `output` (JSON on stdout), `proto_json`
//!   (gateway answers as JSON), `jwt_inspect` (`token decode`, a minimal HTTP GET), `pki`
//!   (the throwaway CA of the clusters this binary starts) and `exit` (errors with their
//!   own exit status).
//!
//! `cmd`, `serve`, `bench` and `telemetry` depend on `cli` and the leaves; `main` parses
//! the command line and dispatches.
#![forbid(unsafe_code)]

mod bench;
mod chaos;
mod cli;
mod cmd;
mod exit;
mod input;
mod jwt_inspect;
mod netns;
mod output;
mod pki;
mod procs;
mod proto_json;
mod proxied;
mod rpc;
mod serve;
mod service_client;
mod telemetry;

use clap::Parser;
use cli::{Cli, Command};

/// mimalloc rather than glibc's malloc: on the durable-write path (3 stores in one
/// process, 256 writers) glibc's arena locks, chunk unlinking and consolidation took a
/// quarter of the CPU; mimalloc gave +45 % writes/s (benches/README.md, durable_writes).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = match cli::config_file::args_with_config_file(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("signet: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("signet: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signet: {e:#}");
            match e.downcast_ref::<exit::Exit>() {
                Some(exit) => std::process::ExitCode::from(exit.code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}

/// Run one command: telemetry first (servers log at info, commands at warn), then the
/// command itself.
async fn run(cli: Cli) -> anyhow::Result<()> {
    let server = matches!(
        cli.command,
        Command::Dev(_) | Command::Store(_) | Command::Gateway(_)
    );
    let _telemetry = telemetry::init(cli.log_format, server)?;
    match cli.command {
        Command::Dev(a) => serve::dev(a).await,
        Command::Store(a) => serve::store(a).await,
        Command::Gateway(a) => serve::gateway(a).await,
        Command::Cluster { tls, command } => cmd::cluster::run(&tls, command).await,
        Command::Certs(a) => cmd::certs::run(a),
        Command::Admin(a) => cmd::admin::run(a).await,
        Command::Token(a) => cmd::token::run(a).await,
        Command::Identity(a) => cmd::identity::run(a).await,
        Command::Sts(a) => cmd::sts::run(a).await,
        Command::Bench(a) => bench::run(a).await,
        Command::Chaos(a) => chaos::run(a).await,
        Command::Health(a) => cmd::health::run(a).await,
    }
}
