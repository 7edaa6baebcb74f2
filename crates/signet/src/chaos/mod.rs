//! `signet chaos run`: a local cluster of real processes, workloads through its gateways,
//! faults on the store nodes on a seeded schedule (`nemesis`), then — every node back —
//! the recorded histories judged by `signet_chaos`: sign-ups (`workload`) as a grow-only
//! set listed by every gateway, GetId (`identities`) as one identity per login, the
//! diagnostic registers (`registers`) as linearizable compare-and-set registers, the
//! client_credentials tokens (`tokens`) as verifying against every gateway's JWKS until
//! their `exp`, the sign-in workloads — refresh-token rotation (`refresh`), reset codes
//! (`codes`), lockout (`lockout`) — by their own rules (`judge`), and every store at the
//! same applied index. With `--attach` (`attach`), the cluster is one the user runs and the
//! user's commands inject the faults.

mod attach;
mod auth;
mod codes;
mod endpoints;
mod identities;
mod judge;
mod keys;
mod lockout;
mod nemesis;
mod observe;
mod refresh;
mod registers;
mod slow;
mod summary;
mod tokens;
mod transport;
mod workload;

use crate::cli::chaos::{ChaosArgs, ChaosCommand, RunArgs, Workload};
use crate::exit::Exit;
use crate::procs::LocalCluster;
use crate::rpc::{status_error, with_secret, AdminChannel};
use anyhow::Context;
use endpoints::Endpoints;
use judge::check_saved;
use judge::{judge, Histories};
use serde::Serialize;
use serde_json::{json, Value};
use signet_chaos::history::{self, Op, Outcome};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use summary::print_summary;

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
    /// The pool and client of the sign-in workloads (when one runs).
    auth: Option<auth::AuthPool>,
}

impl Setup {
    fn auth(&self) -> anyhow::Result<&auth::AuthPool> {
        self.auth
            .as_ref()
            .context("no pool for the sign-in workloads")
    }
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
    let signins = [Workload::Refresh, Workload::Codes, Workload::Lockout];
    let auth = match workloads.iter().any(|w| signins.contains(w)) {
        true => Some(auth::setup(&mut admin).await?),
        false => None,
    };
    Ok(Setup {
        user_pool,
        identity_pool,
        service,
        auth,
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
                    ..Default::default()
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
    let (mut refreshers, mut coders, mut guessers) = (Vec::new(), Vec::new(), Vec::new());
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
            Workload::Refresh => refreshers.push(tokio::spawn(
                refresh::Client::new(id, &e, gateway, made.auth()?, start, timeout)
                    .await?
                    .run(stopped.clone()),
            )),
            Workload::Codes => coders.push(tokio::spawn(
                codes::Client::new(id, &e, gateway, made.auth()?, start, timeout)
                    .await?
                    .run(stopped.clone()),
            )),
            Workload::Lockout => guessers.push(tokio::spawn(
                lockout::Client::new(id, &e, gateway, made.auth()?, start, timeout)
                    .await?
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
    let mut h = Histories::default();
    let panicked = "a workload client panicked";
    for c in adders {
        h.adds.extend(c.await.context(panicked)?);
    }
    for c in getters {
        h.gets.extend(c.await.context(panicked)?);
    }
    for c in setters {
        h.registers.extend(c.await.context(panicked)?);
    }
    for c in issuers {
        h.tokens.extend(c.await.context(panicked)?);
    }
    let mut pending = observe::Pending {
        lockout: !guessers.is_empty(),
        ..Default::default()
    };
    for c in refreshers {
        let (ops, held) = c.await.context(panicked)?;
        h.refresh.extend(ops);
        pending.held.extend(held);
    }
    for c in coders {
        let (ops, rounds) = c.await.context(panicked)?;
        h.codes.extend(ops);
        pending.rounds.extend(rounds);
    }
    for c in guessers {
        h.guesses.extend(c.await.context(panicked)?);
    }
    // Attached, a fault command that failed ends the faults, not the run: the report says
    // what ran and how it failed.
    let fault_error = match (faults, &cluster) {
        (Ok(()), _) => None,
        (Err(e), Cluster::Attached(_)) => Some(format!("{e:#}")),
        (Err(e), Cluster::Local(_)) => return Err(e),
    };
    let faults = injected;
    h.adds.sort_by_key(|o| o.invoke_ns);
    h.gets.sort_by_key(|o| o.invoke_ns);
    h.registers.sort_by_key(|o| o.invoke_ns);
    h.tokens.sort_by_key(|o| o.invoke_ns);
    h.refresh.sort_by_key(|o| o.invoke_ns);
    h.codes.sort_by_key(|o| o.invoke_ns);
    h.guesses.sort_by_key(|o| o.invoke_ns);
    save(&h.adds, &root.join("history.jsonl"))?;
    save(&h.gets, &root.join("identities.jsonl"))?;
    save(&h.registers, &root.join("registers.jsonl"))?;
    if made.service.is_some() {
        save(&h.tokens, &root.join("tokens.jsonl"))?;
    }
    h.save_signins(&root)?;

    say("faults over; waiting for every store to reach the same applied index");
    let e = cluster.endpoints();
    let applied = nemesis::converged(&e, Duration::from_secs(60)).await;
    let converged = applied.windows(2).all(|w| w[0] == w[1]) && !applied.contains(&0);
    let mut fin = observe::observe(&e, &made, &h, &pending, start, timeout).await?;
    if let (Cluster::Local(_), Some(_)) = (&cluster, &made.service) {
        fin.keys = Some(keys::observe(&e, start, crate::procs::KEY_LEASE, &faults).await?);
    }
    std::fs::write(root.join("final.json"), serde_json::to_vec_pretty(&fin)?)?;
    let (checks, anomalies) = judge(&h, &fin);
    let acks = h.write_acks();
    let faults_json: Vec<Value> = faults.iter().map(|f| f.to_json(&acks)).collect();
    let worst_outage_ms = faults_json
        .iter()
        .filter_map(|f| f["first_ack_after_ms"].as_f64())
        .fold(0.0, f64::max);
    let total = |k: &str| h.total(k);
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
                "checks_not_run": checks_not_run(&a),
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
    if !attached && a.workloads.contains(&Workload::Tokens) {
        out.push("key-retirements".into());
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

/// The checks an attached run cannot make, and why.
fn checks_not_run(a: &RunArgs) -> Value {
    let mut not = json!({"state-digests": attach::NO_DIGESTS});
    if a.workloads.contains(&Workload::Tokens) {
        not["key-retirements"] = json!(attach::NO_KEY_CHECK);
    }
    not
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
