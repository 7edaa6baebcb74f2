//! Command-line arguments of `signet certs …` (their `///` comments are the --help text).

use clap::{Args, Subcommand, ValueEnum};
use signet_tls::Role;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CertsArgs {
    #[command(subcommand)]
    pub command: CertsCommand,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RoleArg {
    Store,
    Gateway,
    Operator,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Store => Role::Store,
            RoleArg::Gateway => Role::Gateway,
            RoleArg::Operator => Role::Operator,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum CertsCommand {
    /// Make a new CA: writes ca.crt and ca.key (owner-only) into --dir.
    Init {
        /// Directory of the CA files (created if missing; existing files are not overwritten).
        #[arg(long, default_value = "signet-pki")]
        dir: PathBuf,
        /// SPIFFE trust domain of the certificates this CA will issue.
        #[arg(long, default_value = signet_tls::DEFAULT_TRUST_DOMAIN)]
        trust_domain: String,
        /// Validity of the CA certificate.
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
    /// Issue a certificate signed by the CA in --dir: a role certificate for the internal
    /// planes (--role, --name), or, without --role, a server certificate for a gateway's
    /// public listeners (--dns / --ip). Writes <out>.crt and <out>.key.
    Issue {
        /// Directory holding ca.crt and ca.key.
        #[arg(long, default_value = "signet-pki")]
        dir: PathBuf,
        /// Role named in the certificate's SPIFFE ID.
        #[arg(long, value_enum, requires = "name")]
        role: Option<RoleArg>,
        /// Name in the SPIFFE ID (a node id, a gateway or operator name).
        #[arg(long)]
        name: Option<String>,
        /// Trust domain of the SPIFFE ID (the CA's).
        #[arg(long, default_value = signet_tls::DEFAULT_TRUST_DOMAIN)]
        trust_domain: String,
        /// DNS names the holder is reached at (comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        dns: Vec<String>,
        /// IP addresses the holder is reached at.
        #[arg(long, value_delimiter = ',')]
        ip: Vec<IpAddr>,
        /// Validity.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Output path without extension (default: <dir>/<role>-<name>, or
        /// <dir>/server-<first dns or ip>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}
