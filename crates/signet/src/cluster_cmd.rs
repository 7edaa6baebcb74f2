//! `signet cluster …`: membership and status, printed as JSON.

use crate::cli::ClusterCommand;
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
    let v: serde_json::Value = serde_json::from_str(json)?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

pub async fn run(cmd: ClusterCommand) -> anyhow::Result<()> {
    match cmd {
        ClusterCommand::Status(e) => {
            let s = client(&e.endpoint).status_of(&e.endpoint).await?;
            let members: Vec<serde_json::Value> = s
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
            println!("{}", serde_json::to_string_pretty(&out)?);
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
        ClusterCommand::Remove { endpoint, node_id } => {
            print_membership(&client(&endpoint.endpoint).remove(node_id).await?)?
        }
    }
    Ok(())
}
