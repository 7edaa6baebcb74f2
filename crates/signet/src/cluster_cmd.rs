//! `signet cluster …`: membership and status, printed as JSON.

use crate::cli::ClusterCommand;
use crate::rpc::emit;
use signet_store::StoreClient;
use std::time::Duration;

fn client(endpoint: &str) -> StoreClient {
    StoreClient::with_timeouts(
        vec![endpoint.to_string()],
        Duration::from_secs(120),
        Duration::from_secs(60),
    )
}

fn print_membership(json: &str) -> anyhow::Result<()> {
    emit(&serde_json::from_str(json)?)
}

pub async fn run(cmd: ClusterCommand) -> anyhow::Result<()> {
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
