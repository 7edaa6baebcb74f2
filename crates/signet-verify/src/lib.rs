//! Token verification for services that rely on Signet.
//!
//! * [`JwksCache`] fetches a pool's JWKS over HTTP, keeps it for the response's
//!   `Cache-Control: max-age` (bounded to 1 s ..= 1 h), revalidates with `ETag`, and on an
//!   unknown `kid` refetches at once: single-flight, and at most once per
//!   [`JwksOptions::min_refetch_interval`], so random kids cannot hammer the issuer.
//! * [`verify`] is the strict, synchronous check against a [`KeySet`] (rules below);
//!   [`verify_at`] the same with `exp` and `nbf` judged at a given time.
//! * [`RequireToken`] (feature `tonic`) is a tower layer for tonic servers: a missing or bad
//!   bearer token is answered with gRPC `UNAUTHENTICATED`; good claims are put in the
//!   request extensions as [`Claims`].
//! * [`VerifiedToken`] (feature `axum`) is an axum extractor answering 401 with JSON.
//! * [`RevocationFollower`] follows a gateway's revocation stream, so that a signed-out
//!   user's or a revoked token is refused within a second instead of at its expiry
//!   ([`Verifier::with_revocations`]; see [`revocation`]).
//!
//! # Validation rules
//!
//! * The algorithm comes from the key record, never from the token header; a header that
//!   names another algorithm is refused. `jku`, `x5u` and `jwk` headers are ignored.
//! * The issuer must match exactly; `token_use` must be the expected one; the audience
//!   (ID tokens) or `client_id` (access tokens) must be one of the expected clients.
//! * `exp` is required; `exp`, `nbf`, `iat` and `auth_time` must be numbers; leeway is
//!   capped at 60 s.
//! * Tokens over 8 KiB are refused before decoding; claims with duplicate JSON keys are
//!   refused.
//!
//! # A relying service
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use signet_verify::{
//!     Expected, JwksCache, JwksOptions, RequireToken, TokenUse, VerifiedToken, Verifier,
//! };
//!
//! // Axum handlers get the verified claims, or the request is answered 401.
//! async fn whoami(VerifiedToken(claims): VerifiedToken) -> String {
//!     claims.sub().unwrap_or_default().to_owned()
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Each pool has its own issuer and JWKS route. Use https in production: see
//!     // `JwksCache::with_connector`.
//!     let issuer = "http://signet.internal:8080/eu-west-1_Ab12Cd34".to_owned();
//!     let cache = Arc::new(JwksCache::new(
//!         &format!("{issuer}/.well-known/jwks.json"),
//!         JwksOptions::default(),
//!     )?);
//!     let expected = Expected {
//!         issuer,
//!         token_use: TokenUse::Access,
//!         clients: Some(vec!["orders-api".into()]),
//!         leeway_s: 30,
//!     };
//!     // Optional: fail fast at start if the issuer is unreachable.
//!     cache.refresh().await?;
//!
//!     // One token by hand.
//!     let token = std::env::var("TOKEN")?;
//!     let claims = cache.verify(&token, &expected).await?;
//!     println!("hello {}", claims["sub"]);
//!
//!     // A tonic server: every call needs `authorization: Bearer <access token>`; handlers
//!     // read `request.extensions().get::<signet_verify::Claims>()`.
//!     let (_health_reporter, health) = tonic_health::server::health_reporter();
//!     let grpc = tonic::transport::Server::builder()
//!         .layer(RequireToken::new(cache.clone(), expected.clone()))
//!         .add_service(health)
//!         .serve("0.0.0.0:50051".parse()?);
//!
//!     // An axum router: the state provides the `Verifier` (directly, or through `FromRef`).
//!     let app = Router::new()
//!         .route("/whoami", get(whoami))
//!         .with_state(Verifier::new(cache, expected));
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     let http = axum::serve(listener, app);
//!
//!     let (grpc, http) = tokio::join!(grpc, http);
//!     grpc?;
//!     http?;
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
mod axum;
mod fetch;
mod jwks;
mod nodup;
pub mod policy;
pub mod revocation;
pub mod session;
pub mod sigv4;
#[cfg(feature = "tonic")]
mod tower;
mod verifier;

#[cfg(feature = "axum")]
pub use crate::axum::{TokenRejection, VerifiedToken};
#[cfg(feature = "tonic")]
pub use crate::tower::{RequireToken, RequireTokenService};
pub use jwks::{JwksCache, JwksOptions, JwksStatus, MAX_MAX_AGE, MIN_MAX_AGE};
pub use policy::{PolicyDocument, PolicyError};
pub use revocation::{FollowOptions, RevocationFollower, RevocationSet};
pub use sigv4::SignatureError;
pub use verifier::{bearer_token, Claims, Verifier};

use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use thiserror::Error;

/// Largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Largest clock-skew leeway accepted, in seconds.
pub const MAX_LEEWAY_S: u64 = 60;

/// Why a token was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Larger than [`MAX_TOKEN_BYTES`].
    #[error("token too large")]
    TooLarge,
    /// Not a compact JWS, or undecodable parts.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// No `kid`, or a kid not in the key set.
    #[error("unknown signing key")]
    UnknownKey,
    /// The header's `alg` differs from the key's.
    #[error("algorithm does not match the key")]
    WrongAlgorithm,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp` (beyond leeway), or before `nbf`.
    #[error("token expired or not yet valid")]
    Expired,
    /// A required claim is missing or not of the right type.
    #[error("invalid claim {0}")]
    InvalidClaim(&'static str),
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` / `client_id` is not an expected client.
    #[error("wrong audience")]
    WrongAudience,
    /// `token_use` is not the expected one.
    #[error("wrong token use")]
    WrongTokenUse,
    /// A JSON key appears twice in the claims.
    #[error("duplicate claim")]
    DuplicateClaim,
    /// A JWK could not be loaded.
    #[error("bad key: {0}")]
    BadKey(String),
    /// The key set could not be fetched (issuer unreachable, bad response, timeout) and no
    /// usable cached set exists. Transient: not the token's fault.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
    /// A [`JwksCache`] was given a URL it cannot fetch.
    #[error("invalid JWKS URL: {0}")]
    InvalidJwksUrl(String),
    /// The token is valid but was revoked (see [`revocation`]): its user signed out or was
    /// disabled, its sign-in, client, pool or key was revoked, or the token itself.
    #[error("token revoked ({0})")]
    Revoked(&'static str),
}

/// The kind of token expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// An ID token (`token_use = id`, audience = client id).
    Id,
    /// An access token (`token_use = access`, `client_id` claim).
    Access,
    /// An identity pool's OpenID token (`token_use = identity`, audience = identity pool).
    Identity,
    /// An STS session token (`token_use = session`, audience = `signet:sts`).
    Session,
    /// A standard OpenID Connect ID token of another provider: no `token_use` claim is
    /// required; `aud` (a string or an array) must name an expected client.
    Oidc,
}

