//! The client library gateways and the CLI use to talk to the store cluster. It finds the
//! leader, follows "not leader" redirects, retries on unavailable members, and reuses the
//! request id on every retry of a write, so a write is applied at most once however many
//! times it is sent.

use crate::{ClientError, LEADER_METADATA};
use signet_core::{Command, Outcome, Query, QueryResult, RequestId};
use signet_proto::store as pb;
use signet_proto::store::cluster_client::ClusterClient;
use signet_proto::store::store_client::StoreClient as PbStoreClient;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use tonic::{Code, Status};
use tracing::Instrument;

/// Largest reply the client accepts from the store (tonic's default, stated): a reply over
/// it fails the call. List queries stop a page at [`signet_core::MAX_PAGE_BYTES`] so that
/// no page, even of the largest records the limits allow, comes near it.
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

const _: () = assert!(signet_core::MAX_PAGE_BYTES * 2 <= MAX_REPLY_BYTES);

/// Least time a membership call's attempt is given: above the leader's worst case for a
/// Join (waiting for a change in progress, the node's identity, the learner's catch-up,
/// the promotion, a rollback), which are each bounded.
const MEMBERSHIP_ATTEMPT: Duration = Duration::from_secs(180);

/// Wait before the first retry after a member failed to answer.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// Longest wait between attempts. Well under the stores' shortest election timeout
/// (500 ms): a leader elected while a caller waits is found within this, not after a
/// wait that has doubled past the election (`signet chaos run` measured the worst write
/// outage after a leader kill at 2.16 s with a 500 ms cap, of which 0.4 s was this wait).
/// The cost is at most one attempt per caller per this interval during an outage.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// One call's search for a member that answers: how long to wait after each failure.
#[derive(Debug)]
struct Search {
    backoff: Duration,
    /// The member that last failed to answer. Followers go on naming a dead leader until
    /// they elect another (an election timeout or more), so a redirect to it is no news:
    /// following it at once only fails again, and doubles the wait before the attempt
    /// that would find the new leader.
    unanswered: Option<String>,
    /// The leader to ask again after the wait (see [`Search::redirected`]).
    ask_again: Option<String>,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            backoff: FIRST_BACKOFF,
            unanswered: None,
            ask_again: None,
        }
    }
}

impl Search {
    /// `member` did not answer (unreachable, timed out, or unavailable): wait this long,
    /// then ask another.
    fn unanswered(&mut self, member: &str) -> Duration {
        self.unanswered = Some(member.to_string());
        self.wait()
    }

    /// A member named `leader` as the leader: follow it now (None), or, when it is the
    /// member that just failed to answer, wait this long first (then ask it again: it may
    /// have failed only for a moment, and a caller that never asks it again would never
    /// find a leader that was only slow once).
    fn redirected(&mut self, leader: &str) -> Option<Duration> {
        if self.unanswered.as_deref() != Some(leader) {
            return None;
        }
        self.ask_again = Some(leader.to_string());
        Some(self.wait())
    }

    /// Whom to ask after a wait: the leader a member named, again, or else the next
    /// member `pick_other` gives, which skips the one that just failed.
    fn after_wait(&mut self, pick_other: impl FnOnce(Option<&str>) -> String) -> String {
        match self.ask_again.take() {
            Some(leader) => {
                self.unanswered = None;
                leader
            }
            None => pick_other(self.unanswered.as_deref()),
        }
    }

    /// The backoff shortened by up to half at random, so that callers that failed
    /// together do not all come back at the same instant; the next one is twice as long,
    /// up to [`MAX_BACKOFF`].
    fn wait(&mut self) -> Duration {
        let wait = self.backoff.mul_f64(rand::random_range(0.5..=1.0));
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        wait
    }
}

/// Consistency of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConsistency {
    /// Read-index on the leader: reflects every write acknowledged before the call.
    Linearizable,
    /// Any member that has applied at least this index (read-your-writes).
    AtLeast(u64),
    /// Whatever the member that answers has applied.
    Any,
}

/// A write's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// What the state machine answered.
    pub outcome: Outcome,
    /// Log index of the entry; pass it to [`ReadConsistency::AtLeast`] to read your write.
    pub index: u64,
}

/// How a call reaches a member: a connection (tonic's `Channel`), or, for a member in the
/// same process, its API service itself (see [`StoreClient::in_process`]).
pub type Conn = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    ConnError,
>;

