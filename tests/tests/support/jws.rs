//! Compact JWS made by hand, for tests that forge, tamper with or hand-build tokens.

use base64::Engine;
use signet_crypto::SigningKeyPair;

/// base64url without padding, as JWS uses it.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Seconds since the epoch, as `iat` and `exp` count them.
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A compact JWS with exactly this header and payload text, signed by `key`.
pub fn sign(key: &SigningKeyPair, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = key.sign_detached(input.as_bytes()).expect("sign");
    format!("{input}.{}", B64.encode(sig))
}
