//! `chaos run --attach`: a cluster the tool did not start. The user says, per fault kind,
//! which shell command injects it and, optionally, which one heals it (for a pod a
//! controller restarts by itself, none), e.g.
//! `--fault-command 'kill-store=kubectl delete pod signet-store-{store_index} --wait=false'`.
//!
//! Placeholders: `{store_index}` (0-based, as a StatefulSet numbers its pods), `{store}`
//! (1-based), `{node_id}`, `{store_api}` (its API address), and for gateway faults
//! `{gateway_index}`, `{gateway}` and `{gateway_addr}`; `{{` is a literal `{`. A name in
//! braces that is not one of these, or one that means nothing for the kind (a store's for a
//! gateway fault, a gateway's for a store fault), is refused when the flags are read.
//!
//! The stores' data dirs are not here, so the state digests of a local run are replaced by
//! comparing every store's Status after healing.

use super::endpoints::Endpoints;
use super::nemesis::{Hit, Nodes};
use crate::cli::chaos::{Fault, RunArgs};
use crate::exit::Exit;
use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Why an attached run does not compare state digests (the report's `checks_not_run`).
pub const NO_DIGESTS: &str = "attached: the stores' data dirs are not on this machine; \
                              every store's Status is compared after healing instead \
                              (store-status)";
/// Why an attached run does not look for stale key retirements.
pub const NO_KEY_CHECK: &str = "attached: the gateways' key lease and rotation schedule \
                                are not known here, so a retirement of a live gateway's key \
                                cannot be told from a rotation or a lease that lapsed for real";
/// Longest a fault or heal command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes of a command's stderr kept in the report.
const STDERR_KEPT: usize = 4096;

/// A placeholder of the commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    StoreIndex,
    Store,
    NodeId,
    StoreApi,
    GatewayIndex,
    Gateway,
    GatewayAddr,
}

const VARS: [(&str, Var); 7] = [
    ("store_index", Var::StoreIndex),
    ("store", Var::Store),
    ("node_id", Var::NodeId),
    ("store_api", Var::StoreApi),
    ("gateway_index", Var::GatewayIndex),
    ("gateway", Var::Gateway),
    ("gateway_addr", Var::GatewayAddr),
];

impl Var {
    fn of_gateway(self) -> bool {
        matches!(self, Var::GatewayIndex | Var::Gateway | Var::GatewayAddr)
    }
}

/// Whether fault `f` hits a gateway (else a store, or the links between stores).
fn on_gateway(f: Fault) -> bool {
    matches!(
        f,
        Fault::KillGateway | Fault::PauseGateway | Fault::SkewGateway
    )
}

/// A command with its placeholders found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(Var),
}

