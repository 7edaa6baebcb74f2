//! The `Store` service: writes through Raft, reads at a named consistency, and the change
//! feed. Handlers are thin; a follower answers "not leader" with the leader's address.

use crate::feed::Change;
use crate::proposer::Proposer;
use crate::state_machine::StateMachineStore;
use crate::types::{Raft, SignetNode};
use crate::LEADER_METADATA;
use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use signet_core::{Command, KvError, Query, Request, RequestId};
use signet_proto::store as pb;
use signet_proto::store::store_server::Store;
use signet_store_client::{BoxFuture, LocalMember, ReadAnswer, ReadConsistency, Written};
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::Stream;
use tonic::{Response, Status};
use tracing::Instrument;

/// How long an `AT_LEAST` read waits for this member to catch up before giving up.
const AT_LEAST_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct StoreApi {
    pub(crate) raft: Raft,
    pub(crate) sm: StateMachineStore,
    pub(crate) proposer: Proposer,
    /// Linearizable reads' leadership checks, shared by the reads of a batch.
    pub(crate) reads: crate::read_index::ReadIndex,
    /// What a proposer's clock is compared with.
    pub(crate) clock: crate::cluster_time::ClusterClock,
    /// Set when the node stops: open Watch streams end so connections can close (they hold
    /// this service, and through it the state machine's files).
    pub(crate) stop: tokio::sync::watch::Receiver<bool>,
}

pub use signet_core::MAX_PROPOSER_SKEW;

/// "Not the leader" with the leader's API address when known, so clients can retry there.
pub(crate) fn not_leader(leader: Option<&SignetNode>) -> Status {
    let mut s = Status::failed_precondition("not the leader");
    if let Some(addr) = leader.and_then(|n| n.api_addr.parse().ok()) {
        s.metadata_mut().insert(LEADER_METADATA, addr);
    }
    s
}

pub(crate) fn write_error(e: RaftError<u64, ClientWriteError<u64, SignetNode>>) -> Status {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
            not_leader(f.leader_node.as_ref())
        }
        RaftError::APIError(ClientWriteError::ChangeMembershipError(c)) => {
            Status::failed_precondition(c.to_string())
        }
        RaftError::Fatal(f) => Status::unavailable(format!("raft stopped: {f}")),
    }
}

/// Wait until this node, as leader, has applied every write acknowledged before the call
/// (read index, then the floor of a leader restored at startup); "not leader" elsewhere.
pub(crate) async fn linearizable(
    raft: &Raft,
    floor: &crate::read_floor::ReadFloor,
) -> Result<(), Status> {
    let read_index = read_index(raft).await?;
    applied_up_to(raft, floor, read_index).await
}

/// The leadership check of a linearizable read: this node leads (a quorum said so after
/// the call began), and the index it must have applied to answer.
pub(crate) async fn read_index(raft: &Raft) -> Result<u64, Status> {
    let (read_log_id, _) = raft.get_read_log_id().await.map_err(|e| match e {
        RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)) => {
            not_leader(f.leader_node.as_ref())
        }
        RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(q)) => {
            Status::unavailable(q.to_string())
        }
        RaftError::Fatal(f) => Status::unavailable(f.to_string()),
    })?;
    Ok(read_log_id.map_or(0, |l| l.index))
}

/// The second half of a linearizable read: wait until `read_index` is applied (and the
/// floor of a leader restored at startup).
pub(crate) async fn applied_up_to(
    raft: &Raft,
    floor: &crate::read_floor::ReadFloor,
    read_index: u64,
) -> Result<(), Status> {
    // Most reads find the index applied already: a look at the metrics then, without
    // openraft's wait (which clones the whole metrics and formats its message each time).
    if applied_index(raft) < read_index {
        raft.wait(None)
            .applied_index_at_least(Some(read_index), "linearizable read")
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
    }
    floor.wait(raft).await.map_err(Status::unavailable)
}

/// The last index this node has applied, as its metrics say.
fn applied_index(raft: &Raft) -> u64 {
    raft.metrics().borrow().last_applied.map_or(0, |l| l.index)
}

