//! A throwaway certificate authority for mutual-TLS tests: a CA in a temporary directory
//! and role certificates issued on demand, as files (the servers read files, and tests swap
//! them to exercise reloading).

use signet_tls::certs::{issue, new_ca, LeafRequest, Pem};
use signet_tls::{Role, TlsFiles, TlsSource, Transport};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Trust domain of test certificates.
pub const TEST_TRUST_DOMAIN: &str = "signet-test";

/// A CA and the certificates it issued, under one temporary directory.
pub struct TestPki {
    dir: TempDir,
    ca: Pem,
    trust_domain: String,
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// A new CA of [`TEST_TRUST_DOMAIN`].
    pub fn new() -> TestPki {
        Self::with_trust_domain(TEST_TRUST_DOMAIN)
    }

    /// A new CA whose certificates name `trust_domain`.
    pub fn with_trust_domain(trust_domain: &str) -> TestPki {
        let dir = tempfile::tempdir().expect("pki dir");
        let ca = new_ca(trust_domain, 30).expect("test CA");
        std::fs::write(dir.path().join("ca.crt"), &ca.cert).expect("write CA");
        TestPki {
            dir,
            ca,
            trust_domain: trust_domain.to_string(),
        }
    }

    /// The CA bundle file.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The CA (to issue more certificates, or to build a bundle of two CAs).
    pub fn ca(&self) -> &Pem {
        &self.ca
    }

    /// A fresh certificate for `role`/`name`, valid `days`, written to `cert` and `key`.
    pub fn issue_to(&self, role: Role, name: &str, days: u32, cert: &Path, key: &Path) {
        let leaf = issue(
            &self.ca,
            &LeafRequest {
                identity: Some((role, name.to_string())),
                trust_domain: self.trust_domain.clone(),
                dns: vec!["localhost".into()],
                ips: vec!["127.0.0.1".parse().expect("ip")],
                days,
            },
        )
        .expect("issue test certificate");
        std::fs::write(cert, leaf.cert).expect("write cert");
        std::fs::write(key, leaf.key).expect("write key");
    }

    /// The files of `role`/`name` (issued on first use, valid 30 days).
    pub fn files(&self, role: Role, name: &str) -> TlsFiles {
        let cert = self.dir.path().join(format!("{role}-{name}.crt"));
        let key = self.dir.path().join(format!("{role}-{name}.key"));
        if !cert.exists() {
            self.issue_to(role, name, 30, &cert, &key);
        }
        TlsFiles::mutual(self.ca_path(), cert, key, &self.trust_domain)
    }

    /// A loaded identity of `role`/`name`.
    pub fn source(&self, role: Role, name: &str) -> TlsSource {
        TlsSource::load(self.files(role, name)).expect("load test TLS files")
    }

    /// How `role`/`name` reaches stores.
    pub fn transport(&self, role: Role, name: &str) -> Transport {
        Transport::Tls {
            source: self.source(role, name),
            expect: Some(Role::Store),
        }
    }
}
