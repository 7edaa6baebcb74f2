//! Where a run's cluster answers: the stores' API addresses, the gateways' gRPC and HTTP
//! addresses, how to reach them and the admin secret. A local cluster (`LocalCluster`) and
//! the `--attach` flags both produce it; the workloads and the checks need nothing else.

use crate::cli::chaos::RunArgs;
use crate::procs::LocalCluster;
use anyhow::Context;
use signet_store::StoreClient;
use signet_tls::{Role, Transport};
use std::time::Duration;

/// One gateway.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// Its gRPC address (the admin API).
    pub grpc: String,
    /// Its public HTTP base URL: the issuers' prefix, the token endpoint's and JWKS' host.
    pub http: String,
}

/// The addresses of a cluster's stores and gateways, by index.
#[derive(Clone)]
pub struct Endpoints {
    /// Each store's API address.
    pub stores: Vec<String>,
    pub gateways: Vec<Gateway>,
    /// How to reach the stores (mutual TLS with an operator certificate, or plaintext).
    pub store_transport: Transport,
    /// How to reach the gateways' gRPC listeners.
    pub gateway_transport: Transport,
    /// Bearer secret of the gateways' admin API.
    pub admin_secret: String,
}

impl Endpoints {
    /// A local cluster's, as it is now (a replaced store has a new address): the stores
    /// over mutual TLS with the cluster's operator certificate, the gateways' gRPC
    /// listeners in plaintext on loopback (their public face, as a client sees it).
    pub fn local(cluster: &LocalCluster) -> Endpoints {
        Endpoints {
            stores: cluster.addrs.iter().map(|(_, api)| api.clone()).collect(),
            gateways: cluster
                .gateways
                .iter()
                .map(|g| Gateway {
                    grpc: g.field("grpc_addr"),
                    http: g.field("public_url"),
                })
                .collect(),
            store_transport: cluster.store_transport.clone(),
            gateway_transport: Transport::Plaintext,
            admin_secret: cluster.admin_secret.clone(),
        }
    }

    /// An attached cluster's, from `--store`, `--gateway`, the TLS flags and the admin
    /// secret.
    pub fn attached(a: &RunArgs) -> anyhow::Result<Endpoints> {
        anyhow::ensure!(!a.store.is_empty(), "--attach needs a --store");
        anyhow::ensure!(!a.gateway.is_empty(), "--attach needs a --gateway");
        let first = &a.gateway[0].grpc;
        Ok(Endpoints {
            stores: a.store.clone(),
            gateways: a
                .gateway
                .iter()
                .map(|g| Gateway {
                    grpc: g.grpc.clone(),
                    http: g.http.clone(),
                })
                .collect(),
            store_transport: a.tls.store_transport(Role::Operator)?,
            gateway_transport: a.tls.gateway_transport(first)?,
            admin_secret: crate::rpc::admin_secret(a.admin_secret.clone(), &a.data_dir)
                .context("--attach")?,
        })
    }

    /// How the stores are reached, as the report names it.
    pub fn transport_name(&self) -> &'static str {
        match self.store_transport.is_tls() {
            true => "mutual-tls",
            false => "plaintext",
        }
    }

    /// A client of the stores that gives up after `deadline`, each attempt after at most
    /// `attempt`.
    pub fn store_client(&self, deadline: Duration, attempt: Duration) -> StoreClient {
        StoreClient::with_transport(
            self.stores.clone(),
            deadline,
            attempt,
            self.store_transport.clone(),
        )
    }
}