/// Why a [`Conn`] could not carry a call. A named type rather than a boxed error: tonic's
/// client bounds on a boxed error make every future over it fail rustc's `Send` proof.
#[derive(Debug)]
pub struct ConnError(pub tower::BoxError);

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ConnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// What a member answers a read with.
#[derive(Debug)]
pub struct ReadAnswer {
    /// The query's result.
    pub result: QueryResult,
    /// The member's applied index when it answered.
    pub applied_index: u64,
    /// Cluster time as the leader knows it (linearizable reads only).
    pub cluster_time_ms: Option<u64>,
}

/// A boxed, sendable future (what a [`LocalMember`] returns).
pub type BoxFuture<T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A member running in this process, called directly for reads and writes: the same
/// handling as its API service, without encoding the call or its answer (see
/// [`StoreClient::in_process`]). Errors are the API's statuses ("not leader" with the
/// leader's address, unavailable, …), so retries and redirects work as over the network.
pub trait LocalMember: Send + Sync + 'static {
    /// Answer `query` at `consistency`.
    fn read(
        &self,
        query: Query,
        consistency: ReadConsistency,
    ) -> BoxFuture<Result<ReadAnswer, Status>>;
    /// Propose `command` under `request_id`.
    fn write(&self, request_id: RequestId, command: Command) -> BoxFuture<Result<Written, Status>>;
}

/// The member an attempt goes to: its connection, and when it runs in this process, the
/// member itself.
#[derive(Clone)]
struct Member {
    conn: Conn,
    direct: Option<Arc<dyn LocalMember>>,
}

/// A command or query as the wire carries it (JSON), encoded once for every attempt.
fn encoded<T: serde::Serialize>(
    once: &OnceLock<Result<Vec<u8>, String>>,
    value: &T,
) -> Result<Vec<u8>, Status> {
    once.get_or_init(|| serde_json::to_vec(value).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Status::invalid_argument(format!("cannot encode the call: {e}")))
}

/// A read's answer as it came: decoded already (in process) or as sent.
enum ReadReply {
    Direct(Box<ReadAnswer>),
    Wire(pb::ReadReply),
}

/// A write's answer as it came.
enum WriteReply {
    Direct(Written),
    Wire(pb::WriteReply),
}

struct Inner {
    /// The members given at construction (seeds: names an operator keeps valid).
    endpoints: Vec<String>,
    /// Members' API addresses learned since (see [`StoreClient::refresh_members`]) that
    /// are not among `endpoints`: a store replaced under a new address stays reachable
    /// after every seed is gone.
    learned: Mutex<Vec<String>>,
    channels: Mutex<HashMap<String, Conn>>,
    /// The member in this process and its endpoint (see [`StoreClient::in_process`]).
    direct: Option<(String, Arc<dyn LocalMember>)>,
    leader: Mutex<Option<String>>,
    next: Mutex<usize>,
    deadline: Duration,
    attempt_timeout: Duration,
    transport: signet_tls::Transport,
}

/// Handle to a store cluster. Cheap to clone.
#[derive(Clone)]
pub struct StoreClient {
    inner: Arc<Inner>,
}

enum Verdict {
    Redirect(String),
    TryAnother,
    Fail,
}

fn classify(s: &Status) -> Verdict {
    match s.code() {
        Code::FailedPrecondition => match s
            .metadata()
            .get(LEADER_METADATA)
            .and_then(|v| v.to_str().ok())
        {
            Some(addr) => Verdict::Redirect(addr.to_string()),
            None if s.message() == "not the leader" => Verdict::TryAnother,
            None => Verdict::Fail,
        },
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted => {
            Verdict::TryAnother
        }
        // A status with a local source is a transport failure (the connection died
        // mid-call), not an answer from the server: retrying is safe, writes carry their
        // request id. So is one without a message: a store always says why it fails, and a
        // node torn down mid-call can end the stream with a bare status.
        Code::Internal | Code::Unknown
            if std::error::Error::source(s).is_some() || s.message().is_empty() =>
        {
            Verdict::TryAnother
        }
        _ => Verdict::Fail,
    }
}

impl StoreClient {
    /// A client for the cluster reachable at any of `endpoints` (`host:port` of members'
    /// API listeners). Connections are made lazily.
    pub fn new(endpoints: Vec<String>) -> Self {
        Self::with_timeouts(endpoints, Duration::from_secs(15), Duration::from_secs(3))
    }

