//! `signet store`: one store node, started by hand (`--init`, `--join`) or, in a
//! StatefulSet, by itself (`--bootstrap --peers …`).

use super::{announce_json, bind, check_plaintext, stop_signal};
use crate::cli::serve::StoreArgs;
use anyhow::Context;
use signet_proto::store::NodeInfo;
use signet_store::{StoreClient, StoreConfig, StoreNode};
use signet_tls::{Role, Transport};
use std::time::Duration;

/// Node id of a StatefulSet pod: its ordinal (the digits after the last `-` of the host
/// name, e.g. `signet-store-2`) plus one, since node ids start at 1.
pub fn node_id_from_hostname(hostname: &str) -> anyhow::Result<u64> {
    let ordinal = hostname
        .rsplit_once('-')
        .map(|(_, o)| o)
        .filter(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()))
        .with_context(|| {
            format!("host name {hostname:?} does not end in -<ordinal> (a StatefulSet pod name)")
        })?;
    let n: u64 = ordinal
        .parse()
        .with_context(|| format!("ordinal of {hostname:?}"))?;
    Ok(n + 1)
}

/// The error a process exits with when its store node failed ([`StoreNode::failed`]).
pub fn failed(why: &str) -> anyhow::Error {
    tracing::error!(%why, "the store failed; exiting so it restarts from its durable log");
    anyhow::anyhow!("the store failed ({why}); restart it: it recovers from its durable log")
}

fn node_id(args: &StoreArgs) -> anyhow::Result<u64> {
    match (args.node_id, args.node_id_from_hostname) {
        (Some(id), false) => Ok(id),
        (None, true) => {
            let host = std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .context("--node-id-from-hostname needs the HOSTNAME variable")?;
            node_id_from_hostname(&host)
        }
        _ => anyhow::bail!("give --node-id or --node-id-from-hostname"),
    }
}

fn info(node: &StoreNode) -> NodeInfo {
    let me = node.info();
    NodeInfo {
        node_id: node.id(),
        raft_addr: me.raft_addr.clone(),
        api_addr: me.api_addr.clone(),
        incarnation: me.incarnation,
        known_members: vec![],
    }
}

async fn join(node: &StoreNode, seed: &str, transport: &Transport) -> anyhow::Result<()> {
    let client = StoreClient::with_transport(
        vec![seed.to_string()],
        Duration::from_secs(120),
        Duration::from_secs(60),
        transport.clone(),
    );
    let m = client
        .join(info(node))
        .await
        .with_context(|| format!("joining through {seed}"))?;
    tracing::info!(membership = %m, "joined the cluster");
    Ok(())
}

/// What the peers said about the cluster.
enum Found {
    /// A member that knows a leader: join through it.
    Cluster(String),
    /// A peer belongs to a cluster that has no leader right now: wait, never start another.
    Leaderless,
    /// Every peer answered and none belongs to a cluster.
    Nobody,
    /// Some peers did not answer (yet).
    Unknown,
}

async fn look(peers: &[String], transport: &Transport) -> Found {
    let mut all_answered = true;
    let mut leaderless = false;
    for peer in peers {
        let client = StoreClient::with_transport(
            vec![peer.clone()],
            Duration::from_secs(2),
            Duration::from_secs(2),
            transport.clone(),
        );
        match client.status_of(peer).await {
            Ok(s) if s.leader_id.is_some() && !s.leader_api_addr.is_empty() => {
                return Found::Cluster(peer.clone())
            }
            // Members listed means the peer has joined a cluster, even if it cannot
            // find its leader now.
            Ok(s) if !s.members.is_empty() => leaderless = true,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(%peer, "no answer yet: {e}");
                all_answered = false;
            }
        }
    }
    match (leaderless, all_answered) {
        (true, _) => Found::Leaderless,
        (false, true) => Found::Nobody,
        (false, false) => Found::Unknown,
    }
}

