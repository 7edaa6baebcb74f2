//! The `Cluster` service: status and membership changes. Membership changes run on the
//! leader; other members answer "not leader" with its address.

use crate::admission;
use crate::membership::Members;
use crate::types::{NodeId, Raft, SignetNode};
use signet_proto::store as pb;
use signet_proto::store::cluster_server::Cluster;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub(crate) struct ClusterApi {
    pub(crate) raft: Raft,
    pub(crate) node_id: NodeId,
    pub(crate) me: SignetNode,
    /// How this node reaches other members (mutual TLS as a store, or plaintext).
    pub(crate) transport: signet_tls::Transport,
    /// Membership changes (see `membership.rs`: bounded, one at a time, never promoting a
    /// node that has not caught up).
    pub(crate) members: Arc<Members>,
    pub(crate) clock: crate::cluster_time::ClusterClock,
    /// The state machine, whose snapshot file a backup streams.
    pub(crate) sm: crate::state_machine::StateMachineStore,
    /// What a linearizable barrier waits for on a leader restored at startup.
    pub(crate) floor: crate::read_floor::ReadFloor,
}

/// Bytes per message of a backup stream.
const BACKUP_CHUNK: usize = 1 << 20;

type BackupStream =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::BackupChunk, Status>> + Send>>;

/// How long a Snapshot call waits for the snapshot (and the purge) to finish.
const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

pub(crate) fn node_info(id: NodeId, n: &SignetNode) -> pb::NodeInfo {
    pb::NodeInfo {
        node_id: id,
        raft_addr: n.raft_addr.clone(),
        api_addr: n.api_addr.clone(),
        incarnation: n.incarnation,
        known_members: vec![],
    }
}

impl ClusterApi {
    /// This node (the leader, when it adds a member) as other nodes' memberships name it.
    fn leader_ref(&self) -> pb::MemberRef {
        pb::MemberRef {
            node_id: self.node_id,
            incarnation: self.me.incarnation,
        }
    }

    fn membership_reply(&self) -> Response<pb::MembershipReply> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let learners: Vec<NodeId> = membership.learner_ids().collect();
        let json = serde_json::json!({
            "voters": voters,
            "learners": learners,
            "log_id": m.membership_config.log_id().map(|l| l.to_string()),
        });
        Response::new(pb::MembershipReply {
            membership: json.to_string(),
        })
    }
}

#[tonic::async_trait]
impl Cluster for ClusterApi {
    async fn status(
        &self,
        _: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusReply>, Status> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let last_log = m.last_log_index.unwrap_or(0);
        let replication = m.replication.clone();
        let members = membership
            .nodes()
            .map(|(id, n)| {
                let matched = replication
                    .as_ref()
                    .and_then(|r| r.get(id).cloned())
                    .map(|l| l.map(|l| l.index).unwrap_or(0));
                pb::MemberStatus {
                    node: Some(node_info(*id, n)),
                    voter: membership.voter_ids().any(|v| v == *id),
                    matched_index: matched,
                    lag: matched.map(|mi| last_log.saturating_sub(mi)),
                }
            })
            .collect();
        let leader_api_addr = m
            .current_leader
            .and_then(|l| membership.get_node(&l))
            .map(|n| n.api_addr.clone())
            .unwrap_or_default();
        Ok(Response::new(pb::StatusReply {
            node_id: self.node_id,
            leader_id: m.current_leader,
            leader_api_addr,
            term: m.current_term,
            state: format!("{:?}", m.state),
            last_log_index: last_log,
            last_applied: m.last_applied.map(|l| l.index).unwrap_or(0),
            purged_index: m.purged.map(|p| p.index),
            snapshot_index: m.snapshot.map(|s| s.index),
            members,
            incarnation: self.me.incarnation,
            clock_ms: crate::cluster_time::wall_ms(),
            cluster_time_ms: self.clock.known_median_ms(),
        }))
    }

    async fn identity(
        &self,
        _: Request<pb::IdentityRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        let mut info = node_info(self.node_id, &self.me);
        let m = self.raft.metrics().borrow().membership_config.clone();
        info.known_members = m
            .membership()
            .nodes()
            .map(|(id, n)| pb::MemberRef {
                node_id: *id,
                incarnation: n.incarnation,
            })
            .collect();
        Ok(Response::new(info))
    }

    async fn join(
        &self,
        req: Request<pb::JoinRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let claimed = req
            .into_inner()
            .node
            .ok_or_else(|| Status::invalid_argument("node is required"))?;
        self.members.require_leader()?;
        // Nothing changes unless the node answers at its address as the node named.
        let node = admission::confirm_join(&claimed, &self.transport, self.leader_ref()).await?;
        let id = claimed.node_id;
        self.members.exclusive(move |m| m.join(id, node)).await?;
        Ok(self.membership_reply())
    }

