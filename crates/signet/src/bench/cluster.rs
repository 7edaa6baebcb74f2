//! A throwaway cluster of `signet` child processes (this same binary) for `bench scale`:
//! store nodes and a gateway on loopback ports, data under one directory.

use anyhow::{bail, Context};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One running `signet` process and what its ready line said.
pub struct Proc {
    pub name: String,
    child: Child,
    pub ready: Value,
    pub data_dir: Option<PathBuf>,
}

impl Proc {
    /// Run `signet args…` (its log appended to `log`) and wait up to `deadline` for its
    /// `{"event":"ready"}` line.
    pub async fn spawn(
        name: &str,
        args: &[String],
        log: &Path,
        deadline: Duration,
    ) -> anyhow::Result<Proc> {
        let exe = std::env::current_exe().context("locating the signet binary")?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let mut child = Command::new(exe)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(deadline, async {
            while let Some(line) = lines.next_line().await? {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["event"] == "ready" {
                        return anyhow::Ok(v);
                    }
                }
            }
            bail!("{name} exited before it was ready")
        })
        .await
        .with_context(|| format!("{name} not ready within {deadline:?}"))??;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let data_dir = ready["data_dir"].as_str().map(PathBuf::from);
        Ok(Proc {
            name: name.to_string(),
            child,
            ready,
            data_dir,
        })
    }

    pub fn field(&self, key: &str) -> String {
        self.ready[key].as_str().unwrap_or_default().to_string()
    }

    /// Resident memory, bytes (`VmRSS` of /proc/<pid>/status).
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// SIGTERM (a clean stop), then wait up to `deadline`.
    pub async fn stop(mut self, deadline: Duration) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            // No libc here (the binary forbids unsafe code): kill(1) sends the signal.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(deadline, self.child.wait()).await {
            Ok(r) => {
                r?;
                Ok(())
            }
            Err(_) => {
                self.child.start_kill()?;
                bail!("{} did not stop within {deadline:?}; killed", self.name)
            }
        }
    }
}

/// Bytes of every file under `dir`.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A port free on loopback now (the gateway's HTTP port must be known before it starts:
/// it is part of the public URL).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Arguments of store node `id` with data in `root/store-{id}`.
pub fn store_args(root: &Path, id: u64, join: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = [
        "store",
        "--node-id",
        &id.to_string(),
        "--data-dir",
        &root.join(format!("store-{id}")).display().to_string(),
        "--raft-addr",
        "127.0.0.1:0",
        "--api-addr",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match join {
        None => a.push("--init".into()),
        Some(seed) => a.extend(["--join".to_string(), seed.to_string()]),
    }
    a
}

/// A restarted node: same id, data dir and addresses (the membership records them),
/// neither `--init` nor `--join`.
pub fn restart_args(root: &Path, id: u64, raft_addr: &str, api_addr: &str) -> Vec<String> {
    let mut a = store_args(root, id, None);
    a.retain(|s| s != "--init");
    for (flag, addr) in [("--raft-addr", raft_addr), ("--api-addr", api_addr)] {
        if let Some(i) = a.iter().position(|s| s == flag) {
            a[i + 1] = addr.to_string();
        }
    }
    a
}
