//! A pod's container as a local process, and the kubelet's side of it: httpGet probes,
//! the preStop hook, SIGTERM and the grace period.

use super::launch::Launch;
use serde_json::Value;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::process::Child;

/// A running (or exited) pod.
pub struct Pod {
    pub name: String,
    pub ip: Ipv4Addr,
    /// The pod template it was made from (a changed template rolls the pod).
    pub template: Value,
    pub launch: Launch,
    /// Its stderr (the logs) and stdout.
    pub log: PathBuf,
    pub out: PathBuf,
    pub started: Instant,
    child: Child,
    exit: Option<std::process::ExitStatus>,
}

/// How a pod stopped.
#[derive(Debug)]
pub struct Stopped {
    pub code: Option<i32>,
    /// SIGKILLed after the grace period.
    pub killed: bool,
    pub took: Duration,
}

impl Pod {
    pub fn spawn(name: &str, ip: Ipv4Addr, template: &Value, launch: Launch, dir: &Path) -> Pod {
        let log = dir.join("stderr.log");
        let out = dir.join("stdout.log");
        let file = |p: &Path| std::fs::File::create(p).expect("create log file");
        let mut cmd = tokio::process::Command::new(&launch.program);
        cmd.args(&launch.args)
            .env_clear()
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .stdout(file(&out))
            .stderr(file(&log))
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start pod {name}: {e}"));
        Pod {
            name: name.to_string(),
            ip,
            template: template.clone(),
            launch,
            log,
            out,
            started: Instant::now(),
            child,
            exit: None,
        }
    }

    pub fn container(&self) -> &Value {
        &self.template["spec"]["containers"][0]
    }

    /// The exit status, if the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("wait for child");
        }
        self.exit
    }

    /// Wait (up to `deadline`) for the process to end by itself.
    pub async fn wait_exit(&mut self, deadline: Duration) -> Option<std::process::ExitStatus> {
        if let Some(s) = self.exit {
            return Some(s);
        }
        let s = tokio::time::timeout(deadline, self.child.wait())
            .await
            .ok()?
            .expect("wait for child");
        self.exit = Some(s);
        Some(s)
    }

    /// The last `n` lines of its logs.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Run the container's `kind` probe (`readinessProbe`, `startupProbe`, …) once.
    pub async fn probe(&self, kind: &str, tls: &Arc<tokio_rustls::rustls::ClientConfig>) -> bool {
        probe(self.ip, self.container(), kind, tls).await
    }

    /// Ask the pod to stop as the kubelet does: the preStop hook, SIGTERM, and SIGKILL after
    /// terminationGracePeriodSeconds.
    pub async fn terminate(mut self) -> Stopped {
        let started = Instant::now();
        let grace = Duration::from_secs(
            self.template["spec"]["terminationGracePeriodSeconds"]
                .as_u64()
                .unwrap_or(30),
        );
        if let Some(pre) = self.container()["lifecycle"].get("preStop") {
            let secs = pre["sleep"]["seconds"].as_u64().unwrap_or_else(|| {
                panic!("the harness implements preStop sleep only ({})", self.name)
            });
            if self.exited().is_none() {
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
        }
        if self.exited().is_none() {
            if let Some(pid) = self.child.id() {
                let ok = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .expect("run kill");
                assert!(ok.success(), "kill -TERM {pid} failed");
            }
        }
        let left = grace.saturating_sub(started.elapsed());
        match self.wait_exit(left).await {
            Some(s) => Stopped {
                code: s.code(),
                killed: false,
                took: started.elapsed(),
            },
            None => {
                let _ = self.child.kill().await;
                Stopped {
                    code: None,
                    killed: true,
                    took: started.elapsed(),
                }
            }
        }
    }
}

/// Run `container`'s `kind` probe once against a pod at `ip`. A container without that
/// probe passes it.
pub async fn probe(
    ip: Ipv4Addr,
    container: &Value,
    kind: &str,
    tls: &Arc<tokio_rustls::rustls::ClientConfig>,
) -> bool {
    let Some(p) = container.get(kind) else {
        return true;
    };
    let get = p
        .get("httpGet")
        .unwrap_or_else(|| panic!("the harness implements httpGet probes only ({kind})"));
    let port = container_port(container, &get["port"]);
    let path = get["path"].as_str().unwrap_or("/");
    let https = get["scheme"] == "HTTPS";
    let timeout = Duration::from_secs(p["timeoutSeconds"].as_u64().unwrap_or(1));
    let status = http_get(ip, port, path, https.then_some(tls), timeout)
        .await
        .map(|r| r.0);
    // The kubelet: 200 ≤ status < 400 is a success.
    status.is_some_and(|s| (200..400).contains(&s))
}

/// A probe's or Service's port: a number, or the name of a container port.
pub fn container_port(container: &Value, port: &Value) -> u16 {
    if let Some(n) = port.as_u64() {
        return n as u16;
    }
    let name = port.as_str().expect("port name or number");
    container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("container {} has no port {name}", container["name"])) as u16
}

/// GET `path` from `ip:port` (over TLS when `tls`), HTTP/1.1: (status, body).
pub async fn http_get(
    ip: Ipv4Addr,
    port: u16,
    path: &str,
    tls: Option<&Arc<tokio_rustls::rustls::ClientConfig>>,
    timeout: Duration,
) -> Option<(u16, String)> {
    let fetch = async {
        let tcp = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
        match tls {
            None => exchange(tcp, ip, port, path).await,
            Some(cfg) => {
                let name = tokio_rustls::rustls::pki_types::ServerName::IpAddress(ip.into());
                let stream = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .ok()?;
                exchange(stream, ip, port, path).await
            }
        }
    };
    tokio::time::timeout(timeout, fetch).await.ok().flatten()
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    ip: Ipv4Addr,
    port: u16,
    path: &str,
) -> Option<(u16, String)> {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {ip}:{port}\r\nUser-Agent: kube-probe/1.30\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify; what was read is enough.
    let _ = s.read_to_end(&mut raw).await;
    let raw = String::from_utf8_lossy(&raw).to_string();
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    Some((status, body.unwrap_or_default()))
}
