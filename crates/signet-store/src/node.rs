//! One store node: opens its data dir, starts Raft, serves the Raft listener and the
//! Store/Cluster/health API listener, and shuts down in order.

use crate::api::StoreApi;
use crate::cluster::ClusterApi;
use crate::faults::Faults;
use crate::identity::NodeIdentity;
use crate::log_store::LogStore;
use crate::membership::Members;
use crate::network::{Network, MAX_RAFT_MESSAGE};
use crate::proposer::Proposer;
use crate::raft_service::RaftService;
use crate::state_machine::StateMachineStore;
use crate::types::{NodeId, Raft, SignetNode};
use crate::StoreError;
use openraft::{ServerState, SnapshotPolicy};
use signet_proto::store::cluster_server::ClusterServer;
use signet_proto::store::raft_server::RaftServer;
use signet_proto::store::store_server::StoreServer;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Settings of one store node.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Raft node id (unique in the cluster, never reused for a wiped data dir).
    pub node_id: NodeId,
    /// Where the log, the state machine, snapshots and `node.json` live.
    pub data_dir: PathBuf,
    /// Raft address other members use (default: the Raft listener's local address).
    pub raft_advertise: Option<String>,
    /// API address clients and other members use (default: the API listener's address).
    pub api_advertise: Option<String>,
    /// Leader heartbeat interval.
    pub heartbeat: Duration,
    /// Election timeout range (a follower that hears nothing for a random time in it
    /// starts an election).
    pub election_timeout: (Duration, Duration),
    /// Build a snapshot after this many applied entries since the last one.
    pub snapshot_every: u64,
    /// Entries kept in the log behind the snapshot, for followers slightly behind.
    pub keep_logs_after_snapshot: u64,
    /// Fault table consulted by this node's Raft network (testkit only: without the
    /// `test-util` feature it is zero-size and no fault can be added).
    pub faults: Faults,
    /// Signing-key housekeeping done while this node leads.
    pub key_housekeeping: crate::KeyHousekeeping,
    /// Purge of expired refresh families and revoked tokens done while this node leads.
    pub purge: crate::PurgeHousekeeping,
    /// Mutual TLS of both listeners and of this node's calls to its peers, with a store
    /// certificate; None serves plaintext to anyone (dev, loopback tests).
    pub tls: Option<signet_tls::TlsSource>,
    /// How often the TLS files are checked for a rotation.
    pub tls_reload: Duration,
    /// While this node leads: how long a joining node may take to catch up before the Join
    /// removes it again (a node becomes a voter only once caught up).
    pub join_catch_up: Duration,
    /// Memory the state machine's page cache (sled) may use, bytes.
    pub sm_cache_bytes: u64,
    /// zstd level of the state machine's pages (sled), None for none. Fixed when the state
    /// machine is created: about a third of the disk, at about half the import rate.
    pub sm_compression: Option<i32>,
    /// The Raft log's chunk sizes and payload cache.
    pub log_limits: crate::LogLimits,
    /// A backup to start a new cluster from (`signet store --restore`): the data dir must
    /// be empty, or restored from this same backup before (then nothing is redone).
    pub restore: Option<PathBuf>,
}

/// Default bound of sled's page cache (sled's own default is 1 GiB).
pub const DEFAULT_SM_CACHE_BYTES: u64 = 256 * 1024 * 1024;

impl StoreConfig {
    /// Production defaults for `node_id` with data in `data_dir`.
    pub fn new(node_id: NodeId, data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            node_id,
            data_dir: data_dir.into(),
            raft_advertise: None,
            api_advertise: None,
            heartbeat: Duration::from_millis(100),
            election_timeout: (Duration::from_millis(500), Duration::from_millis(1000)),
            snapshot_every: 20_000,
            keep_logs_after_snapshot: 2_000,
            faults: Faults::new(),
            key_housekeeping: crate::KeyHousekeeping::default(),
            purge: crate::PurgeHousekeeping::default(),
            tls: None,
            join_catch_up: crate::JOIN_CATCH_UP,
            tls_reload: signet_tls::DEFAULT_RELOAD_INTERVAL,
            sm_cache_bytes: DEFAULT_SM_CACHE_BYTES,
            sm_compression: None,
            log_limits: crate::LogLimits::default(),
            restore: None,
        }
    }

    /// How this node reaches its peers: as a store, accepting only stores.
    pub(crate) fn transport(&self) -> signet_tls::Transport {
        match &self.tls {
            Some(source) => signet_tls::Transport::Tls {
                source: source.clone(),
                expect: Some(signet_tls::Role::Store),
            },
            None => signet_tls::Transport::Plaintext,
        }
    }

    fn raft_config(&self) -> Result<openraft::Config, StoreError> {
        let c = openraft::Config {
            cluster_name: "signet".into(),
            heartbeat_interval: self.heartbeat.as_millis() as u64,
            election_timeout_min: self.election_timeout.0.as_millis() as u64,
            election_timeout_max: self.election_timeout.1.as_millis() as u64,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            max_in_snapshot_log_to_keep: self.keep_logs_after_snapshot,
            install_snapshot_timeout: 5_000,
            max_payload_entries: 1_000,
            ..Default::default()
        };
        c.validate().map_err(|e| StoreError::Raft(e.to_string()))
    }
}

