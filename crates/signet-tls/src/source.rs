//! TLS material read from PEM files and re-read when the files change. Kubernetes rotates a
//! mounted Secret in place; a poll of the files' digest (every 10 s by default) swaps in
//! new rustls configurations without a restart. Connections already open keep the
//! configuration they were made with; every new handshake uses the current one.

use crate::identity::{cert_info, CertInfo, Peer, Role};
use crate::verify::RoleVerifier;
use crate::TlsError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the files are checked for changes by [`TlsSource::spawn_reloader`].
pub const DEFAULT_RELOAD_INTERVAL: Duration = Duration::from_secs(10);
/// A certificate expiring within this is logged as a warning at every check (at most hourly).
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// Which PEM files make up a TLS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA bundle: trusted for peers' certificates (and, on a server, asks clients for one).
    pub ca: Option<PathBuf>,
    /// This process's certificate chain (leaf first) and its private key.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// The SPIFFE trust domain peers' IDs must belong to.
    pub trust_domain: String,
}

impl TlsFiles {
    /// All three files of a role identity in the internal planes.
    pub fn mutual(
        ca: impl Into<PathBuf>,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        trust_domain: &str,
    ) -> TlsFiles {
        TlsFiles {
            ca: Some(ca.into()),
            cert: Some((cert.into(), key.into())),
            trust_domain: trust_domain.to_string(),
        }
    }
}

/// What one read of the files produced.
struct Loaded {
    digest: [u8; 32],
    own: Option<CertInfo>,
    server: Option<Arc<ServerConfig>>,
    /// Client configurations: expecting a server of a role (internal planes), or any server
    /// the CA vouches for with the usual host-name check (`None`, public listeners).
    clients: Vec<(Option<Role>, Arc<ClientConfig>)>,
}

struct Inner {
    files: TlsFiles,
    current: RwLock<Arc<Loaded>>,
    last_warning: RwLock<Option<std::time::Instant>>,
}

/// A reloadable TLS identity. Cheap to clone.
#[derive(Clone)]
pub struct TlsSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TlsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSource")
            .field("files", &self.inner.files)
            .finish()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read(path: &Path, hasher: &mut Sha256) -> Result<Vec<u8>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| TlsError::Io(path.display().to_string(), e))?;
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(&bytes);
    Ok(bytes)
}

fn certs(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Invalid(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid(format!(
            "{}: no CERTIFICATE in it",
            path.display()
        )));
    }
    Ok(certs)
}

const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

impl Loaded {
    fn build(files: &TlsFiles) -> Result<Loaded, TlsError> {
        let mut hasher = Sha256::new();
        let ca = files
            .ca
            .as_ref()
            .map(|p| read(p, &mut hasher).map(|b| (b, p)))
            .transpose()?;
        let cert = files
            .cert
            .as_ref()
            .map(|(c, k)| Ok::<_, TlsError>((read(c, &mut hasher)?, c, read(k, &mut hasher)?, k)))
            .transpose()?;
        let digest: [u8; 32] = hasher.finalize().into();
        let provider = provider();
        let bad = |what: &str, e: rustls::Error| TlsError::Invalid(format!("{what}: {e}"));

        let roots = match &ca {
            Some((pem, path)) => {
                let mut roots = RootCertStore::empty();
                for c in certs(pem, path)? {
                    roots
                        .add(c)
                        .map_err(|e| bad(&path.display().to_string(), e))?;
                }
                Some(Arc::new(roots))
            }
            None => None,
        };
        let identity = match &cert {
            Some((cert_pem, cert_path, key_pem, key_path)) => {
                let chain = certs(cert_pem, cert_path)?;
                let key = PrivateKeyDer::from_pem_slice(key_pem)
                    .map_err(|e| TlsError::Invalid(format!("{}: {e}", key_path.display())))?;
                let info = cert_info(&chain[0], &files.trust_domain)?;
                Some((chain, key, info))
            }
            None => None,
        };

        let versions = rustls::DEFAULT_VERSIONS;
        let server = match (&identity, &roots) {
            (Some((chain, key, _)), roots) => {
                let builder = ServerConfig::builder_with_provider(provider.clone())
                    .with_protocol_versions(versions)
                    .map_err(|e| bad("TLS versions", e))?;
                let builder = match roots {
                    // Client certificates are verified when sent; the access table then
                    // answers UNAUTHENTICATED to a caller who sent none (a clearer error
                    // than a failed handshake).
                    Some(roots) => builder.with_client_cert_verifier(
                        WebPkiClientVerifier::builder_with_provider(
                            roots.clone(),
                            provider.clone(),
                        )
                        .allow_unauthenticated()
                        .build()
                        .map_err(|e| TlsError::Invalid(format!("CA bundle: {e}")))?,
                    ),
                    None => builder.with_no_client_auth(),
                };
                let mut cfg = builder
                    .with_single_cert(chain.clone(), key.clone_key())
                    .map_err(|e| bad("certificate and key", e))?;
                cfg.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
                Some(Arc::new(cfg))
            }
            (None, _) => None,
        };

        let mut clients = Vec::new();
        if let Some(roots) = &roots {
            let expectations = [None, Some(Role::Store)];
            for expect in expectations {
                let builder = ClientConfig::builder_with_provider(provider.clone())
                    .with_protocol_versions(versions)
                    .map_err(|e| bad("TLS versions", e))?;
                let builder = match expect {
                    Some(role) => builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(RoleVerifier {
                            roots: roots.clone(),
                            provider: provider.clone(),
                            trust_domain: files.trust_domain.clone(),
                            expect: role,
                        })),
                    None => builder.with_root_certificates(roots.clone()),
                };
                let mut cfg = match &identity {
                    Some((chain, key, _)) => builder
                        .with_client_auth_cert(chain.clone(), key.clone_key())
                        .map_err(|e| bad("certificate and key", e))?,
                    None => builder.with_no_client_auth(),
                };
                cfg.alpn_protocols = vec![b"h2".to_vec()];
                clients.push((expect, Arc::new(cfg)));
            }
        }
        Ok(Loaded {
            digest,
            own: identity.map(|(_, _, info)| info),
            server,
            clients,
        })
    }
}

