//! Where a run's cluster answers: the stores' API addresses, the gateways' gRPC and HTTP
//! addresses, how to reach them and the admin secret. A local cluster (`LocalCluster`) and
//! the `--attach` flags both produce it; the workloads and the checks need nothing else.

use crate::cli::chaos::RunArgs;
use crate::procs::LocalCluster;
use anyhow::Context;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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
    /// For https HTTP bases: trust the cluster CA (--ca) rather than the web PKI roots.
    pub http_ca: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
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
            http_ca: None,
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
            http_ca: Self::http_ca(a)?,
        })
    }

    /// With --ca and an https HTTP base, the CA's client configuration for it (with no
    /// ALPN: the token endpoint and the JWKS are asked over HTTP/1.1).
    fn http_ca(
        a: &RunArgs,
    ) -> anyhow::Result<Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>> {
        let https = a.gateway.iter().any(|g| g.http.starts_with("https://"));
        if !https || a.tls.ca.is_none() {
            return Ok(None);
        }
        let Transport::Tls { source, .. } = a.tls.gateway_transport("https://")? else {
            anyhow::bail!("--ca given but no TLS configuration was made of it");
        };
        let config = source
            .client_config(None)
            .context("--ca: no client configuration for the gateways")?;
        let mut config = (*config).clone();
        config.alpn_protocols.clear();
        Ok(Some(std::sync::Arc::new(config)))
    }

    /// An HTTP/1.1 client of the gateways' HTTP bases, http or https (trusting --ca when
    /// given, else the web PKI roots).
    pub fn http_client(&self, connect_timeout: Duration) -> HttpClient {
        let mut conn = HttpConnector::new();
        conn.set_nodelay(true);
        conn.set_connect_timeout(Some(connect_timeout));
        conn.enforce_http(false);
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let https = match &self.http_ca {
            Some(config) => builder.with_tls_config((**config).clone()),
            None => builder.with_webpki_roots(),
        }
        .https_or_http()
        .enable_http1()
        .wrap_connector(conn);
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https)
    }
}

/// An HTTP/1.1 client of the gateways, http or https.
pub type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

impl Endpoints {
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
