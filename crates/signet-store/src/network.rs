//! The Raft transport: JSON-encoded openraft messages over tonic, one cached channel per
//! peer address, bounded message sizes, and the testkit's fault table consulted per RPC
//! (a no-op without the `test-util` feature, see [`crate::faults`]).

use crate::faults::{Faults, RpcKind};
use crate::types::{NodeId, SignetNode, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{de::DeserializeOwned, Serialize};
use signet_proto::store::raft_client::RaftClient;
use signet_proto::store::RaftMessage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::Channel;

/// Largest Raft message accepted or sent (snapshot chunks are 3 MiB by default).
pub(crate) const MAX_RAFT_MESSAGE: usize = 64 * 1024 * 1024;
/// Metadata carrying the incarnation the sender expects the target to have.
pub(crate) const INCARNATION_METADATA: &str = "x-signet-incarnation";

/// Creates per-peer clients; shares channels between them.
#[derive(Clone)]
pub struct Network {
    self_id: NodeId,
    faults: Faults,
    transport: signet_tls::Transport,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    /// The peers' clocks, read from their replies (see [`crate::cluster_time`]).
    clocks: crate::cluster_time::ClockSamples,
}

impl Network {
    pub(crate) fn new(
        self_id: NodeId,
        faults: Faults,
        transport: signet_tls::Transport,
        clocks: crate::cluster_time::ClockSamples,
    ) -> Self {
        Network {
            self_id,
            faults,
            transport,
            channels: Arc::default(),
            clocks,
        }
    }

    fn channel(&self, addr: &str) -> Result<Channel, String> {
        let mut map = self.channels.lock().expect("channel cache lock");
        if let Some(c) = map.get(addr) {
            return Ok(c.clone());
        }
        let ch = signet_tls::channel(addr, &self.transport, Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
        map.insert(addr.to_string(), ch.clone());
        Ok(ch)
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &SignetNode) -> PeerClient {
        PeerClient {
            net: self.clone(),
            target,
            node: node.clone(),
        }
    }
}

/// Sends Raft RPCs to one peer.
pub struct PeerClient {
    net: Network,
    target: NodeId,
    node: SignetNode,
}

#[derive(Debug)]
struct TransportError(String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportError {}

enum CallError {
    Unreachable(String),
    Network(String),
}

impl PeerClient {
    /// Send one message and decode the peer's `Result<Resp, RaftError<E>>`.
    async fn call<Req, Resp, E>(
        &self,
        kind: RpcKind,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Result<Resp, RaftError<NodeId, E>>, CallError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: DeserializeOwned + std::error::Error,
    {
        let Some(delay) = self.net.faults.check(self.net.self_id, self.target, kind) else {
            return Err(CallError::Unreachable(format!(
                "fault injected: {kind:?} {} -> {} dropped",
                self.net.self_id, self.target
            )));
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let channel = self
            .net
            .channel(&self.node.raft_addr)
            .map_err(CallError::Unreachable)?;
        let mut client = RaftClient::new(channel)
            .max_decoding_message_size(MAX_RAFT_MESSAGE)
            .max_encoding_message_size(MAX_RAFT_MESSAGE);
        let data = serde_json::to_vec(req).map_err(|e| CallError::Network(e.to_string()))?;
        let mut request = tonic::Request::new(RaftMessage { data });
        request.set_timeout(option.hard_ttl());
        request.metadata_mut().insert(
            INCARNATION_METADATA,
            self.node
                .incarnation
                .to_string()
                .parse()
                .expect("digits are valid metadata"),
        );
        let (sent_ms, sent) = (crate::cluster_time::wall_ms(), std::time::Instant::now());
        let reply = match kind {
            RpcKind::AppendEntries => client.append_entries(request).await,
            RpcKind::Vote => client.vote(request).await,
            RpcKind::InstallSnapshot => client.install_snapshot(request).await,
        };
        let theirs = reply.as_ref().ok().and_then(|r| {
            r.metadata()
                .get(crate::cluster_time::CLOCK_METADATA)?
                .to_str()
                .ok()?
                .parse::<u64>()
                .ok()
        });
        if let Some(theirs) = theirs {
            self.net
                .clocks
                .record(self.target, sent_ms, sent.elapsed(), theirs);
        }
        let reply = reply.map_err(|s| match s.code() {
            tonic::Code::Unavailable | tonic::Code::FailedPrecondition => {
                CallError::Unreachable(format!("{}: {}", s.code(), s.message()))
            }
            _ => CallError::Network(format!("{}: {}", s.code(), s.message())),
        })?;
        serde_json::from_slice(&reply.into_inner().data)
            .map_err(|e| CallError::Network(e.to_string()))
    }

    fn rpc_error<T, E: std::error::Error>(
        &self,
        r: Result<Result<T, RaftError<NodeId, E>>, CallError>,
    ) -> Result<T, RPCError<NodeId, SignetNode, RaftError<NodeId, E>>> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                e,
            ))),
            Err(CallError::Unreachable(m)) => {
                Err(RPCError::Unreachable(Unreachable::new(&TransportError(m))))
            }
            Err(CallError::Network(m)) => {
                Err(RPCError::Network(NetworkError::new(&TransportError(m))))
            }
        }
    }
}

type RpcResult<T, E = openraft::error::Infallible> =
    Result<T, RPCError<NodeId, SignetNode, RaftError<NodeId, E>>>;

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>> {
        let r = self
            .call::<_, AppendEntriesResponse<NodeId>, _>(RpcKind::AppendEntries, &rpc, &option)
            .await;
        self.rpc_error(r)
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        let r = self
            .call::<_, InstallSnapshotResponse<NodeId>, InstallSnapshotError>(
                RpcKind::InstallSnapshot,
                &rpc,
                &option,
            )
            .await;
        self.rpc_error(r)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>> {
        let r = self
            .call::<_, VoteResponse<NodeId>, _>(RpcKind::Vote, &rpc, &option)
            .await;
        self.rpc_error(r)
    }
}
