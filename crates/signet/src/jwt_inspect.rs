//! `signet token decode`: a JWT's header and payload, unverified by default; with a JWKS
//! (a file, or an `http://` URL fetched with a minimal HTTP/1.1 GET) and the expected
//! issuer it is verified strictly with `signet-verify`, as a relying service would.

use anyhow::{bail, Context};
use base64::Engine;
use serde_json::{json, Value};
use signet_verify::{Expected, KeySet, TokenUse};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest JWKS response accepted.
const MAX_RESPONSE: u64 = 1 << 20;

/// What to verify a token against.
pub struct Check {
    /// `http://host:port/path` or a file holding a JWKS.
    pub jwks_source: String,
    /// Exact expected `iss`.
    pub issuer: String,
    /// If given, the token must be for this app client (`aud` / `client_id`).
    pub client_id: Option<String>,
    /// Clock-skew leeway in seconds.
    pub leeway_s: u64,
}

/// Decode (and with `check`, verify) `token`; the JSON to print.
pub async fn decode(token: &str, check: Option<Check>) -> anyhow::Result<Value> {
    let token = token.trim();
    let (header, payload) = split(token)?;
    let Some(check) = check else {
        return Ok(json!({
            "verified": false,
            "warning": "NOT VERIFIED: signature, issuer, audience and expiry were not checked \
                        (use --verify-with-jwks and --issuer)",
            "header": header,
            "payload": payload,
        }));
    };
    let keys = key_set(&load_jwks(&check.jwks_source).await?)?;
    // Which checks apply depends on the kind of token; a forged token_use cannot help, as
    // verify() checks it again on the verified claims.
    let token_use = match payload["token_use"].as_str() {
        Some("id") => TokenUse::Id,
        Some("access") => TokenUse::Access,
        other => bail!("token_use is {other:?}, not \"id\" or \"access\""),
    };
    let expected = Expected {
        issuer: check.issuer.clone(),
        token_use,
        clients: check.client_id.clone().map(|c| vec![c]),
        leeway_s: check.leeway_s,
    };
    let claims = signet_verify::verify(token, &keys, &expected)
        .map_err(|e| anyhow::anyhow!("the token is NOT valid: {e}"))?;
    Ok(json!({
        "verified": true,
        "checked": {
            "jwks": check.jwks_source,
            "issuer": check.issuer,
            "client_id": check.client_id,
            "token_use": payload["token_use"],
        },
        "header": header,
        "payload": claims,
    }))
}

/// The payload of a compact JWS, decoded and parsed, without any check.
pub(crate) fn claims(token: &str) -> anyhow::Result<Value> {
    Ok(split(token)?.1)
}

/// Header and payload of a compact JWS, base64url-decoded and parsed, without any check.
fn split(token: &str) -> anyhow::Result<(Value, Value)> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        bail!(
            "not a JWT: expected three dot-separated parts, found {}",
            parts.len()
        );
    }
    let part = |i: usize, what: &str| -> anyhow::Result<Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[i].trim_end_matches('='))
            .with_context(|| format!("the {what} is not base64url"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("the {what} is not JSON"))
    };
    Ok((part(0, "header")?, part(1, "payload")?))
}

/// The usable keys of a JWKS; keys of unsupported types are skipped.
fn key_set(jwks: &str) -> anyhow::Result<KeySet> {
    let v: Value = serde_json::from_str(jwks).context("the JWKS is not JSON")?;
    let list = v["keys"]
        .as_array()
        .context("the JWKS has no \"keys\" array")?;
    let mut keys = KeySet::new();
    for k in list {
        if let Err(e) = keys.insert_jwk(&k.to_string()) {
            tracing::warn!("skipping a JWKS key: {e}");
        }
    }
    anyhow::ensure!(!keys.is_empty(), "the JWKS holds no usable key");
    Ok(keys)
}

async fn load_jwks(source: &str) -> anyhow::Result<String> {
    if source.starts_with("http://") {
        return http_get(source).await;
    }
    if source.starts_with("https://") {
        bail!("https is not supported here; fetch the JWKS (e.g. with curl) and pass the file");
    }
    std::fs::read_to_string(source).with_context(|| format!("reading the JWKS file {source}"))
}

/// `http://host:port/path` → (`host:port`, `/path`).
fn parse_url(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    anyhow::ensure!(!authority.is_empty(), "no host in {url}");
    let authority = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// A minimal HTTP/1.1 GET (Connection: close); the body of a 200 answer.
pub(crate) async fn http_get(url: &str) -> anyhow::Result<String> {
    let (authority, path) = parse_url(url)?;
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(&authority)
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\n\
             User-Agent: signet-cli\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .context("sending the request")?;
        let mut raw = Vec::new();
        s.take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .await
            .context("reading the response")?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), fetch)
        .await
        .with_context(|| format!("GET {url} timed out"))??;
    let body = response_body(&raw).with_context(|| format!("GET {url}"))?;
    String::from_utf8(body).with_context(|| format!("GET {url}: the body is not UTF-8"))
}

/// The body of a raw HTTP/1.1 response, if its status is 200.
fn response_body(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("malformed HTTP response (no end of headers)")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if code != "200" {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]);
        bail!("HTTP status {status:?}: {snippet}");
    }
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return dechunk(body);
    }
    if let Some(len) = header("content-length") {
        let len: usize = len.parse().context("bad Content-Length")?;
        anyhow::ensure!(body.len() >= len, "response body cut short");
        return Ok(body[..len].to_vec());
    }
    Ok(body.to_vec())
}

/// Undo `Transfer-Encoding: chunked`.
fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("malformed chunk size line")?;
        let size_line = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).context("malformed chunk size")?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        anyhow::ensure!(rest.len() >= size + 2, "chunk cut short");
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[tokio::test]
    async fn decode_without_jwks_says_not_verified() {
        let token = format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "EdDSA", "kid": "k1"})),
            b64(&json!({"sub": "s", "token_use": "id"}))
        );
        let out = decode(&token, None).await.unwrap();
        assert_eq!(out["verified"], false);
        assert!(out["warning"].as_str().unwrap().contains("NOT VERIFIED"));
        assert_eq!(out["header"]["kid"], "k1");
        assert_eq!(out["payload"]["sub"], "s");
        assert!(decode("a.b", None).await.is_err());
        assert!(decode("!!.e30.x", None).await.is_err());
    }

    #[test]
    fn urls_and_responses() {
        assert_eq!(
            parse_url("http://127.0.0.1:7411/p/.well-known/jwks.json").unwrap(),
            ("127.0.0.1:7411".into(), "/p/.well-known/jwks.json".into())
        );
        assert_eq!(
            parse_url("http://example").unwrap(),
            ("example:80".into(), "/".into())
        );
        assert!(parse_url("ftp://x").is_err());
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra";
        assert_eq!(response_body(plain).unwrap(), b"{}");
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(response_body(chunked).unwrap(), b"{\"a\":1}");
        let missing = b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nnop";
        assert!(format!("{:#}", response_body(missing).unwrap_err()).contains("404"));
    }
}