    /// Like [`StoreClient::new`] with explicit overall and per-attempt timeouts.
    pub fn with_timeouts(
        endpoints: Vec<String>,
        deadline: Duration,
        attempt_timeout: Duration,
    ) -> Self {
        Self::with_transport(
            endpoints,
            deadline,
            attempt_timeout,
            signet_tls::Transport::Plaintext,
        )
    }

    /// A client reaching the members over `transport` (mutual TLS with a gateway's or an
    /// operator's certificate in a secured cluster).
    pub fn with_transport(
        endpoints: Vec<String>,
        deadline: Duration,
        attempt_timeout: Duration,
        transport: signet_tls::Transport,
    ) -> Self {
        StoreClient {
            inner: Arc::new(Inner {
                endpoints,
                learned: Mutex::default(),
                channels: Mutex::default(),
                direct: None,
                leader: Mutex::default(),
                next: Mutex::default(),
                deadline,
                attempt_timeout,
                transport,
            }),
        }
    }

    /// How this client reaches the members.
    pub fn transport(&self) -> &signet_tls::Transport {
        &self.inner.transport
    }

    /// A client of the one member running in this process (`signet dev`), reached through
    /// its API service `api` instead of a socket: no HTTP/2 framing, no loopback
    /// round trip, no wake-up of another thread per call. Everything else (the calls'
    /// encoding, retries, redirects, timeouts) is the same as over the network; `endpoint`
    /// is the member's advertised address, which calls to it are routed to `api`.
    /// Reads and writes go to `member` itself (no encoding either); the other calls to `api`.
    pub fn in_process(endpoint: String, api: Conn, member: Arc<dyn LocalMember>) -> Self {
        let mut client = Self::new(vec![endpoint.clone()]);
        Arc::get_mut(&mut client.inner)
            .expect("a new client is not shared")
            .direct = Some((endpoint.clone(), member));
        client
            .inner
            .channels
            .lock()
            .expect("client lock")
            .insert(endpoint, api);
        client
    }

    /// How to reach the member at `addr`.
    fn member(&self, addr: &str) -> Result<Member, ClientError> {
        let direct = match &self.inner.direct {
            Some((endpoint, member)) if endpoint == addr => Some(member.clone()),
            _ => None,
        };
        Ok(Member {
            conn: self.channel(addr)?,
            direct,
        })
    }

    fn channel(&self, addr: &str) -> Result<Conn, ClientError> {
        let mut map = self.inner.channels.lock().expect("client lock");
        if let Some(c) = map.get(addr) {
            return Ok(c.clone());
        }
        let ch = signet_tls::channel(addr, &self.inner.transport, Duration::from_secs(1))
            .map_err(|e| ClientError::Unavailable(format!("bad endpoint {addr}: {e}")))?;
        let conn = Conn::new(tower::ServiceExt::map_err(ch, |e| ConnError(e.into())));
        map.insert(addr.to_string(), conn.clone());
        Ok(conn)
    }

    fn pick(&self, want_leader: bool) -> String {
        if want_leader {
            if let Some(l) = self.inner.leader.lock().expect("client lock").clone() {
                return l;
            }
        }
        let known = self.endpoints();
        let mut next = self.inner.next.lock().expect("client lock");
        let e = known[*next % known.len()].clone();
        *next += 1;
        e
    }

    /// Every member address this client knows: the seeds, then those learned.
    pub fn endpoints(&self) -> Vec<String> {
        let learned = self.inner.learned.lock().expect("client lock");
        self.inner
            .endpoints
            .iter()
            .chain(learned.iter())
            .cloned()
            .collect()
    }

    /// Ask a member for the membership and keep the API addresses of its members that
    /// are not seeds (replacing what was learned before: a removed member is forgotten).
    /// Returns every address known afterwards. A gateway calls this periodically, so that
    /// stores replaced under new addresses (a wiped node joined under a new id, a VM
    /// moved) stay reachable without restarting it with a new `--store` list.
    pub async fn refresh_members(&self) -> Result<Vec<String>, ClientError> {
        let reply = self
            .retry(false, |m| async move {
                ClusterClient::new(m.conn)
                    .status(pb::StatusRequest {})
                    .await
                    .map(|r| r.into_inner())
            })
            .await?;
        let members: Vec<String> = reply
            .members
            .iter()
            .filter_map(|m| m.node.as_ref())
            .map(|n| n.api_addr.clone())
            .filter(|a| !a.is_empty() && !self.inner.endpoints.contains(a))
            .collect();
        // A member answering with no membership (not yet joined) teaches nothing.
        if !reply.members.is_empty() {
            *self.inner.learned.lock().expect("client lock") = members;
        }
        Ok(self.endpoints())
    }

