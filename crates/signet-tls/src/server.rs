//! The accepting side: a stream of connections for tonic and axum servers, plaintext or TLS,
//! each carrying the caller's verified identity ([`ConnInfo`]) into every request's
//! extensions.
//!
//! Handshakes run in their own tasks, bounded in number and time, so a slow or hostile
//! client cannot hold up accepting others.

use crate::identity::{cert_info, Peer};
use crate::TlsSource;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};

/// Longest a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once per listener; more wait to be accepted.
pub const MAX_HANDSHAKES: usize = 256;

/// An accepted connection.
pub enum Conn {
    /// Plaintext (dev, loopback, or `--insecure-plaintext`).
    Plain(TcpStream),
    /// TLS, handshake done, with the identity its client certificate names (read once per
    /// connection, not per request).
    Tls(
        Box<tokio_rustls::server::TlsStream<TcpStream>>,
        Option<Peer>,
    ),
}

/// What a server knows about the other end of a connection; tonic puts it in every
/// request's extensions.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    /// The caller's address.
    pub remote: Option<SocketAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The caller's verified identity: its client certificate chained to the CA and named
    /// a Signet role of our trust domain. None without a (usable) client certificate.
    pub peer: Option<Peer>,
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        match self {
            Conn::Plain(s) => ConnInfo {
                remote: s.peer_addr().ok(),
                tls: false,
                peer: None,
            },
            Conn::Tls(s, peer) => ConnInfo {
                remote: s.get_ref().0.peer_addr().ok(),
                tls: true,
                peer: peer.clone(),
            },
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s, _) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s, _) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Accepted connections of one listener, ready for `serve_with_incoming*` (tonic) or, via
/// [`Incoming::accept`], an axum `Listener`.
pub struct Incoming {
    rx: mpsc::Receiver<(Conn, SocketAddr)>,
    local: SocketAddr,
}

impl Incoming {
    /// Accept on `listener`: TLS with `tls`'s current server configuration at each
    /// handshake, or plaintext without. Nagle is off on every connection (small gRPC
    /// replies otherwise wait for the peer's delayed ACK). The accept task ends when this
    /// `Incoming` is dropped, which closes the listener.
    pub fn new(listener: TcpListener, tls: Option<TlsSource>) -> io::Result<Incoming> {
        let local = listener.local_addr()?;
        if tls.as_ref().is_some_and(|t| t.server_config().is_none()) {
            // A TLS listener without a certificate must not quietly serve plaintext.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a TLS listener needs a certificate and its key",
            ));
        }
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, tls, tx));
        Ok(Incoming { rx, local })
    }

    /// The listener's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The next connection (None once the accept task has ended).
    pub async fn accept(&mut self) -> Option<(Conn, SocketAddr)> {
        self.rx.recv().await
    }
}

impl futures::Stream for Incoming {
    type Item = io::Result<Conn>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .rx
            .poll_recv(cx)
            .map(|c| c.map(|(conn, _)| Ok(conn)))
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsSource>,
    tx: mpsc::Sender<(Conn, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let permit = tokio::select! {
            p = handshakes.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = tx.closed() => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = tx.closed() => return,
        };
        let (tcp, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let Some(tls) = &tls else {
            drop(permit);
            if tx.send((Conn::Plain(tcp), addr)).await.is_err() {
                return;
            }
            continue;
        };
        // Checked in `Incoming::new`, and a reload keeps the certificate files; if it were
        // ever missing, the connection is dropped, never served in plaintext.
        let Some(config) = tls.server_config() else {
            continue;
        };
        let tx = tx.clone();
        let trust_domain = Some(tls.trust_domain().to_string());
        tokio::spawn(async move {
            let _permit = permit;
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => {
                    let peer = s
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .zip(trust_domain)
                        .and_then(|(leaf, td)| cert_info(leaf, &td).ok())
                        .and_then(|i| i.peer);
                    let _ = tx.send((Conn::Tls(Box::new(s), peer), addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TlsFiles;

    #[tokio::test]
    async fn a_tls_listener_without_a_certificate_is_refused_not_plaintext() {
        let dir = tempfile::tempdir().expect("dir");
        let ca = crate::certs::new_ca("t", 1).expect("ca");
        let path = dir.path().join("ca.crt");
        std::fs::write(&path, ca.cert).expect("write");
        let ca_only = TlsSource::load(TlsFiles {
            ca: Some(path),
            cert: None,
            trust_domain: "t".into(),
        })
        .expect("load");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let err = Incoming::new(listener, Some(ca_only))
            .err()
            .expect("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        assert!(
            Incoming::new(listener, None).is_ok(),
            "plaintext when asked"
        );
    }
}
