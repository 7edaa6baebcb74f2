use crate::pki::TestPki;
use crate::wait::wait_for;
use signet_store::{
    force_new_cluster, Faults, NodeId, Recovery, RpcKind, SignetNode, StoreClient, StoreConfig,
    StoreNode,
};
use signet_tls::Role;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;

/// Timeouts suited to loopback tests on a busy 2-core machine: fast failover, but not so
/// tight that a descheduled heartbeat triggers elections.
pub fn fast_config(node_id: NodeId, data_dir: PathBuf, faults: Faults) -> StoreConfig {
    let mut c = StoreConfig::new(node_id, data_dir);
    c.heartbeat = Duration::from_millis(50);
    c.election_timeout = (Duration::from_millis(300), Duration::from_millis(600));
    c.faults = faults;
    // Certificate rotations in tests are picked up within a fraction of a second.
    c.tls_reload = Duration::from_millis(200);
    c
}

struct Slot {
    data_dir: PathBuf,
    raft_addr: SocketAddr,
    api_addr: SocketAddr,
    node: Option<StoreNode>,
}

/// N store nodes in this process. Dropping it stops nothing gracefully; call
/// [`TestCluster::shutdown`] at the end of a test that restarts nodes afterwards.
pub struct TestCluster {
    slots: BTreeMap<NodeId, Slot>,
    faults: Faults,
    tweak: fn(&mut StoreConfig),
    root: TempDir,
    /// With a CA, every node serves mutual TLS with its own store certificate.
    pki: Option<TestPki>,
}

async fn bind(addr: SocketAddr) -> TcpListener {
    // A restarted node reuses its port; the old socket may linger briefly.
    crate::wait_for_async("port to be free", Duration::from_secs(10), || async {
        TcpListener::bind(addr).await.ok()
    })
    .await
}

impl TestCluster {
    /// Start `n` voters and wait for a leader.
    pub async fn start(n: usize) -> TestCluster {
        Self::start_with(n, |_| {}).await
    }

    /// Start `n` voters with `tweak` applied to every node's config.
    pub async fn start_with(n: usize, tweak: fn(&mut StoreConfig)) -> TestCluster {
        Self::start_inner(n, tweak, None).await
    }

    /// Start `n` voters speaking mutual TLS with certificates of `pki` (node `i` holds
    /// `store/i`); [`TestCluster::client`] then connects as `operator/test`.
    pub async fn start_tls(n: usize, pki: TestPki) -> TestCluster {
        Self::start_inner(n, |_| {}, Some(pki)).await
    }

    async fn start_inner(
        n: usize,
        tweak: fn(&mut StoreConfig),
        pki: Option<TestPki>,
    ) -> TestCluster {
        crate::init_logging();
        let mut cluster = TestCluster {
            slots: BTreeMap::new(),
            faults: Faults::new(),
            tweak,
            root: tempfile::tempdir().expect("temp dir"),
            pki,
        };
        for id in 1..=n as NodeId {
            cluster.start_fresh(id).await;
        }
        let members: BTreeMap<NodeId, SignetNode> = cluster
            .slots
            .iter()
            .map(|(id, s)| (*id, s.node.as_ref().expect("running").info().clone()))
            .collect();
        cluster
            .node(1)
            .initialize(members)
            .await
            .expect("initialize cluster");
        cluster.wait_leader(Duration::from_secs(20)).await;
        cluster
    }

    /// Start a new cluster from a backup, as an operator would: node 1 restores it
    /// (`signet store --restore FILE --init`) and leads alone; nodes 2..=n start empty and
    /// join it one at a time (`--join`).
    pub async fn restore(n: usize, backup: &Path) -> TestCluster {
        crate::init_logging();
        let mut cluster = TestCluster {
            slots: BTreeMap::new(),
            faults: Faults::new(),
            tweak: |_| {},
            root: tempfile::tempdir().expect("temp dir"),
            pki: None,
        };
        cluster.start_new(1, Some(backup.to_path_buf())).await;
        cluster.wait_leader(Duration::from_secs(20)).await;
        let client = cluster.client();
        for id in 2..=n as NodeId {
            cluster.start_fresh(id).await;
            let me = cluster.node(id).info().clone();
            client
                .join(signet_proto::store::NodeInfo {
                    node_id: id,
                    raft_addr: me.raft_addr,
                    api_addr: me.api_addr,
                    incarnation: me.incarnation,
                    known_members: vec![],
                })
                .await
                .unwrap_or_else(|e| panic!("node {id} joins the restored cluster: {e}"));
        }
        cluster
    }

