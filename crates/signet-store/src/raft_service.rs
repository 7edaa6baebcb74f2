//! Server side of the Raft transport.

use crate::network::INCARNATION_METADATA;
use crate::types::Raft;
use serde::Serialize;
use signet_proto::store::raft_server::Raft as RaftApi;
use signet_proto::store::RaftMessage;
use tonic::{Request, Response, Status};

pub(crate) struct RaftService {
    pub(crate) raft: Raft,
    pub(crate) incarnation: u64,
}

impl RaftService {
    /// Refuse messages meant for another incarnation of this node id: the sender's
    /// membership describes a data dir that no longer exists here (wiped node), and
    /// answering would let an empty log vote or be counted toward commits.
    fn check_target(&self, req: &Request<RaftMessage>) -> Result<(), Status> {
        let expected = req
            .metadata()
            .get(INCARNATION_METADATA)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match expected {
            Some(inc) if inc == self.incarnation => Ok(()),
            Some(inc) => {
                tracing::error!(
                    expected = inc,
                    mine = self.incarnation,
                    "refusing raft message for another incarnation of this node id: this data dir was \
                     wiped or replaced; remove the node from the cluster and join it again"
                );
                Err(Status::failed_precondition(format!(
                    "incarnation mismatch: expected {inc:016x}, this node is {:016x}",
                    self.incarnation
                )))
            }
            None => Err(Status::invalid_argument("missing incarnation")),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(req: Request<RaftMessage>) -> Result<T, Status> {
    serde_json::from_slice(&req.into_inner().data)
        .map_err(|e| Status::invalid_argument(e.to_string()))
}

/// The reply, with this node's wall clock for the sender's cluster time
/// ([`crate::cluster_time`]).
fn encode<T: Serialize>(v: &T) -> Result<Response<RaftMessage>, Status> {
    let data = serde_json::to_vec(v).map_err(|e| Status::internal(e.to_string()))?;
    let mut reply = Response::new(RaftMessage { data });
    let now = crate::cluster_time::wall_ms().to_string();
    reply.metadata_mut().insert(
        crate::cluster_time::CLOCK_METADATA,
        now.parse().expect("digits are valid metadata"),
    );
    Ok(reply)
}

#[tonic::async_trait]
impl RaftApi for RaftService {
    async fn append_entries(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        self.check_target(&req)?;
        let res = self.raft.append_entries(decode(req)?).await;
        encode(&res)
    }

    async fn vote(&self, req: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        self.check_target(&req)?;
        let res = self.raft.vote(decode(req)?).await;
        encode(&res)
    }

    async fn install_snapshot(
        &self,
        req: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        self.check_target(&req)?;
        let res = self.raft.install_snapshot(decode(req)?).await;
        encode(&res)
    }
}