/// Split `command` (for fault `f`) into text and placeholders.
fn template(command: &str, f: Fault) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = command;
    while let Some(i) = rest.find('{') {
        text.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("{{") {
            text.push('{');
            rest = after;
            continue;
        }
        let name_len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        if name.is_empty() || !rest[1 + name_len..].starts_with('}') {
            // Not a placeholder (`{ a; }`, a lone brace): text.
            text.push('{');
            rest = &rest[1..];
            continue;
        }
        let var = VARS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                format!(
                    "unknown placeholder {{{name}}} (known: {}; write {{{{ for a literal {{)",
                    VARS.iter()
                        .map(|(n, _)| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        if var.of_gateway() != on_gateway(f) {
            return Err(format!(
                "{{{name}}} means nothing for {} (it hits a {}; its placeholders: {})",
                name_of(f),
                if on_gateway(f) { "gateway" } else { "store" },
                VARS.iter()
                    .filter(|(_, v)| v.of_gateway() == on_gateway(f))
                    .map(|(n, _)| format!("{{{n}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        out.push(Piece::Var(var));
        rest = &rest[name_len + 2..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The kind as `--faults` spells it.
pub fn name_of(f: Fault) -> String {
    f.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_else(|| format!("{f:?}"))
}

/// `KIND=COMMAND` values of `flag`, by kind.
fn parse(pairs: &[String], flag: &str) -> Result<BTreeMap<String, Vec<Piece>>, String> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (kind, command) = pair
            .split_once('=')
            .ok_or_else(|| format!("{flag} {pair:?}: expected KIND=COMMAND"))?;
        let fault = Fault::from_str(kind.trim(), false).map_err(|_| {
            format!("{flag} {pair:?}: unknown fault kind {kind:?} (the kinds are --faults' values)")
        })?;
        if command.trim().is_empty() {
            return Err(format!("{flag} {pair:?}: empty command"));
        }
        let pieces = template(command, fault).map_err(|e| format!("{flag} {pair:?}: {e}"))?;
        if out.insert(name_of(fault), pieces).is_some() {
            return Err(format!("{flag}: two commands for {}", name_of(fault)));
        }
    }
    Ok(out)
}

/// Where a fault lands, for the placeholders.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub store_index: usize,
    pub node_id: u64,
    pub store_api: String,
    pub gateway_index: usize,
    pub gateway_addr: String,
}

fn fill(pieces: &[Piece], at: &Place) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Var(Var::StoreIndex) => at.store_index.to_string(),
            Piece::Var(Var::Store) => (at.store_index + 1).to_string(),
            Piece::Var(Var::NodeId) => at.node_id.to_string(),
            Piece::Var(Var::StoreApi) => at.store_api.clone(),
            Piece::Var(Var::GatewayIndex) => at.gateway_index.to_string(),
            Piece::Var(Var::Gateway) => (at.gateway_index + 1).to_string(),
            Piece::Var(Var::GatewayAddr) => at.gateway_addr.clone(),
        })
        .collect()
}

/// The user's commands, by fault kind.
#[derive(Debug, Default)]
pub struct Commands {
    inject: BTreeMap<String, Vec<Piece>>,
    heal: BTreeMap<String, Vec<Piece>>,
}

impl Commands {
    /// From `--fault-command` and `--heal-command` values; every kind in `faults` needs a
    /// fault command, and a heal command needs its fault command.
    pub fn new(inject: &[String], heal: &[String], faults: &[Fault]) -> Result<Commands, String> {
        let c = Commands {
            inject: parse(inject, "--fault-command")?,
            heal: parse(heal, "--heal-command")?,
        };
        for f in faults {
            let kind = name_of(*f);
            if !c.inject.contains_key(&kind) {
                return Err(format!(
                    "--attach: no --fault-command for {kind}, which --faults asks for; attached, \
                     only the kinds given a fault command can be injected (give \
                     --fault-command {kind}=CMD, or leave {kind} out of --faults)"
                ));
            }
        }
        if let Some(k) = c.heal.keys().find(|k| !c.inject.contains_key(*k)) {
            return Err(format!(
                "--heal-command for {k} without a --fault-command for it"
            ));
        }
        Ok(c)
    }

    /// The command that injects `f` at `at`, placeholders filled.
    pub fn inject(&self, f: Fault, at: &Place) -> Option<String> {
        self.inject.get(&name_of(f)).map(|c| fill(c, at))
    }

    /// The command that heals `f` at `at`, if the user gave one.
    pub fn heal(&self, f: Fault, at: &Place) -> Option<String> {
        self.heal.get(&name_of(f)).map(|c| fill(c, at))
    }
}

/// One fault or heal command as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct Ran {
    /// The fault it belongs to: 0-based, in the order they were injected.
    pub fault_no: usize,
    /// The kind, as --faults spells it.
    pub kind: String,
    /// `fault` or `heal`.
    pub phase: &'static str,
    /// The command, placeholders filled.
    pub command: String,
    /// Whether it exited with status 0 in time.
    pub ok: bool,
    /// Its exit status (absent when it did not exit by itself: killed, timed out).
    pub exit_status: Option<i32>,
    /// What it wrote on stderr (the first few KiB).
    pub stderr: String,
    /// Why it did not run to an exit status, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub ms: u64,
}

impl Ran {
    /// The error of the run for a failed command.
    fn failure(&self) -> anyhow::Error {
        let why = match (&self.error, self.exit_status) {
            (Some(e), _) => e.clone(),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => "killed by a signal".into(),
        };
        anyhow::anyhow!(
            "the {} command of fault {} ({}) failed ({why}): `{}`{}",
            self.phase,
            self.fault_no + 1,
            self.kind,
            self.command,
            if self.stderr.is_empty() {
                String::new()
            } else {
                format!("; stderr: {}", self.stderr.trim())
            }
        )
    }
}

/// Run `command` with `sh -c`, at most [`COMMAND_TIMEOUT`]. The shell leads a process
/// group of its own, and a command that runs out of time is killed with everything it
/// started (a `kubectl … &`, an `ssh` whose shell was killed), not only the shell.
async fn run(command: &str, timeout: Duration) -> (Option<i32>, String, Option<String>) {
    let child = tokio::process::Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return (None, String::new(), Some(format!("could not run sh: {e}"))),
    };
    let group = child.id();
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            if let Some(pgid) = group {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pgid}")])
                    .stderr(Stdio::null())
                    .status();
            }
            (
                None,
                String::new(),
                Some(format!(
                    "did not finish within {timeout:?}; killed with its process group"
                )),
            )
        }
        Ok(Err(e)) => (None, String::new(), Some(format!("could not run sh: {e}"))),
        Ok(Ok(out)) => {
            let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            if stderr.len() > STDERR_KEPT {
                let mut end = STDERR_KEPT;
                while !stderr.is_char_boundary(end) {
                    end -= 1;
                }
                stderr.truncate(end);
                stderr.push('…');
            }
            (out.status.code(), stderr, None)
        }
    }
}