    /// The next member in turn, skipping `skip` (the one that just failed to answer)
    /// when there is another.
    fn pick_other_than(&self, skip: Option<&str>) -> String {
        let first = self.pick(false);
        match skip {
            Some(s) if s == first && self.endpoints().len() > 1 => self.pick(false),
            _ => first,
        }
    }

    /// Run `call` against members until one answers, following redirects.
    async fn retry<T, F, Fut>(&self, want_leader: bool, call: F) -> Result<T, ClientError>
    where
        F: FnMut(Member) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let (deadline, attempt) = (self.inner.deadline, self.inner.attempt_timeout);
        self.retry_within(want_leader, deadline, attempt, call)
            .await
    }

    /// A membership call on the leader. Its attempts may take as long as the leader's own
    /// bounded waits (a joining node catching up), so that a client timing out does not
    /// send a second call while the first is still running; a retry is harmless anyway (the
    /// leader runs one change at a time and never promotes a node that has not caught up).
    async fn membership_call<F, Fut>(&self, call: F) -> Result<String, ClientError>
    where
        F: FnMut(Member) -> Fut,
        Fut: Future<Output = Result<String, Status>>,
    {
        let attempt = self.inner.attempt_timeout.max(MEMBERSHIP_ATTEMPT);
        let deadline = self.inner.deadline.max(MEMBERSHIP_ATTEMPT);
        self.retry_within(true, deadline, attempt, call).await
    }

    async fn retry_within<T, F, Fut>(
        &self,
        want_leader: bool,
        overall: Duration,
        attempt_timeout: Duration,
        mut call: F,
    ) -> Result<T, ClientError>
    where
        F: FnMut(Member) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        if self.inner.endpoints.is_empty() {
            return Err(ClientError::Unavailable(
                "no store endpoints configured".into(),
            ));
        }
        let deadline = Instant::now() + overall;
        let mut search = Search::default();
        let mut last_error;
        let mut target = self.pick(want_leader);
        loop {
            let attempt = tokio::time::timeout(attempt_timeout, call(self.member(&target)?)).await;
            let wait = match attempt {
                Ok(Ok(v)) => {
                    if want_leader {
                        *self.inner.leader.lock().expect("client lock") = Some(target);
                    }
                    return Ok(v);
                }
                Ok(Err(status)) => {
                    last_error = format!("{target}: {}: {}", status.code(), status.message());
                    match classify(&status) {
                        Verdict::Redirect(addr) => match search.redirected(&addr) {
                            None => {
                                *self.inner.leader.lock().expect("client lock") =
                                    Some(addr.clone());
                                target = addr;
                                None
                            }
                            Some(wait) => {
                                last_error =
                                    format!("{last_error} (no leader yet: {addr} did not answer)");
                                Some(wait)
                            }
                        },
                        Verdict::TryAnother => Some(search.unanswered(&target)),
                        Verdict::Fail => {
                            return Err(ClientError::Refused {
                                code: status.code(),
                                message: status.message().to_string(),
                            })
                        }
                    }
                }
                Err(_) => {
                    last_error = format!("{target}: no answer within {attempt_timeout:?}");
                    Some(search.unanswered(&target))
                }
            };
            if Instant::now() >= deadline {
                return Err(ClientError::Unavailable(last_error));
            }
            if let Some(wait) = wait {
                *self.inner.leader.lock().expect("client lock") = None;
                tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now())))
                    .await;
                target = search.after_wait(|skip| self.pick_other_than(skip));
            }
        }
    }

    /// Propose `command` with a fresh request id.
    pub async fn write(&self, command: Command) -> Result<Written, ClientError> {
        let rid = RequestId(rand::random::<[u8; 16]>());
        self.write_with_id(rid, command).await
    }

    /// Propose `command` under `request_id`; retries reuse it, so it applies at most once.
    pub async fn write_with_id(
        &self,
        request_id: RequestId,
        command: Command,
    ) -> Result<Written, ClientError> {
        let body = OnceLock::new();
        let reply = self
            .retry(true, |m| -> BoxFuture<Result<WriteReply, Status>> {
                if let Some(member) = m.direct {
                    let answer = member.write(request_id, command.clone());
                    return Box::pin(async move { answer.await.map(WriteReply::Direct) });
                }
                let command = match encoded(&body, &command) {
                    Ok(c) => c,
                    Err(e) => return Box::pin(std::future::ready(Err(e))),
                };
                let req = pb::WriteRequest {
                    request_id: request_id.0.to_vec(),
                    command,
                };
                let mut req = tonic::Request::new(req);
                crate::trace::inject(&mut req);
                Box::pin(async move {
                    PbStoreClient::new(m.conn)
                        .max_decoding_message_size(MAX_REPLY_BYTES)
                        .write(req)
                        .await
                        .map(|r| WriteReply::Wire(r.into_inner()))
                })
            })
            .instrument(crate::trace::client_span("store.write"))
            .await?;
        match reply {
            WriteReply::Direct(written) => Ok(written),
            WriteReply::Wire(reply) => Ok(Written {
                outcome: serde_json::from_slice(&reply.outcome)
                    .map_err(|e| ClientError::Decode(e.to_string()))?,
                index: reply.index,
            }),
        }
    }

    /// Answer `query` at the given consistency. Returns the result and the applied index of
    /// the member that answered.
    pub async fn read(
        &self,
        query: &Query,
        consistency: ReadConsistency,
    ) -> Result<(QueryResult, u64), ClientError> {
        let answer = self.read_answer(query, consistency).await?;
        Ok((answer.result, answer.applied_index))
    }

    /// A linearizable read of `query` that returns, instead of its result, cluster time as
    /// the leader that answered knows it (Unix ms; None from a store too old to say): how
    /// a gateway checks its own clock against the stores'.
    pub async fn cluster_time(&self, query: &Query) -> Result<Option<u64>, ClientError> {
        let answer = self
            .read_answer(query, ReadConsistency::Linearizable)
            .await?;
        Ok(answer.cluster_time_ms)
    }

    async fn read_answer(
        &self,
        query: &Query,
        consistency: ReadConsistency,
    ) -> Result<ReadAnswer, ClientError> {
        let body = OnceLock::new();
        let (c, at_least) = match consistency {
            ReadConsistency::Linearizable => (pb::Consistency::Linearizable, 0),
            ReadConsistency::AtLeast(i) => (pb::Consistency::AtLeast, i),
            ReadConsistency::Any => (pb::Consistency::Any, 0),
        };
        let leader = consistency == ReadConsistency::Linearizable;
        let reply = self
            .retry(leader, |m| -> BoxFuture<Result<ReadReply, Status>> {
                if let Some(member) = m.direct {
                    let answer = member.read(query.clone(), consistency);
                    return Box::pin(async move {
                        answer.await.map(|a| ReadReply::Direct(Box::new(a)))
                    });
                }
                let query = match encoded(&body, query) {
                    Ok(q) => q,
                    Err(e) => return Box::pin(std::future::ready(Err(e))),
                };
                let req = pb::ReadRequest {
                    query,
                    consistency: c as i32,
                    at_least,
                };
                let mut req = tonic::Request::new(req);
                crate::trace::inject(&mut req);
                Box::pin(async move {
                    PbStoreClient::new(m.conn)
                        .max_decoding_message_size(MAX_REPLY_BYTES)
                        .read(req)
                        .await
                        .map(|r| ReadReply::Wire(r.into_inner()))
                })
            })
            .instrument(crate::trace::client_span("store.read"))
            .await?;
        match reply {
            ReadReply::Direct(answer) => Ok(*answer),
            ReadReply::Wire(reply) => Ok(ReadAnswer {
                result: serde_json::from_slice(&reply.result)
                    .map_err(|e| ClientError::Decode(e.to_string()))?,
                applied_index: reply.applied_index,
                cluster_time_ms: reply.cluster_time_ms,
            }),
        }
    }

    /// Stream applied changes from `from_index` on, from any member.
    pub async fn watch(
        &self,
        from_index: u64,
    ) -> Result<tonic::Streaming<pb::Change>, ClientError> {
        self.retry(false, |m| async move {
            PbStoreClient::new(m.conn)
                .max_decoding_message_size(MAX_REPLY_BYTES)
                .watch(pb::WatchRequest { from_index })
                .await
                .map(|r| r.into_inner())
        })
        .await
    }

    /// Status of the member at `endpoint` (no retry, no redirect).
    pub async fn status_of(&self, endpoint: &str) -> Result<pb::StatusReply, ClientError> {
        let ch = self.channel(endpoint)?;
        let mut client = ClusterClient::new(ch);
        let call = client.status(pb::StatusRequest {});
        match tokio::time::timeout(self.inner.attempt_timeout, call).await {
            Ok(Ok(r)) => Ok(r.into_inner()),
            Ok(Err(s)) => Err(ClientError::Unavailable(format!(
                "{endpoint}: {}",
                s.message()
            ))),
            Err(_) => Err(ClientError::Unavailable(format!("{endpoint}: no answer"))),
        }
    }

    /// Build a snapshot on the member at `endpoint` (and with `purge`, drop its log up to
    /// it); returns (snapshot index, purged index).
    pub async fn snapshot_of(
        &self,
        endpoint: &str,
        purge: bool,
    ) -> Result<(u64, Option<u64>), ClientError> {
        let ch = self.channel(endpoint)?;
        let mut client = ClusterClient::new(ch);
        // No attempt timeout: a large state takes a while, and the member bounds the wait.
        match client.snapshot(pb::SnapshotRequest { purge }).await {
            Ok(r) => {
                let r = r.into_inner();
                Ok((r.snapshot_index, r.purged_index))
            }
            Err(s) => Err(ClientError::Unavailable(format!(
                "{endpoint}: {}",
                s.message()
            ))),
        }
    }

    /// A backup from the leader: the stream's first chunk names the index and size. The
    /// leader answers once its snapshot holds every write acknowledged before the call
    /// (building one can take minutes on a large state, hence the long attempt).
    pub async fn backup(&self) -> Result<tonic::Streaming<pb::BackupChunk>, ClientError> {
        let attempt = self.inner.attempt_timeout.max(MEMBERSHIP_ATTEMPT);
        let deadline = self.inner.deadline.max(MEMBERSHIP_ATTEMPT);
        self.retry_within(true, deadline, attempt, |m| async move {
            ClusterClient::new(m.conn)
                .max_decoding_message_size(MAX_REPLY_BYTES)
                .backup(pb::BackupRequest {})
                .await
                .map(|r| r.into_inner())
        })
        .await
    }

    /// Ask the leader to add the node as learner, wait for it to catch up, then promote it.
    /// The leader first checks that the node answers at its API address as the node named;
    /// a node that does not catch up in time is removed again and the call fails.
    pub async fn join(&self, node: pb::NodeInfo) -> Result<String, ClientError> {
        self.membership_call(|m| {
            let req = pb::JoinRequest {
                node: Some(node.clone()),
            };
            async move {
                ClusterClient::new(m.conn)
                    .join(req)
                    .await
                    .map(|r| r.into_inner().membership)
            }
        })
        .await
    }

    /// Add the node listening at `api_addr` as a learner.
    pub async fn add_learner(&self, node_id: u64, api_addr: &str) -> Result<String, ClientError> {
        self.membership_call(|m| {
            let req = pb::AddNodeRequest {
                node_id,
                api_addr: api_addr.to_string(),
            };
            async move {
                ClusterClient::new(m.conn)
                    .add_learner(req)
                    .await
                    .map(|r| r.into_inner().membership)
            }
        })
        .await
    }

    /// Promote a learner to voter; refused while the learner has not caught up.
    pub async fn promote(&self, node_id: u64) -> Result<String, ClientError> {
        self.membership_call(|m| async move {
            ClusterClient::new(m.conn)
                .promote(pb::NodeRef { node_id })
                .await
                .map(|r| r.into_inner().membership)
        })
        .await
    }

    /// Remove a member (voter or learner).
    pub async fn remove(&self, node_id: u64) -> Result<String, ClientError> {
        self.membership_call(|m| async move {
            ClusterClient::new(m.conn)
                .remove(pb::NodeRef { node_id })
                .await
                .map(|r| r.into_inner().membership)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a simulated member does when asked.
    enum Sim {
        Answer,
        Silent,
        Redirect(&'static str),
    }

    /// `retry_within`'s choices over members a, b and c, with `member(name, now)` saying
    /// what each does; the time the call succeeds and whom it asked, in order.
    fn simulate(member: impl Fn(&str, Duration) -> Sim) -> (Duration, Vec<&'static str>) {
        let attempt = Duration::from_millis(1);
        let members = ["a", "b", "c"];
        let mut search = Search::default();
        let (mut now, mut target, mut next) = (Duration::ZERO, "a", 1);
        let mut asked = Vec::new();
        loop {
            assert!(now < Duration::from_secs(60), "no leader found: {asked:?}");
            now += attempt;
            asked.push(target);
            let wait = match member(target, now) {
                Sim::Answer => return (now, asked),
                Sim::Silent => Some(search.unanswered(target)),
                Sim::Redirect(leader) => {
                    let w = search.redirected(leader);
                    if w.is_none() {
                        target = leader;
                    }
                    w
                }
            };
            if let Some(w) = wait {
                now += w;
                let name = search.after_wait(|skip| {
                    // As pick_other_than: the next in turn, skipping the silent one.
                    let mut t = members[next % 3];
                    next += 1;
                    if skip == Some(t) {
                        t = members[next % 3];
                        next += 1;
                    }
                    t.to_string()
                });
                target = members.into_iter().find(|m| *m == name).unwrap();
            }
        }
    }

    /// The leader dies; the followers name it for `election` more, then name the new
    /// one. A caller finds the new leader within two short waits of the election, not
    /// after a wait that doubled past it (up to 500 ms before), and asks the dead one at
    /// most every other time.
    #[test]
    fn a_dead_leader_named_by_followers_is_not_chased() {
        let election = Duration::from_millis(1_800);
        for _ in 0..200 {
            let (found, asked) = simulate(|m, now| match (m, now >= election) {
                ("a", _) => Sim::Silent,
                (_, false) => Sim::Redirect("a"),
                ("c", true) => Sim::Answer,
                (_, true) => Sim::Redirect("c"),
            });
            assert!(
                found <= election + Duration::from_millis(210),
                "found the new leader {:?} after the election",
                found - election
            );
            let dead = asked.iter().filter(|m| **m == "a").count();
            assert!(dead <= asked.len() / 2 + 1, "{asked:?}");
            assert!(!asked.windows(2).any(|w| w == ["a", "a"]), "{asked:?}");
        }
    }

    /// A leader that fails to answer once (a timeout under load) is asked again when the
    /// followers name it: the call does not give up on the only leader there is.
    #[test]
    fn a_leader_silent_once_is_asked_again() {
        for _ in 0..200 {
            let first = std::sync::atomic::AtomicBool::new(true);
            let (found, asked) = simulate(|m, _| match m {
                "a" if first.swap(false, std::sync::atomic::Ordering::Relaxed) => Sim::Silent,
                "a" => Sim::Answer,
                _ => Sim::Redirect("a"),
            });
            assert_eq!(asked.last(), Some(&"a"));
            assert!(found < Duration::from_millis(100), "{found:?}: {asked:?}");
            assert!(asked.len() <= 3, "{asked:?}");
        }
    }

    #[test]
    fn classification_of_answers() {
        let mut redirect = Status::failed_precondition("not the leader");
        redirect
            .metadata_mut()
            .insert(LEADER_METADATA, "10.0.0.1:7401".parse().unwrap());
        assert!(matches!(classify(&redirect), Verdict::Redirect(a) if a == "10.0.0.1:7401"));
        assert!(matches!(
            classify(&Status::failed_precondition("not the leader")),
            Verdict::TryAnother
        ));
        // A refusal of a membership change is final.
        assert!(matches!(
            classify(&Status::failed_precondition("node 3 is already a member")),
            Verdict::Fail
        ));
        assert!(matches!(
            classify(&Status::unavailable("x")),
            Verdict::TryAnother
        ));
        // An Internal status sent by the server is an answer; one caused locally by a broken
        // connection is not.
        assert!(matches!(classify(&Status::internal("boom")), Verdict::Fail));
        assert!(matches!(
            classify(&Status::internal("")),
            Verdict::TryAnother
        ));
        assert!(matches!(
            classify(&Status::unknown("")),
            Verdict::TryAnother
        ));
        let transport = Status::from_error(Box::new(std::io::Error::other("connection reset")));
        assert!(
            matches!(classify(&transport), Verdict::TryAnother),
            "{transport:?}"
        );
        assert!(matches!(
            classify(&Status::invalid_argument("bad")),
            Verdict::Fail
        ));
    }
}