impl TokenUse {
    fn claim(self) -> Option<&'static str> {
        match self {
            TokenUse::Id => Some("id"),
            TokenUse::Access => Some("access"),
            TokenUse::Identity => Some("identity"),
            TokenUse::Session => Some("session"),
            TokenUse::Oidc => None,
        }
    }
}

struct Key {
    alg: Algorithm,
    /// Parsed once, when the key is loaded: a verification only checks the signature.
    key: ParsedPublicKey,
}

/// Verification keys by kid.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, Key>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<(&String, Algorithm)> =
            self.keys.iter().map(|(k, v)| (k, v.alg)).collect();
        kids.sort_by(|a, b| a.0.cmp(b.0));
        f.debug_struct("KeySet").field("keys", &kids).finish()
    }
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key from its JWK (JSON text); the JWK's `alg` and `kid` are required.
    pub fn insert_jwk(&mut self, jwk: &str) -> Result<(), VerifyError> {
        let jwk = serde_json::from_str(jwk).map_err(|e| VerifyError::BadKey(e.to_string()))?;
        self.insert(jwk)
    }

    /// Build a set from a JWKS document (`{"keys": [...]}`).
    ///
    /// Keys this crate cannot use (no `kid` or `alg`, an unsupported algorithm, `use`
    /// other than `sig`) are skipped, so one exotic key does not take the others down. A
    /// kid listed twice is dropped altogether: which material it names is ambiguous. A
    /// document that is not a JWKS is an error.
    pub fn from_jwks(json: &[u8]) -> Result<KeySet, VerifyError> {
        #[derive(serde::Deserialize)]
        struct Jwks {
            keys: Vec<Value>,
        }
        let doc: Jwks = serde_json::from_slice(json)
            .map_err(|e| VerifyError::BadKey(format!("not a JWKS: {e}")))?;
        let mut set = KeySet::new();
        let mut seen = HashSet::new();
        let mut ambiguous = HashSet::new();
        for jwk in doc.keys {
            if let Some(kid) = jwk.get("kid").and_then(Value::as_str) {
                if !seen.insert(kid.to_owned()) {
                    ambiguous.insert(kid.to_owned());
                }
            }
            if jwk.get("use").is_some_and(|u| u != "sig") {
                continue;
            }
            if let Ok(jwk) = serde_json::from_value(jwk) {
                // An unusable key is skipped, as documented.
                let _ = set.insert(jwk);
            }
        }
        for kid in ambiguous {
            set.keys.remove(&kid);
        }
        Ok(set)
    }

    fn insert(&mut self, jwk: jsonwebtoken::jwk::Jwk) -> Result<(), VerifyError> {
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| VerifyError::BadKey("missing kid".into()))?;
        let alg = match jwk.common.key_algorithm {
            Some(jsonwebtoken::jwk::KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
            Some(jsonwebtoken::jwk::KeyAlgorithm::ES256) => Algorithm::ES256,
            Some(jsonwebtoken::jwk::KeyAlgorithm::RS256) => Algorithm::RS256,
            other => return Err(VerifyError::BadKey(format!("unsupported alg {other:?}"))),
        };
        let key = parsed_key(alg, &jwk.algorithm)?;
        self.keys.insert(kid, Key { alg, key });
        Ok(())
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `kid` is in the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }
}

