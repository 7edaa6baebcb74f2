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
            append_budget: APPEND_BUDGET_START,
        }
    }
}

/// Sends Raft RPCs to one peer.
pub struct PeerClient {
    net: Network,
    target: NodeId,
    node: SignetNode,
    /// Most bytes of entries the next append to this peer carries (see [`encode_append`]).
    append_budget: usize,
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
        let data = serde_json::to_vec(req).map_err(|e| CallError::Network(e.to_string()))?;
        self.call_encoded(kind, data, option).await
    }

    /// Send one encoded message and decode the peer's `Result<Resp, RaftError<E>>`.
    async fn call_encoded<Resp, E>(
        &self,
        kind: RpcKind,
        data: Vec<u8>,
        option: &RPCOption,
    ) -> Result<Result<Resp, RaftError<NodeId, E>>, CallError>
    where
        Resp: DeserializeOwned,
        E: DeserializeOwned + std::error::Error,
    {
        let (from, to) = (self.net.self_id, self.target);
        let Some(delay) = self.net.faults.check(from, to, kind) else {
            return Err(CallError::Unreachable(format!(
                "fault injected: {kind:?} {from} -> {to} dropped"
            )));
        };
        let delay = delay + self.net.faults.transfer(from, to, data.len());
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

/// Bytes of entries an AppendEntries to a peer carries at first, at most and at least
/// (one entry always goes, whatever its size). openraft 0.9 gives an append one heartbeat
/// interval to be answered, encoding and the follower's fsync included; a follower far
/// behind was sent up to `max_payload_entries` at once, megabytes that a slow link, disk
/// or machine cannot take in 100 ms, so every attempt timed out and a node joining a busy
/// cluster made no progress until its Join was rolled back (`signet chaos run`, the
/// wipe-store fault, on CI). Now an append carries the first entries that fit a budget
/// and answers "partial success"; the budget halves each time an append is not answered
/// in time and grows by half each time one is, so the follower advances at what the
/// link and its disk can take.
const APPEND_BUDGET_START: usize = 256 * 1024;
const APPEND_BUDGET_MAX: usize = 4 * 1024 * 1024;
const APPEND_BUDGET_MIN: usize = 16 * 1024;

/// Encode `rpc` with as many of its entries, from the first, as fit in `budget` bytes
/// (at least one). Each entry is encoded once, and none past the first that does not
/// fit. Returns the bytes and, when entries were left out, the log id of the last sent.
fn encode_append(
    rpc: AppendEntriesRequest<TypeConfig>,
    budget: usize,
) -> (
    Result<Vec<u8>, serde_json::Error>,
    Option<openraft::LogId<NodeId>>,
) {
    /// The request's fields, entries last and empty: its encoding ends `[]}`, and the
    /// entries go between the brackets (the receiver decodes an `AppendEntriesRequest`,
    /// whose fields are read in any order).
    #[derive(Serialize)]
    struct Head<'a> {
        vote: &'a openraft::Vote<NodeId>,
        prev_log_id: &'a Option<openraft::LogId<NodeId>>,
        leader_commit: &'a Option<openraft::LogId<NodeId>>,
        entries: [u8; 0],
    }
    let head = Head {
        vote: &rpc.vote,
        prev_log_id: &rpc.prev_log_id,
        leader_commit: &rpc.leader_commit,
        entries: [],
    };
    let mut out = match serde_json::to_vec(&head) {
        Ok(d) => d,
        Err(e) => return (Err(e), None),
    };
    out.truncate(out.len() - 2);
    let entries = rpc.entries;
    let mut sent = 0;
    for entry in &entries {
        let before = out.len();
        if sent > 0 {
            out.push(b',');
        }
        if let Err(e) = serde_json::to_writer(&mut out, entry) {
            return (Err(e), None);
        }
        if out.len() > budget && sent > 0 {
            out.truncate(before);
            break;
        }
        sent += 1;
    }
    out.extend_from_slice(b"]}");
    let cut = (sent < entries.len()).then(|| entries[sent - 1].log_id);
    (Ok(out), cut)
}