fn bad_request(what: &str, e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{what}: {e}"))
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::Change, Status>> + Send>>;

fn to_pb(c: Change) -> pb::Change {
    pb::Change {
        index: c.index,
        keys: c
            .keys
            .into_iter()
            .map(|k| pb::ChangedKey {
                table: u32::from(k.table.prefix()),
                key: k.key,
            })
            .collect(),
        reset: c.reset,
    }
}

impl StoreApi {
    async fn write_inner(&self, req: pb::WriteRequest) -> Result<Response<pb::WriteReply>, Status> {
        let rid: [u8; 16] = req
            .request_id
            .as_slice()
            .try_into()
            .map_err(|_| Status::invalid_argument("request_id must be 16 bytes"))?;
        let command: Command =
            serde_json::from_slice(&req.command).map_err(|e| bad_request("command", e))?;
        let written = self.write_command(RequestId(rid), command).await?;
        let outcome =
            serde_json::to_vec(&written.outcome).map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::WriteReply {
            outcome,
            index: written.index,
        }))
    }

    /// A write, decoded: what the service does for the wire and for a client in this process.
    async fn write_command(&self, rid: RequestId, command: Command) -> Result<Written, Status> {
        if let Some(skew) = self.skewed(&command) {
            return Err(Status::invalid_argument(skew));
        }
        tracing::debug!(request_id = %rid, "write");
        let (outcome, index) = self.proposer.propose(Request::new(rid, command)).await?;
        Ok(Written { outcome, index })
    }

    /// Why the leader refuses `command`'s clock, if it does: further than
    /// [`MAX_PROPOSER_SKEW`] from cluster time (the middle store clock, see
    /// `crate::cluster_time`; the leader's own until it has heard from a majority), so a
    /// leader whose own clock is wrong still takes commands from correct gateways. Only
    /// the leader judges (a follower redirects), and only when the command is proposed:
    /// applying the log never reads a clock.
    fn skewed(&self, command: &Command) -> Option<String> {
        let theirs = command.proposer_clock_ms()?;
        if self.raft.metrics().borrow().state != openraft::ServerState::Leader {
            return None;
        }
        let mine = self.clock.median_ms();
        let off = theirs.abs_diff(mine);
        (off > MAX_PROPOSER_SKEW.as_millis() as u64).then(|| {
            format!(
                "{}: the proposer's clock is {off} ms {} the store cluster's; commands that \
                 carry a clock are refused beyond ±{} s (check NTP on the gateway and the stores)",
                command.name(),
                if theirs > mine { "ahead of" } else { "behind" },
                MAX_PROPOSER_SKEW.as_secs()
            )
        })
    }

    async fn read_inner(&self, req: pb::ReadRequest) -> Result<Response<pb::ReadReply>, Status> {
        let query: Query =
            serde_json::from_slice(&req.query).map_err(|e| bad_request("query", e))?;
        let consistency = match pb::Consistency::try_from(req.consistency)
            .unwrap_or(pb::Consistency::Unspecified)
        {
            pb::Consistency::Linearizable | pb::Consistency::Unspecified => {
                ReadConsistency::Linearizable
            }
            pb::Consistency::AtLeast => ReadConsistency::AtLeast(req.at_least),
            pb::Consistency::Any => ReadConsistency::Any,
        };
        let answer = self.read_query(&query, consistency).await?;
        let result =
            serde_json::to_vec(&answer.result).map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::ReadReply {
            result,
            applied_index: answer.applied_index,
            cluster_time_ms: answer.cluster_time_ms,
        }))
    }

    /// A read, decoded: what the service does for the wire and for a client in this process.
    async fn read_query(
        &self,
        query: &Query,
        consistency: ReadConsistency,
    ) -> Result<ReadAnswer, Status> {
        let mut cluster_time_ms = None;
        match consistency {
            ReadConsistency::Linearizable => {
                self.reads.ensure().await?;
                cluster_time_ms = Some(self.clock.median_ms());
            }
            ReadConsistency::AtLeast(at_least) if applied_index(&self.raft) >= at_least => {}
            ReadConsistency::AtLeast(at_least) => {
                self.raft
                    .wait(Some(AT_LEAST_WAIT))
                    .applied_index_at_least(Some(at_least), "read at_least")
                    .await
                    .map_err(|e| {
                        Status::unavailable(format!("not caught up to {at_least}: {e}"))
                    })?;
            }
            ReadConsistency::Any => {}
        }
        let applied_index = applied_index(&self.raft);
        let result = self.sm.query(query).map_err(|e| match e {
            KvError::Unavailable(why) => Status::unavailable(why),
            e => Status::internal(e.to_string()),
        })?;
        Ok(ReadAnswer {
            result,
            applied_index,
            cluster_time_ms,
        })
    }
}

/// The Store service for a client in this process ([`signet_store_client::StoreClient::in_process`]):
/// the same reads and writes as over the wire, with nothing encoded.
pub(crate) struct InProcess(pub(crate) std::sync::Arc<StoreApi>);

impl LocalMember for InProcess {
    fn read(
        &self,
        query: Query,
        consistency: ReadConsistency,
    ) -> BoxFuture<Result<ReadAnswer, Status>> {
        let api = self.0.clone();
        Box::pin(async move { api.read_query(&query, consistency).await })
    }

    fn write(&self, request_id: RequestId, command: Command) -> BoxFuture<Result<Written, Status>> {
        let api = self.0.clone();
        Box::pin(async move { api.write_command(request_id, command).await })
    }
}

#[tonic::async_trait]
impl Store for StoreApi {
    async fn write(
        &self,
        req: tonic::Request<pb::WriteRequest>,
    ) -> Result<Response<pb::WriteReply>, Status> {
        let span = crate::trace::server_span("store.Write", &req);
        self.write_inner(req.into_inner()).instrument(span).await
    }

    async fn read(
        &self,
        req: tonic::Request<pb::ReadRequest>,
    ) -> Result<Response<pb::ReadReply>, Status> {
        let span = crate::trace::server_span("store.Read", &req);
        self.read_inner(req.into_inner()).instrument(span).await
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        req: tonic::Request<pb::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let (backlog, mut rx) = self.sm.subscribe(req.into_inner().from_index);
        let (tx, out) = tokio::sync::mpsc::channel::<Result<pb::Change, Status>>(256);
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            let mut last = 0;
            for c in backlog {
                last = c.index;
                if tx.send(Ok(to_pb(c))).await.is_err() {
                    return;
                }
            }
            loop {
                let next = tokio::select! {
                    n = rx.recv() => Some(n),
                    _ = stop.wait_for(|s| *s) => None,
                };
                let Some(next) = next else {
                    let _ = tx
                        .send(Err(Status::unavailable("store node stopping")))
                        .await;
                    return;
                };
                let c = match next {
                    Ok(c) if c.index <= last && !c.reset => continue,
                    Ok(c) => c,
                    // The watcher fell too far behind the live feed: tell it to reload.
                    Err(RecvError::Lagged(_)) => Change {
                        index: last,
                        keys: vec![],
                        reset: true,
                    },
                    Err(RecvError::Closed) => return,
                };
                last = last.max(c.index);
                if tx.send(Ok(to_pb(c))).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(out),
        )))
    }
}
