//! A whole deployment in one process: a [`TestCluster`] of stores and gateways in front of
//! it, the shape most gateway tests start from.

use crate::cluster::TestCluster;
use crate::gateways::{start_gateway, test_gateway_config};
use signet_gateway::{GatewayConfig, GatewayHandle};

/// `stores` store nodes and `gateways` gateways in front of them (every gateway knows every
/// store, all share [`crate::TEST_PUBLIC_URL`] and the test secrets).
pub struct TestEnv {
    cluster: TestCluster,
    gateways: Vec<GatewayHandle>,
}

impl TestEnv {
    /// Start `stores` voters, then `gateways` gateways with [`test_gateway_config`], and wait
    /// until every gateway is ready.
    pub async fn start(stores: usize, gateways: usize) -> TestEnv {
        Self::start_with(stores, gateways, |_| {}).await
    }

    /// Like [`TestEnv::start`], with `tweak` applied to each gateway's (own, fresh) config.
    pub async fn start_with(
        stores: usize,
        gateways: usize,
        tweak: fn(&mut GatewayConfig),
    ) -> TestEnv {
        Self::around_with(TestCluster::start(stores).await, gateways, tweak).await
    }

    /// `gateways` gateways with [`test_gateway_config`] in front of a running `cluster`.
    pub async fn around(cluster: TestCluster, gateways: usize) -> TestEnv {
        Self::around_with(cluster, gateways, |_| {}).await
    }

    async fn around_with(
        cluster: TestCluster,
        gateways: usize,
        tweak: fn(&mut GatewayConfig),
    ) -> TestEnv {
        let config = || {
            let mut c = test_gateway_config();
            tweak(&mut c);
            c
        };
        // Started together: each waits about as long for its first key to be usable.
        let gateways = futures::future::join_all(
            (0..gateways).map(|_| start_gateway(cluster.api_addrs(), config())),
        )
        .await;
        TestEnv { cluster, gateways }
    }

    /// The stores.
    pub fn cluster(&self) -> &TestCluster {
        &self.cluster
    }

    /// The stores, to kill, restart or cut them.
    pub fn cluster_mut(&mut self) -> &mut TestCluster {
        &mut self.cluster
    }

    /// Every gateway, in start order.
    pub fn gateways(&self) -> &[GatewayHandle] {
        &self.gateways
    }

    /// Gateway `i` (from 0, in start order). Panics if there are fewer.
    pub fn gateway(&self, i: usize) -> &GatewayHandle {
        self.gateways
            .get(i)
            .unwrap_or_else(|| panic!("gateway {i} of {}", self.gateways.len()))
    }

    /// The first gateway ("A" of the cross-gateway tests).
    pub fn a(&self) -> &GatewayHandle {
        self.gateway(0)
    }

    /// The second gateway ("B" of the cross-gateway tests).
    pub fn b(&self) -> &GatewayHandle {
        self.gateway(1)
    }

    /// Stop the gateways (one after the other, in start order), then the stores.
    pub async fn shutdown(self) {
        for gw in self.gateways {
            gw.shutdown().await;
        }
        self.cluster.shutdown().await;
    }
}
