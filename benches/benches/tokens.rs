//! Criterion benches of the token hot path (see benches/README.md, "`tokens` (criterion)").
//!
//! * `sign`: [`SigningKeyPair::sign`] (key parsed once, JWS header precomputed) against
//!   `jsonwebtoken::encode` with an `EncodingKey` loaded once from a PKCS#8 PEM; `encode`
//!   re-parses that key on every call. `parse_key` times that parse alone, `parse_and_sign`
//!   the parse plus one signature of the signing input (no JSON), as a fresh key does it.
//! * `verify`: [`signet_verify::verify`] with a six-key set against a plain
//!   `jsonwebtoken::decode` with one `DecodingKey` built the same way (from the JWK).
//! * `claims`: building the access-token claim set with `json!` and serialising it.
//!
//! Every token is checked once in setup, so a bench never times a failing path.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use base64::Engine;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Map, Value};
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_verify::{Expected, KeySet, TokenUse};
use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://id.example.com/local_AbCdEfGhIjKl";
/// 26 characters, like a Cognito app client id.
const CLIENT_ID: &str = "4k8s1q2n7v0c3x5z9b6m2p1l0d";
const ALGS: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Cognito-shaped access-token claim set issued at `now`, valid for one hour.
fn access_claims(now: u64) -> Value {
    json!({
        "sub": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "cognito:groups": ["admins", "staff"],
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": "3b8f1c2a9d4e5f60718293a4b5c6d7e8",
        "username": "alice",
    })
}

fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
    }
}

/// PEM armour around DER, as a key file on disk would have it.
fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out.into_bytes()
}

/// The key for `jsonwebtoken`: a fresh aws-lc-rs key (`SigningKeyPair` cannot export its
/// private half) loaded by jsonwebtoken's own PEM loader from PKCS#8, its public half, and
/// `fresh`: what `encode` does to the key per call (parse; given a message, also sign it).
struct JwtKey {
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    fresh: Fresh,
}

type Fresh = Box<dyn Fn(Option<&[u8]>)>;

fn jwt_key(alg: Algorithm) -> JwtKey {
    let rng = SystemRandom::new();
    let ec = &ECDSA_P256_SHA256_FIXED_SIGNING;
    let (encoding, decoding) = match alg {
        Algorithm::EdDSA => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap();
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            let spki = pair.public_key().as_der().unwrap();
            (
                EncodingKey::from_ed_pem(&pem("PRIVATE KEY", pkcs8.as_ref())).unwrap(),
                DecodingKey::from_ed_pem(&pem("PUBLIC KEY", spki.as_ref())).unwrap(),
            )
        }
        Algorithm::ES256 => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(ec, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(ec, pkcs8.as_ref()).unwrap();
            let spki = pair.public_key().as_der().unwrap();
            (
                EncodingKey::from_ec_pem(&pem("PRIVATE KEY", pkcs8.as_ref())).unwrap(),
                DecodingKey::from_ec_pem(&pem("PUBLIC KEY", spki.as_ref())).unwrap(),
            )
        }
        Algorithm::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
            let pkcs8 = AsDer::as_der(&pair).unwrap();
            let spki = pair.public_key().as_der().unwrap();
            (
                EncodingKey::from_rsa_pem(&pem("PRIVATE KEY", pkcs8.as_ref())).unwrap(),
                DecodingKey::from_rsa_pem(&pem("PUBLIC KEY", spki.as_ref())).unwrap(),
            )
        }
    };
    // What `encode` parses on every call: the key's bytes as the loader stored them (PKCS#8
    // for Ed25519 and P-256, the PKCS#1 RSAPrivateKey extracted from the PKCS#8 for RSA).
    let der = encoding.as_bytes().to_vec();
    let fresh: Fresh = match alg {
        Algorithm::EdDSA => Box::new(move |msg| {
            let k = Ed25519KeyPair::from_pkcs8(&der).unwrap();
            black_box(msg.map(|m| k.sign(m)));
        }),
        Algorithm::ES256 => Box::new(move |msg| {
            let k = EcdsaKeyPair::from_pkcs8(ec, &der).unwrap();
            black_box(msg.map(|m| k.sign(&SystemRandom::new(), m).unwrap()));
        }),
        Algorithm::RS256 => Box::new(move |msg| {
            let k = RsaKeyPair::from_der(&der).unwrap();
            if let Some(m) = msg {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), m, &mut sig)
                    .unwrap();
                black_box(sig);
            }
        }),
    };
    let mut header = Header::new(jwt_alg(alg));
    header.kid = Some("a1b2c3d4e5f60718293a4b5c6d7e8f90".into());
    JwtKey {
        header,
        encoding,
        decoding,
        fresh,
    }
}

