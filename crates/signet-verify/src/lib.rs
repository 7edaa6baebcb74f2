//! Strict verification of Signet tokens, for relying services and for Signet itself.
//!
//! * The algorithm comes from the key record, never from the token header; a header that
//!   names another algorithm is refused. `jku`, `x5u` and `jwk` headers are ignored.
//! * The issuer must match exactly; `token_use` must be the expected one; the audience
//!   (ID tokens) or `client_id` (access tokens) must be one of the expected clients.
//! * `exp` is required; `exp`, `nbf`, `iat` and `auth_time` must be numbers; leeway is
//!   capped at 60 s.
//! * Tokens over 8 KiB are refused before decoding; claims with duplicate JSON keys are
//!   refused.
#![forbid(unsafe_code)]

mod nodup;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
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
}

/// The kind of token expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// An ID token (`token_use = id`, audience = client id).
    Id,
    /// An access token (`token_use = access`, `client_id` claim).
    Access,
}

impl TokenUse {
    fn claim(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

struct Key {
    alg: Algorithm,
    key: DecodingKey,
}

/// Verification keys by kid.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, Key>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key from its JWK (JSON text); the JWK's `alg` and `kid` are required.
    pub fn insert_jwk(&mut self, jwk: &str) -> Result<(), VerifyError> {
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_str(jwk).map_err(|e| VerifyError::BadKey(e.to_string()))?;
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
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| VerifyError::BadKey(e.to_string()))?;
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

/// Verify `token` against `keys` and `expected`; returns its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    expected: &Expected,
) -> Result<Map<String, Value>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge);
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(VerifyError::Malformed("expected three parts".into()));
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
    let key = keys.keys.get(kid).ok_or(VerifyError::UnknownKey)?;
    if header.alg != key.alg {
        return Err(VerifyError::WrongAlgorithm);
    }
    // Duplicate keys first: serde_json would silently keep the last one.
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    nodup::check(&payload)?;

    let mut v = Validation::new(key.alg);
    v.leeway = expected.leeway_s.min(MAX_LEEWAY_S);
    v.set_issuer(&[expected.issuer.as_str()]);
    v.set_required_spec_claims(&["exp", "iss"]);
    v.validate_aud = false;
    v.validate_nbf = true;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature => VerifyError::BadSignature,
            K::ExpiredSignature | K::ImmatureSignature => VerifyError::Expired,
            K::InvalidIssuer => VerifyError::WrongIssuer,
            K::MissingRequiredClaim(c) if c == "exp" => VerifyError::InvalidClaim("exp"),
            K::MissingRequiredClaim(_) => VerifyError::WrongIssuer,
            _ => VerifyError::Malformed(e.to_string()),
        }
    })?;
    let claims = data.claims;
    for name in ["exp", "nbf", "iat", "auth_time"] {
        if let Some(v) = claims.get(name) {
            if !v.is_u64() {
                return Err(VerifyError::InvalidClaim(match name {
                    "exp" => "exp",
                    "nbf" => "nbf",
                    "iat" => "iat",
                    _ => "auth_time",
                }));
            }
        }
    }
    if claims.get("token_use").and_then(Value::as_str) != Some(expected.token_use.claim()) {
        return Err(VerifyError::WrongTokenUse);
    }
    if let Some(clients) = &expected.clients {
        let client = match expected.token_use {
            TokenUse::Id => claims.get("aud").and_then(Value::as_str),
            TokenUse::Access => claims.get("client_id").and_then(Value::as_str),
        };
        if !client.is_some_and(|c| clients.iter().any(|x| x == c)) {
            return Err(VerifyError::WrongAudience);
        }
    }
    Ok(claims)
}