/// What a valid token must say.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Exact `iss`.
    pub issuer: String,
    /// Expected `token_use`.
    pub token_use: TokenUse,
    /// Acceptable clients (`aud` of ID tokens, `client_id` of access tokens); `None`
    /// accepts any client of the issuer.
    pub clients: Option<Vec<String>>,
    /// Clock-skew leeway in seconds (capped at [`MAX_LEEWAY_S`]).
    pub leeway_s: u64,
}

/// The `kid` a token's header names (not verified: for looking things up, such as
/// whether the key was revoked, after [`verify`] accepted the token).
pub fn token_kid(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let (header, _) = token.split_once('.')?;
    JoseHeader::decode(header).ok().and_then(|h| h.kid)
}

/// The JOSE header fields verification reads.
#[derive(serde::Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
    /// Extensions the verifier must understand (RFC 7515 §4.1.11): this one understands
    /// none, so a token naming any is refused.
    crit: Option<Value>,
}

impl JoseHeader {
    fn decode(b64: &str) -> Result<JoseHeader, VerifyError> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|e| VerifyError::Malformed(format!("header: {e}")))?;
        let h: JoseHeader = serde_json::from_slice(&json)
            .map_err(|e| VerifyError::Malformed(format!("header: {e}")))?;
        if !JWS_ALGORITHMS.contains(&h.alg.as_str()) {
            return Err(VerifyError::Malformed(format!(
                "header: unknown alg {:?}",
                h.alg
            )));
        }
        if h.crit.is_some() {
            return Err(VerifyError::Malformed(
                "header: crit extensions are not supported".into(),
            ));
        }
        Ok(h)
    }
}

/// The JWS algorithm names (RFC 7518) a header may carry; only the key's own is accepted.
const JWS_ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        _ => "RS256",
    }
}