/// A cluster the tool is attached to.
pub struct Attached {
    endpoints: Endpoints,
    /// Each store's node id, by index (asked again after every heal).
    ids: Vec<u64>,
    commands: Commands,
    /// Every command run, in order.
    pub ran: Vec<Ran>,
    /// Faults injected so far.
    injected: usize,
    timeout: Duration,
}

/// A usage error (exit status 2).
fn usage(message: String) -> anyhow::Error {
    Exit { code: 2, message }.into()
}

impl Attached {
    /// Check the attach flags and learn each store's node id (Status).
    pub async fn connect(a: &RunArgs) -> anyhow::Result<Attached> {
        let commands =
            Commands::new(&a.fault_command, &a.heal_command, &a.faults).map_err(usage)?;
        let endpoints = Endpoints::attached(a)?;
        let client = endpoints.store_client(Duration::from_secs(10), Duration::from_secs(10));
        let mut ids = Vec::new();
        for api in &endpoints.stores {
            let s = client
                .status_of(api)
                .await
                .with_context(|| format!("--store {api}: no answer to Status"))?;
            anyhow::ensure!(
                !ids.contains(&s.node_id),
                "--store {api}: node {} is given twice",
                s.node_id
            );
            ids.push(s.node_id);
        }
        Ok(Attached {
            endpoints,
            ids,
            commands,
            ran: Vec::new(),
            injected: 0,
            timeout: COMMAND_TIMEOUT,
        })
    }

    fn place(&self, hit: &Hit) -> Place {
        Place {
            store_index: hit.node,
            node_id: self.ids[hit.node],
            store_api: self.endpoints.stores[hit.node].clone(),
            gateway_index: hit.gateway,
            gateway_addr: self.endpoints.gateways[hit.gateway].grpc.clone(),
        }
    }

    /// Run `command` for fault `fault_no` and record it.
    async fn record(&mut self, fault_no: usize, f: Fault, phase: &'static str, command: String) {
        let t = Instant::now();
        let (exit_status, stderr, error) = run(&command, self.timeout).await;
        let ran = Ran {
            fault_no,
            kind: name_of(f),
            phase,
            ok: exit_status == Some(0) && error.is_none(),
            command,
            exit_status,
            stderr,
            error,
            ms: t.elapsed().as_millis() as u64,
        };
        let line = format!(
            "{phase} command of {}: `{}` exited {}",
            ran.kind,
            ran.command,
            ran.exit_status
                .map_or_else(|| "abnormally".into(), |c| c.to_string())
        );
        super::say(&line);
        self.ran.push(ran);
    }

    /// The last command run, if it failed, as the run's error.
    fn failed(&self) -> Option<anyhow::Error> {
        self.ran.last().filter(|r| !r.ok).map(Ran::failure)
    }

    /// Ask every store its node id again (one restarted or replaced by the user may have
    /// another); a store that does not answer keeps the one it had.
    async fn refresh_ids(&mut self) {
        let client = self
            .endpoints
            .store_client(Duration::from_secs(2), Duration::from_secs(2));
        for (i, api) in self.endpoints.stores.iter().enumerate() {
            if let Ok(s) = client.status_of(api).await {
                self.ids[i] = s.node_id;
            }
        }
    }
}

impl Nodes for Attached {
    fn endpoints(&self) -> Endpoints {
        self.endpoints.clone()
    }

    fn ids(&self) -> Vec<u64> {
        self.ids.clone()
    }

