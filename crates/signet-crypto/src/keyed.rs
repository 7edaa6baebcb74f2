//! Keyed hashing with a server secret: HMAC-SHA256 with a purpose label, for values that
//! must be stored but never readable (confirmation codes, client secrets). Low-entropy
//! values such as 6-digit codes stay safe against anyone holding only the data, because
//! the key comes from configuration, not from the store.

use aws_lc_rs::hmac;
use std::fmt;

/// Secret key material from configuration. Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wrap key bytes (at least 32).
    pub fn new(bytes: Vec<u8>) -> Option<Secret> {
        (bytes.len() >= 32).then_some(Secret(bytes))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Plain HMAC-SHA256 of `msg` under `key` (for protocols that define their own MACs,
/// such as Cognito's SECRET_HASH).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg)
        .as_ref()
        .to_vec()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

/// PKCE's S256 code challenge of a verifier (RFC 7636 §4.2):
/// BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

/// HMAC-SHA256 under a server key.
#[derive(Clone)]
pub struct KeyedHasher {
    key: hmac::Key,
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher(..)")
    }
}

impl KeyedHasher {
    /// A hasher keyed with `secret`.
    pub fn new(secret: &Secret) -> Self {
        KeyedHasher {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose()),
        }
    }

    /// Plain SHA-256 in hex, for fingerprints of public data (ETags, token ids).
    pub fn digest_hex(data: &[u8]) -> String {
        hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
    }

    /// Hex HMAC of `purpose` and `parts`, each length-prefixed so that no two different
    /// inputs share an encoding.
    pub fn hash(&self, purpose: &str, parts: &[&[u8]]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        for p in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            ctx.update(&(p.len() as u64).to_be_bytes());
            ctx.update(p);
        }
        hex::encode(ctx.sign().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(b: u8) -> KeyedHasher {
        KeyedHasher::new(&Secret::new(vec![b; 32]).unwrap())
    }

    #[test]
    fn hashes_depend_on_key_purpose_and_part_boundaries() {
        let h = hasher(1);
        let a = h.hash("code", &[b"pool", b"alice", b"123456"]);
        assert_eq!(a.len(), 64);
        assert_eq!(a, h.hash("code", &[b"pool", b"alice", b"123456"]));
        assert_ne!(a, hasher(2).hash("code", &[b"pool", b"alice", b"123456"]));
        assert_ne!(a, h.hash("secret", &[b"pool", b"alice", b"123456"]));
        assert_ne!(a, h.hash("code", &[b"poolalice", b"", b"123456"]));
    }

    #[test]
    fn short_keys_and_debug_output_are_refused() {
        assert!(Secret::new(vec![0; 31]).is_none());
        assert_eq!(
            format!("{:?}", Secret::new(vec![7; 32]).unwrap()),
            "Secret(..)"
        );
    }
}