/// Streams a peer may open and cancel before the server takes them, on the Raft and API
/// listeners (h2's default is 20, its guard against "rapid reset" floods). When a cut link
/// heals, TCP delivers at once every call a peer sent into it, most already cancelled by
/// their timeouts: `signet chaos run --faults mute-leader` tripped the default on every
/// heal, and the GOAWAY that follows dropped the healed connection, so each heal cost a
/// reconnect and a round of elections. These listeners serve only stores, gateways and
/// operators (mutual TLS in production); the bound stays, only higher.
const MAX_PENDING_RESETS: usize = 1024;

/// A running store node.
pub struct StoreNode {
    node_id: NodeId,
    raft: Raft,
    sm: StateMachineStore,
    log: LogStore,
    me: SignetNode,
    fresh: bool,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// openraft's leader lease (= the longest election timeout): followers refuse to vote
    /// for this long after hearing from a leader.
    lease: Duration,
    transport: signet_tls::Transport,
    tls: Option<signet_tls::TlsSource>,
    clock: crate::cluster_time::ClusterClock,
    /// Key-housekeeping rounds this node decided while leading.
    key_rounds: Arc<std::sync::atomic::AtomicU64>,
    /// The API's Store and Cluster services, callable in this process.
    local_api: signet_store_client::Conn,
    /// Its reads and writes, callable in this process without encoding.
    in_process: Arc<dyn signet_store_client::LocalMember>,
    /// Linearizable reads' shared leadership checks.
    reads: crate::read_index::ReadIndex,
}