    async fn inject(&mut self, hit: &Hit) -> anyhow::Result<()> {
        let (n, at) = (self.injected, self.place(hit));
        self.injected += 1;
        let command = self
            .commands
            .inject(hit.fault, &at)
            .with_context(|| format!("no --fault-command for {}", name_of(hit.fault)))?;
        self.record(n, hit.fault, "fault", command).await;
        let Some(e) = self.failed() else {
            return Ok(());
        };
        // It may be in place in part: heal it as well as one can, then stop.
        if let Some(heal) = self.commands.heal(hit.fault, &at) {
            self.record(n, hit.fault, "heal", heal).await;
        }
        Err(e)
    }

    async fn heal(&mut self, hit: &Hit) -> anyhow::Result<()> {
        let (n, at) = (self.injected.saturating_sub(1), self.place(hit));
        if let Some(command) = self.commands.heal(hit.fault, &at) {
            self.record(n, hit.fault, "heal", command).await;
            if let Some(e) = self.failed() {
                return Err(e);
            }
        }
        self.refresh_ids().await;
        Ok(())
    }
}

/// One store's Status, as the report shows it and the comparison needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    pub node_id: u64,
    pub state: String,
    pub leader_id: Option<u64>,
    pub term: u64,
    pub last_applied: u64,
    /// Member node ids (voters and learners), sorted.
    pub members: Vec<u64>,
}

