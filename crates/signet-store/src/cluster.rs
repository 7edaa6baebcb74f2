//! The `Cluster` service: status and membership changes. Membership changes run on the
//! leader; other members answer "not leader" with its address.

use crate::api::{not_leader, write_error};
use crate::types::{NodeId, Raft, SignetNode};
use openraft::error::{ChangeMembershipError, ClientWriteError, RaftError};
use openraft::ChangeMembers;
use signet_proto::store as pb;
use signet_proto::store::cluster_client::ClusterClient;
use signet_proto::store::cluster_server::Cluster;
use std::collections::BTreeSet;
use std::time::Duration;
use tonic::{Request, Response, Status};

pub(crate) struct ClusterApi {
    pub(crate) raft: Raft,
    pub(crate) node_id: NodeId,
    pub(crate) me: SignetNode,
    /// How this node reaches other members (mutual TLS as a store, or plaintext).
    pub(crate) transport: signet_tls::Transport,
}

/// How long a Snapshot call waits for the snapshot (and the purge) to finish.
const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

pub(crate) fn node_info(id: NodeId, n: &SignetNode) -> pb::NodeInfo {
    pb::NodeInfo {
        node_id: id,
        raft_addr: n.raft_addr.clone(),
        api_addr: n.api_addr.clone(),
        incarnation: n.incarnation,
    }
}

impl ClusterApi {
    /// Fail with "not leader" unless this node leads and is a voter of its own membership.
    /// A leader that has just removed itself keeps leading until it steps down; openraft
    /// 0.9 must not be asked for another membership change then (its core asserts and
    /// stops), so it answers "not the leader" without a hint and clients try the others.
    fn require_leader(&self) -> Result<(), Status> {
        let m = self.raft.metrics().borrow().clone();
        if m.current_leader == Some(self.node_id) {
            let voter = m
                .membership_config
                .membership()
                .voter_ids()
                .any(|v| v == self.node_id);
            return if voter { Ok(()) } else { Err(not_leader(None)) };
        }
        let leader = m
            .current_leader
            .and_then(|l| m.membership_config.membership().get_node(&l).cloned());
        Err(not_leader(leader.as_ref()))
    }

    fn member(&self, id: NodeId) -> Option<(SignetNode, bool)> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let node = membership.get_node(&id)?.clone();
        let voter = membership.voter_ids().any(|v| v == id);
        Some((node, voter))
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

    /// Refuse a node that reuses a member's id with another data dir.
    fn check_incarnation(&self, id: NodeId, node: &SignetNode) -> Result<Option<bool>, Status> {
        match self.member(id) {
            None => Ok(None),
            Some((existing, voter)) if existing.incarnation == node.incarnation => Ok(Some(voter)),
            Some(_) => Err(Status::failed_precondition(format!(
                "node {id} is already a member with a different data dir (its incarnation differs): \
                 a wiped node must not rejoin under its old id. Remove it first \
                 (`signet cluster remove --node-id {id}`), or join under a new id"
            ))),
        }
    }

    async fn add_learner(&self, id: NodeId, node: SignetNode) -> Result<(), Status> {
        retry_in_progress(|| self.raft.add_learner(id, node.clone(), true)).await
    }

    async fn promote(&self, id: NodeId) -> Result<(), Status> {
        let set: BTreeSet<NodeId> = [id].into();
        retry_in_progress(|| {
            self.raft
                .change_membership(ChangeMembers::AddVoterIds(set.clone()), false)
        })
        .await
    }

    async fn change(&self, change: ChangeMembers<NodeId, SignetNode>) -> Result<(), Status> {
        retry_in_progress(|| self.raft.change_membership(change.clone(), false)).await
    }
}

/// How long a membership change waits for another one in progress to finish.
const MEMBERSHIP_BUSY_WAIT: Duration = Duration::from_secs(30);

/// Run a membership change, retrying while another change is still in progress (two nodes
/// joining at once is normal: the second waits for the first).
async fn retry_in_progress<F, Fut>(mut op: F) -> Result<(), Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<
        Output = Result<
            openraft::raft::ClientWriteResponse<crate::TypeConfig>,
            RaftError<NodeId, ClientWriteError<NodeId, SignetNode>>,
        >,
    >,
{
    let deadline = tokio::time::Instant::now() + MEMBERSHIP_BUSY_WAIT;
    loop {
        match op().await {
            Ok(_) => return Ok(()),
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                ChangeMembershipError::InProgress(_),
            ))) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(write_error(e)),
        }
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
        }))
    }

    async fn identity(
        &self,
        _: Request<pb::IdentityRequest>,
    ) -> Result<Response<pb::NodeInfo>, Status> {
        Ok(Response::new(node_info(self.node_id, &self.me)))
    }

    async fn join(
        &self,
        req: Request<pb::JoinRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        self.require_leader()?;
        let info = req
            .into_inner()
            .node
            .ok_or_else(|| Status::invalid_argument("node is required"))?;
        let node = SignetNode {
            raft_addr: info.raft_addr,
            api_addr: info.api_addr,
            incarnation: info.incarnation,
        };
        match self.check_incarnation(info.node_id, &node)? {
            Some(true) => {}
            Some(false) => self.promote(info.node_id).await?,
            None => {
                self.add_learner(info.node_id, node).await?;
                self.promote(info.node_id).await?;
            }
        }
        Ok(self.membership_reply())
    }

    async fn add_learner(
        &self,
        req: Request<pb::AddNodeRequest>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        self.require_leader()?;
        let req = req.into_inner();
        // Ask the node who it is, so the membership records its real incarnation.
        let channel = signet_tls::channel(&req.api_addr, &self.transport, Duration::from_secs(1))
            .map_err(|e| Status::invalid_argument(format!("{}: {e}", req.api_addr)))?;
        let mut client = ClusterClient::new(channel);
        let info = client.identity(pb::IdentityRequest {}).await?.into_inner();
        if info.node_id != req.node_id {
            return Err(Status::invalid_argument(format!(
                "{} is node {}, not node {}",
                req.api_addr, info.node_id, req.node_id
            )));
        }
        let node = SignetNode {
            raft_addr: info.raft_addr,
            api_addr: info.api_addr,
            incarnation: info.incarnation,
        };
        if self.check_incarnation(info.node_id, &node)?.is_none() {
            self.add_learner(info.node_id, node).await?;
        }
        Ok(self.membership_reply())
    }

    async fn promote(
        &self,
        req: Request<pb::NodeRef>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        self.require_leader()?;
        let id = req.into_inner().node_id;
        match self.member(id) {
            None => {
                return Err(Status::not_found(format!(
                    "node {id} is not a member; add it as learner first"
                )))
            }
            Some((_, true)) => {}
            Some((_, false)) => ClusterApi::promote(self, id).await?,
        }
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

    async fn remove(
        &self,
        req: Request<pb::NodeRef>,
    ) -> Result<Response<pb::MembershipReply>, Status> {
        self.require_leader()?;
        let id = req.into_inner().node_id;
        let set: BTreeSet<NodeId> = [id].into();
        let change = match self.member(id) {
            None => return Err(Status::not_found(format!("node {id} is not a member"))),
            Some((_, true)) => ChangeMembers::RemoveVoters(set),
            Some((_, false)) => ChangeMembers::RemoveNodes(set),
        };
        self.change(change).await?;
        Ok(self.membership_reply())
    }
}