/// A JWK's public key, parsed for `alg`.
fn parsed_key(
    alg: Algorithm,
    params: &jsonwebtoken::jwk::AlgorithmParameters,
) -> Result<ParsedPublicKey, VerifyError> {
    use jsonwebtoken::jwk::{AlgorithmParameters as P, EllipticCurve};
    let b64 = |v: &str, what: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.trim_end_matches('='))
            .map_err(|e| VerifyError::BadKey(format!("{what}: {e}")))
    };
    let bad = |e: aws_lc_rs::error::KeyRejected| VerifyError::BadKey(e.to_string());
    match (alg, params) {
        (Algorithm::EdDSA, P::OctetKeyPair(p)) if p.curve == EllipticCurve::Ed25519 => {
            ParsedPublicKey::new(&signature::ED25519, b64(&p.x, "x")?).map_err(bad)
        }
        (Algorithm::ES256, P::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => {
            let (x, y) = (b64(&p.x, "x")?, b64(&p.y, "y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(VerifyError::BadKey("P-256 coordinates are 32 bytes".into()));
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).map_err(bad)
        }
        (Algorithm::RS256, P::RSA(p)) => {
            let der = rsa_public_key_der(&b64(&p.n, "n")?, &b64(&p.e, "e")?);
            ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der).map_err(bad)
        }
        (alg, _) => Err(VerifyError::BadKey(format!(
            "the key is not a {} key",
            alg_name(alg)
        ))),
    }
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`, DER.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, n: usize) {
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn int(out: &mut Vec<u8>, v: &[u8]) {
        let v: &[u8] = match v.iter().position(|b| *b != 0) {
            Some(i) => &v[i..],
            None => &[0],
        };
        let pad = v[0] & 0x80 != 0;
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    int(&mut body, n);
    int(&mut body, e);
    let mut out = vec![0x30];
    len(&mut out, body.len());
    out.extend(body);
    out
}

/// Verify `token` against `keys` and `expected`; returns its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    expected: &Expected,
) -> Result<Map<String, Value>, VerifyError> {
    verify_with_clock(token, keys, expected, None)
}

/// Like [`verify`], with `now_s` (Unix seconds) as the time `exp` and `nbf` are judged at
/// instead of the system clock: whether a token was valid at a given moment, judged again
/// later (a saved chaos run re-checked offline). Every other rule is the same.
pub fn verify_at(
    token: &str,
    keys: &KeySet,
    expected: &Expected,
    now_s: u64,
) -> Result<Map<String, Value>, VerifyError> {
    verify_with_clock(token, keys, expected, Some(now_s))
}

fn verify_with_clock(
    token: &str,
    keys: &KeySet,
    expected: &Expected,
    now_s: Option<u64>,
) -> Result<Map<String, Value>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("expected three parts".into()));
    };
    let header = JoseHeader::decode(header)?;
    let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
    let key = keys.keys.get(kid).ok_or(VerifyError::UnknownKey)?;
    if header.alg != alg_name(key.alg) {
        return Err(VerifyError::WrongAlgorithm);
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = b64
        .decode(payload)
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    // Duplicate keys refused while parsing: serde_json would silently keep the last one.
    let claims = nodup::parse_object(&payload)?;
    let sig = b64
        .decode(sig)
        .map_err(|e| VerifyError::Malformed(format!("signature: {e}")))?;
    // The signing input is the token up to its last dot.
    let signed = &token.as_bytes()[..token.len() - sig_len(token)];
    key.key
        .verify_sig(signed, &sig)
        .map_err(|_| VerifyError::BadSignature)?;
    // Required: exp (a whole number of seconds) and iss.
    let exp = match claims.get("exp") {
        None => return Err(VerifyError::InvalidClaim("exp")),
        Some(v) => v.as_u64().ok_or(VerifyError::InvalidClaim("exp"))?,
    };
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(VerifyError::WrongIssuer)?;
    for name in ["nbf", "iat", "auth_time"] {
        if let Some(v) = claims.get(name) {
            if !v.is_u64() {
                return Err(VerifyError::InvalidClaim(match name {
                    "nbf" => "nbf",
                    "iat" => "iat",
                    _ => "auth_time",
                }));
            }
        }
    }
    // Expired once `exp + leeway < now`, not yet valid while `nbf > now + leeway`.
    let leeway = expected.leeway_s.min(MAX_LEEWAY_S);
    let now = now_s.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let early = claims
        .get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|nbf| nbf > now.saturating_add(leeway));
    if exp.saturating_add(leeway) < now || early {
        return Err(VerifyError::Expired);
    }
    if iss != expected.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    if let Some(token_use) = expected.token_use.claim() {
        if claims.get("token_use").and_then(Value::as_str) != Some(token_use) {
            return Err(VerifyError::WrongTokenUse);
        }
    }
    if let Some(clients) = &expected.clients {
        let named = |c: &str| clients.iter().any(|x| x == c);
        let ok = match (expected.token_use, claims.get("aud")) {
            (TokenUse::Access, _) => claims
                .get("client_id")
                .and_then(Value::as_str)
                .is_some_and(named),
            // An OIDC audience may be an array: one expected client among them suffices.
            (TokenUse::Oidc, Some(Value::Array(auds))) => {
                !auds.is_empty() && auds.iter().filter_map(Value::as_str).any(named)
            }
            (_, Some(Value::String(aud))) => named(aud),
            _ => false,
        };
        if !ok {
            return Err(VerifyError::WrongAudience);
        }
    }
    Ok(claims)
}

/// Length of a token's signature part with its dot.
fn sig_len(token: &str) -> usize {
    token.rfind('.').map_or(0, |i| token.len() - i)
}