    /// Start a node with a new, empty data dir (not yet a member). Returns its id.
    async fn start_fresh(&mut self, id: NodeId) {
        self.start_new(id, None).await
    }

    /// Start node `id` on a new data dir, empty or restored from `backup`.
    async fn start_new(&mut self, id: NodeId, backup: Option<PathBuf>) {
        let raft = TcpListener::bind("127.0.0.1:0").await.expect("bind raft");
        let api = TcpListener::bind("127.0.0.1:0").await.expect("bind api");
        let data_dir = self.root.path().join(format!("node-{id}"));
        let slot = Slot {
            data_dir: data_dir.clone(),
            raft_addr: raft.local_addr().expect("addr"),
            api_addr: api.local_addr().expect("addr"),
            node: None,
        };
        let mut config = self.config(id, data_dir);
        config.restore = backup;
        let node = StoreNode::start(config, raft, api)
            .await
            .expect("start node");
        self.slots.insert(
            id,
            Slot {
                node: Some(node),
                ..slot
            },
        );
    }

    fn config(&self, id: NodeId, data_dir: PathBuf) -> StoreConfig {
        let mut c = fast_config(id, data_dir, self.faults.clone());
        c.tls = self
            .pki
            .as_ref()
            .map(|p| p.source(Role::Store, &id.to_string()));
        (self.tweak)(&mut c);
        c
    }

    /// Start a brand-new node (fresh data dir, not a member) under the next free id.
    pub async fn add_fresh_node(&mut self) -> NodeId {
        let id = self.slots.keys().max().copied().unwrap_or(0) + 1;
        self.start_fresh(id).await;
        id
    }

    /// The running node `id`. Panics if it is stopped.
    pub fn node(&self, id: NodeId) -> &StoreNode {
        self.slots
            .get(&id)
            .and_then(|s| s.node.as_ref())
            .unwrap_or_else(|| panic!("node {id} is not running"))
    }

