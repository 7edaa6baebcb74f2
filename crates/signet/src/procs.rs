//! Throwaway clusters of `signet` child processes (this same binary) for `bench scale` and
//! `chaos run`: store nodes and gateways on loopback ports, data under one directory. Their
//! internal planes speak mutual TLS, as every deployed cluster's do (DESIGN §1), with a CA
//! made for the cluster in `<root>/pki` (`crate::pki`); the gateways' public listeners stay
//! plaintext on loopback.

use crate::pki::ClusterPki;
use anyhow::{bail, Context};
use serde_json::Value;
use signet_tls::Transport;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
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
        Self::spawn_wrapped(name, &[], args, log, deadline).await
    }

    /// Like [`Proc::spawn`], run through `wrap` (a command prefix that execs its argument,
    /// such as `ip netns exec NAME`).
    pub async fn spawn_wrapped(
        name: &str,
        wrap: &[String],
        args: &[String],
        log: &Path,
        deadline: Duration,
    ) -> anyhow::Result<Proc> {
        Self::spawn_with(name, wrap, &[], args, log, deadline).await
    }

    /// Like [`Proc::spawn_wrapped`], with `env` added to the child's environment.
    pub async fn spawn_with(
        name: &str,
        wrap: &[String],
        env: &[(String, String)],
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
        let mut command = match wrap.split_first() {
            None => Command::new(exe),
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(exe);
                c
            }
        };
        let mut child = command
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("SIGNET_CHILD_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().map(|(k, v)| (k, v)))
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
        self.status_bytes("VmRSS:")
    }

    /// The most resident memory the process has had, bytes (`VmHWM`).
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.status_bytes("VmHWM:")
    }

    /// A `kB` field of /proc/<pid>/status, in bytes.
    fn status_bytes(&self, field: &str) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// Whether it has ended by itself (and reap it if so).
    pub fn ended(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGKILL, and reap it: a crash, as the machine would see it.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`): the process is frozen, sockets open.
    pub fn pause(&self, stop: bool) {
        if let Some(pid) = self.child.id() {
            let sig = if stop { "-STOP" } else { "-CONT" };
            let _ = std::process::Command::new("kill")
                .args([sig, &pid.to_string()])
                .status();
        }
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

/// Store `id`'s strict disk: its data dir, its journal beside it.
fn disk(root: &Path, lib: &Path, id: u64) -> anyhow::Result<signet_chaos::strictfs::Disk> {
    signet_chaos::strictfs::Disk::new(
        lib,
        &root.join(format!("store-{id}")),
        &root.join(format!("store-{id}.journal")),
    )
    .with_context(|| format!("the strict disk of store-{id}"))
}

pub use crate::netns::free_port;

/// Arguments of store node `id` with data in `root/store-{id}`.
pub fn store_args(root: &Path, id: u64, join: Option<&str>) -> Vec<String> {
    store_args_on(root, id, join, "127.0.0.1")
}

/// Arguments of store node `id` listening on `host` (any free ports), without the TLS
/// flags ([`LocalCluster::store_tls_flags`] adds them).
pub fn store_args_on(root: &Path, id: u64, join: Option<&str>, host: &str) -> Vec<String> {
    let any_port = format!("{host}:0");
    let mut a: Vec<String> = [
        "store",
        "--node-id",
        &id.to_string(),
        "--data-dir",
        &root.join(format!("store-{id}")).display().to_string(),
        "--raft-addr",
        &any_port,
        "--api-addr",
        &any_port,
        "--key-lease-grace-secs",
        &KEY_LEASE.as_secs().to_string(),
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
    let host = raft_addr.rsplit_once(':').map_or(raft_addr, |(h, _)| h);
    let mut a = store_args_on(root, id, None, host);
    a.retain(|s| s != "--init");
    for (flag, addr) in [("--raft-addr", raft_addr), ("--api-addr", api_addr)] {
        if let Some(i) = a.iter().position(|s| s == flag) {
            a[i + 1] = addr.to_string();
        }
    }
    a
}

/// The key lease of a local cluster's gateways (and the stores' grace after a key's
/// publication): short, so that a killed gateway's keys retire within a chaos run; longer
/// than twice the worst write outage the faults cause, so that a live gateway never loses
/// its lease and `crate::chaos::keys` judges every retirement rather than excusing it. That
/// outage is MuteLeader's, about 10 s: a leader whose messages are dropped keeps its role
/// until the followers' election (openraft 0.9 has no check-quorum), so 15 s left the check
/// excused in some runs.
pub const KEY_LEASE: Duration = Duration::from_secs(25);

/// How long a child may take to say it is ready.
pub const READY: Duration = Duration::from_secs(120);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The environment that runs a process with its wall clock `offset_s` seconds off
/// (`signet_chaos::clock`).
pub fn skewed_clock(offset_s: i64) -> anyhow::Result<Vec<(String, String)>> {
    signet_chaos::clock::skewed(offset_s).map_err(anyhow::Error::msg)
}

fn clock_file(root: &Path, id: u64) -> PathBuf {
    root.join(format!("store-{id}.clock"))
}

/// Store `id`'s environment: on the strict disk (the library at `strict`), with an
/// adjustable clock when `clocks`.
fn store_env(
    root: &Path,
    strict: Option<&Path>,
    clocks: bool,
    id: u64,
) -> anyhow::Result<Vec<(String, String)>> {
    // libfaketime goes first in LD_PRELOAD: loaded after the strict disk, it crashes the
    // process at start.
    let mut env = match clocks {
        true => {
            signet_chaos::clock::adjustable(&clock_file(root, id)).map_err(anyhow::Error::msg)?
        }
        false => Vec::new(),
    };
    if let Some(lib) = strict {
        env = signet_chaos::clock::merge_env(env, disk(root, lib, id)?.env());
    }
    Ok(env)
}

/// Start a gateway and wait until it answers `/readyz` (it signs once its first key is
/// usable: publish before sign), or, with `unready_for`, until `/readyz` refuses it for a
/// reason that names that (a gateway whose clock is off is never ready).
async fn start_gateway(
    name: &str,
    env: &[(String, String)],
    args: &[String],
    log: &Path,
    unready_for: Option<&str>,
) -> anyhow::Result<Proc> {
    let gw = Proc::spawn_with(name, &[], env, args, log, READY).await?;
    let http = args
        .iter()
        .position(|s| s == "--http-addr")
        .map(|i| args[i + 1].clone())
        .context("a gateway without --http-addr")?;
    let readyz = format!("http://{http}/readyz");
    let deadline = Instant::now() + READY;
    loop {
        match (crate::jwt_inspect::http_get(&readyz).await, unready_for) {
            (Ok(_), None) => return Ok(gw),
            (Ok(_), Some(why)) => bail!("{name} is ready, though it should not be ({why})"),
            (Err(e), Some(why)) if format!("{e:#}").contains(why) => return Ok(gw),
            (Err(_), _) => {}
        }
        if Instant::now() > deadline {
            match unready_for {
                None => bail!("{name} was not ready within {READY:?}"),
                Some(why) => bail!("{name} did not report not ready for {why:?} within {READY:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where and how a local cluster's stores run, for the faults a chaos run injects.
#[derive(Default)]
pub struct Placement {
    /// Each store in its own namespace of this network (link faults).
    pub net: Option<crate::netns::Network>,
    /// On a strict disk (`signet_chaos::strictfs`, built here): disk faults.
    pub strict: bool,
    /// With an adjustable clock (`signet_chaos::clock`): clock faults on the stores.
    pub clocks: bool,
    /// Raft traffic through a link proxy (`crate::proxied`): delay faults.
    pub proxy: bool,
    /// More flags for every store started (e.g. a longer `--join-catch-up-secs`).
    pub store_flags: Vec<String>,
    /// More flags for every gateway started (e.g. a longer `--request-timeout-ms`).
    pub gateway_flags: Vec<String>,
}

/// A running local cluster: `stores` (the first made with `--init`, the others joined to
/// it) and `gateways` in front of all of them, sharing an admin secret.
pub struct LocalCluster {
    pub root: PathBuf,
    pub stores: Vec<Proc>,
    pub gateways: Vec<Proc>,
    pub admin_secret: String,
    /// Each store's (raft, api) addresses, for restarts.
    pub addrs: Vec<(String, String)>,
    /// Each store's Raft node id (`index + 1` until a wiped store is replaced by a node
    /// with a new id).
    pub ids: Vec<u64>,
    /// Each gateway's arguments with the ports it bound, for restarts on the same ports.
    gateway_args: Vec<Vec<String>>,
    /// The stores' own network (one namespace each), when links between them are to be
    /// cut; dropped (torn down) with the cluster.
    pub net: Option<crate::netns::Network>,
    /// The strict-disk library every store runs on, when disk faults are to be injected
    /// (`signet_chaos::strictfs`).
    strict: Option<PathBuf>,
    /// Whether every store's wall clock can be set (`signet_chaos::clock::adjustable`, from
    /// [`LocalCluster::clock_file`]), for clock faults on the stores.
    clocks: bool,
    /// The cluster's CA and the certificates it issued.
    pki: ClusterPki,
    /// How this tool reaches the stores: mutual TLS with an operator certificate.
    pub store_transport: Transport,
    /// The link proxy every store's Raft traffic goes through, when links are to be
    /// delayed (`crate::proxied`).
    pub proxy: Option<crate::proxied::Proxied>,
}

impl LocalCluster {
    /// The log file of process `name`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.log"))
    }

    /// Start `stores` store nodes and `gateways` gateways under `root`, placed as `at`
    /// says (namespaces, strict disk, adjustable clocks, link proxy, extra flags); returns
    /// once every gateway answers `/readyz`.
    pub async fn start_with(
        root: &Path,
        stores: u64,
        gateways: usize,
        at: Placement,
    ) -> anyhow::Result<LocalCluster> {
        let Placement {
            net,
            strict,
            clocks,
            proxy,
            store_flags,
            gateway_flags,
        } = at;
        let proxy = match proxy {
            true => Some(crate::proxied::Proxied::start(stores as usize, net.as_ref()).await?),
            false => None,
        };
        let strict = match strict {
            true => Some(
                signet_chaos::strictfs::build(&root.join("strictfs"))
                    .context("building the strict disk (disk faults need a C compiler, cc)")?,
            ),
            false => None,
        };
        let disk_env = |id: u64| store_env(root, strict.as_deref(), clocks, id);
        let log = |name: &str| root.join(format!("{name}.log"));
        let placed = |i: usize| match &net {
            Some(n) => (n.wrap(i), n.ip(i)),
            None => (Vec::new(), "127.0.0.1".to_string()),
        };
        let pki = ClusterPki::create(&root.join("pki"))
            .context("making the cluster's CA (a run needs a directory of its own)")?;
        let store_transport = pki.operator_transport()?;
        let (wrap, host) = placed(0);
        let mut args = store_args_on(root, 1, None, &host);
        args.extend(store_flags.iter().cloned());
        args.extend(pki.store_flags(1, &host)?);
        if let Some(p) = &proxy {
            p.place(0, &mut args)?;
        }
        let s1 = Proc::spawn_with(
            "store-1",
            &wrap,
            &disk_env(1)?,
            &args,
            &log("store-1"),
            READY,
        )
        .await?;
        let seed = s1.field("api_addr");
        let mut procs = vec![s1];
        for id in 2..=stores {
            let name = format!("store-{id}");
            let (wrap, host) = placed(id as usize - 1);
            let mut args = store_args_on(root, id, Some(&seed), &host);
            args.extend(store_flags.iter().cloned());
            args.extend(pki.store_flags(id, &host)?);
            if let Some(p) = &proxy {
                p.place(id as usize - 1, &mut args)?;
            }
            let env = disk_env(id)?;
            procs.push(Proc::spawn_with(&name, &wrap, &env, &args, &log(&name), READY).await?);
        }
        let addrs = procs
            .iter()
            .map(|s| (s.field("raft_addr"), s.field("api_addr")))
            .collect::<Vec<_>>();
        let admin_secret = signet_crypto::random_hex_id();
        let server_secret = hex(&signet_crypto::random_bytes::<32>());
        let apis: Vec<String> = addrs.iter().map(|(_, api)| api.clone()).collect();
        let (mut gws, mut gateway_args) = (Vec::new(), Vec::new());
        for g in 1..=gateways {
            let port = free_port()?;
            let mut args: Vec<String> = [
                "gateway",
                "--store",
                &apis.join(","),
                "--grpc-addr",
                "127.0.0.1:0",
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--public-url",
                &format!("http://127.0.0.1:{port}"),
                "--admin-secret",
                &admin_secret,
                "--server-secret",
                &server_secret,
                "--jwks-max-age-secs",
                "1",
                "--key-lease-secs",
                &KEY_LEASE.as_secs().to_string(),
                // A throwaway local cluster: codes may rest in its store.
                "--dev-outbox",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(gateway_flags.iter().cloned());
            args.extend(pki.gateway_flags(g)?);
            let name = format!("gateway-{g}");
            let gw = start_gateway(&name, &[], &args, &log(&name), None).await?;
            // A restart binds the same gRPC port, so that clients reconnect to it.
            if let Some(i) = args.iter().position(|s| s == "--grpc-addr") {
                args[i + 1] = gw.field("grpc_addr");
            }
            gws.push(gw);
            gateway_args.push(args);
        }
        Ok(LocalCluster {
            root: root.to_path_buf(),
            stores: procs,
            gateways: gws,
            admin_secret,
            ids: (1..=stores).collect(),
            addrs,
            gateway_args,
            net,
            strict,
            clocks,
            pki,
            store_transport,
            proxy,
        })
    }

    /// The TLS flags of store node `id` listening on `host` (its certificate is issued
    /// the first time and kept for restarts).
    pub fn store_tls_flags(&self, id: u64, host: &str) -> anyhow::Result<Vec<String>> {
        self.pki.store_flags(id, host)
    }

    /// Store `index`'s strict disk, if the stores run on one.
    pub fn disk(&self, index: usize) -> anyhow::Result<Option<signet_chaos::strictfs::Disk>> {
        match &self.strict {
            Some(lib) => Ok(Some(disk(&self.root, lib, self.ids[index])?)),
            None => Ok(None),
        }
    }

    fn store_env(&self, id: u64) -> anyhow::Result<Vec<(String, String)>> {
        store_env(&self.root, self.strict.as_deref(), self.clocks, id)
    }

    /// The file store `id`'s clock offset is read from (when started with clocks).
    pub fn clock_file(&self, id: u64) -> anyhow::Result<PathBuf> {
        match self.clocks {
            true => Ok(clock_file(&self.root, id)),
            false => bail!("clock faults on the stores need them started with adjustable clocks"),
        }
    }

    /// Replace store `index`, already stopped, whose data is lost: wipe its data dir, remove
    /// its node from the membership (through the others), and join a new, empty node under
    /// a new id in its place (same host, new ports), as an operator would. A wiped node
    /// must not come back under its old id: it would have forgotten its votes.
    pub async fn replace_wiped_store(
        &mut self,
        index: usize,
        client: &signet_store::StoreClient,
    ) -> anyhow::Result<Proc> {
        let old = self.ids[index];
        let dir = self.root.join(format!("store-{old}"));
        std::fs::remove_dir_all(&dir).with_context(|| format!("wiping {}", dir.display()))?;
        client
            .remove(old)
            .await
            .with_context(|| format!("removing wiped node {old}"))?;
        let id = self.ids.iter().max().copied().unwrap_or(0) + 1;
        let seed = self
            .addrs
            .iter()
            .enumerate()
            .find(|(i, _)| *i != index)
            .map(|(_, (_, api))| api.clone())
            .context("no other store to join")?;
        let (wrap, host) = match &self.net {
            Some(n) => (n.wrap(index), n.ip(index)),
            None => (Vec::new(), "127.0.0.1".to_string()),
        };
        let name = format!("store-{id}");
        let mut args = store_args_on(&self.root, id, Some(&seed), &host);
        args.extend(self.store_tls_flags(id, &host)?);
        if let Some(p) = &self.proxy {
            p.place(index, &mut args)?;
        }
        let env = self.store_env(id)?;
        let proc = Proc::spawn_with(&name, &wrap, &env, &args, &self.log(&name), READY).await?;
        self.ids[index] = id;
        self.addrs[index] = (proc.field("raft_addr"), proc.field("api_addr"));
        Ok(proc)
    }

    /// Start gateway `index` (0-based) again on its ports.
    pub async fn restart_gateway(&self, index: usize) -> anyhow::Result<Proc> {
        let name = format!("gateway-{}", index + 1);
        start_gateway(
            &name,
            &[],
            &self.gateway_args[index],
            &self.log(&name),
            None,
        )
        .await
    }

    /// Start gateway `index` again with its clock off (`clock`: a libfaketime environment);
    /// returns once its `/readyz` says it is not ready because of its clock.
    pub async fn restart_gateway_skewed(
        &self,
        index: usize,
        clock: &[(String, String)],
    ) -> anyhow::Result<Proc> {
        let name = format!("gateway-{}", index + 1);
        let args = &self.gateway_args[index];
        start_gateway(&name, clock, args, &self.log(&name), Some("clock")).await
    }

    /// Start store `index` (0-based) again on its data and addresses.
    pub async fn restart_store(&self, index: usize) -> anyhow::Result<Proc> {
        let id = self.ids[index];
        let (raft, api) = &self.addrs[index];
        let name = format!("store-{id}");
        let wrap = self.net.as_ref().map(|n| n.wrap(index)).unwrap_or_default();
        let host = raft.rsplit_once(':').map_or(raft.as_str(), |(h, _)| h);
        let mut args = restart_args(&self.root, id, raft, api);
        args.extend(self.store_tls_flags(id, host)?);
        if let Some(p) = &self.proxy {
            p.place(index, &mut args)?;
        }
        let env = self.store_env(id)?;
        Proc::spawn_with(&name, &wrap, &env, &args, &self.log(&name), READY).await
    }

    /// Stop everything cleanly.
    pub async fn stop(self) {
        for g in self.gateways {
            let _ = g.stop(Duration::from_secs(20)).await;
        }
        for s in self.stores {
            let _ = s.stop(Duration::from_secs(30)).await;
        }
    }
}
