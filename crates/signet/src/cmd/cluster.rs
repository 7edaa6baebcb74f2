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

/// Names of scheduled backups: `signet-<UTC yyyymmddThhmmss.mmmZ>-<index, 12 digits>.backup`,
/// so that their names sort by age.
const BACKUP_PREFIX: &str = "signet-";
const BACKUP_SUFFIX: &str = ".backup";

/// A backup into `dir`, named by the time it was asked for (and, once known, its index).
async fn backup_into(
    c: &StoreClient,
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, signet_store::BackupInfo)> {
    let now = std::time::SystemTime::now();
    let second = signet_verify::sigv4::format_date_time(now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let millis = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    // yyyymmddThhmmss.mmmZ
    let stamp = format!("{}.{millis:03}Z", second.trim_end_matches('Z'));
    let tmp = dir.join(format!("{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}.unnamed"));
    let info = signet_store::download_backup(c, &tmp).await?;
    let out = dir.join(format!(
        "{BACKUP_PREFIX}{stamp}-{:012}{BACKUP_SUFFIX}",
        info.index
    ));
    // A link, not a rename: it fails rather than replace a backup of the same name.
    std::fs::hard_link(&tmp, &out)
        .map_err(|e| anyhow::anyhow!("name the backup {}: {e}", out.display()))?;
    std::fs::remove_file(&tmp)?;
    Ok((out, info))
}

/// Delete all but the newest `keep` scheduled backups in `dir`; the names deleted.
fn prune_backups(dir: &std::path::Path, keep: usize) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(BACKUP_PREFIX) && n.ends_with(BACKUP_SUFFIX))
        .collect();
    names.sort();
    let old = names.len().saturating_sub(keep);
    let deleted: Vec<String> = names.drain(..old).collect();
    for n in &deleted {
        std::fs::remove_file(dir.join(n))?;
    }
    Ok(deleted)
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
        ClusterCommand::Backup {
            endpoint,
            out,
            out_dir,
            keep,
        } => {
            let started = std::time::Instant::now();
            let c = client(&endpoint.endpoint);
            let (out, info) = match (out, &out_dir) {
                (Some(out), _) => {
                    let info = signet_store::download_backup(&c, &out).await?;
                    (out, info)
                }
                (None, Some(dir)) => backup_into(&c, dir).await?,
                (None, None) => anyhow::bail!("--out or --out-dir is required"),
            };
            let mut v = serde_json::to_value(&info)?;
            v["file"] = out.display().to_string().into();
            v["seconds"] = started.elapsed().as_secs_f64().into();
            if let (Some(dir), Some(keep)) = (&out_dir, keep) {
                v["deleted"] = serde_json::to_value(prune_backups(dir, keep as usize)?)?;
            }
            emit(&v)?;
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