impl StoreNode {
    /// Open the data dir and start serving on the given (already bound) listeners.
    pub async fn start(
        config: StoreConfig,
        raft_listener: TcpListener,
        api_listener: TcpListener,
    ) -> Result<StoreNode, StoreError> {
        crate::failpoints::validate();
        let node_id = config.node_id;
        let restore = match &config.restore {
            Some(backup) => {
                let (dir, backup) = (config.data_dir.clone(), backup.clone());
                tokio::task::spawn_blocking(move || crate::backup::prepare(&dir, &backup))
                    .await
                    .map_err(|e| StoreError::Raft(e.to_string()))??
            }
            None => None,
        };
        let (identity, fresh) = NodeIdentity::load_or_create(&config.data_dir, node_id)?;
        let local = |l: &TcpListener| {
            l.local_addr()
                .map(|a| a.to_string())
                .map_err(|e| StoreError::io("listener address", e))
        };
        let me = SignetNode {
            raft_addr: match &config.raft_advertise {
                Some(a) => a.clone(),
                None => local(&raft_listener)?,
            },
            api_addr: match &config.api_advertise {
                Some(a) => a.clone(),
                None => local(&api_listener)?,
            },
            incarnation: identity.incarnation,
        };
        let log_dir = config.data_dir.join("raft-log");
        let limits = config.log_limits.clone();
        let log = tokio::task::spawn_blocking(move || LogStore::open_with(&log_dir, &limits))
            .await
            .map_err(|e| StoreError::Raft(e.to_string()))?
            .map_err(|e| StoreError::io("open raft log", e))?;
        let sm = StateMachineStore::open_with(
            &config.data_dir,
            config.sm_cache_bytes,
            config.sm_compression,
        )?;
        if let Some(r) = restore {
            r.finish(&config.data_dir, &identity, &log, &sm, &me)?;
        }
        let log = log.purge_behind(sm.snapshot_fence());
        let floor = crate::read_floor::ReadFloor::at_start(&log);
        let transport = config.transport();
        let clocks = crate::cluster_time::ClockSamples::default();
        let network = Network::new(
            node_id,
            config.faults.clone(),
            transport.clone(),
            clocks.clone(),
        );
        let enforce = config.tls.is_some();
        let raft = Raft::new(
            node_id,
            Arc::new(config.raft_config()?),
            network,
            log.clone(),
            sm.clone(),
        )
        .await
        .map_err(|e| StoreError::Raft(e.to_string()))?;

        let clock = crate::cluster_time::ClusterClock {
            samples: clocks,
            raft: raft.clone(),
            me: node_id,
        };
        let key_rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let raft_svc = RaftServer::new(RaftService {
            raft: raft.clone(),
            incarnation: me.incarnation,
        })
        .max_decoding_message_size(MAX_RAFT_MESSAGE)
        .max_encoding_message_size(MAX_RAFT_MESSAGE);
        tasks.push(serve(
            tonic::transport::Server::builder()
                .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
                .layer(crate::access::raft(enforce).layer())
                .add_service(raft_svc),
            raft_listener,
            config.tls.clone(),
            stop_rx.clone(),
        )?);

        let (proposer, proposer_task) = Proposer::start(raft.clone(), stop_rx.clone());
        tasks.push(proposer_task);
        let hk = crate::housekeeping::Housekeeper {
            raft: raft.clone(),
            sm: sm.clone(),
            proposer: proposer.clone(),
            floor: floor.clone(),
            clock: clock.clone(),
        };
        tasks.push(tokio::spawn(crate::housekeeping::run(
            hk.clone(),
            config.key_housekeeping,
            key_rounds.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(crate::purging::run(
            hk,
            config.purge,
            stop_rx.clone(),
        )));
        let (health, health_svc) = crate::health::service().await;
        let served = [
            signet_proto::reflection::HEALTH,
            <StoreServer<StoreApi> as tonic::server::NamedService>::NAME,
            <ClusterServer<ClusterApi> as tonic::server::NamedService>::NAME,
        ];
        let reads = crate::read_index::ReadIndex::new(raft.clone(), floor.clone());
        let store_api = Arc::new(StoreApi {
            raft: raft.clone(),
            sm: sm.clone(),
            proposer,
            reads: reads.clone(),
            clock: clock.clone(),
            stop: stop_rx.clone(),
        });
        let store_svc =
            StoreServer::from_arc(store_api.clone()).max_decoding_message_size(16 * 1024 * 1024);
        let in_process: Arc<dyn signet_store_client::LocalMember> =
            Arc::new(crate::api::InProcess(store_api));
        let cluster_svc = ClusterServer::new(ClusterApi {
            raft: raft.clone(),
            node_id,
            me: me.clone(),
            transport: transport.clone(),
            members: Members::new(raft.clone(), node_id, config.join_catch_up),
            clock: clock.clone(),
            sm: sm.clone(),
            floor: floor.clone(),
        });
        // The same two services for a client in this process (`signet dev`'s gateway): the
        // process's own calls, so no access rule applies to them.
        let local_api = signet_store_client::Conn::new(tower::ServiceExt::<
            http::Request<tonic::body::Body>,
        >::map_err(
            tonic::service::Routes::new(store_svc.clone()).add_service(cluster_svc.clone()),
            |never: std::convert::Infallible| -> signet_store_client::ConnError { match never {} },
        ));
        let api = tonic::transport::Server::builder()
            .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
            .layer(crate::access::api(enforce).layer())
            .add_service(health_svc)
            .add_service(signet_proto::reflection::v1(&served))
            .add_service(signet_proto::reflection::v1alpha(&served))
            .add_service(store_svc)
            .add_service(cluster_svc);
        tasks.push(serve(
            api,
            api_listener,
            config.tls.clone(),
            stop_rx.clone(),
        )?);
        // Serving = can answer a linearizable read; "recent" = within the leader lease.
        tasks.push(tokio::spawn(crate::health::report(
            raft.clone(),
            health,
            config.heartbeat,
            config.election_timeout.1,
            stop_rx.clone(),
        )));
        if let Some(tls) = &config.tls {
            let stop = stop_rx.clone();
            tasks.push(tls.spawn_reloader(config.tls_reload, async move {
                let mut stop = stop;
                let _ = stop.wait_for(|s| *s).await;
            }));
        }
        tasks.push(tokio::spawn(election_watchdog(
            raft.clone(),
            node_id,
            config.election_timeout,
            stop_rx,
        )));

        tracing::info!(node_id, raft_addr = %me.raft_addr, api_addr = %me.api_addr, fresh, tls = enforce, "store node started");
        Ok(StoreNode {
            node_id,
            raft,
            sm,
            log,
            me,
            fresh,
            stop,
            tasks,
            lease: config.election_timeout.1,
            transport,
            tls: config.tls,
            clock,
            key_rounds,
            local_api,
            in_process,
            reads,
        })
    }

    /// Serve `/healthz`, `/readyz` and `/metrics` in plain HTTP on `listener` until the
    /// node stops (for Prometheus and Kubernetes probes). Returns the bound address.
    pub fn serve_ops(&mut self, listener: TcpListener) -> Result<std::net::SocketAddr, StoreError> {
        let addr = listener
            .local_addr()
            .map_err(|e| StoreError::io("ops listener address", e))?;
        let ops = Arc::new(crate::ops::Ops {
            raft: self.raft.clone(),
            log: self.log.clone(),
            sm: self.sm.clone(),
            tls: self.tls.clone(),
            lease: self.lease,
            clock: self.clock.clone(),
            key_rounds: self.key_rounds.clone(),
            reads: self.reads.clone(),
        });
        let mut stop = self.stop.subscribe();
        self.tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, crate::ops::router(ops))
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("ops server stopped: {e}");
            }
        }));
        Ok(addr)
    }

    /// Why this node cannot serve linearizable reads now (None when it can).
    pub async fn not_ready(&self) -> Option<String> {
        crate::ops::not_ready(&self.raft, self.lease).await
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.node_id
    }

    /// The Raft handle (metrics, waits).
    pub fn raft(&self) -> &Raft {
        &self.raft
    }

    /// This node's state machine (for digests and direct reads in tests and tools).
    pub fn state_machine(&self) -> &StateMachineStore {
        &self.sm
    }

    /// First and last index in this node's log.
    pub fn log_bounds(&self) -> (Option<u64>, Option<u64>) {
        self.log.bounds()
    }

    /// How other members and clients reach this node.
    pub fn info(&self) -> &SignetNode {
        &self.me
    }

    /// A client of this node that calls its API in this process, without a socket (for a
    /// gateway in the same process: `signet dev`). It reaches only this node, as the
    /// network client would with this node as its one endpoint.
    pub fn in_process_client(&self) -> signet_store_client::StoreClient {
        signet_store_client::StoreClient::in_process(
            self.me.api_addr.clone(),
            self.in_process_api(),
            self.in_process_member(),
        )
    }

    /// This node's reads and writes, called directly, for
    /// [`signet_store_client::StoreClient::in_process`].
    pub fn in_process_member(&self) -> Arc<dyn signet_store_client::LocalMember> {
        self.in_process.clone()
    }

    /// This node's Store and Cluster services as a [`signet_store_client::Conn`], for
    /// [`signet_store_client::StoreClient::in_process`].
    pub fn in_process_api(&self) -> signet_store_client::Conn {
        self.local_api.clone()
    }

    /// Linearizable reads this node answered as leader, and the leadership rounds it ran
    /// for them (one round serves every read that arrived before it began).
    pub fn linearizable_reads(&self) -> (u64, u64) {
        self.reads.counts()
    }

    /// Whether the data dir was created by this start (no previous state).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Initialise a new cluster with the given voters (this node among them). Refused if
    /// this node already belongs to a cluster.
    pub async fn initialize(
        &self,
        members: BTreeMap<NodeId, SignetNode>,
    ) -> Result<(), StoreError> {
        self.raft
            .initialize(members)
            .await
            .map_err(|e| StoreError::Membership(e.to_string()))
    }

    /// Initialise a single-voter cluster of this node, unless already initialised.
    pub async fn initialize_single_if_new(&self) -> Result<(), StoreError> {
        let initialized = self
            .raft
            .is_initialized()
            .await
            .map_err(|e| StoreError::Raft(e.to_string()))?;
        if !initialized {
            self.initialize([(self.node_id, self.me.clone())].into())
                .await?;
        }
        Ok(())
    }

    /// Wait until this node knows a leader, up to `timeout`. Returns the leader id.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<NodeId, StoreError> {
        let m = self
            .raft
            .wait(Some(timeout))
            .metrics(|m| m.current_leader.is_some(), "leader known")
            .await
            .map_err(|e| StoreError::Raft(e.to_string()))?;
        Ok(m.current_leader.expect("waited for a leader"))
    }

    /// Resolves when this node's Raft core has stopped on an error it cannot go on from: a
    /// log or vote write or sync failed (a full disk, an I/O error). What the node
    /// acknowledged is durable, what it did not may be half-written; it must not serve on
    /// (its Status would keep naming a stale leader), and its process should exit so it
    /// restarts from what is on disk, as a database does after a failed fsync. The reason.
    /// A failed state-machine write (apply, snapshot build or install) counts too.
    pub async fn failed(&self) -> String {
        let mut m = self.raft.metrics();
        let core = async {
            loop {
                if let Err(e) = &m.borrow_and_update().running_state {
                    return e.to_string();
                }
                if m.changed().await.is_err() {
                    return "the Raft core stopped".into();
                }
            }
        };
        tokio::select! {
            why = core => why,
            why = self.sm.failed() => why,
        }
    }

    /// Stop serving and stop Raft. A leader first hands leadership over (see
    /// [`StoreNode::transfer_leadership`]), so the cluster has a new leader about one
    /// election timeout later instead of after followers' timeouts and leases.
    pub async fn shutdown(self) {
        let m = self.raft.metrics().borrow().clone();
        let others = m
            .membership_config
            .membership()
            .voter_ids()
            .any(|v| v != self.node_id);
        if m.state == ServerState::Leader && others {
            // Stop taking writes first: replicating new entries would renew the followers'
            // lease and block the handover. Clients retry elsewhere with the same ids.
            let _ = self.stop.send(true);
            if let Err(e) = self.transfer_leadership().await {
                tracing::warn!("leadership transfer before shutdown failed: {e}");
            }
        }
        self.kill().await;
    }

    /// Hand leadership to the most up-to-date voter. openraft 0.9 has no transfer call
    /// (0.10 adds one), so it is built from what 0.9 offers:
    /// 1. wait (up to 2 s) until every voter holds the whole log — the successor then has
    ///    every acknowledged write, and so does everyone else;
    /// 2. stop sending heartbeats, and wait out the followers' leader lease (they refuse to
    ///    vote while it runs, which is what protects a healthy leader);
    /// 3. ask the chosen successor to start an election now, and wait until it leads.
    ///
    /// Returns the new leader's id.
    pub async fn transfer_leadership(&self) -> Result<NodeId, StoreError> {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        let voters: Vec<NodeId> = membership
            .voter_ids()
            .filter(|v| *v != self.node_id)
            .collect();
        if voters.is_empty() {
            return Err(StoreError::Membership(
                "no other voter to hand over to".into(),
            ));
        }
        let last = m.last_log_index;
        let caught_up = self
            .raft
            .wait(Some(Duration::from_secs(2)))
            .metrics(
                |m| {
                    m.replication.as_ref().is_some_and(|r| {
                        voters
                            .iter()
                            .all(|v| r.get(v).cloned().flatten().map(|l| l.index) >= last)
                    })
                },
                "followers caught up before transfer",
            )
            .await;
        let m = match caught_up {
            Ok(m) => m,
            Err(_) => {
                tracing::warn!("handing over before every follower caught up");
                self.raft.metrics().borrow().clone()
            }
        };
        let matched = |v: &NodeId| {
            m.replication
                .as_ref()
                .and_then(|r| r.get(v).cloned().flatten())
                .map(|l| l.index)
        };
        let successor = *voters
            .iter()
            .max_by_key(|v| matched(v))
            .expect("non-empty voters");
        let node = membership
            .get_node(&successor)
            .cloned()
            .ok_or_else(|| StoreError::Membership(format!("node {successor} has no address")))?;
        self.raft.runtime_config().heartbeat(false);
        let res = self.hand_over(successor, &node).await;
        // Back to normal whatever happened (the node may keep running as a follower, or
        // still lead if the handover failed).
        self.raft.runtime_config().heartbeat(true);
        res
    }

    async fn hand_over(&self, successor: NodeId, node: &SignetNode) -> Result<NodeId, StoreError> {
        tokio::time::sleep(self.lease + Duration::from_millis(50)).await;
        let channel = signet_tls::channel(&node.api_addr, &self.transport, Duration::from_secs(1))
            .map_err(|e| StoreError::Membership(format!("reaching node {successor}: {e}")))?;
        let mut client = signet_proto::store::cluster_client::ClusterClient::new(channel);
        client
            .start_election(signet_proto::store::ElectionRequest {})
            .await
            .map_err(|e| StoreError::Membership(format!("node {successor}: {}", e.message())))?;
        // Ask the successor, not our own metrics: a stopping node has closed its Raft
        // listener and may not hear from the new leader.
        let deadline = tokio::time::Instant::now() + self.lease * 2;
        loop {
            let leads = client
                .status(signet_proto::store::StatusRequest {})
                .await
                .map(|s| s.into_inner().leader_id == Some(successor))
                .unwrap_or(false);
            if leads {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::Membership(format!(
                    "node {successor} did not take over"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::info!(
            from = self.node_id,
            to = successor,
            "leadership transferred"
        );
        Ok(successor)
    }

    /// Stop at once, as a crash would (nothing is drained). Data on disk stays; the same
    /// data dir can be started again.
    pub async fn kill(self) {
        let _ = self.stop.send(true);
        // The in-process handles own the services too (and through them the files).
        drop(self.local_api);
        drop(self.in_process);
        drop(self.reads);
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!("raft shutdown: {e}");
        }
        // Servers stop accepting and close their connections once in-flight calls end
        // (Watch streams end on the stop signal). Connections own the services, which own
        // the state machine's files: waiting here is what lets the same data dir be opened
        // again at once. A server still busy after the grace period is cut off.
        for mut t in self.tasks {
            if tokio::time::timeout(Duration::from_secs(5), &mut t)
                .await
                .is_err()
            {
                t.abort();
                let _ = t.await;
            }
        }
        // openraft's storage tasks and the last connections drop their handles to the log
        // and the state machine a moment after the tasks above end; the files stay locked
        // until then. Wait (bounded) until ours are the only handles left, so that the data
        // dir can be opened again as soon as kill returns (recovery, a restart).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while (self.sm.holders() > 1 || self.log.holders() > 1)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if self.sm.holders() > 1 || self.log.holders() > 1 {
            tracing::warn!(
                node_id = self.node_id,
                "store files still in use 5 s after stopping"
            );
        }
        drop(self.raft);
        tracing::info!(node_id = self.node_id, "store node stopped");
    }
}

fn serve<L>(
    router: tonic::transport::server::Router<L>,
    listener: TcpListener,
    tls: Option<signet_tls::TlsSource>,
    mut stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, StoreError>
where
    L: tower::Layer<tonic::service::Routes> + Send + 'static,
    L::Service: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
        > + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    // Plaintext or TLS per the node's config; either way Nagle is off (see `no_delay`).
    let incoming = signet_tls::Incoming::new(listener, tls)
        .map_err(|e| StoreError::io("listener address", e))?;
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = router
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
        {
            tracing::error!("server stopped: {e}");
        }
    }))
}