/// A field of [`StoreStatus`] the stores must agree on: its name and its value as text.
type Field = (&'static str, fn(&StoreStatus) -> String);

/// Where the stores disagree (each entry one disagreement; empty when every store answered
/// and all name the same leader, term, applied index and members). `statuses`: each store's
/// API address and Status, or why it gave none.
fn disagreements(statuses: &[(String, Result<StoreStatus, String>)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut answered = Vec::new();
    for (api, s) in statuses {
        match s {
            Ok(s) => answered.push((api, s)),
            Err(e) => out.push(format!("{api}: no Status after healing: {e}")),
        }
    }
    let Some((first_api, first)) = answered.first() else {
        return out;
    };
    if first.leader_id.is_none() {
        out.push(format!("{first_api}: no leader after healing"));
    }
    let fields: [Field; 4] = [
        ("leader", |s| format!("{:?}", s.leader_id)),
        ("term", |s| s.term.to_string()),
        ("applied index", |s| s.last_applied.to_string()),
        ("members", |s| format!("{:?}", s.members)),
    ];
    for (what, get) in fields {
        if let Some((api, s)) = answered.iter().find(|(_, s)| get(s) != get(first)) {
            out.push(format!(
                "the stores disagree on the {what}: {first_api} says {}, {api} says {}",
                get(first),
                get(s)
            ));
        }
    }
    out
}

/// Every store's Status once they agree (or as they are when `within` runs out): the
/// report's `store_status` and the disagreements left.
pub async fn status_after_healing(e: &Endpoints, within: Duration) -> (Value, Vec<String>) {
    let client = e.store_client(Duration::from_secs(2), Duration::from_secs(2));
    let deadline = Instant::now() + within;
    loop {
        let mut statuses = Vec::new();
        for api in &e.stores {
            let s = client.status_of(api).await.map_err(|e| e.to_string());
            let s = s.map(|s| {
                let mut members: Vec<u64> = s
                    .members
                    .iter()
                    .filter_map(|m| m.node.as_ref().map(|n| n.node_id))
                    .collect();
                members.sort_unstable();
                StoreStatus {
                    node_id: s.node_id,
                    state: s.state,
                    leader_id: s.leader_id,
                    term: s.term,
                    last_applied: s.last_applied,
                    members,
                }
            });
            statuses.push((api.clone(), s));
        }
        let bad = disagreements(&statuses);
        if bad.is_empty() || Instant::now() > deadline {
            let shown: Vec<Value> = statuses
                .iter()
                .map(|(api, s)| match s {
                    Ok(s) => json!({"store_api": api, "status": s}),
                    Err(e) => json!({"store_api": api, "error": e}),
                })
                .collect();
            return (json!(shown), bad);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The attached part of the human summary: the stores' Status after healing and the
/// fault commands (nothing for a local run).
pub fn print_summary(r: &Value) {
    if let Some(stores) = r["store_status"].as_array() {
        let shown: Vec<String> = stores
            .iter()
            .map(|s| match s["status"].as_object() {
                Some(st) => format!(
                    "{} node {} {} term {} applied {}",
                    s["store_api"].as_str().unwrap_or_default(),
                    st["node_id"],
                    st["state"].as_str().unwrap_or_default(),
                    st["term"],
                    st["last_applied"]
                ),
                None => format!("{} no answer", s["store_api"].as_str().unwrap_or_default()),
            })
            .collect();
        println!(
            "stores after healing (Status): {}; disagreements: {}",
            shown.join(", "),
            r["status_disagreements"]
        );
    }
    if let Some(ran) = r["fault_commands"].as_array() {
        let failed = ran.iter().filter(|c| c["ok"] != true).count();
        println!("fault commands: {} run, {failed} failed", ran.len());
        for c in ran.iter().filter(|c| c["ok"] != true) {
            println!(
                "  fault {} {} {}: `{}` exit status {} {}{}",
                c["fault_no"].as_u64().unwrap_or(0) + 1,
                c["kind"].as_str().unwrap_or_default(),
                c["phase"].as_str().unwrap_or_default(),
                c["command"].as_str().unwrap_or_default(),
                c["exit_status"],
                c["error"].as_str().unwrap_or_default(),
                c["stderr"].as_str().unwrap_or_default().trim()
            );
        }
    }
    if let Some(e) = r["fault_command_error"].as_str() {
        println!("faults stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether process `pid` still runs (a zombie waiting to be reaped does not).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                let state = s.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn a_command_out_of_time_is_killed_with_what_it_started() {
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pid");
        let command = format!("sleep 60 & echo $! > {}; wait", pid_file.display());
        // Long enough for a loaded machine to start sh and write the pid.
        let (status, _, error) = run(&command, Duration::from_secs(3)).await;
        assert_eq!(status, None);
        assert!(error.unwrap().contains("killed"));
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive(&pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "the background sleep {pid} outlived its timed-out command"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A command in time keeps its status and stderr.
        let (status, stderr, error) = run("echo oops >&2; exit 3", Duration::from_secs(5)).await;
        assert_eq!((status, stderr.trim(), error), (Some(3), "oops", None));
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn at() -> Place {
        Place {
            store_index: 2,
            node_id: 7,
            store_api: "10.0.0.3:7401".into(),
            gateway_index: 0,
            gateway_addr: "10.0.1.1:7410".into(),
        }
    }

    #[test]
    fn commands_are_checked_and_filled() {
        let c = Commands::new(
            &s(&[
                "kill-store=kubectl delete pod signet-store-{store_index} # {store} {node_id} {store_api}",
                "pause-gateway=ssh gw{gateway} kill -STOP $(pidof signet) # {gateway_addr} {gateway_index}",
            ]),
            &s(&["pause-gateway=ssh gw{gateway} kill -CONT $(pidof signet)"]),
            &[Fault::KillStore, Fault::PauseGateway],
        )
        .unwrap();
        assert_eq!(
            c.inject(Fault::KillStore, &at()).unwrap(),
            "kubectl delete pod signet-store-2 # 3 7 10.0.0.3:7401"
        );
        assert_eq!(c.heal(Fault::KillStore, &at()), None);
        assert_eq!(
            c.inject(Fault::PauseGateway, &at()).unwrap(),
            "ssh gw1 kill -STOP $(pidof signet) # 10.0.1.1:7410 0"
        );
        assert_eq!(
            c.heal(Fault::PauseGateway, &at()).unwrap(),
            "ssh gw1 kill -CONT $(pidof signet)"
        );
        assert_eq!(c.inject(Fault::KillLeader, &at()), None);
    }

    #[test]
    fn braces_that_are_no_placeholder_stay_and_doubled_ones_are_literal() {
        let c = Commands::new(
            &s(&["kill-leader={ kill {node_id}; } && echo ${{HOME} {{store} {} x{"]),
            &[],
            &[Fault::KillLeader],
        )
        .unwrap();
        assert_eq!(
            c.inject(Fault::KillLeader, &at()).unwrap(),
            "{ kill 7; } && echo ${HOME} {store} {} x{"
        );
    }

    #[test]
    fn a_filled_value_is_not_filled_again() {
        let c = Commands::new(&s(&["kill-store=x {store_api}"]), &[], &[]).unwrap();
        let mut p = at();
        p.store_api = "{node_id}".into();
        assert_eq!(c.inject(Fault::KillStore, &p).unwrap(), "x {node_id}");
    }

    #[test]
    fn unknown_or_misplaced_placeholders_and_bad_pairs_are_refused() {
        let err = |inject: &[&str], heal: &[&str], faults: &[Fault]| {
            Commands::new(&s(inject), &s(heal), faults).unwrap_err()
        };
        let e = err(&["kill-store=kill {pod}"], &[], &[]);
        assert!(e.contains("unknown placeholder {pod}"), "{e}");
        assert!(e.contains("{store_index}") && e.contains("{{"), "{e}");
        let e = err(&["kill-store=true"], &["kill-store=start {Store}"], &[]);
        assert!(e.contains("--heal-command") && e.contains("{Store}"), "{e}");
        let e = err(&["kill-gateway=kill {store_index}"], &[], &[]);
        assert!(
            e.contains("{store_index} means nothing for kill-gateway"),
            "{e}"
        );
        let e = err(&["partition-leader=cut {gateway_addr}"], &[], &[]);
        assert!(
            e.contains("{gateway_addr} means nothing for partition-leader"),
            "{e}"
        );
        let e = err(
            &["kill-store=true"],
            &[],
            &[Fault::KillStore, Fault::KillLeader],
        );
        assert!(e.contains("no --fault-command for kill-leader"), "{e}");
        let e = err(&["kill-storre=true"], &[], &[]);
        assert!(e.contains("unknown fault kind \"kill-storre\""), "{e}");
        assert!(err(&["kill-store"], &[], &[]).contains("KIND=COMMAND"));
        assert!(err(&["kill-store= "], &[], &[]).contains("empty command"));
        let e = err(&["kill-store=a", "kill-store=b"], &[], &[]);
        assert!(e.contains("two commands for kill-store"), "{e}");
        let e = err(&["kill-store=true"], &["pause-store=true"], &[]);
        assert!(
            e.contains("--heal-command for pause-store without a --fault-command"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_command_is_run_with_its_status_and_stderr_and_a_slow_one_is_killed() {
        assert_eq!(
            run("true", COMMAND_TIMEOUT).await,
            (Some(0), String::new(), None)
        );
        let (status, stderr, error) = run("echo nope >&2; exit 3", COMMAND_TIMEOUT).await;
        assert_eq!((status, stderr.as_str(), error), (Some(3), "nope\n", None));
        let t = Instant::now();
        let (status, _, error) = run("sleep 30", Duration::from_millis(200)).await;
        assert_eq!(status, None);
        assert!(error.unwrap().contains("did not finish"));
        assert!(t.elapsed() < Duration::from_secs(10));
        let ran = Ran {
            fault_no: 1,
            kind: "kill-store".into(),
            phase: "fault",
            command: "exit 3".into(),
            ok: false,
            exit_status: Some(3),
            stderr: "nope\n".into(),
            error: None,
            ms: 1,
        };
        let e = ran.failure().to_string();
        assert!(
            e.contains("fault 2 (kill-store)") && e.contains("exit status 3") && e.contains("nope"),
            "{e}"
        );
    }

    #[test]
    fn stores_that_disagree_after_healing_are_named() {
        let st = |leader: Option<u64>, term: u64, applied: u64, members: &[u64]| StoreStatus {
            node_id: 1,
            state: "Follower".into(),
            leader_id: leader,
            term,
            last_applied: applied,
            members: members.to_vec(),
        };
        let good = st(Some(2), 5, 100, &[1, 2, 3]);
        let all = |v: Vec<Result<StoreStatus, String>>| {
            v.into_iter()
                .enumerate()
                .map(|(i, s)| (format!("s{i}:7401"), s))
                .collect::<Vec<_>>()
        };
        assert!(disagreements(&all(vec![Ok(good.clone()), Ok(good.clone())])).is_empty());
        let bad = disagreements(&all(vec![
            Ok(good.clone()),
            Ok(st(Some(3), 6, 99, &[1, 2])),
            Err("refused".into()),
        ]));
        assert_eq!(bad.len(), 5, "{bad:?}");
        assert!(bad[0].contains("s2:7401: no Status after healing: refused"));
        assert!(bad[1].contains("leader: s0:7401 says Some(2), s1:7401 says Some(3)"));
        assert!(bad[2].contains("term"));
        assert!(bad[3].contains("applied index: s0:7401 says 100, s1:7401 says 99"));
        assert!(bad[4].contains("members"));
        let leaderless = disagreements(&all(vec![Ok(st(None, 5, 100, &[1]))]));
        assert_eq!(
            leaderless,
            vec!["s0:7401: no leader after healing".to_string()]
        );
    }
}
