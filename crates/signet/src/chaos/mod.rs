//! `signet chaos run`: a local cluster of real processes, workloads through its gateways,
//! faults on the store nodes on a seeded schedule (`nemesis`), then — every node back —
//! the recorded histories judged by `signet_chaos`: sign-ups (`workload`) as a grow-only
//! set listed by every gateway, GetId (`identities`) as one identity per login, the
//! diagnostic registers (`registers`) as linearizable compare-and-set registers, the
//! client_credentials tokens (`tokens`) as verifying against every gateway's JWKS until
//! their `exp`, and every store at the same applied index. With `--attach` (`attach`), the
//! cluster is one the user runs and the user's commands inject the faults.

mod attach;
mod endpoints;
mod identities;
mod nemesis;
mod registers;
mod slow;
mod tokens;
mod transport;
mod workload;

use crate::cli::chaos::{ChaosArgs, ChaosCommand, CheckArgs, RunArgs, Workload};
use crate::exit::Exit;
use crate::procs::LocalCluster;
use crate::rpc::{status_error, with_secret, AdminChannel};
use anyhow::Context;
use endpoints::Endpoints;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_chaos::history::{self, Op, Outcome};
use signet_chaos::linearizable::{self, RegisterEntry, RegisterOp, RegisterOut, Verdict};
use signet_chaos::sets::{self, AddEntry};
use signet_chaos::unique::{self, GetOrCreateEntry};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tokens::TokenEntry;

pub(crate) fn say(m: &str) {
    eprintln!("signet chaos: {m}");
}

pub async fn run(a: ChaosArgs) -> anyhow::Result<()> {
    match a.command {
        ChaosCommand::Run(r) => run_one(*r).await,
        ChaosCommand::Check(c) => check_saved(c).await,
    }
}

/// An authenticated admin channel to gateway `g`.
async fn channel(e: &Endpoints, g: usize) -> anyhow::Result<AdminChannel> {
    let channel = crate::rpc::connect_to(&e.gateways[g].grpc, &e.gateway_transport).await?;
    with_secret(channel, &e.admin_secret)
}

/// What the workloads need made before they start.
struct Setup {
    user_pool: String,
    identity_pool: String,
    /// The confidential client of the token workload (when it runs), in `user_pool`.
    service: Option<tokens::ServiceClient>,
}

