//! Every call the gateway makes to a URL someone configured — the code webhook, pools'
//! pre-token-generation hooks, external OIDC providers' JWKS — obeys one rule: https only,
//! except plain http to a loopback address when the operator allowed it
//! (`--allow-insecure-loopback-http`, for a sidecar or a test server). The rule is checked
//! when the URL is configured and again before each call.
//!
//! Webhook POSTs are signed: `Signet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>`, so a receiver can tell Signet's calls from anyone else's and refuse
//! replays of old ones (README, "Webhook signatures").

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use signet_crypto::Secret;
use std::net::IpAddr;

/// Name of the signature header on webhook POSTs.
pub const SIGNATURE_HEADER: &str = "Signet-Signature";

/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Why a URL may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundUrlError {
    /// Not an absolute http(s) URL with a host, or too long.
    #[error("must be an absolute https URL (at most 2048 characters)")]
    Malformed,
    /// User name or password in the URL: they would be stored and logged in plaintext.
    #[error("must not carry credentials (user:password@)")]
    Credentials,
    /// Plain http to anything but loopback, or to loopback without the operator's consent.
    #[error(
        "must use https (plain http only to 127.0.0.0/8, ::1 or localhost, and only when the \
         gateway runs with --allow-insecure-loopback-http)"
    )]
    InsecureScheme,
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The rule for every outbound URL: `https://host…`, or `http://` to a loopback host when
/// `allow_loopback_http` is set.
pub fn check_outbound_url(url: &str, allow_loopback_http: bool) -> Result<(), OutboundUrlError> {
    if url.len() > MAX_URL_LEN {
        return Err(OutboundUrlError::Malformed);
    }
    let uri: http::Uri = url.parse().map_err(|_| OutboundUrlError::Malformed)?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(OutboundUrlError::Malformed);
    };
    if authority.as_str().contains('@') {
        return Err(OutboundUrlError::Credentials);
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(OutboundUrlError::Malformed);
    }
    match scheme {
        "https" => Ok(()),
        "http" if allow_loopback_http && is_loopback_host(host) => Ok(()),
        "http" => Err(OutboundUrlError::InsecureScheme),
        _ => Err(OutboundUrlError::Malformed),
    }
}

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `t` (Unix seconds).
pub fn signature(secret: &Secret, t: u64, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(body.len() + 21);
    msg.extend_from_slice(t.to_string().as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    let mac = signet_crypto::hmac_sha256(secret.expose(), &msg);
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// The key a pool's hook calls are signed with, derived from the gateway's webhook secret
/// and the pool id: whoever receives one pool's hooks can verify them, but can neither
/// verify nor forge another pool's (or the code webhook's). Its bytes are the 64 ASCII hex
/// digits of HMAC-SHA256(secret, "signet pool hook key v1" NUL pool_id); `signet admin
/// hook-key` prints it.
pub fn pool_hook_key(webhook_secret: &Secret, pool_id: &str) -> Secret {
    let mut msg = b"signet pool hook key v1\0".to_vec();
    msg.extend_from_slice(pool_id.as_bytes());
    let mac = signet_crypto::hmac_sha256(webhook_secret.expose(), &msg);
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    Secret::new(hex.into_bytes()).expect("64 bytes")
}

/// A JSON POST of `body` to `url`, signed with `secret` at `now_ms` (the gateway's clock).
pub(crate) fn signed_post(
    url: &str,
    body: Vec<u8>,
    secret: &Secret,
    now_ms: u64,
) -> Result<http::Request<Full<Bytes>>, http::Error> {
    let t = now_ms / 1000;
    http::Request::post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(secret, t, &body))
        .body(Full::new(Bytes::from(body)))
}

/// The HTTP client of outbound calls. It can speak plain http because loopback may be
/// allowed; [`check_outbound_url`] decides before every call whether it may.
pub(crate) type OutboundClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client verifying servers against the webpki roots.
pub(crate) fn client() -> OutboundClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// Key sets of other providers (external OIDC providers of identity pools, identity
/// providers of user pools), one cache per JWKS URL, made on first use and shared.
#[derive(Clone, Default)]
pub(crate) struct ExternalKeys {
    caches: std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<String, std::sync::Arc<signet_verify::JwksCache>>,
        >,
    >,
}

impl ExternalKeys {
    /// The cache of `jwks_url`: its URL obeys the outbound rule (checked again here,
    /// before the first fetch: a key set over plain http lets anyone mint logins).
    pub(crate) fn keys(
        &self,
        jwks_url: &str,
        allow_loopback_http: bool,
    ) -> Result<std::sync::Arc<signet_verify::JwksCache>, crate::AppError> {
        use crate::AppError;
        let mut map = self.caches.lock().expect("jwks caches lock");
        if let Some(c) = map.get(jwks_url) {
            return Ok(c.clone());
        }
        check_outbound_url(jwks_url, allow_loopback_http)
            .map_err(|e| AppError::ExternalService(format!("JWKS {jwks_url} {e}")))?;
        let opts = signet_verify::JwksOptions::default();
        let cache = if jwks_url.starts_with("https://") {
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_only()
                .enable_http1()
                .build();
            signet_verify::JwksCache::with_connector(jwks_url, opts, https)
        } else {
            signet_verify::JwksCache::new(jwks_url, opts)
        }
        .map_err(|e| AppError::ExternalService(format!("JWKS {jwks_url}: {e}")))?;
        let cache = std::sync::Arc::new(cache);
        map.insert(jwks_url.to_string(), cache.clone());
        Ok(cache)
    }
}

/// Longest answer read from another provider's endpoint.
const MAX_PROVIDER_ANSWER: usize = 256 * 1024;
/// How long another provider's endpoint may take.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Calls to another provider's endpoints (discovery, token, user info), under the outbound
/// rule, bounded in time and size: the status and the body.
pub(crate) async fn provider_call(
    client: &OutboundClient,
    req: http::Request<Full<Bytes>>,
    allow_loopback_http: bool,
) -> Result<(http::StatusCode, Bytes), String> {
    use http_body_util::{BodyExt, Limited};
    let url = req.uri().to_string();
    check_outbound_url(&url, allow_loopback_http).map_err(|e| format!("{url} {e}"))?;
    let call = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_PROVIDER_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("{url}: reading the answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(PROVIDER_TIMEOUT, call)
        .await
        .map_err(|_| format!("{url}: no answer within {} s", PROVIDER_TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_everywhere_http_only_to_allowed_loopback() {
        for ok in [
            "https://hooks.example.com/x",
            "https://10.0.0.1:8443/a?b=c",
            "https://[2001:db8::1]/",
        ] {
            assert_eq!(check_outbound_url(ok, false), Ok(()), "{ok}");
        }
        for lo in [
            "http://127.0.0.1:8080/hook",
            "http://127.9.9.9/",
            "http://[::1]:9000/x",
            "http://localhost/x",
            "http://LOCALHOST.:81/",
        ] {
            assert_eq!(check_outbound_url(lo, true), Ok(()), "{lo}");
            assert_eq!(
                check_outbound_url(lo, false),
                Err(OutboundUrlError::InsecureScheme),
                "{lo}"
            );
        }
        for bad in [
            "http://example.com/hook",
            "http://10.0.0.1/",
            "http://128.0.0.1/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "http://[::ffff:8.8.8.8]/",
            "http://0.0.0.0/",
        ] {
            assert_eq!(
                check_outbound_url(bad, true),
                Err(OutboundUrlError::InsecureScheme),
                "{bad}"
            );
        }
        assert_eq!(
            check_outbound_url("http://127.0.0.1@example.com/", true),
            Err(OutboundUrlError::Credentials)
        );
        assert_eq!(
            check_outbound_url("https://u:p@example.com/", true),
            Err(OutboundUrlError::Credentials)
        );
        for malformed in [
            "",
            "example.com/x",
            "/relative",
            "ftp://example.com/",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                check_outbound_url(malformed, true),
                Err(OutboundUrlError::Malformed),
                "{malformed}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(
            check_outbound_url(&long, true),
            Err(OutboundUrlError::Malformed)
        );
    }

    #[test]
    fn signature_is_hmac_of_time_dot_body() {
        let secret = Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        let sig = signature(&secret, 1_700_000_000, b"{\"a\":1}");
        let mac = signet_crypto::hmac_sha256(secret.expose(), b"1700000000.{\"a\":1}");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sig, format!("t=1700000000,v1={hex}"));
    }
}