/// openraft 0.9 draws the election timeout once per process and reuses it for every
/// campaign (the per-campaign resample landed on 0.10 only). Two survivors whose timeouts
/// happen to be close can then split the vote round after round. This watchdog breaks such
/// a tie: when a voter has known no leader for several election timeouts, it waits a fresh
/// random delay and starts an election itself.
async fn election_watchdog(
    raft: Raft,
    node_id: NodeId,
    (min, max): (Duration, Duration),
    mut stop: watch::Receiver<bool>,
) {
    let mut leaderless_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(min) => {},
            _ = stop.wait_for(|s| *s) => return,
        }
        let m = raft.metrics().borrow().clone();
        let voter = m
            .membership_config
            .membership()
            .voter_ids()
            .any(|v| v == node_id);
        if m.current_leader.is_some() || !voter {
            leaderless_since = None;
            continue;
        }
        let since = *leaderless_since.get_or_insert_with(tokio::time::Instant::now);
        if since.elapsed() < max * 3 {
            continue;
        }
        let jitter = rand::random_range(0..max.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        if raft.metrics().borrow().current_leader.is_none() {
            tracing::info!(node_id, "no leader for a while; starting an election");
            if raft.trigger().elect().await.is_err() {
                return;
            }
        }
        leaderless_since = None;
    }
}
