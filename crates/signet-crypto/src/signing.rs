//! JWS signing keys held in memory, parsed once. A key signs compact JWS tokens directly
//! (header and claims base64url-encoded, one signature). Re-parsing the private key per
//! token, as `jsonwebtoken::encode` does, made signing 1.6× slower for EdDSA and ES256 and
//! 2.5× for RS256 (`benches/README.md`, `tokens`).
//!
//! The private half never leaves this struct: there is no export, and `Debug` shows only
//! the kid and algorithm.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// JWS algorithms Signet signs with (defined with the pool settings that name them).
pub use signet_core::Algorithm;

/// Key generation or signing failed.
#[derive(Debug, Error)]
pub enum SigningError {
    /// The crypto library refused (should not happen with generated keys).
    #[error("crypto failure: {0}")]
    Crypto(String),
    /// The claims could not be serialised.
    #[error("claims: {0}")]
    Claims(#[from] serde_json::Error),
}

enum Pair {
    Ed(Ed25519KeyPair),
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private signing key with its kid and public JWK.
pub struct SigningKeyPair {
    kid: String,
    alg: Algorithm,
    pair: Pair,
    /// base64url of the JWS header, computed once.
    header_b64: String,
    public_jwk: serde_json::Value,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn crypto(e: impl fmt::Display) -> SigningError {
    SigningError::Crypto(e.to_string())
}

impl SigningKeyPair {
    /// Generate a new key pair with a random kid.
    pub fn generate(alg: Algorithm) -> Result<SigningKeyPair, SigningError> {
        let kid = crate::random_hex_id();
        let (pair, mut jwk) = match alg {
            Algorithm::EdDSA => {
                let k = Ed25519KeyPair::generate().map_err(crypto)?;
                let x = B64URL.encode(k.public_key().as_ref());
                (
                    Pair::Ed(k),
                    serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
                )
            }
            Algorithm::ES256 => {
                let k = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(crypto)?;
                // Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
                let point = k.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(crypto("unexpected P-256 public key encoding"));
                }
                let jwk = serde_json::json!({
                    "kty": "EC", "crv": "P-256",
                    "x": B64URL.encode(&point[1..33]),
                    "y": B64URL.encode(&point[33..65]),
                });
                (Pair::Ec(k), jwk)
            }
            Algorithm::RS256 => {
                let k = RsaKeyPair::generate(KeySize::Rsa2048).map_err(crypto)?;
                let public = k.public_key();
                let jwk = serde_json::json!({
                    "kty": "RSA",
                    "n": B64URL.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": B64URL.encode(public.exponent().big_endian_without_leading_zero()),
                });
                (Pair::Rsa(k), jwk)
            }
        };
        jwk["kid"] = kid.clone().into();
        jwk["alg"] = alg.name().into();
        jwk["use"] = "sig".into();
        let header = serde_json::json!({"alg": alg.name(), "kid": kid, "typ": "JWT"});
        let header_b64 = B64URL.encode(serde_json::to_vec(&header)?);
        Ok(SigningKeyPair {
            kid,
            alg,
            pair,
            header_b64,
            public_jwk: jwk,
            rng: SystemRandom::new(),
        })
    }