async fn setup(cluster: &Endpoints, workloads: &[Workload]) -> anyhow::Result<Setup> {
    let mut admin = UserPoolAdminClient::new(channel(cluster, 0).await?);
    let user_pool = admin
        .create_user_pool(pb::CreateUserPoolRequest {
            pool_name: "chaos".into(),
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .user_pool
        .context("no pool in the answer")?
        .id;
    let identity_pool = IdentityAdminClient::new(channel(cluster, 0).await?)
        .create_identity_pool(pb::IdentityPoolType {
            identity_pool_name: "chaos".into(),
            developer_provider_name: identities::PROVIDER.into(),
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .identity_pool_id;
    let service = match workloads.contains(&Workload::Tokens) {
        true => Some(tokens::setup(&mut admin, &user_pool).await?),
        false => None,
    };
    Ok(Setup {
        user_pool,
        identity_pool,
        service,
    })
}

fn counts<I, O>(ops: &[Op<I, O>]) -> Value {
    let n = |f: fn(&Outcome<O>) -> bool| ops.iter().filter(|o| f(&o.outcome)).count();
    json!({
        "total": ops.len(),
        "ok": n(|o| matches!(o, Outcome::Ok(_))),
        "failed": n(|o| matches!(o, Outcome::Failed)),
        "unknown": n(|o| matches!(o, Outcome::Unknown)),
    })
}

fn save<I: Serialize, O: Serialize>(ops: &[Op<I, O>], path: &Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    history::save(ops, &mut file)?;
    Ok(())
}

/// The cluster of a run: started here, or one the user runs.
enum Cluster {
    Local(LocalCluster),
    Attached(attach::Attached),
}

impl Cluster {
    fn endpoints(&self) -> Endpoints {
        match self {
            Cluster::Local(c) => Endpoints::local(c),
            Cluster::Attached(c) => nemesis::Nodes::endpoints(c),
        }
    }
}

async fn run_one(a: RunArgs) -> anyhow::Result<()> {
    // Attached, the flags are checked and the stores asked before anything is made.
    let attached = match a.attach {
        true => Some(attach::Attached::connect(&a).await?),
        false => None,
    };
    let seed = a
        .seed
        .unwrap_or_else(|| u64::from_le_bytes(signet_crypto::random_bytes::<8>()));
    let (root, temporary) = match &a.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("signet-chaos-{}", signet_crypto::random_hex_id())),
            true,
        ),
    };
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let (stores, gateways) = match &attached {
        Some(at) => {
            let e = nemesis::Nodes::endpoints(at);
            (e.stores.len(), e.gateways.len())
        }
        None => (a.stores as usize, a.gateways as usize),
    };
    say(&format!(
        "seed {seed}: {stores} stores, {gateways} gateways{}, {} s, {:?}; data and logs in {}",
        if attached.is_some() {
            " (attached)"
        } else {
            ""
        },
        a.duration_s,
        a.workloads,
        root.display()
    ));
    let net = match nemesis::needs_network(&a.faults) && attached.is_none() {
        true => Some(
            crate::netns::Network::create(a.stores as usize)
                .context("making the stores' network (partition faults need root)")?,
        ),
        false => None,
    };
    let mut cluster = match attached {
        Some(at) => Cluster::Attached(at),
        None => Cluster::Local(
            LocalCluster::start_with(
                &root,
                a.stores,
                gateways,
                crate::procs::Placement {
                    net,
                    strict: nemesis::needs_disk(&a.faults),
                    clocks: nemesis::needs_clocks(&a.faults),
                    proxy: slow::needs_proxy(&a.faults),
                },
            )
            .await?,
        ),
    };
    let e = cluster.endpoints();
    let transport_probe = transport::probe(&e).await?;
    let made = setup(&e, &a.workloads).await?;

    // The workloads run until the nemesis is done; every fault is healed before the next.
    let start = Instant::now();
    let timeout = Duration::from_millis(a.call_timeout_ms);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (mut adders, mut getters, mut setters, mut issuers) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in 0..a.clients as usize {
        // Client c runs workload c % w; the k-th client of a workload uses gateway
        // (k + its workload) % gateways, so every workload's clients alternate across the
        // gateways whatever the number of workloads.
        let (w, k) = (c % a.workloads.len(), c / a.workloads.len());
        let gateway = (k + w) % gateways;
        let id = c as u32;
        match a.workloads[w] {
            Workload::SignUps => adders.push(tokio::spawn(
                workload::Client {
                    id,
                    admin: UserPoolAdminClient::new(channel(&e, gateway).await?),
                    pool_id: made.user_pool.clone(),
                    start,
                    timeout,
                }
                .run(stopped.clone()),
            )),
            Workload::Identities => getters.push(tokio::spawn(
                identities::Client {
                    id,
                    admin: IdentityAdminClient::new(channel(&e, gateway).await?),
                    pool_id: made.identity_pool.clone(),
                    start,
                    timeout,
                }
                .run(stopped.clone()),
            )),
            Workload::Registers => setters.push(tokio::spawn(
                registers::Client {
                    id,
                    store: registers::store_client(&e, timeout),
                    seed,
                    start,
                    timeout,
                }
                .run(stopped.clone()),
            )),
            Workload::Tokens => issuers.push(tokio::spawn(
                tokens::Client::new(
                    id,
                    &e,
                    gateway,
                    &made.user_pool,
                    made.service.as_ref().context("no client for tokens")?,
                    start,
                    timeout,
                )?
                .run(stopped.clone()),
            )),
        }
    }
    let mut injected = Vec::new();
    let faults = match &mut cluster {
        Cluster::Local(c) => nemesis::run(c, &a, seed, start, &mut injected).await,
        Cluster::Attached(c) => nemesis::run(c, &a, seed, start, &mut injected).await,
    };
    let _ = stop.send(true);
    let mut adds: Vec<AddEntry> = Vec::new();
    for c in adders {
        adds.extend(c.await.context("a workload client panicked")?);
    }
    let mut gets: Vec<GetOrCreateEntry> = Vec::new();
    for c in getters {
        gets.extend(c.await.context("a workload client panicked")?);
    }
    let mut regs: Vec<RegisterEntry> = Vec::new();
    for c in setters {
        regs.extend(c.await.context("a workload client panicked")?);
    }
    let mut toks: Vec<TokenEntry> = Vec::new();
    for c in issuers {
        toks.extend(c.await.context("a workload client panicked")?);
    }
    // Attached, a fault command that failed ends the faults, not the run: the report says
    // what ran and how it failed.
    let fault_error = match (faults, &cluster) {
        (Ok(()), _) => None,
        (Err(e), Cluster::Attached(_)) => Some(format!("{e:#}")),
        (Err(e), Cluster::Local(_)) => return Err(e),
    };
    let faults = injected;
    adds.sort_by_key(|o| o.invoke_ns);
    gets.sort_by_key(|o| o.invoke_ns);
    regs.sort_by_key(|o| o.invoke_ns);
    toks.sort_by_key(|o| o.invoke_ns);
    save(&adds, &root.join("history.jsonl"))?;
    save(&gets, &root.join("identities.jsonl"))?;
    save(&regs, &root.join("registers.jsonl"))?;
    if made.service.is_some() {
        save(&toks, &root.join("tokens.jsonl"))?;
    }

    say("faults over; waiting for every store to reach the same applied index");
    let e = cluster.endpoints();
    let applied = nemesis::converged(&e, Duration::from_secs(60)).await;
    let converged = applied.windows(2).all(|w| w[0] == w[1]) && !applied.contains(&0);
    let fin = observe(&e, &made, &adds, &gets, timeout).await?;
    std::fs::write(root.join("final.json"), serde_json::to_vec_pretty(&fin)?)?;
    let (checks, anomalies) = judge(&adds, &gets, &regs, &toks, &fin);
    // Outages are measured on writes that must commit through the log: sign-ups and
    // register writes and CAS (a GetId of a known login, a read, may not need the log).
    let acks: Vec<(u64, u64)> = adds
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
        .filter_map(|o| Some((o.invoke_ns, o.complete_ns?)))
        .chain(
            regs.iter()
                .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
                .filter(|o| !matches!(o.input, RegisterOp::Read { .. }))
                .filter_map(|o| Some((o.invoke_ns, o.complete_ns?))),
        )
        .collect();
    let faults_json: Vec<Value> = faults.iter().map(|f| f.to_json(&acks)).collect();
    let worst_outage_ms = faults_json
        .iter()
        .filter_map(|f| f["first_ack_after_ms"].as_f64())
        .fold(0.0, f64::max);
    let total = |k: &str| {
        [counts(&adds), counts(&gets), counts(&regs), counts(&toks)]
            .iter()
            .map(|c| c[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let (cluster_anomalies, mut cluster_checks) = match cluster {
        Cluster::Local(cluster) => {
            // Stopped cleanly, every store's state machine is read from its data dir: stores
            // that applied the same log must hold the same rows.
            let dirs: Vec<(String, std::path::PathBuf)> = cluster
                .ids
                .iter()
                .map(|id| (format!("store-{id}"), root.join(format!("store-{id}"))))
                .collect();
            cluster.stop().await;
            let digests = state_digests(&dirs).await;
            let diverged = diverged(&digests);
            let report = json!({
                "checks": checks_ran(&a, false),
                "state_digests": digests,
                "diverged": diverged,
            });
            (diverged.len(), report)
        }
        // The data dirs are not here: every store's Status must agree instead.
        Cluster::Attached(at) => {
            let (status, bad) = attach::status_after_healing(&e, Duration::from_secs(30)).await;
            let report = json!({
                "checks": checks_ran(&a, true),
                "checks_not_run": {"state-digests": attach::NO_DIGESTS},
                "store_status": status,
                "status_disagreements": bad,
                "fault_commands": at.ran,
                "fault_command_error": fault_error,
            });
            (bad.len(), report)
        }
    };
    let anomalies = anomalies + cluster_anomalies;
    let mut report = json!({
        "seed": seed,
        "stores": e.stores.len(),
        "gateways": e.gateways.len(),
        "transport": e.transport_name(),
        "transport_probe": transport_probe,
        "duration_s": a.duration_s,
        "operations": {
            "total": total("total"), "ok": total("ok"),
            "failed": total("failed"), "unknown": total("unknown"),
        },
        "workloads": checks,
        "faults": faults_json,
        "worst_outage_ms": worst_outage_ms,
        "converged": converged,
        "applied": applied,
        "anomalies": anomalies,
        "dir": root,
    });
    if let (Some(r), Some(c)) = (report.as_object_mut(), cluster_checks.as_object_mut()) {
        r.append(c);
    }
    if a.json {
        println!("{report}");
    } else {
        print_summary(&report);
    }
    let clean = anomalies == 0 && converged && fault_error.is_none();
    if clean && temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    if clean {
        Ok(())
    } else {
        Err(Exit {
            code: 1,
            message: format!(
                "{anomalies} anomalies{}{}; histories and logs kept in {}",
                if converged {
                    ""
                } else {
                    ", and the stores did not converge"
                },
                match &fault_error {
                    Some(e) => format!(", and faults stopped: {e}"),
                    None => String::new(),
                },
                root.display()
            ),
        }
        .into())
    }
}

/// The checks a run makes after healing, as the report names them: its workloads' (as
/// --workloads spells them), the applied index, and the state digests (local) or the stores'
/// Status (attached).
fn checks_ran(a: &RunArgs, attached: bool) -> Vec<String> {
    use clap::ValueEnum;
    let mut out: Vec<String> = Vec::new();
    for w in &a.workloads {
        let name = w.to_possible_value().map(|v| v.get_name().to_string());
        if let Some(n) = name.filter(|n| !out.contains(n)) {
            out.push(n);
        }
    }
    out.push("applied-index".into());
    out.push(
        if attached {
            "store-status"
        } else {
            "state-digests"
        }
        .into(),
    );
    out
}

/// Each store's (applied index, SHA-256 of every state-machine row), read from its data
/// dir once it has stopped; an error in place of a store whose state could not be read.
async fn state_digests(dirs: &[(String, std::path::PathBuf)]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (name, dir) in dirs {
        let dir = dir.clone();
        let read = tokio::task::spawn_blocking(move || {
            let sm = signet_store::StateMachineStore::open(&dir).map_err(|e| e.to_string())?;
            sm.digest().map_err(|e| e.to_string())
        })
        .await;
        let v = match read {
            Ok(Ok((applied, digest))) => json!({"applied": applied, "digest": digest}),
            Ok(Err(e)) => json!({"error": e}),
            Err(e) => json!({"error": e.to_string()}),
        };
        out.insert(name.clone(), v);
    }
    out
}

/// Stores that applied the same index as another but hold different rows (each such
/// pair is an anomaly), or whose state could not be read.
fn diverged(digests: &BTreeMap<String, Value>) -> Vec<String> {
    let mut first: BTreeMap<u64, (&String, &str)> = BTreeMap::new();
    let mut bad = Vec::new();
    for (name, d) in digests {
        let (Some(applied), Some(digest)) = (d["applied"].as_u64(), d["digest"].as_str()) else {
            bad.push(format!("{name}: state unreadable: {}", d["error"]));
            continue;
        };
        match first.get(&applied) {
            None => {
                first.insert(applied, (name, digest));
            }
            Some((other, theirs)) if *theirs != digest => bad.push(format!(
                "{name} and {other} applied up to {applied} but hold different state"
            )),
            Some(_) => {}
        }
    }
    bad
}

/// What the cluster holds after healing, as each gateway shows it (saved as
/// `final.json`, so `chaos check` can judge a run again).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FinalState {
    /// The usernames each gateway lists, by gateway.
    pub users: BTreeMap<String, Vec<String>>,
    /// (login, identity) each gateway answers when asked again, by gateway.
    pub identities: BTreeMap<String, Vec<(String, String)>>,
    /// How many identities the identity pool lists.
    pub identities_listed: usize,
    /// The pool's JWKS as every gateway served it after healing, to check the tokens
    /// against (absent when the token workload did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<tokens::TokensFinal>,
}

async fn observe(
    cluster: &Endpoints,
    made: &Setup,
    adds: &[AddEntry],
    gets: &[GetOrCreateEntry],
    timeout: Duration,
) -> anyhow::Result<FinalState> {
    let mut fin = FinalState::default();
    for g in 0..cluster.gateways.len() {
        let name = format!("gateway-{}", g + 1);
        if !adds.is_empty() {
            let mut admin = UserPoolAdminClient::new(channel(cluster, g).await?);
            fin.users
                .insert(name.clone(), list_users(&mut admin, &made.user_pool).await?);
        }
        if !gets.is_empty() {
            let mut admin = IdentityAdminClient::new(channel(cluster, g).await?);
            let now = identities_now(&mut admin, &made.identity_pool, gets, timeout).await?;
            fin.identities.insert(name, now);
        }
    }
    if !gets.is_empty() {
        let mut admin = IdentityAdminClient::new(channel(cluster, 0).await?);
        fin.identities_listed = count_identities(&mut admin, &made.identity_pool).await?;
    }
    if let Some(service) = &made.service {
        fin.tokens = Some(tokens::observe(cluster, &made.user_pool, service).await?);
    }
    Ok(fin)
}

/// Judge the histories against the final state: the checks per workload, and how many
/// anomalies they found.
pub fn judge(
    adds: &[AddEntry],
    gets: &[GetOrCreateEntry],
    registers: &[RegisterEntry],
    issued: &[TokenEntry],
    fin: &FinalState,
) -> (Value, usize) {
    let mut anomalies = 0;
    let mut sign_ups = serde_json::Map::new();
    for (g, present) in &fin.users {
        let r = sets::check(adds, present);
        anomalies +=
            r.lost.len() + r.duplicated.len() + r.refused_but_present.len() + r.unexpected.len();
        sign_ups.insert(g.clone(), json!(r));
    }
    let mut identity_checks = serde_json::Map::new();
    for (g, present) in &fin.identities {
        let r = unique::check(gets, present);
        anomalies += usize::from(!r.is_ok());
        identity_checks.insert(g.clone(), json!(r));
    }
    // Every login asked for has exactly one identity: no more identities than logins.
    let logins: std::collections::BTreeSet<&String> = gets.iter().map(|o| &o.input).collect();
    let extra_identities = fin.identities_listed.saturating_sub(logins.len());
    anomalies += extra_identities;
    let verdicts = linearizable::check(registers, REGISTER_BUDGET);
    let not_linearizable = verdicts
        .values()
        .filter(|v| matches!(v, Verdict::NotLinearizable { .. }))
        .count();
    let gave_up = verdicts
        .values()
        .filter(|v| matches!(v, Verdict::GaveUp))
        .count();
    anomalies += not_linearizable;
    let of_kind = |kind: fn(&RegisterOp) -> bool| -> Vec<RegisterEntry> {
        registers
            .iter()
            .filter(|o| kind(&o.input))
            .cloned()
            .collect()
    };
    let swapped = registers
        .iter()
        .filter(|o| o.outcome == Outcome::Ok(RegisterOut::Swapped(true)))
        .count();
    let (token_checks, token_anomalies) =
        tokens::check(issued, &fin.tokens.clone().unwrap_or_default());
    anomalies += token_anomalies;
    let checks = json!({
        "sign_ups": {"operations": counts(adds), "checks": sign_ups},
        "identities": {
            "operations": counts(gets),
            "checks": identity_checks,
            "extra_identities": extra_identities,
        },
        "registers": {
            "operations": counts(registers),
            "reads": counts(&of_kind(|i| matches!(i, RegisterOp::Read { .. }))),
            "writes": counts(&of_kind(|i| matches!(i, RegisterOp::Write { .. }))),
            "cas": counts(&of_kind(|i| matches!(i, RegisterOp::Cas { .. }))),
            "cas_swapped": swapped,
            "not_linearizable": not_linearizable,
            "gave_up": gave_up,
            "verdicts": verdicts,
        },
        "tokens": token_checks,
    });
    (checks, anomalies)
}

/// Search steps allowed per register key before the checker gives up on it.
const REGISTER_BUDGET: u64 = 10_000_000;

/// `signet chaos check`: judge a saved run again.
async fn check_saved(a: CheckArgs) -> anyhow::Result<()> {
    let load = |name: &str| -> anyhow::Result<Option<std::fs::File>> {
        match std::fs::File::open(a.dir.join(name)) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {name}")),
        }
    };
    fn read<I, O>(f: Option<std::fs::File>, name: &str) -> anyhow::Result<Vec<Op<I, O>>>
    where
        I: for<'de> Deserialize<'de>,
        O: for<'de> Deserialize<'de>,
    {
        match f {
            Some(f) => {
                history::load(std::io::BufReader::new(f)).with_context(|| format!("reading {name}"))
            }
            None => Ok(Vec::new()),
        }
    }
    let adds: Vec<AddEntry> = read(load("history.jsonl")?, "history.jsonl")?;
    let gets: Vec<GetOrCreateEntry> = read(load("identities.jsonl")?, "identities.jsonl")?;
    let registers: Vec<RegisterEntry> = read(load("registers.jsonl")?, "registers.jsonl")?;
    let issued: Vec<TokenEntry> = read(load("tokens.jsonl")?, "tokens.jsonl")?;
    let fin: FinalState = match load("final.json")? {
        Some(f) => serde_json::from_reader(f).context("reading final.json")?,
        None => FinalState::default(),
    };
    let (checks, anomalies) = judge(&adds, &gets, &registers, &issued, &fin);
    let report = json!({"workloads": checks, "anomalies": anomalies, "dir": a.dir});
    if a.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if anomalies == 0 {
        Ok(())
    } else {
        Err(Exit {
            code: 1,
            message: format!("{anomalies} anomalies in {}", a.dir.display()),
        }
        .into())
    }
}

/// Every username of the pool, through one gateway (all pages).
async fn list_users(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let r = admin
            .list_users(pb::ListUsersRequest {
                user_pool_id: pool_id.into(),
                filter: String::new(),
                limit: 60,
                pagination_token: token,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        out.extend(r.users.into_iter().map(|u| u.username));
        if r.pagination_token.is_empty() {
            return Ok(out);
        }
        token = r.pagination_token;
    }
}

/// The identity of every login asked for, asked again now through one gateway: the final
/// state of the login → identity map.
async fn identities_now(
    admin: &mut IdentityAdminClient<AdminChannel>,
    pool_id: &str,
    gets: &[GetOrCreateEntry],
    timeout: Duration,
) -> anyhow::Result<Vec<(String, String)>> {
    let logins: std::collections::BTreeSet<&String> = gets.iter().map(|o| &o.input).collect();
    let mut present = Vec::new();
    for login in logins {
        match identities::get_or_create(admin, pool_id, login, timeout).await {
            Outcome::Ok(id) => present.push((login.clone(), id)),
            other => anyhow::bail!("after healing, GetId of {login} ended {other:?}"),
        }
    }
    Ok(present)
}

/// How many identities the pool has (all pages).
async fn count_identities(
    admin: &mut IdentityAdminClient<AdminChannel>,
    pool_id: &str,
) -> anyhow::Result<usize> {
    let (mut n, mut token) = (0, String::new());
    loop {
        let r = admin
            .list_identities(pb::ListIdentitiesRequest {
                identity_pool_id: pool_id.into(),
                max_results: 60,
                next_token: token,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        n += r.identities.len();
        if r.next_token.is_empty() {
            return Ok(n);
        }
        token = r.next_token;
    }
}

fn print_summary(r: &Value) {
    let ops = &r["operations"];
    println!(
        "seed {}: {} stores over {}; {} operations ({} ok, {} failed, {} unknown), {} faults, \
         worst outage {:.0} ms",
        r["seed"],
        r["stores"],
        r["transport"].as_str().unwrap_or("?"),
        ops["total"],
        ops["ok"],
        ops["failed"],
        ops["unknown"],
        r["faults"].as_array().map_or(0, Vec::len),
        r["worst_outage_ms"].as_f64().unwrap_or(0.0)
    );
    for (g, c) in r["workloads"]["sign_ups"]["checks"]
        .as_object()
        .into_iter()
        .flatten()
    {
        println!(
            "sign-ups, {g}: lost {}, duplicated {}, refused but present {}, unexpected {}",
            c["lost"], c["duplicated"], c["refused_but_present"], c["unexpected"]
        );
    }
    for (g, c) in r["workloads"]["identities"]["checks"]
        .as_object()
        .into_iter()
        .flatten()
    {
        println!(
            "identities, {g}: conflicting {}, lost {}, duplicated {}",
            c["conflicting"], c["lost"], c["duplicated"]
        );
    }
    let regs = &r["workloads"]["registers"];
    if regs["operations"]["total"].as_u64().unwrap_or(0) > 0 {
        let ok = |k: &str| &regs[k]["ok"];
        println!(
            "registers: {} ok reads, {} ok writes, {} ok compare-and-sets ({} swapped); \
             not linearizable {}, undecided {}",
            ok("reads"),
            ok("writes"),
            ok("cas"),
            regs["cas_swapped"],
            regs["not_linearizable"],
            regs["gave_up"]
        );
    }
    let toks = &r["workloads"]["tokens"];
    if toks["operations"]["total"].as_u64().unwrap_or(0) > 0 {
        println!(
            "tokens: {} issued, {} verified against every gateway's JWKS, {} expired, \
             {} kids; not verifying {}",
            toks["operations"]["ok"],
            toks["verified"],
            toks["expired"],
            toks["kids_seen"],
            toks["anomalies"]
        );
        for a in toks["anomalies_listed"].as_array().into_iter().flatten() {
            println!(
                "  token {} (kid {}) issued by {} at {} ms: {} JWKS: {}",
                a["jti"], a["kid"], a["issued_by"], a["invoked_ms"], a["jwks_of"], a["error"]
            );
        }
    }
    if r["state_digests"].is_object() {
        let digests: Vec<String> = r["state_digests"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, d)| {
                let digest = d["digest"].as_str().unwrap_or("unreadable");
                format!(
                    "{name} {} {}",
                    d["applied"],
                    &digest[..digest.len().min(12)]
                )
            })
            .collect();
        println!(
            "state after stopping (applied index, digest): {}; diverged: {}",
            digests.join(", "),
            r["diverged"]
        );
    }
    let probe = &r["transport_probe"];
    if probe.is_object() {
        println!(
            "stores over {}: {} of {} answered the operator's certificate; {} refused \
             plaintext, {} refused TLS without a client certificate; let in: {}",
            r["transport"].as_str().unwrap_or("?"),
            probe["answered_operator"],
            probe["stores"],
            probe["refused_plaintext"],
            probe["refused_without_certificate"],
            probe["let_in"]
        );
    }
    attach::print_summary(r);
    let checks: Vec<&str> = r["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!("checks run: {}", checks.join(", "));
    for (check, why) in r["checks_not_run"].as_object().into_iter().flatten() {
        println!("not run: {check}: {}", why.as_str().unwrap_or_default());
    }
    println!(
        "stores converged: {} (applied {}); anomalies: {}; in {}",
        r["converged"], r["applied"], r["anomalies"], r["dir"]
    );
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[test]
    fn stores_at_the_same_index_with_different_rows_diverge() {
        let d = |applied: u64, digest: &str| json!({"applied": applied, "digest": digest});
        let mut all = BTreeMap::new();
        all.insert("store-1".to_string(), d(10, "aa"));
        all.insert("store-2".to_string(), d(10, "aa"));
        all.insert("store-3".to_string(), d(9, "bb"));
        assert!(diverged(&all).is_empty(), "another index may differ");
        all.insert("store-4".to_string(), d(10, "cc"));
        all.insert("store-5".to_string(), json!({"error": "locked"}));
        let bad = diverged(&all);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad[0].contains("store-4 and store-1 applied up to 10"),
            "{bad:?}"
        );
        assert!(bad[1].contains("store-5: state unreadable"), "{bad:?}");
    }
}
