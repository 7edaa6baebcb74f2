//! Command-line arguments of `signet health` (their `///` comments are the --help text).

use super::TlsArgs;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Prints one word on stdout: SERVING, NOT_SERVING, UNKNOWN, \
SERVICE_UNKNOWN or UNREACHABLE.\n\
Exit status:\n  \
0  SERVING\n  \
1  the server answered, but not SERVING (NOT_SERVING, UNKNOWN, or SERVICE_UNKNOWN: no such --service)\n  \
2  bad usage (e.g. an --endpoint that is not an address)\n  \
3  UNREACHABLE: cannot connect, no answer within --timeout-ms, or no health service there\n\
A gateway reports SERVING when it is ready (store quorum, usable signing keys, caches \
following the store); a store node when it can serve linearizable reads."
)]
pub struct HealthArgs {
    /// gRPC address of a gateway, or API address of a store node (`host:port` or a URL).
    #[arg(long, default_value = "127.0.0.1:7410", env = "SIGNET_ENDPOINT")]
    pub endpoint: String,
    /// Service to ask about; empty asks about the whole server. Store nodes also answer
    /// for `signet.store.v1.Store`.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Give up after this many milliseconds (connecting and answering together).
    #[arg(long, default_value_t = 2000, env = "SIGNET_HEALTH_TIMEOUT_MS")]
    pub timeout_ms: u64,
    /// The endpoint is a store's API port speaking mutual TLS: present --cert/--key and
    /// accept only a server certificate of role store.
    #[arg(long)]
    pub store: bool,
    /// TLS: --ca to verify the server (a gateway's public certificate by host name, or a
    /// store's by role with --store), --cert/--key for a store's mutual TLS.
    #[command(flatten)]
    pub tls: TlsArgs,
}