    /// An ES256 key from its PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as Apple hands out
    /// the `.p8` keys that sign a Sign in with Apple client secret), under `kid`.
    pub fn es256_from_pkcs8_pem(pem: &str, kid: &str) -> Result<SigningKeyPair, SigningError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.is_empty())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| crypto("the key is not PEM"))?;
        let k = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|_| crypto("the key is not a PKCS#8 P-256 private key"))?;
        Self::from_ec(k, kid)
    }

    /// A new ES256 key as PKCS#8 PEM (what [`SigningKeyPair::es256_from_pkcs8_pem`] reads).
    pub fn es256_pkcs8_pem() -> Result<String, SigningError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(crypto)?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(doc.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        Ok(format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ))
    }

    fn from_ec(k: EcdsaKeyPair, kid: &str) -> Result<SigningKeyPair, SigningError> {
        let point = k.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(crypto("unexpected P-256 public key encoding"));
        }
        let alg = Algorithm::ES256;
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": B64URL.encode(&point[1..33]),
            "y": B64URL.encode(&point[33..65]),
            "kid": kid, "alg": alg.name(), "use": "sig",
        });
        let header = serde_json::json!({"alg": alg.name(), "kid": kid});
        let header_b64 = B64URL.encode(serde_json::to_vec(&header)?);
        Ok(SigningKeyPair {
            kid: kid.to_string(),
            alg,
            pair: Pair::Ec(k),
            header_b64,
            public_jwk: jwk,
            rng: SystemRandom::new(),
        })
    }

    /// Key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Algorithm.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The public key as a JWK (with `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> &serde_json::Value {
        &self.public_jwk
    }

    /// Sign `claims` as a compact JWS: `header.claims.signature`.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, SigningError> {
        let claims = serde_json::to_vec(claims)?;
        let mut out = String::with_capacity(self.header_b64.len() + claims.len() * 4 / 3 + 400);
        out.push_str(&self.header_b64);
        out.push('.');
        B64URL.encode_string(&claims, &mut out);
        let sig = self.sign_bytes(out.as_bytes())?;
        out.push('.');
        B64URL.encode_string(&sig, &mut out);
        Ok(out)
    }

    /// Sign arbitrary bytes (the JWS signing input, for callers that build their own
    /// header, e.g. tests that forge headers around a trusted key).
    pub fn sign_detached(&self, msg: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.sign_bytes(msg)
    }

    fn sign_bytes(&self, msg: &[u8]) -> Result<Vec<u8>, SigningError> {
        Ok(match &self.pair {
            Pair::Ed(k) => k.sign(msg).as_ref().to_vec(),
            Pair::Ec(k) => k.sign(&self.rng, msg).map_err(crypto)?.as_ref().to_vec(),
            Pair::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, msg, &mut sig)
                    .map_err(crypto)?;
                sig
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, jwk::Jwk, DecodingKey, Validation};
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Claims {
        sub: String,
        exp: u64,
    }

    #[test]
    fn an_apple_style_p8_key_signs_what_its_jwk_verifies() {
        let pem = SigningKeyPair::es256_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let key = SigningKeyPair::es256_from_pkcs8_pem(&pem, "KEY123").unwrap();
        let again = SigningKeyPair::es256_from_pkcs8_pem(&pem, "KEY123").unwrap();
        assert_eq!(key.public_jwk(), again.public_jwk(), "one key, one JWK");
        let token = key
            .sign(&Claims {
                sub: "svc".into(),
                exp: 4_000_000_000,
            })
            .unwrap();
        let jwk: Jwk = serde_json::from_value(key.public_jwk().clone()).unwrap();
        let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_aud = false;
        let got = decode::<Claims>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &v).unwrap();
        assert_eq!(got.header.kid.as_deref(), Some("KEY123"));
        assert_eq!(got.claims.sub, "svc");
        assert!(SigningKeyPair::es256_from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "k"
        )
        .is_err());
    }

    #[test]
    fn every_algorithm_signs_tokens_that_jsonwebtoken_verifies_with_the_jwk() {
        for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
            let key = SigningKeyPair::generate(alg).unwrap();
            let claims = Claims {
                sub: "alice".into(),
                exp: 4_000_000_000,
            };
            let token = key.sign(&claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
            let jwk: Jwk = serde_json::from_value(key.public_jwk().clone()).unwrap();
            let dk = DecodingKey::from_jwk(&jwk).unwrap();
            let jalg = match alg {
                Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
                Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
                Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            };
            let mut v = Validation::new(jalg);
            v.validate_aud = false;
            let got = decode::<Claims>(&token, &dk, &v).unwrap();
            assert_eq!(got.claims, claims, "{alg:?}");

            // A flipped signature byte fails.
            let mut bad = token.clone().into_bytes();
            let last = bad.len() - 2;
            bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
            let bad = String::from_utf8(bad).unwrap();
            assert!(decode::<Claims>(&bad, &dk, &v).is_err(), "{alg:?}");
        }
    }

    #[test]
    fn kids_are_unique_and_debug_hides_the_key() {
        let a = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        let b = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
        assert_ne!(a.kid(), b.kid());
        let dbg = format!("{a:?}");
        assert!(dbg.contains(a.kid()) && !dbg.contains("pair"));
    }
}
