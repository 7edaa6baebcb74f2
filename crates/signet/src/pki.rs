//! A throwaway cluster CA for the clusters this binary starts itself (`procs::LocalCluster`,
//! used by `chaos run` and `bench scale`): the internal planes speak mutual TLS there too
//! (DESIGN §1), with certificates made here, in the cluster's directory, by the same library
//! calls as `signet certs init|issue` (`signet_tls::certs`).

use anyhow::Context;
use signet_tls::certs::{issue, new_ca, LeafRequest, Pem};
use signet_tls::{Role, TlsFiles, TlsSource, Transport, DEFAULT_TRUST_DOMAIN};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Validity of the throwaway CA and its certificates: longer than any run, short enough
/// that a copied key is worth nothing for long.
const DAYS: u32 = 30;

/// Write `body` to `path`, which must not exist yet (owner-only when `private`, as a key
/// must be).
pub fn write_new(path: &Path, body: &str, private: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(body.as_bytes())?;
    Ok(())
}

/// A CA made for one local cluster and the certificates it issued, as files in one
/// directory: `ca.crt`, `ca.key`, and `<role>-<name>.crt|key` per holder.
pub struct ClusterPki {
    dir: PathBuf,
    ca: Pem,
}

impl ClusterPki {
    /// Make a new CA in `dir` (created; it must not hold one already).
    pub fn create(dir: &Path) -> anyhow::Result<ClusterPki> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let ca = new_ca(DEFAULT_TRUST_DOMAIN, DAYS).context("making the cluster CA")?;
        write_new(&dir.join("ca.key"), &ca.key, true)?;
        write_new(&dir.join("ca.crt"), &ca.cert, false)?;
        Ok(ClusterPki {
            dir: dir.to_path_buf(),
            ca,
        })
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The certificate and key files of `role` `name`, issued now unless they exist (a
    /// restarted store keeps its certificate), naming `ips` as where it is reached.
    fn holder(&self, role: Role, name: &str, ips: &[IpAddr]) -> anyhow::Result<(PathBuf, PathBuf)> {
        let stem = format!("{role}-{name}");
        let (cert, key) = (
            self.dir.join(format!("{stem}.crt")),
            self.dir.join(format!("{stem}.key")),
        );
        if cert.exists() && key.exists() {
            return Ok((cert, key));
        }
        let leaf = issue(
            &self.ca,
            &LeafRequest {
                identity: Some((role, name.to_string())),
                trust_domain: DEFAULT_TRUST_DOMAIN.to_string(),
                dns: Vec::new(),
                ips: ips.to_vec(),
                days: DAYS,
            },
        )
        .with_context(|| format!("issuing the {role} certificate of {name}"))?;
        write_new(&key, &leaf.key, true)?;
        write_new(&cert, &leaf.cert, false)?;
        Ok((cert, key))
    }

    fn flags(&self, (cert, key): (PathBuf, PathBuf)) -> Vec<String> {
        [
            "--ca".to_string(),
            self.ca_file().display().to_string(),
            "--cert".to_string(),
            cert.display().to_string(),
            "--key".to_string(),
            key.display().to_string(),
        ]
        .to_vec()
    }

    /// The TLS flags of store node `id` listening on `host` (an IP: loopback, or its
    /// network namespace's address). Peers check the role, not the address, but the
    /// certificate names the address anyway, as `signet certs issue --ip` would.
    pub fn store_flags(&self, id: u64, host: &str) -> anyhow::Result<Vec<String>> {
        let ip: IpAddr = host
            .parse()
            .with_context(|| format!("store {id}'s host {host:?} is not an IP address"))?;
        Ok(self.flags(self.holder(Role::Store, &id.to_string(), &[ip])?))
    }

    /// The TLS flags of gateway `index` (1-based) as a client of the stores.
    pub fn gateway_flags(&self, index: usize) -> anyhow::Result<Vec<String>> {
        Ok(self.flags(self.holder(Role::Gateway, &format!("gw-{index}"), &[])?))
    }

    /// How the tool itself reaches the stores: mutual TLS with an operator certificate,
    /// accepting only a server with a store certificate.
    pub fn operator_transport(&self) -> anyhow::Result<Transport> {
        let (cert, key) = self.holder(Role::Operator, "signet-tool", &[])?;
        let files = TlsFiles::mutual(self.ca_file(), cert, key, DEFAULT_TRUST_DOMAIN);
        let source = TlsSource::load_role(files, Role::Operator)
            .context("loading the operator certificate")?;
        Ok(Transport::Tls {
            source,
            expect: Some(Role::Store),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_get_their_role_and_keep_their_files() {
        let dir =
            std::env::temp_dir().join(format!("signet-pki-{}", signet_crypto::random_hex_id()));
        let pki = ClusterPki::create(&dir).expect("ca");
        assert!(
            ClusterPki::create(&dir).is_err(),
            "a second CA must not replace the first"
        );
        let flags = pki.store_flags(2, "10.213.4.2").expect("store");
        assert_eq!(flags[0], "--ca");
        let cert = std::fs::read_to_string(&flags[3]).expect("cert");
        // Asked again (a restart), the same files come back, not a new certificate.
        assert_eq!(pki.store_flags(2, "10.213.4.2").expect("again"), flags);
        assert_eq!(std::fs::read_to_string(&flags[3]).expect("cert"), cert);
        let source = TlsSource::load_role(
            TlsFiles::mutual(&flags[1], &flags[3], &flags[5], DEFAULT_TRUST_DOMAIN),
            Role::Store,
        )
        .expect("a store certificate");
        assert_eq!(source.identity().map(|p| p.name), Some("2".to_string()));
        let gw = pki.gateway_flags(1).expect("gateway");
        assert!(TlsSource::load_role(
            TlsFiles::mutual(&gw[1], &gw[3], &gw[5], DEFAULT_TRUST_DOMAIN),
            Role::Store
        )
        .is_err());
        assert!(pki.operator_transport().expect("operator").is_tls());
        assert!(
            pki.store_flags(3, "localhost").is_err(),
            "stores are named by IP"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
