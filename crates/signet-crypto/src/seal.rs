//! Authenticated encryption under the server key (AES-256-GCM), for values the gateway
//! must read back but nobody else may read or forge: refresh tokens, challenge sessions,
//! client secrets at rest. The purpose label is authenticated data, so a value sealed for
//! one purpose never opens as another.

use crate::Secret;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;
use base64::Engine;
use std::fmt;

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// Format byte in front of every sealed value.
const VERSION: u8 = 1;

/// Seals and opens values under a key derived from the server secret. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    key: std::sync::Arc<LessSafeKey>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer whose key is derived from `secret` (HMAC-SHA256 with a fixed label, so the
    /// same secret can key other primitives without key reuse).
    pub fn new(secret: &Secret) -> Sealer {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret.expose()),
            b"signet seal key v1",
        );
        let key = UnboundKey::new(&AES_256_GCM, derived.as_ref()).expect("32-byte AES key");
        Sealer {
            key: std::sync::Arc::new(LessSafeKey::new(key)),
        }
    }

    /// Encrypt and authenticate `plaintext` for `purpose`; base64url text.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let nonce_bytes = crate::random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM sealing does not fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buf);
        B64URL.encode(out)
    }

    /// Open a value sealed for `purpose`; `None` if it was altered, sealed under another
    /// key or purpose, or is not a sealed value at all.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        // Refuse absurd inputs before decoding (bearer tokens arrive from anyone).
        if sealed.len() > 16 * 1024 {
            return None;
        }
        let raw = B64URL.decode(sealed).ok()?;
        let (&version, rest) = raw.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(b: u8) -> Sealer {
        Sealer::new(&Secret::new(vec![b; 32]).unwrap())
    }

    #[test]
    fn round_trip_and_every_tamper_fails() {
        let s = sealer(1);
        let sealed = s.seal("refresh", b"family=abc");
        assert_eq!(
            s.open("refresh", &sealed).as_deref(),
            Some(&b"family=abc"[..])
        );
        // Two seals of one value differ (random nonce).
        assert_ne!(sealed, s.seal("refresh", b"family=abc"));
        assert_eq!(s.open("session", &sealed), None, "other purpose");
        assert_eq!(sealer(2).open("refresh", &sealed), None, "other key");
        let mut raw = B64URL.decode(&sealed).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(s.open("refresh", &B64URL.encode(&raw)), None, "flipped bit");
        assert_eq!(s.open("refresh", "not-a-token"), None);
        assert_eq!(s.open("refresh", &"A".repeat(20_000)), None);
    }
}
