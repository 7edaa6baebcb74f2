//! A plain HTTP/1.1 GET for probing a process's `/readyz` or `/metrics` in tests.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GET `path` from `addr` (`host:port`), plain HTTP/1.1: (status, body); None when
/// nothing answered within 10 s.
pub async fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.ok()?;
        let status = raw.split(' ').nth(1)?.parse().ok()?;
        let body = raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .ok()
        .flatten()
}

/// The value of the sample `name` (without labels) in a Prometheus text exposition.
pub fn metric(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok()).flatten()
    })
}
