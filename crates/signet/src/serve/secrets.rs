//! Dev-mode secrets: generated at first start, kept in the data dir (owner-only), and the
//! admin secret printed once.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct File {
    admin_secret: String,
    server_secret_hex: String,
}

/// Secrets of a dev data dir.
pub struct DevSecrets {
    /// Bearer secret of the admin API.
    pub admin_secret: String,
    server_secret_hex: String,
    /// Where they are kept.
    pub path: PathBuf,
}

impl DevSecrets {
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<DevSecrets> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let path = data_dir.join("dev-secrets.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let f: File = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(DevSecrets {
                admin_secret: f.admin_secret,
                server_secret_hex: f.server_secret_hex,
                path,
            });
        }
        let f = File {
            admin_secret: signet_crypto::random_secret(),
            server_secret_hex: hex_encode(&signet_crypto::random_bytes::<32>()),
        };
        write_private(&path, &serde_json::to_vec_pretty(&f)?)?;
        eprintln!(
            "signet dev: generated an admin secret (shown once; kept in {}):\n\n    {}\n",
            path.display(),
            f.admin_secret
        );
        Ok(DevSecrets {
            admin_secret: f.admin_secret,
            server_secret_hex: f.server_secret_hex,
            path,
        })
    }

    pub fn server_secret(&self) -> anyhow::Result<signet_crypto::Secret> {
        parse_server_secret(&self.server_secret_hex)
    }
}

/// A server secret given as hex (at least 32 bytes).
pub fn parse_server_secret(hex_text: &str) -> anyhow::Result<signet_crypto::Secret> {
    let bytes = (0..hex_text.len())
        .step_by(2)
        .map(|i| {
            hex_text
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|_| hex_text.len().is_multiple_of(2))
        .context("the server secret must be hex")?;
    signet_crypto::Secret::new(bytes)
        .context("the server secret must have at least 32 bytes (64 hex digits)")
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn write_private(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(body)?;
    f.sync_all()?;
    Ok(())
}