impl TlsSource {
    /// Read the files once; fails if any is missing or unusable (a server must not start
    /// without the identity it was given).
    pub fn load(files: TlsFiles) -> Result<TlsSource, TlsError> {
        let loaded = Loaded::build(&files)?;
        if let Some(own) = &loaded.own {
            log_loaded(&files, own);
        }
        Ok(TlsSource {
            inner: Arc::new(Inner {
                files,
                current: RwLock::new(Arc::new(loaded)),
                last_warning: RwLock::new(None),
            }),
        })
    }

    /// Load a role identity (CA + certificate + key) and check that the certificate names
    /// `role` in the trust domain: a store started with a gateway's certificate is a
    /// configuration mistake better caught at start than at the first refused call.
    pub fn load_role(files: TlsFiles, role: Role) -> Result<TlsSource, TlsError> {
        if files.ca.is_none() || files.cert.is_none() {
            return Err(TlsError::Invalid(
                "mutual TLS needs a CA bundle, a certificate and its key".into(),
            ));
        }
        let source = Self::load(files)?;
        match source.identity() {
            Some(p) if p.role == role => Ok(source),
            Some(p) => Err(TlsError::Invalid(format!(
                "the certificate is {} {} certificate ({p}); this process needs {} {role} one",
                article(p.role),
                p.role,
                article(role)
            ))),
            None => Err(TlsError::Invalid(format!(
                "the certificate has no spiffe://{}/signet/{role}/<name> URI SAN",
                source.inner.files.trust_domain
            ))),
        }
    }

    fn current(&self) -> Arc<Loaded> {
        self.inner.current.read().expect("tls lock").clone()
    }

    /// The files this source reads.
    pub fn files(&self) -> &TlsFiles {
        &self.inner.files
    }

    /// The trust domain peers must belong to.
    pub fn trust_domain(&self) -> &str {
        &self.inner.files.trust_domain
    }

    /// Who this process's own certificate says it is.
    pub fn identity(&self) -> Option<Peer> {
        self.current().own.as_ref().and_then(|i| i.peer.clone())
    }

    /// When this process's own certificate expires.
    pub fn not_after(&self) -> Option<SystemTime> {
        self.current().own.as_ref().map(|i| i.not_after)
    }

    /// The server configuration of the next handshake (None without a certificate).
    pub fn server_config(&self) -> Option<Arc<ServerConfig>> {
        self.current().server.clone()
    }

    /// The client configuration of the next connection to a server of role `expect` (or,
    /// with `None`, any server the CA vouches for under its host name). None without a CA.
    pub fn client_config(&self, expect: Option<Role>) -> Option<Arc<ClientConfig>> {
        // Only the roles a process connects to are prepared: everyone talks to stores.
        let loaded = self.current();
        let found = loaded.clients.iter().find(|(r, _)| *r == expect);
        found.map(|(_, c)| c.clone())
    }

    /// Re-read the files. Ok(true) if they changed and the new material is in use; an
    /// error (unreadable or inconsistent files, e.g. a half-written rotation) keeps the
    /// previous material.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let loaded = Loaded::build(&self.inner.files)?;
        if loaded.digest == self.current().digest {
            return Ok(false);
        }
        if let Some(own) = &loaded.own {
            log_loaded(&self.inner.files, own);
        }
        *self.inner.current.write().expect("tls lock") = Arc::new(loaded);
        Ok(true)
    }

    /// Check the files every `interval` until `stop` resolves; log changes, failures and
    /// a certificate close to expiry.
    pub fn spawn_reloader(
        &self,
        interval: Duration,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = &mut stop => return,
                }
                match me.reload() {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(
                        "TLS files changed but cannot be used; keeping the previous ones: {e}"
                    ),
                }
                me.warn_if_expiring();
            }
        })
    }

    fn warn_if_expiring(&self) {
        let Some(own) = self.current().own.clone() else {
            return;
        };
        if own.remaining() > EXPIRY_WARNING {
            return;
        }
        let mut last = self.inner.last_warning.write().expect("tls lock");
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(3600)) {
            return;
        }
        *last = Some(std::time::Instant::now());
        tracing::warn!(
            certificate = ?self.inner.files.cert.as_ref().map(|c| c.0.display().to_string()),
            expires_in_hours = own.remaining().as_secs() / 3600,
            "TLS certificate expires soon; rotate it (the new files are picked up without a restart)"
        );
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Operator => "an",
        Role::Store | Role::Gateway => "a",
    }
}

fn log_loaded(files: &TlsFiles, own: &CertInfo) {
    let peer = own
        .peer
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "(no Signet SPIFFE ID)".into());
    tracing::info!(
        certificate = ?files.cert.as_ref().map(|c| c.0.display().to_string()),
        identity = %peer,
        expires_in_days = own.remaining().as_secs() / 86_400,
        "TLS certificate loaded"
    );
}
