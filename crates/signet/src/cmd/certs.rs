//! `signet certs init|issue`: a CA and role certificates for tests and small installs.
//! Bigger installs use their own CA (cert-manager, SPIRE, Vault) issuing the same URI SAN.

use crate::cli::certs::{CertsArgs, CertsCommand};
use crate::pki::write_new;
use anyhow::Context;
use signet_tls::certs::{issue, new_ca, LeafRequest, Pem};
use signet_tls::Role;
use std::path::PathBuf;

pub fn run(args: CertsArgs) -> anyhow::Result<()> {
    match args.command {
        CertsCommand::Init {
            dir,
            trust_domain,
            days,
        } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let ca = new_ca(&trust_domain, days)?;
            write_new(&dir.join("ca.key"), &ca.key, true)?;
            write_new(&dir.join("ca.crt"), &ca.cert, false)?;
            println!(
                "{}",
                serde_json::json!({
                    "ca_cert": dir.join("ca.crt").display().to_string(),
                    "ca_key": dir.join("ca.key").display().to_string(),
                    "trust_domain": trust_domain,
                })
            );
        }
        CertsCommand::Issue {
            dir,
            role,
            name,
            trust_domain,
            dns,
            ip,
            days,
            out,
        } => {
            let read = |f: &str| {
                std::fs::read_to_string(dir.join(f))
                    .with_context(|| format!("reading {}", dir.join(f).display()))
            };
            let ca = Pem {
                cert: read("ca.crt")?,
                key: read("ca.key")?,
            };
            let identity = role.map(Role::from).zip(name);
            let default_stem = match &identity {
                Some((role, name)) => format!("{role}-{name}"),
                None => format!(
                    "server-{}",
                    dns.first()
                        .cloned()
                        .or_else(|| ip.first().map(|i| i.to_string()))
                        .context("a server certificate needs --dns or --ip")?
                ),
            };
            let leaf = issue(
                &ca,
                &LeafRequest {
                    identity,
                    trust_domain,
                    dns,
                    ips: ip,
                    days,
                },
            )?;
            let stem = out.unwrap_or_else(|| dir.join(default_stem));
            // Not `with_extension`: a stem like server-10.0.0.1 has a dot of its own.
            let with = |ext: &str| PathBuf::from(format!("{}.{ext}", stem.display()));
            let (cert, key) = (with("crt"), with("key"));
            write_new(&key, &leaf.key, true)?;
            write_new(&cert, &leaf.cert, false)?;
            println!(
                "{}",
                serde_json::json!({
                    "cert": cert.display().to_string(),
                    "key": key.display().to_string(),
                })
            );
        }
    }
    Ok(())
}