    async fn add_learner(
        &self,
        req: Request<pb::AddNodeRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let req = req.into_inner();
        self.members.require_leader()?;
        // Ask the node who it is, so the membership records its real incarnation.
        let node = admission::confirm_learner(
            req.node_id,
            &req.api_addr,
            &self.transport,
            self.leader_ref(),
        )
        .await?;
        let id = req.node_id;
        self.members
            .exclusive(move |m| m.add_learner(id, node))
            .await?;
        Ok(self.membership_reply())
    }

    async fn promote(
        &self,
        req: Request<pb::NodeRef>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let id = req.into_inner().node_id;
        admission::check_node_id(id)?;
        self.members.require_leader()?;
        self.members.exclusive(move |m| m.promote(id)).await?;
        Ok(self.membership_reply())
    }

    async fn start_election(
        &self,
        _: Request<pb::ElectionRequest>,
    ) -> Result<Response<pb::ElectionReply>, Status> {
        tracing::info!(
            node_id = self.node_id,
            "election requested by the stopping leader"
        );
        self.raft
            .trigger()
            .elect()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(pb::ElectionReply {}))
    }

    async fn snapshot(
        &self,
        req: Request<pb::SnapshotRequest>,
    ) -> Result<Response<pb::SnapshotReply>, Status> {
        let purge = req.into_inner().purge;
        let applied = self
            .raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |l| l.index);
        let fatal = |e: openraft::error::Fatal<NodeId>| Status::unavailable(e.to_string());
        self.raft.trigger().snapshot().await.map_err(fatal)?;
        let waited = |e: openraft::metrics::WaitError| Status::deadline_exceeded(e.to_string());
        let m = self
            .raft
            .wait(Some(SNAPSHOT_WAIT))
            .metrics(
                |m| m.snapshot.is_some_and(|s| s.index >= applied),
                "snapshot built",
            )
            .await
            .map_err(waited)?;
        let snapshot_index = m.snapshot.map_or(0, |s| s.index);
        let mut purged_index = m.purged.map(|p| p.index);
        if purge {
            self.raft
                .trigger()
                .purge_log(snapshot_index)
                .await
                .map_err(fatal)?;
            let m = self
                .raft
                .wait(Some(SNAPSHOT_WAIT))
                .metrics(
                    |m| m.purged.is_some_and(|p| p.index >= snapshot_index),
                    "log purged",
                )
                .await
                .map_err(waited)?;
            purged_index = m.purged.map(|p| p.index);
        }
        Ok(Response::new(pb::SnapshotReply {
            snapshot_index,
            purged_index,
        }))
    }

    type BackupStream = BackupStream;

    async fn backup(
        &self,
        _: Request<pb::BackupRequest>,
    ) -> Result<Response<BackupStream>, Status> {
        // Everything acknowledged before this call is applied here once the barrier passes.
        crate::api::linearizable(&self.raft, &self.floor).await?;
        let needed = self
            .raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |l| l.index);
        let covered = |m: &openraft::RaftMetrics<NodeId, SignetNode>| {
            m.snapshot.is_some_and(|s| s.index >= needed)
        };
        if !covered(&self.raft.metrics().borrow()) {
            let fatal = |e: openraft::error::Fatal<NodeId>| Status::unavailable(e.to_string());
            self.raft.trigger().snapshot().await.map_err(fatal)?;
            self.raft
                .wait(Some(SNAPSHOT_WAIT))
                .metrics(covered, "snapshot for the backup")
                .await
                .map_err(|e| Status::deadline_exceeded(e.to_string()))?;
        }
        let sm = self.sm.clone();
        // The snapshot saved now (or a newer one: never older) is what is sent.
        let opened = tokio::task::spawn_blocking(move || {
            let file = sm.open_snapshot()?;
            let info = crate::backup::header(&file)?;
            Ok::<_, std::io::Error>((file, info))
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::internal(format!("open the snapshot: {e}")))?;
        let (file, (index, term, total_bytes)) = opened;
        if index < needed {
            return Err(Status::internal(format!(
                "the snapshot file is at {index}, behind the backup's index {needed}"
            )));
        }
        tracing::info!(index, total_bytes, "backup: streaming the snapshot");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let mut first = true;
            let sent = crate::backup::stream_file(file, BACKUP_CHUNK, |data| {
                let chunk = match std::mem::take(&mut first) {
                    true => pb::BackupChunk {
                        index,
                        term,
                        total_bytes,
                        data,
                    },
                    false => pb::BackupChunk {
                        data,
                        ..Default::default()
                    },
                };
                tx.blocking_send(Ok(chunk)).is_ok()
            });
            if let Err(e) = sent {
                let _ = tx.blocking_send(Err(Status::internal(format!("read the snapshot: {e}"))));
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn remove(
        &self,
        req: Request<pb::NodeRef>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        let id = req.into_inner().node_id;
        admission::check_node_id(id)?;
        self.members.require_leader()?;
        self.members.exclusive(move |m| m.remove(id)).await?;
        Ok(self.membership_reply())
    }
}
