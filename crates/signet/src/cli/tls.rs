//! TLS flags shared by the servers and the CLI, and the transports they name.

use anyhow::Context;
use clap::Args;
use signet_tls::{Role, TlsFiles, TlsSource, Transport};
use std::path::PathBuf;

/// Certificate files of this process on the internal planes (stores, gateways talking to
/// stores, operators), or of a CLI talking to a TLS gateway.
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// CA bundle (PEM) that issued the cluster's certificates.
    #[arg(long, global = true, env = "SIGNET_CA")]
    pub ca: Option<PathBuf>,
    /// This process's certificate (PEM, leaf first), naming its role as a
    /// spiffe://<trust-domain>/signet/<role>/<name> URI SAN.
    #[arg(long, global = true, env = "SIGNET_CERT")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8).
    #[arg(long, global = true, env = "SIGNET_KEY")]
    pub key: Option<PathBuf>,
    /// SPIFFE trust domain of the cluster's certificates.
    #[arg(
        long,
        global = true,
        default_value = signet_tls::DEFAULT_TRUST_DOMAIN,
        env = "SIGNET_TRUST_DOMAIN"
    )]
    pub trust_domain: String,
}

impl TlsArgs {
    /// Whether any TLS file was given.
    pub fn given(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some()
    }

    fn files(&self) -> anyhow::Result<TlsFiles> {
        let cert = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => anyhow::bail!("--cert and --key go together"),
        };
        anyhow::ensure!(
            self.ca.is_some(),
            "--ca is required with TLS: the CA bundle that issued the cluster's certificates"
        );
        Ok(TlsFiles {
            ca: self.ca.clone(),
            cert,
            trust_domain: self.trust_domain.clone(),
        })
    }

    /// The identity of a server or client of the internal planes: all three files, and a
    /// certificate naming `role`. None when no file was given.
    pub fn identity(&self, role: Role) -> anyhow::Result<Option<TlsSource>> {
        if !self.given() {
            return Ok(None);
        }
        anyhow::ensure!(
            self.cert.is_some() && self.key.is_some(),
            "the internal planes use mutual TLS: give --ca, --cert and --key (a {role} certificate)"
        );
        let source = TlsSource::load_role(self.files()?, role)
            .with_context(|| format!("loading the {role} certificate"))?;
        Ok(Some(source))
    }

    /// How a process of `role` reaches the stores.
    pub fn store_transport(&self, role: Role) -> anyhow::Result<Transport> {
        Ok(match self.identity(role)? {
            Some(source) => Transport::Tls {
                source,
                expect: Some(Role::Store),
            },
            None => Transport::Plaintext,
        })
    }

    /// How the CLI reaches a gateway's public listener at `endpoint`: TLS when `--ca` is
    /// given or the endpoint says `https://` (the gateway's certificate is checked against
    /// `--ca` and the host name dialled); a client certificate is sent if given.
    pub fn gateway_transport(&self, endpoint: &str) -> anyhow::Result<Transport> {
        if !self.given() && !endpoint.starts_with("https://") {
            return Ok(Transport::Plaintext);
        }
        let source = TlsSource::load(self.files()?).context("loading the TLS files")?;
        Ok(Transport::Tls {
            source,
            expect: None,
        })
    }
}
