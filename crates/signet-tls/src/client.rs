//! The connecting side: one function makes every gRPC channel of the process, plaintext or
//! TLS, so no call site builds its own (and none forgets the certificate).

use crate::identity::Role;
use crate::{TlsError, TlsSource};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint, Uri};

/// How to reach a server.
#[derive(Clone, Debug)]
pub enum Transport {
    /// Plaintext h2 (dev on loopback, `--insecure-plaintext`).
    Plaintext,
    /// TLS with the source's current client configuration: presenting its certificate if it
    /// has one, and accepting only a server of role `expect` (internal planes) or, with
    /// `None`, any server the CA vouches for under the host name dialled (public listeners).
    Tls {
        /// The client's material (CA bundle, optional certificate).
        source: TlsSource,
        /// The role the server must prove.
        expect: Option<Role>,
    },
}

impl Transport {
    /// Whether connections are encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls { .. })
    }
}

/// A channel to `addr`, connected now (so a wrong address or certificate fails here, with
/// its reason), whose calls time out after `timeout`.
pub async fn connect(
    addr: &str,
    transport: &Transport,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Channel, Box<dyn std::error::Error + Send + Sync>> {
    let endpoint = endpoint(addr, connect_timeout)?.timeout(timeout);
    Ok(match transport {
        Transport::Plaintext => endpoint.connect().await?,
        Transport::Tls { source, expect } => {
            endpoint
                .connect_with_connector(Connector {
                    source: source.clone(),
                    expect: *expect,
                })
                .await?
        }
    })
}

fn endpoint(addr: &str, connect_timeout: Duration) -> Result<Endpoint, TlsError> {
    let hostport = addr
        .strip_prefix("https://")
        .or_else(|| addr.strip_prefix("http://"))
        .unwrap_or(addr)
        .trim_end_matches('/');
    Ok(Endpoint::from_shared(format!("http://{hostport}"))
        .map_err(|e| TlsError::Invalid(format!("bad address {addr:?}: {e}")))?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true))
}

/// A lazily connecting channel to `addr` (`host:port`, an `http://` or `https://` prefix is
/// ignored: the transport decides).
pub fn channel(
    addr: &str,
    transport: &Transport,
    connect_timeout: Duration,
) -> Result<Channel, TlsError> {
    let endpoint = endpoint(addr, connect_timeout)?;
    Ok(match transport {
        Transport::Plaintext => endpoint.connect_lazy(),
        Transport::Tls { source, expect } => endpoint.connect_with_connector_lazy(Connector {
            source: source.clone(),
            expect: *expect,
        }),
    })
}

/// Opens TCP + TLS connections for tonic.
#[derive(Clone)]
struct Connector {
    source: TlsSource,
    expect: Option<Role>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let me = self.clone();
        Box::pin(async move {
            let host = uri.host().ok_or("address without a host")?;
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().ok_or("address without a port")?;
            let config = me
                .source
                .client_config(me.expect)
                .ok_or_else(|| format!("no CA bundle to verify {host}:{port} with (give --ca)"))?;
            let name = ServerName::try_from(host.clone())
                .map_err(|e| format!("bad server name {host:?}: {e}"))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(tls))
        })
    }
}