/// Make a node with no cluster a member without a human: join a cluster some peer belongs
/// to; only node 1, and only once every peer has answered that it belongs to no cluster
/// (and at least `wait` has passed, so peers started at the same time are seen), starts a
/// new one. A node with state just starts: Raft reconnects it with its data.
///
/// A node whose data was wiped finds the cluster and asks to join under its old id; the
/// members refuse it (its incarnation differs) and this returns the error, with the
/// runbook, so the pod fails visibly instead of forming a second cluster.
async fn bootstrap(
    node: &StoreNode,
    peers: &[String],
    transport: &Transport,
    wait: Duration,
) -> anyhow::Result<()> {
    if node.raft().is_initialized().await.unwrap_or(false) {
        tracing::info!("this node already belongs to a cluster; rejoining with its data");
        return Ok(());
    }
    let me = node.info().api_addr.clone();
    let others: Vec<String> = peers.iter().filter(|p| **p != me).cloned().collect();
    let started = tokio::time::Instant::now();
    loop {
        match look(&others, transport).await {
            Found::Cluster(through) => {
                return join(node, &through, transport).await.with_context(|| {
                    format!(
                        "node {} could not join the cluster. If its data was lost, remove the \
                         old member first (`signet cluster remove --node-id {}`) and restart it",
                        node.id(),
                        node.id()
                    )
                });
            }
            Found::Nobody if node.id() == 1 && started.elapsed() >= wait => {
                tracing::info!(
                    peers = others.len(),
                    "no peer belongs to a cluster: initialising a new one"
                );
                node.initialize_single_if_new().await?;
                return Ok(());
            }
            Found::Leaderless => {
                tracing::info!("a peer belongs to a cluster without a leader; waiting")
            }
            Found::Nobody | Found::Unknown => {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub async fn store(args: StoreArgs) -> anyhow::Result<()> {
    super::exit_on_panic();
    let node_id = node_id(&args)?;
    let tls = args.tls.identity(Role::Store)?;
    if tls.is_none() {
        let mut addrs = vec![args.raft_addr.as_str(), args.api_addr.as_str()];
        addrs.extend(args.advertise_raft_addr.as_deref());
        addrs.extend(args.advertise_api_addr.as_deref());
        addrs.extend(args.join.as_deref());
        addrs.extend(args.peers.iter().map(String::as_str));
        check_plaintext(
            "the store's Raft and API listeners",
            &addrs,
            args.insecure_plaintext,
        )?;
    }
    anyhow::ensure!(
        !args.bootstrap || !args.peers.is_empty(),
        "--bootstrap needs --peers (the API addresses of every member, e.g. the StatefulSet's \
         pods through its headless Service)"
    );
    let transport = args.tls.store_transport(Role::Store)?;
    let raft = bind(&args.raft_addr, "raft").await?;
    let api = bind(&args.api_addr, "store API").await?;
    let mut config = StoreConfig::new(node_id, &args.data_dir);
    config.raft_advertise = args.advertise_raft_addr.clone();
    config.api_advertise = args.advertise_api_addr.clone();
    config.tls = tls;
    config.join_catch_up = Duration::from_secs(args.join_catch_up_secs);
    config.snapshot_every = args.snapshot_every;
    anyhow::ensure!(
        args.election_timeout_ms >= 3 * args.heartbeat_ms,
        "--election-timeout-ms ({}) must be at least three heartbeats (--heartbeat-ms {}): \
         a follower would start elections between heartbeats of a healthy leader",
        args.election_timeout_ms,
        args.heartbeat_ms
    );
    config.heartbeat = Duration::from_millis(args.heartbeat_ms);
    config.election_timeout = (
        Duration::from_millis(args.election_timeout_ms),
        Duration::from_millis(2 * args.election_timeout_ms),
    );
    config.keep_logs_after_snapshot = args.keep_logs_after_snapshot;
    config.restore = args.restore.clone();
    config.sm_cache_bytes = args.cache_mb * 1024 * 1024;
    config.sm_compression = args.state_compression;
    config.log_limits.cache_bytes = (args.log_cache_mb * 1024 * 1024) as usize;
    config.key_housekeeping.lease_grace = Duration::from_secs(args.key_lease_grace_secs);
    let ops = match &args.metrics_addr {
        Some(a) => Some(bind(a, "store metrics").await?),
        None => None,
    };
    let mut node = StoreNode::start(config, raft, api)
        .await
        .context("starting the store")?;
    let metrics_addr = match ops {
        Some(l) => Some(node.serve_ops(l)?.to_string()),
        None => None,
    };
    let joined = if args.init {
        node.initialize_single_if_new().await.map_err(Into::into)
    } else if let Some(seed) = &args.join {
        join(&node, seed, &transport).await
    } else if args.bootstrap {
        tokio::select! {
            r = bootstrap(&node, &args.peers, &transport, args.bootstrap_wait) => r,
            _ = stop_signal() => Err(anyhow::anyhow!("stopped before joining a cluster")),
        }
    } else {
        Ok(())
    };
    if let Err(e) = joined {
        node.kill().await;
        return Err(e);
    }
    announce_json(serde_json::json!({
        "event": "ready",
        "role": "store",
        "node_id": node.id(),
        "api_addr": node.info().api_addr,
        "raft_addr": node.info().raft_addr,
        "metrics_addr": metrics_addr,
        "data_dir": args.data_dir.display().to_string(),
    }));
    tokio::select! {
        _ = stop_signal() => {}
        why = node.failed() => return Err(failed(&why)),
    }
    tracing::info!("stopping");
    node.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::node_id_from_hostname;

    #[test]
    fn pod_ordinals_become_node_ids() {
        assert_eq!(node_id_from_hostname("signet-store-0").unwrap(), 1);
        assert_eq!(node_id_from_hostname("rel-signet-store-12").unwrap(), 13);
        assert!(node_id_from_hostname("signet-store").is_err());
        assert!(node_id_from_hostname("store-x1").is_err());
        assert!(node_id_from_hostname("store-").is_err());
    }
}
