//! A webhook receiver for the tests: an HTTP/1.1 server on loopback that records every
//! request and answers as the test says, and the receiver's side of `Signet-Signature`
//! (HMAC written here, independent of Signet's crypto crate).

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One POST the receiver got: its path, lower-case header names → values, the raw body.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    /// The body as JSON (null if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What the receiver answers: a status, a JSON body, after a delay.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// `status` with `body`.
    pub fn status(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// The same answer, `delay` later.
    pub fn after(self, delay: Duration) -> Reply {
        Reply { delay, ..self }
    }
}

type Responder = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    inbox: Arc<Mutex<Vec<Received>>>,
    responder: Arc<Mutex<Responder>>,
}

impl Receiver {
    /// Start one answering `{"response":{}}` (a hook answer that changes nothing).
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inbox: Arc<Mutex<Vec<Received>>> = Arc::default();
        let responder: Arc<Mutex<Responder>> = Arc::new(Mutex::new(Arc::new(|_: &Received| {
            Reply::ok(serde_json::json!({"response": {}}))
        })));
        let (sink, answer) = (inbox.clone(), responder.clone());
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let (sink, answer) = (sink.clone(), answer.clone());
                tokio::spawn(serve_one(s, sink, answer));
            }
        });
        Receiver {
            base,
            inbox,
            responder,
        }
    }

    /// Answer every request from now on with `f(request)`.
    pub fn respond(&self, f: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.responder.lock().unwrap() = Arc::new(f);
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// The requests so far to `path`.
    pub fn received_at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn serve_one(
    mut s: tokio::net::TcpStream,
    sink: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Responder>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head, then as many body bytes as Content-Length says.
    let (head_end, len) = loop {
        let n = s.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let r = Received {
        path,
        headers,
        body: buf[head_end..head_end + len].to_vec(),
    };
    let f = answer.lock().unwrap().clone();
    let reply = f(&r);
    sink.lock().unwrap().push(r);
    tokio::time::sleep(reply.delay).await;
    let resp = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    );
    let _ = s.write_all(resp.as_bytes()).await;
}

/// HMAC-SHA256 (RFC 2104) written here, independent of Signet's crypto crate.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The key a pool's hooks are signed with, as its receiver computes it from the webhook
/// secret: hex(HMAC-SHA256(secret, "signet pool hook key v1" NUL pool_id)).
pub fn pool_hook_key(webhook_secret: &[u8], pool_id: &str) -> Vec<u8> {
    let mut msg = b"signet pool hook key v1\0".to_vec();
    msg.extend_from_slice(pool_id.as_bytes());
    hex(&hmac_sha256(webhook_secret, &msg)).into_bytes()
}

/// What a receiver does: parse `t=…,v1=…`, refuse a timestamp more than five minutes
/// away, recompute the HMAC over `"<t>.<body>"`, compare.
pub fn verify_signature(r: &Received, secret: &[u8]) -> Result<(), String> {
    let header = r
        .headers
        .get("signet-signature")
        .ok_or("no Signet-Signature header")?;
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<u64>().ok(),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (t, v1) = (t.ok_or("no t")?, v1.ok_or("no v1")?);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(t) > 300 {
        return Err(format!("stale timestamp {t} (now {now})"));
    }
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(&r.body);
    if hex(&hmac_sha256(secret, &msg)) != v1 {
        return Err("signature mismatch".into());
    }
    Ok(())
}
