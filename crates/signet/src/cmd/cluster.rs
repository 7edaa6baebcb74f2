//! `signet cluster …`: membership and status, printed as JSON.

use crate::cli::cluster::ClusterCommand;
use crate::cli::TlsArgs;
use crate::output::emit;
use signet_store::StoreClient;
use signet_tls::{Role, Transport};
use std::time::Duration;

fn client_with(endpoint: &str, transport: &Transport) -> StoreClient {
    StoreClient::with_transport(
        vec![endpoint.to_string()],
        Duration::from_secs(120),
        Duration::from_secs(60),
        transport.clone(),
    )
}

fn print_membership(json: &str) -> anyhow::Result<()> {
    emit(&serde_json::from_str(json)?)
}

pub async fn run(tls: &TlsArgs, cmd: ClusterCommand) -> anyhow::Result<()> {
    let transport = tls.store_transport(Role::Operator)?;
    let client = |endpoint: &str| client_with(endpoint, &transport);
    match cmd {
        ClusterCommand::Status(e) => {
            let c = client(&e.endpoint);
            let s = c.status_of(&e.endpoint).await?;
            // Only the leader tracks replication; ask it for the per-member lag.
            let replication = if s.leader_id.is_some() && s.leader_id != Some(s.node_id) {
                c.status_of(&s.leader_api_addr).await.ok()
            } else {
                None
            };
            let members: Vec<serde_json::Value> = replication
                .as_ref()
                .unwrap_or(&s)
                .members
                .iter()
                .map(|m| {
                    let n = m.node.clone().unwrap_or_default();
                    serde_json::json!({
                        "node_id": n.node_id,
                        "voter": m.voter,
                        "raft_addr": n.raft_addr,
                        "api_addr": n.api_addr,
                        "matched_index": m.matched_index,
                        "lag": m.lag,
                    })
                })
                .collect();
            let out = serde_json::json!({
                "node_id": s.node_id,
                "state": s.state,
                "leader": s.leader_id,
                "leader_api_addr": s.leader_api_addr,
                "term": s.term,
                "last_log_index": s.last_log_index,
                "last_applied": s.last_applied,
                "snapshot_index": s.snapshot_index,
                "purged_index": s.purged_index,
                // The node's clock, and its offset from cluster time (the middle voter's
                // clock), in seconds: a large one means NTP is off on this node.
                "clock_ms": s.clock_ms,
                "cluster_time_ms": s.cluster_time_ms,
                "clock_offset_s": s
                    .cluster_time_ms
                    .map(|c| (s.clock_ms as f64 - c as f64) / 1000.0),
                "members": members,
            });
            emit(&out)?;
        }
        ClusterCommand::AddLearner {
            endpoint,
            node_id,
            api_addr,
        } => print_membership(
            &client(&endpoint.endpoint)
                .add_learner(node_id, &api_addr)
                .await?,
        )?,
        ClusterCommand::Promote { endpoint, node_id } => {
            print_membership(&client(&endpoint.endpoint).promote(node_id).await?)?
        }
        ClusterCommand::Snapshot { endpoint, purge } => {
            let (snapshot_index, purged_index) = client(&endpoint.endpoint)
                .snapshot_of(&endpoint.endpoint, purge)
                .await?;
            emit(&serde_json::json!({
                "snapshot_index": snapshot_index,
                "purged_index": purged_index,
            }))?;
        }
        ClusterCommand::Shrink { endpoint, to } => {
            let first = client(&endpoint.endpoint);
            let mut s = first.status_of(&endpoint.endpoint).await?;
            if s.leader_id.is_some() && s.leader_id != Some(s.node_id) {
                s = first.status_of(&s.leader_api_addr).await?;
            }
            // Reach the cluster through every member that stays, not only --endpoint: the
            // first member removed may be the one at --endpoint, or the leader, and the
            // next removal must find the new leader.
            let mut seeds = vec![endpoint.endpoint.clone()];
            seeds.extend(
                s.members
                    .iter()
                    .filter_map(|m| m.node.as_ref())
                    .filter(|n| n.node_id <= to && !n.api_addr.is_empty())
                    .map(|n| n.api_addr.clone()),
            );
            let c = StoreClient::with_transport(
                seeds,
                Duration::from_secs(120),
                Duration::from_secs(60),
                transport.clone(),
            );
            let mut extra: Vec<u64> = s
                .members
                .iter()
                .filter_map(|m| m.node.as_ref().map(|n| n.node_id))
                .filter(|id| *id > to)
                .collect();
            extra.sort_unstable_by(|a, b| b.cmp(a));
            let mut removed = Vec::new();
            for id in extra {
                c.remove(id).await?;
                tracing::info!(node_id = id, "removed");
                removed.push(id);
            }
            emit(&serde_json::json!({ "removed": removed, "kept_up_to": to }))?;
        }
        ClusterCommand::Remove { endpoint, node_id } => {
            print_membership(&client(&endpoint.endpoint).remove(node_id).await?)?
        }
        ClusterCommand::ForceNewCluster {
            node_id,
            data_dir,
            dry_run,
        } => {
            // File I/O and fsyncs: off the async runtime.
            let report = tokio::task::spawn_blocking(move || {
                signet_store::force_new_cluster(&data_dir, node_id, dry_run)
            })
            .await??;
            emit(&serde_json::to_value(&report)?)?;
        }
    }
    Ok(())
}
