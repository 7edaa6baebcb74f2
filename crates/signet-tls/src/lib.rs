//! Transport security of every Signet listener and connection.
//!
//! * The internal planes (Raft, Store, Cluster) speak **mutual TLS** with a cluster CA. A
//!   certificate's role comes from its SPIFFE ID, `spiffe://<trust-domain>/signet/<role>/<name>`
//!   ([`identity`]), and an [`Access`] table per listener decides which roles may call which
//!   methods, before any service code runs.
//! * The gateway's public listeners may serve TLS with any certificate (no client
//!   certificates).
//! * Material is read from PEM files and re-read when they change ([`TlsSource`]), so a
//!   Kubernetes Secret rotated in place is picked up without a restart.
//! * [`certs`] makes a CA and role certificates for tests and small installs.
#![forbid(unsafe_code)]

mod access;
pub mod certs;
mod client;
mod error;
pub mod identity;
mod server;
mod source;
mod verify;

pub use access::{caller, Access, AccessLayer, AccessService, Rule};
pub use client::{channel, connect, Transport};
pub use error::TlsError;
pub use identity::{Peer, Role, DEFAULT_TRUST_DOMAIN};
pub use server::{Conn, ConnInfo, Incoming, HANDSHAKE_TIMEOUT, MAX_HANDSHAKES};
pub use source::{TlsFiles, TlsSource, DEFAULT_RELOAD_INTERVAL, EXPIRY_WARNING};

/// Whether every address in `addrs` (`host:port`) is a loopback address: the only place
/// Signet serves plaintext without being told `--insecure-plaintext`.
pub fn all_loopback<'a>(addrs: impl IntoIterator<Item = &'a str>) -> bool {
    addrs.into_iter().all(is_loopback)
}

/// Whether `addr` (`host:port`, optionally with a scheme) names a loopback address:
/// 127.0.0.0/8, ::1 or `localhost`. Unspecified addresses (0.0.0.0, ::) are not loopback.
pub fn is_loopback(addr: &str) -> bool {
    let hostport = addr
        .strip_prefix("https://")
        .or_else(|| addr.strip_prefix("http://"))
        .unwrap_or(addr);
    if let Ok(sa) = hostport.parse::<std::net::SocketAddr>() {
        return sa.ip().is_loopback();
    }
    let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
    host.eq_ignore_ascii_case("localhost")
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_addresses() {
        assert!(super::is_loopback("127.0.0.1:7401"));
        assert!(super::is_loopback("127.9.0.1:0"));
        assert!(super::is_loopback("[::1]:7401"));
        assert!(super::is_loopback("localhost:7401"));
        assert!(super::is_loopback("http://127.0.0.1:1"));
        assert!(!super::is_loopback("0.0.0.0:7401"));
        assert!(!super::is_loopback("[::]:7401"));
        assert!(!super::is_loopback("10.0.0.1:7401"));
        assert!(!super::is_loopback("store-0.signet:7401"));
    }
}