/// A `Validation` for plain `jsonwebtoken::decode`: signature, `exp` (required) and `iss`.
fn plain_validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(jwt_alg(alg));
    v.set_issuer(&[ISSUER]);
    v.validate_aud = false;
    v
}

fn sign(c: &mut Criterion) {
    let claims = access_claims(now());
    let mut g = c.benchmark_group("sign");
    for alg in ALGS {
        let ours = SigningKeyPair::generate(alg).unwrap();
        let theirs = jwt_key(alg);
        let token = jsonwebtoken::encode(&theirs.header, &claims, &theirs.encoding).unwrap();
        let v = plain_validation(alg);
        jsonwebtoken::decode::<Map<String, Value>>(&token, &theirs.decoding, &v).unwrap();

        g.bench_function(BenchmarkId::new("signet", alg.name()), |b| {
            b.iter(|| ours.sign(black_box(&claims)).unwrap())
        });
        g.bench_function(BenchmarkId::new("jsonwebtoken_encode", alg.name()), |b| {
            b.iter(|| {
                jsonwebtoken::encode(&theirs.header, black_box(&claims), &theirs.encoding).unwrap()
            })
        });
        g.bench_function(BenchmarkId::new("parse_key", alg.name()), |b| {
            b.iter(|| (theirs.fresh)(None))
        });
        // The signing input of `token`: header and claims, base64url, joined by a dot.
        let input = &token.as_bytes()[..token.rfind('.').unwrap()];
        g.bench_function(BenchmarkId::new("parse_and_sign", alg.name()), |b| {
            b.iter(|| (theirs.fresh)(Some(black_box(input))))
        });
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let claims = access_claims(now());
    // Two keys per algorithm, as a JWKS mid-rotation has; each token is signed by the
    // second key of its algorithm.
    let keys: Vec<SigningKeyPair> = ALGS
        .iter()
        .flat_map(|&alg| [alg, alg])
        .map(|alg| SigningKeyPair::generate(alg).unwrap())
        .collect();
    let mut set = KeySet::new();
    for k in &keys {
        set.insert_jwk(&k.public_jwk().to_string()).unwrap();
    }
    assert_eq!(set.len(), 6);
    let expected = Expected {
        issuer: ISSUER.into(),
        token_use: TokenUse::Access,
        clients: Some(vec![CLIENT_ID.into()]),
        leeway_s: 5,
    };

    let mut g = c.benchmark_group("verify");
    for (i, alg) in ALGS.into_iter().enumerate() {
        let key = &keys[2 * i + 1];
        let token = key.sign(&claims).unwrap();
        signet_verify::verify(&token, &set, &expected).unwrap();
        let jwk = serde_json::from_value(key.public_jwk().clone()).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let v = plain_validation(alg);
        jsonwebtoken::decode::<Map<String, Value>>(&token, &decoding, &v).unwrap();

        g.bench_function(BenchmarkId::new("signet_verify", alg.name()), |b| {
            b.iter(|| signet_verify::verify(black_box(&token), &set, &expected).unwrap())
        });
        g.bench_function(BenchmarkId::new("jsonwebtoken_decode", alg.name()), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &decoding, &v)
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn claims(c: &mut Criterion) {
    let t = now();
    let built = access_claims(t);
    let mut g = c.benchmark_group("claims");
    g.bench_function("build", |b| b.iter(|| access_claims(black_box(t))));
    g.bench_function("serialize", |b| {
        b.iter(|| serde_json::to_vec(black_box(&built)).unwrap())
    });
    g.bench_function("build_and_serialize", |b| {
        b.iter(|| serde_json::to_vec(&access_claims(black_box(t))).unwrap())
    });
    g.finish();
}

criterion_group!(benches, sign, verify, claims);
criterion_main!(benches);
