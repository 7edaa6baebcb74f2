//! `signet chaos run`: a local cluster of real processes, a sign-up workload through its
//! gateways, faults on the store nodes on a seeded schedule (`nemesis`), then — every node
//! back — the recorded history judged by `signet_chaos`: every acknowledged sign-up listed
//! exactly once by every gateway, nothing refused or unasked-for listed, and every store at
//! the same applied index.

mod nemesis;
mod workload;

use crate::cli::chaos::{ChaosArgs, ChaosCommand, RunArgs};
use crate::exit::Exit;
use crate::procs::LocalCluster;
use crate::rpc::{status_error, with_secret, AdminChannel};
use anyhow::Context;
use serde_json::{json, Value};
use signet_chaos::history;
use signet_chaos::sets::{self, AddEntry};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;

use std::time::{Duration, Instant};

pub(crate) fn say(m: &str) {
    eprintln!("signet chaos: {m}");
}

pub async fn run(a: ChaosArgs) -> anyhow::Result<()> {
    match a.command {
        ChaosCommand::Run(r) => run_one(r).await,
    }
}

/// An admin client of gateway `g`.
async fn admin(
    cluster: &LocalCluster,
    g: usize,
) -> anyhow::Result<UserPoolAdminClient<AdminChannel>> {
    let channel = crate::rpc::connect_to(
        &cluster.gateways[g].field("grpc_addr"),
        &signet_tls::Transport::Plaintext,
    )
    .await?;
    Ok(UserPoolAdminClient::new(with_secret(
        channel,
        &cluster.admin_secret,
    )?))
}

async fn run_one(a: RunArgs) -> anyhow::Result<()> {
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
    say(&format!(
        "seed {seed}: {} stores, {} gateways, {} s, data and logs in {}",
        a.stores,
        a.gateways,
        a.duration_s,
        root.display()
    ));
    let mut cluster = LocalCluster::start(&root, a.stores, a.gateways as usize).await?;
    let pool_id = admin(&cluster, 0)
        .await?
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

    // The workload runs until the nemesis is done; every fault is healed before the next.
    let start = Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut clients = Vec::new();
    for c in 0..a.clients {
        let g = (c % a.gateways) as usize;
        let client = workload::Client {
            id: c as u32,
            admin: admin(&cluster, g).await?,
            pool_id: pool_id.clone(),
            start,
            timeout: Duration::from_millis(a.call_timeout_ms),
        };
        clients.push(tokio::spawn(client.run(stopped.clone())));
    }
    let faults = nemesis::run(&mut cluster, &a, seed, start).await;
    let _ = stop.send(true);
    let mut ops: Vec<AddEntry> = Vec::new();
    for c in clients {
        ops.extend(c.await.context("a workload client panicked")?);
    }
    let faults = faults?;
    ops.sort_by_key(|o| o.invoke_ns);
    let history_path = root.join("history.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&history_path)?);
    history::save(&ops, &mut file)?;
    drop(file);

    say("faults over; waiting for every store to reach the same applied index");
    let applied = nemesis::converged(&cluster, Duration::from_secs(60)).await;
    let converged = applied.windows(2).all(|w| w[0] == w[1]) && !applied.contains(&0);
    let mut checks = serde_json::Map::new();
    let mut anomalies = 0;
    for g in 0..cluster.gateways.len() {
        let present = list_users(&mut admin(&cluster, g).await?, &pool_id).await?;
        let report = sets::check(&ops, &present);
        anomalies += report.lost.len()
            + report.duplicated.len()
            + report.refused_but_present.len()
            + report.unexpected.len();
        checks.insert(format!("gateway-{}", g + 1), serde_json::to_value(&report)?);
    }
    let count = |f: fn(&AddEntry) -> bool| ops.iter().filter(|o| f(o)).count();
    let acks: Vec<(u64, u64)> = ops
        .iter()
        .filter(|o| matches!(o.outcome, history::Outcome::Ok(())))
        .filter_map(|o| Some((o.invoke_ns, o.complete_ns?)))
        .collect();
    let faults_json: Vec<Value> = faults.iter().map(|f| f.to_json(&acks)).collect();
    let worst_outage_ms = faults_json
        .iter()
        .filter_map(|f| f["first_ack_after_ms"].as_f64())
        .fold(0.0, f64::max);
    let report = json!({
        "seed": seed,
        "stores": a.stores,
        "gateways": a.gateways,
        "duration_s": a.duration_s,
        "operations": {
            "total": ops.len(),
            "ok": count(|o| matches!(o.outcome, history::Outcome::Ok(()))),
            "failed": count(|o| o.outcome == history::Outcome::Failed),
            "unknown": count(|o| o.outcome == history::Outcome::Unknown),
        },
        "faults": faults_json,
        "worst_outage_ms": worst_outage_ms,
        "checks": checks,
        "converged": converged,
        "applied": applied,
        "anomalies": anomalies,
        "history": history_path,
        "dir": root,
    });
    if a.json {
        println!("{report}");
    } else {
        print_summary(&report);
    }
    let clean = anomalies == 0 && converged;
    cluster.stop().await;
    if clean && temporary {
        let _ = std::fs::remove_dir_all(&root);
    }
    if clean {
        Ok(())
    } else {
        Err(Exit {
            code: 1,
            message: format!(
                "{anomalies} anomalies{}; history and logs kept in {}",
                if converged {
                    ""
                } else {
                    ", and the stores did not converge"
                },
                root.display()
            ),
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

fn print_summary(r: &Value) {
    let ops = &r["operations"];
    println!(
        "seed {}: {} operations ({} ok, {} failed, {} unknown), {} faults, worst outage {:.0} ms",
        r["seed"],
        ops["total"],
        ops["ok"],
        ops["failed"],
        ops["unknown"],
        r["faults"].as_array().map_or(0, Vec::len),
        r["worst_outage_ms"].as_f64().unwrap_or(0.0)
    );
    for (g, c) in r["checks"].as_object().into_iter().flatten() {
        println!(
            "{g}: lost {}, duplicated {}, refused but present {}, unexpected {}",
            c["lost"], c["duplicated"], c["refused_but_present"], c["unexpected"]
        );
    }
    println!(
        "stores converged: {} (applied {}); anomalies: {}; history: {}",
        r["converged"], r["applied"], r["anomalies"], r["history"]
    );
}