    /// Serve node `id`'s `/healthz`, `/readyz` and `/metrics` on a free loopback port.
    pub async fn serve_ops(&mut self, id: NodeId) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind ops");
        self.slots
            .get_mut(&id)
            .and_then(|s| s.node.as_mut())
            .unwrap_or_else(|| panic!("node {id} is not running"))
            .serve_ops(listener)
            .expect("serve ops")
    }

    /// Ids of running nodes.
    pub fn running(&self) -> Vec<NodeId> {
        self.slots
            .iter()
            .filter(|(_, s)| s.node.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every node's API address (running or not), for clients.
    pub fn api_addrs(&self) -> Vec<String> {
        self.slots
            .values()
            .map(|s| s.api_addr.to_string())
            .collect()
    }

    /// API address of one node.
    pub fn api_addr(&self, id: NodeId) -> String {
        self.slots[&id].api_addr.to_string()
    }

    /// A client that knows every node (an operator's, under mutual TLS).
    pub fn client(&self) -> StoreClient {
        match &self.pki {
            Some(pki) => self.client_with(pki.transport(Role::Operator, "test")),
            None => StoreClient::new(self.api_addrs()),
        }
    }

    /// A client that knows every node and connects over `transport`.
    pub fn client_with(&self, transport: signet_tls::Transport) -> StoreClient {
        StoreClient::with_transport(
            self.api_addrs(),
            Duration::from_secs(15),
            Duration::from_secs(3),
            transport,
        )
    }

    /// The CA of a mutual-TLS cluster.
    pub fn pki(&self) -> Option<&TestPki> {
        self.pki.as_ref()
    }

    /// The fault table shared by every node's Raft network.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Drop every Raft RPC `from` sends to each node of `to`. One way: their RPCs to `from`
    /// still flow, and so do `from`'s answers to them.
    pub fn drop_one_way(&self, from: NodeId, to: &[NodeId]) {
        for t in to {
            self.faults.block(from, *t);
        }
    }

    /// Drop only the Raft RPCs of `kind` that `from` sends to each node of `to` (one way;
    /// other kinds still flow).
    pub fn drop_rpcs(&self, kind: RpcKind, from: NodeId, to: &[NodeId]) {
        for t in to {
            self.faults.block_rpc(from, *t, kind);
        }
    }

    /// How many RPCs of `kind` from `from` to `to` the faults have dropped so far.
    pub fn dropped(&self, kind: RpcKind, from: NodeId, to: NodeId) -> u64 {
        self.faults.dropped(from, to, kind)
    }

    /// Remove every fault.
    pub fn heal(&self) {
        self.faults.heal();
    }

    /// The running nodes other than `id`.
    pub fn others(&self, id: NodeId) -> Vec<NodeId> {
        self.running().into_iter().filter(|n| *n != id).collect()
    }

    /// Wait until the running nodes agree on one leader among them; returns its id.
    pub async fn wait_leader(&self, deadline: Duration) -> NodeId {
        self.wait_leader_among(&self.running(), deadline).await
    }

    /// Wait until every node in `ids` names the same leader, which is one of `ids`.
    pub async fn wait_leader_among(&self, ids: &[NodeId], deadline: Duration) -> NodeId {
        wait_for("an agreed leader", deadline, || {
            let leaders: Vec<Option<NodeId>> = ids
                .iter()
                .map(|id| self.node(*id).raft().metrics().borrow().current_leader)
                .collect();
            let first = leaders.first().copied().flatten()?;
            let agreed = leaders.iter().all(|l| *l == Some(first)) && ids.contains(&first);
            let is_leader = self.node(first).raft().metrics().borrow().state
                == signet_store::ServerState::Leader;
            (agreed && is_leader).then_some(first)
        })
        .await
    }

    /// Stop node `id` abruptly (no draining); its data dir and addresses are kept.
    pub async fn kill(&mut self, id: NodeId) {
        let node = self
            .slots
            .get_mut(&id)
            .and_then(|s| s.node.take())
            .expect("node running");
        node.kill().await;
    }

    /// Start node `id` again on its data dir and addresses.
    pub async fn restart(&mut self, id: NodeId) {
        let (raft_addr, api_addr, data_dir) = {
            let s = &self.slots[&id];
            assert!(s.node.is_none(), "node {id} is running");
            (s.raft_addr, s.api_addr, s.data_dir.clone())
        };
        // sled releases its file lock when the last handle of the previous run drops,
        // which can lag the kill by a moment: retry until a deadline.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let raft = bind(raft_addr).await;
            let api = bind(api_addr).await;
            match StoreNode::start(self.config(id, data_dir.clone()), raft, api).await {
                Ok(n) => {
                    self.slots.get_mut(&id).expect("slot").node = Some(n);
                    return;
                }
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!("restart of node {id} failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("restart node {id}: {e}"),
            }
        }
    }

    /// Node `id`'s data dir.
    pub fn data_dir(&self, id: NodeId) -> PathBuf {
        self.slots[&id].data_dir.clone()
    }

    /// The operator's offline recovery on stopped node `id` (see
    /// [`signet_store::force_new_cluster`]); start it again with [`TestCluster::restart`].
    pub async fn force_new_cluster(&self, id: NodeId) -> Recovery {
        assert!(self.slots[&id].node.is_none(), "stop node {id} first");
        let dir = self.data_dir(id);
        // The previous run's file locks can outlive its kill by a moment (see restart).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let d = dir.clone();
            let res = tokio::task::spawn_blocking(move || force_new_cluster(&d, id, false))
                .await
                .expect("recovery task");
            match res {
                Ok(r) => return r,
                Err(e)
                    if e.to_string().contains("still running")
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("recovery of node {id}: {e}"),
            }
        }
    }

    /// Delete node `id`'s data dir (it must be stopped), as an operator replacing a disk
    /// would, and start it again empty under the same id and addresses.
    pub async fn wipe_and_restart(&mut self, id: NodeId) {
        let dir = self.slots[&id].data_dir.clone();
        assert!(self.slots[&id].node.is_none(), "stop node {id} first");
        std::fs::remove_dir_all(&dir).expect("wipe data dir");
        self.restart(id).await;
    }

    /// Wait until every running node has applied the same index and holds the same state
    /// digest. Returns (index, digest).
    pub async fn wait_converged(&self, deadline: Duration) -> (u64, String) {
        let ids = self.running();
        wait_for("members to converge", deadline, || {
            let mut digests: Vec<(u64, String)> = Vec::with_capacity(ids.len());
            for id in &ids {
                match self.node(*id).state_machine().digest() {
                    Ok(d) => digests.push(d),
                    // A member installing a snapshot refuses reads: not converged yet.
                    Err(signet_core::KvError::Unavailable(_)) => return None,
                    Err(e) => panic!("digest of node {id}: {e}"),
                }
            }
            let first = digests.first()?.clone();
            digests.iter().all(|d| *d == first).then_some(first)
        })
        .await
    }

    /// Stop every node, draining leaders.
    pub async fn shutdown(mut self) {
        for slot in self.slots.values_mut() {
            if let Some(n) = slot.node.take() {
                n.kill().await;
            }
        }
    }
}
