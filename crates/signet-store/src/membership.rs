//! Membership changes on the leader, safe by construction:
//!
//! * A node is added as a learner without openraft's blocking wait (which has no bound),
//!   then the leader writes a probe entry and waits, bounded, until the learner has
//!   acknowledged it. A learner that does not is removed again by the Join that added it.
//! * Only a learner that has just acknowledged such a probe is promoted, by Join or by
//!   Promote. No retried Join and no hand-made Promote can turn a node the leader cannot
//!   replicate to into a voter, which is how one bad call used to take quorum away for good.
//! * One change at a time per leader, each run to its end in its own task: a caller that
//!   gives up (a client timeout) does not leave a change half-done, and its retry waits
//!   for the first attempt and then sees what it did.
//! * Every wait is bounded, so no membership call hangs.
//!
//! What Raft itself still allows: a voter promoted into a one-voter cluster is needed for
//! every commit. If it dies between acknowledging the probe and the promotion committing
//! (or later, while the cluster has two voters), nothing commits until it is back. If it is
//! gone for good, `crate::recovery` rebuilds a cluster from the survivor.

use crate::api::{not_leader, write_error};
use crate::types::{Batch, NodeId, Raft, SignetNode, TypeConfig};
use openraft::error::{ChangeMembershipError, ClientWriteError, RaftError};
use openraft::metrics::WaitError;
use openraft::raft::ClientWriteResponse;
use openraft::{ChangeMembers, RaftMetrics, ServerState};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tonic::Status;

/// Default bound on how long a joining node may take to catch up before it is removed
/// again (see [`crate::StoreConfig::join_catch_up`]).
pub const JOIN_CATCH_UP: Duration = Duration::from_secs(30);
/// Bound on one membership entry, or a probe write, committing; and on waiting for an
/// earlier change that is still committing.
const COMMIT_WAIT: Duration = Duration::from_secs(15);
/// How long a change waits for the one running on this leader to finish.
const BUSY_WAIT: Duration = Duration::from_secs(60);

/// A member's role in the effective membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Learner,
    Voter,
}

type Metrics = RaftMetrics<NodeId, SignetNode>;
type WriteResult = Result<
    ClientWriteResponse<TypeConfig>,
    RaftError<NodeId, ClientWriteError<NodeId, SignetNode>>,
>;

/// Membership operations of one node; they run only while it leads.
pub(crate) struct Members {
    raft: Raft,
    node_id: NodeId,
    catch_up: Duration,
    busy: tokio::sync::Mutex<()>,
}