/// The follower's answer to a shortened append, as openraft must read it: a success
/// covers only the entries sent (`cut_after` the last of them).
fn partial(
    resp: AppendEntriesResponse<NodeId>,
    cut_after: Option<openraft::LogId<NodeId>>,
) -> AppendEntriesResponse<NodeId> {
    match (resp, cut_after) {
        (AppendEntriesResponse::Success, Some(last)) => {
            AppendEntriesResponse::PartialSuccess(Some(last))
        }
        (resp, _) => resp,
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
        // Halved before the call: openraft drops this future when the heartbeat interval
        // runs out, and the next attempt must then send less. An answer in time grows it.
        // Heartbeats (no entries) say nothing of what the link carries.
        let carries = !rpc.entries.is_empty();
        let budget = self.append_budget;
        if carries {
            self.append_budget = (budget / 2).max(APPEND_BUDGET_MIN);
        }
        let (data, cut_after) = encode_append(rpc, budget);
        let r = match data.map_err(|e| CallError::Network(e.to_string())) {
            Err(e) => Err(e),
            Ok(data) => self
                .call_encoded::<AppendEntriesResponse<NodeId>, _>(
                    RpcKind::AppendEntries,
                    data,
                    &option,
                )
                .await
                .map(|r| r.map(|resp| partial(resp, cut_after))),
        };
        if carries && r.is_ok() {
            self.append_budget = (budget + budget / 2).min(APPEND_BUDGET_MAX);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId, Vote};

    fn log_id(index: u64) -> LogId<NodeId> {
        LogId::new(CommittedLeaderId::new(2, 1), index)
    }

    fn append(entries: u64) -> AppendEntriesRequest<TypeConfig> {
        AppendEntriesRequest {
            vote: Vote::new_committed(2, 1),
            prev_log_id: Some(log_id(9)),
            leader_commit: Some(log_id(9)),
            entries: (10..10 + entries)
                .map(|i| Entry {
                    log_id: log_id(i),
                    payload: EntryPayload::Blank,
                })
                .collect(),
        }
    }

    fn decoded(data: &[u8]) -> AppendEntriesRequest<TypeConfig> {
        serde_json::from_slice(data).expect("a valid AppendEntries")
    }

    #[test]
    fn an_append_within_the_budget_is_sent_whole() {
        let (data, cut) = encode_append(append(5), APPEND_BUDGET_START);
        let sent = decoded(&data.unwrap());
        assert_eq!(sent.entries.len(), 5);
        assert_eq!(cut, None);
        assert_eq!(
            partial(AppendEntriesResponse::Success, cut),
            AppendEntriesResponse::Success
        );
    }

    #[test]
    fn a_large_append_sends_a_prefix_that_fits_and_reports_partial_success() {
        let whole = serde_json::to_vec(&append(1000)).unwrap().len();
        let budget = whole / 7;
        let (data, cut) = encode_append(append(1000), budget);
        let data = data.unwrap();
        assert!(data.len() <= budget, "{} > {budget}", data.len());
        let sent = decoded(&data);
        let n = sent.entries.len() as u64;
        assert!((100..1000).contains(&n), "{n} entries sent");
        // The prefix, in order, from the first entry; the rest of the request unchanged.
        for (k, e) in sent.entries.iter().enumerate() {
            assert_eq!(e.log_id, log_id(10 + k as u64));
        }
        assert_eq!(sent.prev_log_id, Some(log_id(9)));
        assert_eq!(cut, Some(log_id(9 + n)));
        // Success covers only what was sent; any other answer passes unchanged.
        assert_eq!(
            partial(AppendEntriesResponse::Success, cut),
            AppendEntriesResponse::PartialSuccess(Some(log_id(9 + n)))
        );
        assert_eq!(
            partial(AppendEntriesResponse::Conflict, cut),
            AppendEntriesResponse::Conflict
        );
    }

    #[test]
    fn a_heartbeat_with_no_entries_decodes() {
        let (data, cut) = encode_append(append(0), APPEND_BUDGET_START);
        let sent = decoded(&data.unwrap());
        assert!(sent.entries.is_empty());
        assert_eq!(sent.prev_log_id, Some(log_id(9)));
        assert_eq!(cut, None);
    }

    #[test]
    fn one_entry_over_the_budget_is_still_sent() {
        let (data, cut) = encode_append(append(3), 10);
        assert_eq!(decoded(&data.unwrap()).entries.len(), 1);
        assert_eq!(cut, Some(log_id(10)));
    }
}
