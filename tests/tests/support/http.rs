//! A minimal HTTP/1.1 GET for tests (JWKS, discovery, health) without an HTTP client crate.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Status, headers (lower-cased names) and body of `GET http://{addr}{path}`.
pub async fn get(
    addr: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in extra_headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// Status and body of `PUT http://{addr}{path}` with `body`. `content_length` overrides the
/// length announced in the header (to claim more than is sent).
pub async fn put(
    addr: &str,
    path: &str,
    body: &[u8],
    content_length: Option<u64>,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let len = content_length.unwrap_or(body.len() as u64);
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/csv\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer (and close) before taking the whole body: that is an answer.
    let _ = s.write_all(body).await;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, body.to_string())
}

/// `PUT` that announces `announced` bytes, sends only `partial` and closes its sending
/// side: a client that breaks off mid-upload. Returns the status, if one came back.
pub async fn put_broken(addr: &str, path: &str, partial: &[u8], announced: u64) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(partial).await.expect("write body");
    s.shutdown().await.expect("half-close");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw)
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
}

/// Send `head` (request line and headers, without the blank line) and `body` as they are,
/// and return the status, headers (lower-cased names) and body of the answer. For requests
/// no client library would build: repeated headers, wrong methods, huge bodies.
pub async fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer (and close) before taking the whole body: that is an answer.
    let _ = s.write_all(body).await;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}