impl Members {
    /// Membership operations of node `node_id`; a joining node gets `catch_up` to catch up.
    pub(crate) fn new(raft: Raft, node_id: NodeId, catch_up: Duration) -> Arc<Self> {
        Arc::new(Members {
            raft,
            node_id,
            catch_up,
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// Fail with "not leader" (and the leader's address when known) unless this node leads
    /// and is a voter of its own membership. A leader that has just removed itself keeps
    /// leading until it steps down; openraft 0.9 must not be asked for another membership
    /// change then (its core asserts and stops), so it answers "not the leader" without a
    /// hint and clients try the other members.
    pub(crate) fn require_leader(&self) -> Result<(), Status> {
        let m = self.raft.metrics().borrow().clone();
        if m.current_leader == Some(self.node_id) && m.state == ServerState::Leader {
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

    fn lost_leadership(&self) -> Status {
        self.require_leader()
            .err()
            .unwrap_or_else(|| Status::unavailable("leadership changed during the change"))
    }

    /// Member `id` and its role in the effective membership (in a joint config, a voter of
    /// either half is a voter).
    pub(crate) fn member(&self, id: NodeId) -> Option<(SignetNode, Role)> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let node = membership.get_node(&id)?.clone();
        let role = if membership.voter_ids().any(|v| v == id) {
            Role::Voter
        } else {
            Role::Learner
        };
        Some((node, role))
    }

    /// Refuse a node that reuses a member's id with another data dir.
    fn check_incarnation(&self, id: NodeId, node: &SignetNode) -> Result<Option<Role>, Status> {
        match self.member(id) {
            None => Ok(None),
            Some((existing, role)) if existing.incarnation == node.incarnation => Ok(Some(role)),
            Some(_) => Err(Status::failed_precondition(format!(
                "node {id} is already a member with a different data dir (its incarnation differs): \
                 a wiped node must not rejoin under its old id. Remove it first \
                 (`signet cluster remove --node-id {id}`), or join under a new id"
            ))),
        }
    }

    /// Run `op` alone (one change at a time on this leader) in its own task, so it runs to
    /// its end, rollback included, even if the caller stops waiting.
    pub(crate) async fn exclusive<T, F, Fut>(self: &Arc<Self>, op: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Self>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Status>> + Send + 'static,
    {
        let me = self.clone();
        tokio::spawn(async move {
            let _one_at_a_time = tokio::time::timeout(BUSY_WAIT, me.busy.lock())
                .await
                .map_err(|_| {
                    Status::unavailable(format!(
                        "another membership change on this leader has run for over {BUSY_WAIT:?}; retry later"
                    ))
                })?;
            me.require_leader()?;
            op(me.clone()).await
        })
        .await
        .map_err(|e| Status::internal(format!("membership change task failed: {e}")))?
    }

    /// Join: `node` (whose identity the caller has confirmed) ends up a voter, or, if it
    /// does not catch up, membership ends up as it was.
    pub(crate) async fn join(self: Arc<Self>, id: NodeId, node: SignetNode) -> Result<(), Status> {
        let added = match self.check_incarnation(id, &node)? {
            Some(Role::Voter) => return self.settle_voter(id).await,
            Some(Role::Learner) => false,
            None => {
                self.bounded("add learner", || {
                    self.raft.add_learner(id, node.clone(), false)
                })
                .await?;
                true
            }
        };
        if let Err(cause) = self.catch_up(id).await {
            // A learner this call did not add (an operator's AddLearner) is left alone.
            return Err(if added {
                self.roll_back(id, cause).await
            } else {
                cause
            });
        }
        self.promote_now(id).await
    }

    /// Add `node` as a learner (not promoted; no catch-up wait).
    pub(crate) async fn add_learner(
        self: Arc<Self>,
        id: NodeId,
        node: SignetNode,
    ) -> Result<(), Status> {
        if self.check_incarnation(id, &node)?.is_none() {
            self.bounded("add learner", || {
                self.raft.add_learner(id, node.clone(), false)
            })
            .await?;
        }
        Ok(())
    }

    /// Promote learner `id`, only once it is caught up.
    pub(crate) async fn promote(self: Arc<Self>, id: NodeId) -> Result<(), Status> {
        match self.member(id) {
            None => Err(Status::not_found(format!(
                "node {id} is not a member; add it as learner first"
            ))),
            Some((_, Role::Voter)) => self.settle_voter(id).await,
            Some((_, Role::Learner)) => {
                self.catch_up(id).await?;
                self.promote_now(id).await
            }
        }
    }

    /// Remove member `id`, voter or learner. Needs a quorum of the current voters (for a
    /// voter, of the voters left too): a dead voter of a three-voter cluster can be removed.
    pub(crate) async fn remove(self: Arc<Self>, id: NodeId) -> Result<(), Status> {
        let set: BTreeSet<NodeId> = [id].into();
        let change = match self.member(id) {
            None => return Err(Status::not_found(format!("node {id} is not a member"))),
            Some((_, Role::Voter)) => ChangeMembers::RemoveVoters(set),
            Some((_, Role::Learner)) => ChangeMembers::RemoveNodes(set),
        };
        self.bounded("remove", || {
            self.raft.change_membership(change.clone(), false)
        })
        .await
    }

    async fn promote_now(&self, id: NodeId) -> Result<(), Status> {
        let set: BTreeSet<NodeId> = [id].into();
        self.bounded("promote", || {
            self.raft
                .change_membership(ChangeMembers::AddVoterIds(set.clone()), false)
        })
        .await
    }

    /// Wait until learner `id` has acknowledged an entry written now. Writing one (an empty
    /// batch, which applies to nothing) rather than taking the current last index proves the
    /// learner is reachable at this moment: one that caught up earlier and then died would
    /// look caught up for as long as nothing else is written.
    async fn catch_up(&self, id: NodeId) -> Result<(), Status> {
        let probe = tokio::time::timeout(COMMIT_WAIT, self.raft.client_write(Batch(vec![])))
            .await
            .map_err(|_| {
                Status::failed_precondition(format!(
                    "a probe write did not commit within {COMMIT_WAIT:?}: the voters have no \
                     quorum. {RECOVERY_HINT}"
                ))
            })?
            .map_err(write_error)?;
        let target = probe.log_id.index;
        let matched = |m: &Metrics| {
            m.replication
                .as_ref()
                .and_then(|r| r.get(&id).cloned().flatten())
                .map(|l| l.index)
        };
        let waited = self
            .raft
            .wait(Some(self.catch_up))
            .metrics(
                |m| m.state != ServerState::Leader || matched(m) >= Some(target),
                "learner to catch up",
            )
            .await;
        match waited {
            Ok(m) if m.state == ServerState::Leader => Ok(()),
            Ok(_) => Err(self.lost_leadership()),
            Err(WaitError::ShuttingDown) => Err(Status::unavailable("this node is stopping")),
            Err(WaitError::Timeout(..)) => {
                let got = matched(&self.raft.metrics().borrow());
                Err(Status::failed_precondition(format!(
                    "node {id} has not caught up within {:?} (it holds the log up to index {}, \
                     the leader is at {target}): a node becomes a voter only once it holds the \
                     leader's log. Check that the leader can reach its raft address",
                    self.catch_up,
                    got.map_or_else(|| "none".to_string(), |i| i.to_string()),
                )))
            }
        }
    }

    /// Undo the addition of learner `id` after `cause`; the answer is `cause`, saying whether
    /// membership is back as it was.
    async fn roll_back(&self, id: NodeId, cause: Status) -> Status {
        let set: BTreeSet<NodeId> = [id].into();
        let removed = self
            .bounded("remove learner", || {
                self.raft
                    .change_membership(ChangeMembers::RemoveNodes(set.clone()), false)
            })
            .await;
        let note = match removed {
            Ok(()) => format!("; node {id} was removed again, membership is as before"),
            Err(e) => {
                tracing::warn!(
                    node_id = id,
                    "removing a learner that did not catch up failed: {e}"
                );
                format!(
                    "; removing learner {id} again failed too ({}): remove it with \
                     `signet cluster remove --node-id {id}` (a learner does not count for quorum)",
                    e.message()
                )
            }
        };
        Status::with_metadata(
            cause.code(),
            format!("{}{note}", cause.message()),
            cause.metadata().clone(),
        )
    }

    /// `id` is a voter: finish a pending change first, so the answer describes a settled
    /// membership (a retried Join after a slow promotion, or a joint config a crashed
    /// leader left behind).
    async fn settle_voter(&self, id: NodeId) -> Result<(), Status> {
        let committed = |m: &Metrics| {
            m.membership_config.log_id().map(|l| l.index) <= m.last_applied.map(|l| l.index)
        };
        let m = self
            .raft
            .wait(Some(COMMIT_WAIT))
            .metrics(
                |m| m.state != ServerState::Leader || committed(m),
                "pending membership change to commit",
            )
            .await
            .map_err(|_| stalled(&self.raft.metrics().borrow()))?;
        if m.state != ServerState::Leader {
            return Err(self.lost_leadership());
        }
        let configs = m.membership_config.membership().get_joint_config().clone();
        if let (true, Some(goal)) = (configs.len() > 1, configs.last()) {
            let goal = goal.clone();
            self.bounded("finish the joint config", || {
                self.raft
                    .change_membership(ChangeMembers::ReplaceAllVoters(goal.clone()), false)
            })
            .await?;
        }
        match self.member(id) {
            Some((_, Role::Voter)) => Ok(()),
            _ => Err(Status::failed_precondition(format!(
                "node {id} was leaving the voters; it is no longer one"
            ))),
        }
    }

    /// Run one openraft membership call with a bound on its commit, retrying (bounded) while
    /// an earlier change is still committing.
    async fn bounded<F, Fut>(&self, what: &str, mut op: F) -> Result<(), Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = WriteResult>,
    {
        let deadline = Instant::now() + COMMIT_WAIT;
        loop {
            match tokio::time::timeout(COMMIT_WAIT, op()).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                    ChangeMembershipError::InProgress(_),
                )))) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                    ChangeMembershipError::InProgress(_),
                )))) => return Err(stalled(&self.raft.metrics().borrow())),
                Ok(Err(e)) => return Err(write_error(e)),
                Err(_) => {
                    return Err(Status::failed_precondition(format!(
                    "{what}: the change did not commit within {COMMIT_WAIT:?}; it stays pending \
                         and commits once a quorum of its voters answers. {RECOVERY_HINT}"
                )))
                }
            }
        }
    }
}

const RECOVERY_HINT: &str = "If voters are gone for good, recover from a survivor \
    (`signet cluster force-new-cluster`, see the README's runbook)";

/// A pending change that does not commit: its voters have no quorum. Not UNAVAILABLE:
/// clients retry that at once, and this needs an operator (or the missing voters back).
fn stalled(m: &Metrics) -> Status {
    let configs = m.membership_config.membership().get_joint_config();
    Status::failed_precondition(format!(
        "a membership change (voters {configs:?}, log id {}) has not committed within \
         {COMMIT_WAIT:?}: a quorum of its voters does not answer. {RECOVERY_HINT}",
        m.membership_config
            .log_id()
            .map_or_else(|| "none".to_string(), |l| l.to_string()),
    ))
}
