//! A small CA for tests and small installs (`signet certs init|issue`): ECDSA P-256 keys, a
//! self-signed CA, and leaf certificates carrying one Signet SPIFFE ID. Larger installs
//! bring their own CA (cert-manager, SPIRE, Vault); any CA that issues the same SAN works.

use crate::identity::{spiffe_id, valid_label, Role};
use crate::TlsError;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::net::IpAddr;
use time::OffsetDateTime;

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Pem {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

fn err(what: &str) -> impl Fn(rcgen::Error) -> TlsError + '_ {
    move |e| TlsError::Invalid(format!("{what}: {e}"))
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = OffsetDateTime::now_utc();
    // An hour of slack for clocks a little behind the issuer's.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(i64::from(days.max(1)));
}

/// A new self-signed CA for `trust_domain`, valid `days`.
pub fn new_ca(trust_domain: &str, days: u32) -> Result<Pem, TlsError> {
    if !valid_label(trust_domain) {
        return Err(TlsError::Invalid(format!(
            "trust domain {trust_domain:?}: use 1-63 characters of a-z 0-9 . _ -"
        )));
    }
    let key = KeyPair::generate().map_err(err("generating the CA key"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Signet");
    dn.push(
        DnType::CommonName,
        format!("Signet cluster CA ({trust_domain})"),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, days);
    let cert = params
        .self_signed(&key)
        .map_err(err("signing the CA certificate"))?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// What a leaf certificate is for.
#[derive(Debug, Clone)]
pub struct LeafRequest {
    /// The role and name of its SPIFFE ID; None for a plain server certificate (the
    /// gateway's public listeners).
    pub identity: Option<(Role, String)>,
    /// Trust domain of the SPIFFE ID.
    pub trust_domain: String,
    /// DNS names clients may dial it by (public listeners; optional on internal planes,
    /// where the role, not the name, is checked).
    pub dns: Vec<String>,
    /// IP addresses clients may dial it by.
    pub ips: Vec<IpAddr>,
    /// Validity in days.
    pub days: u32,
}

/// Issue a leaf certificate signed by the CA `ca`.
pub fn issue(ca: &Pem, req: &LeafRequest) -> Result<Pem, TlsError> {
    let ca_key = KeyPair::from_pem(&ca.key).map_err(err("reading the CA key"))?;
    let issuer =
        Issuer::from_ca_cert_pem(&ca.cert, ca_key).map_err(err("reading the CA certificate"))?;
    let key = KeyPair::generate().map_err(err("generating the key"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Signet");
    let mut sans = Vec::new();
    let cn = match &req.identity {
        Some((role, name)) => {
            if !valid_label(name) {
                return Err(TlsError::Invalid(format!(
                    "name {name:?}: use 1-63 characters of a-z 0-9 . _ -"
                )));
            }
            let id = spiffe_id(&req.trust_domain, *role, name);
            sans.push(SanType::URI(
                id.clone()
                    .try_into()
                    .map_err(err("SPIFFE ID is not ASCII"))?,
            ));
            format!("{role} {name}")
        }
        None => req.dns.first().cloned().unwrap_or_else(|| "signet".into()),
    };
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    for d in &req.dns {
        sans.push(SanType::DnsName(
            d.clone().try_into().map_err(err("DNS name"))?,
        ));
    }
    sans.extend(req.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    if sans.is_empty() {
        return Err(TlsError::Invalid(
            "a certificate needs a role identity, a DNS name or an IP address".into(),
        ));
    }
    params.subject_alt_names = sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // Stores are both servers (to gateways and peers) and clients (to peers); one
    // certificate per process serves both directions.
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, req.days);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(err("signing the certificate"))?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::cert_info;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn issued_certificates_carry_their_identity_and_expiry() {
        let ca = new_ca("test.example", 30).expect("ca");
        let leaf = issue(
            &ca,
            &LeafRequest {
                identity: Some((Role::Store, "3".into())),
                trust_domain: "test.example".into(),
                dns: vec!["localhost".into()],
                ips: vec!["127.0.0.1".parse().unwrap()],
                days: 2,
            },
        )
        .expect("leaf");
        let der = CertificateDer::from_pem_slice(leaf.cert.as_bytes()).expect("pem");
        let info = cert_info(&der, "test.example").expect("info");
        assert_eq!(
            info.peer.clone().map(|p| (p.role, p.name)),
            Some((Role::Store, "3".to_string()))
        );
        let left = info.remaining().as_secs();
        assert!((86_400..=2 * 86_400).contains(&left), "{left}");
        // Read in another trust domain, it names nobody.
        assert!(cert_info(&der, "other").expect("info").peer.is_none());
        assert!(new_ca("Bad Domain", 1).is_err());
    }
}
