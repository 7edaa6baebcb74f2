//! `signet`: one binary for every role and for the operator CLI.
#![forbid(unsafe_code)]

mod admin_args;
mod admin_cmd;
mod bench;
mod certs_cmd;
mod cli;
mod cluster_cmd;
mod config_file;
mod health_cmd;
mod identity_admin_cmd;
mod identity_args;
mod identity_cmd;
mod import_args;
mod import_cmd;
mod input;
mod jwt_inspect;
mod proto_json;
mod rpc;
mod serve;
mod sts_cmd;
mod telemetry;
mod tls_args;
mod token_cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = match config_file::args_with_config_file(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("signet: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let cli = cli::Cli::parse_from(args);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("signet: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signet: {e:#}");
            match e.downcast_ref::<cli::Exit>() {
                Some(exit) => std::process::ExitCode::from(exit.code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
