//! A hand-written HTTP/1.1 JWKS server on 127.0.0.1:0 that counts requests, and token
//! helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different part

use serde_json::{json, Value};
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_verify::{Expected, TokenUse};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub const ISS: &str = "http://signet.test/eu_pool1";

/// What the server answers; change it while the server runs.
#[derive(Default)]
pub struct Config {
    pub keys: Vec<Value>,
    pub cache_control: Option<String>,
    pub etag: Option<String>,
    /// Answer this status with an empty body instead of the JWKS.
    pub fail_status: Option<u16>,
    /// Bytes of whitespace appended to the JWKS body.
    pub padding: usize,
    /// Read the request, then never answer.
    pub hang: bool,
    /// Hold every answer until the test adds a permit to `gate`.
    pub gated: bool,
}

pub struct JwksServer {
    pub url: String,
    pub config: Arc<Mutex<Config>>,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
    pub gate: Arc<Semaphore>,
}

impl JwksServer {
    pub async fn start(keys: &[&SigningKeyPair]) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Arc::new(Mutex::new(Config {
            keys: keys.iter().map(|k| k.public_jwk().clone()).collect(),
            ..Config::default()
        }));
        let server = JwksServer {
            url: format!("http://{addr}/eu_pool1/.well-known/jwks.json"),
            config: config.clone(),
            requests: Arc::new(AtomicUsize::new(0)),
            not_modified: Arc::new(AtomicUsize::new(0)),
            gate: Arc::new(Semaphore::new(0)),
        };
        let (requests, not_modified, gate) = (
            server.requests.clone(),
            server.not_modified.clone(),
            server.gate.clone(),
        );
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (config, requests, not_modified, gate) = (
                    config.clone(),
                    requests.clone(),
                    not_modified.clone(),
                    gate.clone(),
                );
                tokio::spawn(async move {
                    serve(stream, config, requests, not_modified, gate).await;
                });
            }
        });
        server
    }

    /// Requests answered or being answered.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Of those, the 304s.
    pub fn not_modified(&self) -> usize {
        self.not_modified.load(Ordering::SeqCst)
    }

    pub fn set(&self, f: impl FnOnce(&mut Config)) {
        f(&mut self.config.lock().unwrap())
    }

    pub fn add_key(&self, key: &SigningKeyPair) {
        self.set(|c| c.keys.push(key.public_jwk().clone()));
    }
}

async fn serve(
    mut stream: TcpStream,
    config: Arc<Mutex<Config>>,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        assert!(buf.len() < 64 * 1024, "request head too large");
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let if_none_match = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("if-none-match")
            .then(|| value.trim().to_owned())
    });
    requests.fetch_add(1, Ordering::SeqCst);
    let (gated, hang) = {
        let c = config.lock().unwrap();
        (c.gated, c.hang)
    };
    if hang {
        std::future::pending::<()>().await;
    }
    if gated {
        gate.acquire().await.unwrap().forget();
    }
    let response = {
        let c = config.lock().unwrap();
        let mut headers = String::from("Connection: close\r\n");
        if let Some(cc) = &c.cache_control {
            headers += &format!("Cache-Control: {cc}\r\n");
        }
        if let Some(etag) = &c.etag {
            headers += &format!("ETag: {etag}\r\n");
        }
        if let Some(status) = c.fail_status {
            format!("HTTP/1.1 {status} Failed\r\n{headers}Content-Length: 0\r\n\r\n")
        } else if c.etag.is_some() && if_none_match == c.etag {
            not_modified.fetch_add(1, Ordering::SeqCst);
            format!("HTTP/1.1 304 Not Modified\r\n{headers}\r\n")
        } else {
            let body = json!({ "keys": c.keys }).to_string() + &" ".repeat(c.padding);
            // Padded bodies go without a length (read to EOF): the client's cap must hold
            // while reading, not only against a declared length.
            let length = if c.padding == 0 {
                format!("Content-Length: {}\r\n", body.len())
            } else {
                String::new()
            };
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}{length}\r\n{body}"
            )
        }
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn key() -> SigningKeyPair {
    SigningKeyPair::generate(Algorithm::EdDSA).unwrap()
}

/// An access token for `sub` from client `c1`, signed by `key`.
pub fn token(key: &SigningKeyPair, sub: &str) -> String {
    key.sign(&json!({
        "sub": sub, "iss": ISS, "client_id": "c1", "token_use": "access",
        "exp": now() + 600, "iat": now(),
    }))
    .unwrap()
}

pub fn expected() -> Expected {
    Expected {
        issuer: ISS.into(),
        token_use: TokenUse::Access,
        clients: Some(vec!["c1".into()]),
        leeway_s: 5,
    }
}

/// Poll `cond` until it holds; panics after 10 s.
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Run `f` with a 20 s limit, so a hang fails the test instead of stalling the suite.
pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out")
}
