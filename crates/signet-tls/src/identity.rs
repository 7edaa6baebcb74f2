//! Who a certificate speaks for. Every Signet certificate carries exactly one URI SAN of the
//! form `spiffe://<trust-domain>/signet/<role>/<name>` (SPIFFE's X.509-SVID shape, so a
//! SPIRE or cert-manager CA can issue them too). The role decides what the holder may call.

use crate::TlsError;
use rustls::pki_types::CertificateDer;
use std::fmt;
use std::time::{Duration, SystemTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Default trust domain of `signet certs init` and of the servers' `--trust-domain`.
pub const DEFAULT_TRUST_DOMAIN: &str = "signet";

/// What a certificate's holder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A store node: speaks Raft to other stores, serves the Store and Cluster APIs.
    Store,
    /// A gateway: reads and writes the store on behalf of public callers.
    Gateway,
    /// A human or tool running `signet cluster` / `signet admin` against the internal planes.
    Operator,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 3] = [Role::Store, Role::Gateway, Role::Operator];

    /// The path segment of the role in a SPIFFE ID.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Store => "store",
            Role::Gateway => "gateway",
            Role::Operator => "operator",
        }
    }

    /// The role named `s` (`store`, `gateway`, `operator`).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity a verified certificate carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Peer {
    /// What the holder may do.
    pub role: Role,
    /// Which one it is (a node id, a gateway or operator name); informational, for logs.
    pub name: String,
}

impl Peer {
    /// The SPIFFE ID of this peer in `trust_domain`.
    pub fn spiffe_id(&self, trust_domain: &str) -> String {
        spiffe_id(trust_domain, self.role, &self.name)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.role, self.name)
    }
}

/// `spiffe://<trust_domain>/signet/<role>/<name>`.
pub fn spiffe_id(trust_domain: &str, role: Role, name: &str) -> String {
    format!("spiffe://{trust_domain}/signet/{role}/{name}")
}

/// Whether `s` is a usable trust domain or peer name: 1–63 characters of `a-z 0-9 . _ -`
/// (SPIFFE's trust-domain alphabet; names use the same so IDs stay unambiguous).
pub fn valid_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// The peer named by `uri` if it is a Signet SPIFFE ID of `trust_domain`.
pub fn parse_spiffe_id(uri: &str, trust_domain: &str) -> Option<Peer> {
    let rest = uri.strip_prefix("spiffe://")?;
    let (td, path) = rest.split_once('/')?;
    if td != trust_domain {
        return None;
    }
    let mut parts = path.split('/');
    let (Some("signet"), Some(role), Some(name), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let role = Role::parse(role)?;
    valid_label(name).then(|| Peer {
        role,
        name: name.to_string(),
    })
}

/// What Signet reads from a certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// The Signet identity in it, if it has exactly one SPIFFE ID of the trust domain.
    pub peer: Option<Peer>,
    /// End of validity.
    pub not_after: SystemTime,
}

impl CertInfo {
    /// Time left until the certificate expires (zero once it has).
    pub fn remaining(&self) -> Duration {
        self.not_after
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }
}

/// Read the identity and expiry of a DER certificate. A certificate with several SPIFFE
/// IDs of our trust domain names nobody (ambiguity is refused, as SPIFFE requires one).
pub fn cert_info(der: &CertificateDer<'_>, trust_domain: &str) -> Result<CertInfo, TlsError> {
    let (_, cert) = X509Certificate::from_der(der.as_ref())
        .map_err(|e| TlsError::Invalid(format!("unreadable certificate: {e}")))?;
    let not_after = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(cert.validity().not_after.timestamp()).unwrap_or(0));
    let mut peers = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::URI(uri) = name {
                if uri.starts_with("spiffe://") {
                    peers.push(parse_spiffe_id(uri, trust_domain));
                }
            }
        }
    }
    let peer = match peers.as_slice() {
        [Some(p)] => Some(p.clone()),
        _ => None,
    };
    Ok(CertInfo { peer, not_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_ids_round_trip_and_foreign_ones_are_refused() {
        let id = spiffe_id("signet", Role::Gateway, "gw-1");
        assert_eq!(id, "spiffe://signet/signet/gateway/gw-1");
        assert_eq!(
            parse_spiffe_id(&id, "signet"),
            Some(Peer {
                role: Role::Gateway,
                name: "gw-1".into()
            })
        );
        // Another trust domain, another product, an unknown role, extra segments.
        assert_eq!(parse_spiffe_id(&id, "prod"), None);
        assert_eq!(
            parse_spiffe_id("spiffe://signet/other/store/1", "signet"),
            None
        );
        assert_eq!(
            parse_spiffe_id("spiffe://signet/signet/admin/x", "signet"),
            None
        );
        assert_eq!(
            parse_spiffe_id("spiffe://signet/signet/store/1/x", "signet"),
            None
        );
        assert_eq!(
            parse_spiffe_id("spiffe://signet/signet/store/", "signet"),
            None
        );
        assert_eq!(
            parse_spiffe_id("https://signet/signet/store/1", "signet"),
            None
        );
    }

    #[test]
    fn labels_are_restricted() {
        assert!(valid_label("store-0.signet_1"));
        assert!(!valid_label(""));
        assert!(!valid_label("Upper"));
        assert!(!valid_label("a/b"));
        assert!(!valid_label(&"a".repeat(64)));
    }
}
