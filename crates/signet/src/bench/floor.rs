//! `signet bench floor`: what the hot paths cannot beat on this machine, measured in this
//! process with the crypto backend Signet uses (aws-lc-rs): Ed25519, ES256 and RS256 sign
//! and verify of a token-sized message, HMAC-SHA256, argon2id at the default parameters —
//! and, beside them, Signet's own token sign (signet-crypto) and token verify
//! (signet-verify) of a real access token, so the cost of everything around the raw
//! operation shows as a ratio. Each primitive runs alone on one thread for a fixed time;
//! rates are per CPU-second of this process. `benches/run-all` runs it in the same sitting
//! as the scenarios and divides by it.

use super::server::own_cpu_seconds;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey};
use aws_lc_rs::{hmac, rsa};
use serde::Serialize;
use std::time::{Duration, Instant};

/// One measured rate.
#[derive(Debug, Serialize)]
pub struct Rate {
    /// What was measured.
    pub name: &'static str,
    /// Operations per CPU-second of this process.
    pub per_cpu_s: f64,
}

/// The machine, as the rates depend on it.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cpus: usize,
    /// The CPU flags that change these rates (vector units, SHA and big-number
    /// instructions), as `/proc/cpuinfo` lists them.
    pub flags: Vec<String>,
}

/// What `signet bench floor` reports.
#[derive(Debug, Serialize)]
pub struct Floor {
    pub machine: Machine,
    pub rates: Vec<Rate>,
}

/// Flags worth naming beside a crypto rate.
const FLAGS: [&str; 9] = [
    "avx2",
    "avx512f",
    "avx512ifma",
    "sha_ni",
    "adx",
    "bmi2",
    "aes",
    "vaes",
    "vpclmulqdq",
];

pub fn machine() -> Machine {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let present: Vec<String> = field("flags")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Machine {
        cpu_model: field("model name").unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        flags: FLAGS
            .iter()
            .filter(|f| present.iter().any(|p| p == *f))
            .map(|f| f.to_string())
            .collect(),
    }
}

/// Run `op` for `time`, then report its rate per CPU-second of this process.
fn rate(name: &'static str, time: Duration, mut op: impl FnMut()) -> Rate {
    for _ in 0..16 {
        op();
    }
    let (t0, c0) = (Instant::now(), own_cpu_seconds());
    let mut n = 0u64;
    while t0.elapsed() < time {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    let cpu = (own_cpu_seconds() - c0).max(1e-9);
    Rate {
        name,
        per_cpu_s: n as f64 / cpu,
    }
}

/// A token's signing input (header and claims of a client_credentials access token).
fn signing_input() -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = r#"{"alg":"EdDSA","typ":"JWT","kid":"0123456789abcdef0123456789abcdef"}"#;
    let claims = serde_json::json!({
        "sub": "7b5c9d0e2f1a4b3c8d6e5f4a3b2c1d0e", "token_use": "access",
        "scope": "bench-orders/read bench-orders/write", "auth_time": 1_765_000_000u64,
        "iss": "http://127.0.0.1:7411/local_AbCdEfGhIjKl", "exp": 1_765_003_600u64,
        "iat": 1_765_000_000u64, "version": 2, "jti": "5f0e8c7a-3d2b-4a19-9e6f-1c2d3e4f5a6b",
        "client_id": "7b5c9d0e2f1a4b3c8d6e5f4a3b",
    });
    format!("{}.{}", b64.encode(header), b64.encode(claims.to_string())).into_bytes()
}

/// Measure every floor, `time` each (argon2id: 20 hashes per thread, all threads busy).
pub async fn measure(time: Duration) -> anyhow::Result<Floor> {
    let rng = SystemRandom::new();
    let msg = signing_input();
    let mut rates = Vec::new();

    let ed = signature::Ed25519KeyPair::generate()?;
    let ed_sig = ed.sign(&msg);
    let ed_pub = ParsedPublicKey::new(&signature::ED25519, ed.public_key().as_ref())?;
    rates.push(rate("ed25519_sign", time, || {
        std::hint::black_box(ed.sign(&msg));
    }));
    rates.push(rate("ed25519_verify", time, || {
        std::hint::black_box(ed_pub.verify_sig(&msg, ed_sig.as_ref()).is_ok());
    }));

    let es_pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)?;
    let es = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        es_pkcs8.as_ref(),
    )?;
    let es_sig = es.sign(&rng, &msg)?;
    let es_pub = ParsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        es.public_key().as_ref(),
    )?;
    rates.push(rate("es256_sign", time, || {
        std::hint::black_box(es.sign(&rng, &msg).ok());
    }));
    rates.push(rate("es256_verify", time, || {
        std::hint::black_box(es_pub.verify_sig(&msg, es_sig.as_ref()).is_ok());
    }));

    let rs = rsa::KeyPair::generate(rsa::KeySize::Rsa2048)?;
    let mut rs_sig = vec![0u8; rs.public_modulus_len()];
    rs.sign(&signature::RSA_PKCS1_SHA256, &rng, &msg, &mut rs_sig)?;
    let rs_pub = ParsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        rs.public_key().as_ref(),
    )?;
    rates.push(rate("rs256_sign", time, || {
        let mut sig = vec![0u8; rs.public_modulus_len()];
        std::hint::black_box(
            rs.sign(&signature::RSA_PKCS1_SHA256, &rng, &msg, &mut sig)
                .ok(),
        );
    }));
    rates.push(rate("rs256_verify", time, || {
        std::hint::black_box(rs_pub.verify_sig(&msg, &rs_sig).is_ok());
    }));

    let key = hmac::Key::new(hmac::HMAC_SHA256, b"bench floor key of thirty-two b.");
    rates.push(rate("hmac_sha256", time, || {
        std::hint::black_box(hmac::sign(&key, &msg));
    }));

    // Signet's own token paths over the same kind of token, for the ratio to the raw op.
    let signer = signet_crypto::SigningKeyPair::generate(signet_crypto::Algorithm::EdDSA)?;
    let claims: serde_json::Value = {
        use base64::Engine;
        let part = msg.split(|b| *b == b'.').nth(1).unwrap_or_default();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part)?)?
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut claims = claims;
    claims["exp"] = (now + 3600).into();
    claims["iat"] = now.into();
    rates.push(rate("token_sign_eddsa", time, || {
        std::hint::black_box(signer.sign(&claims).ok());
    }));
    let token = signer.sign(&claims)?;
    let mut keys = signet_verify::KeySet::new();
    keys.insert_jwk(&signer.public_jwk().to_string())?;
    let expected = signet_verify::Expected {
        issuer: claims["iss"].as_str().unwrap_or_default().to_string(),
        token_use: signet_verify::TokenUse::Access,
        clients: None,
        leeway_s: 0,
    };
    anyhow::ensure!(
        signet_verify::verify(&token, &keys, &expected).is_ok(),
        "the reference token does not verify"
    );
    rates.push(rate("token_verify_eddsa", time, || {
        std::hint::black_box(signet_verify::verify(&token, &keys, &expected).is_ok());
    }));

    rates.push(Rate {
        name: "argon2id_verify",
        per_cpu_s: super::argon2_rate().await?,
    });
    Ok(Floor {
        machine: machine(),
        rates,
    })
}

impl Floor {
    /// The rate named `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.rates
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.per_cpu_s)
    }

    /// The human-readable report.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let m = &self.machine;
        let _ = writeln!(
            o,
            "signet bench floor: {} ({} CPUs; {})",
            m.cpu_model,
            m.cpus,
            if m.flags.is_empty() {
                "none of the named flags".to_string()
            } else {
                m.flags.join(" ")
            }
        );
        for r in &self.rates {
            let _ = writeln!(o, "  {:<20} {:>12.0} per CPU-s", r.name, r.per_cpu_s);
        }
        for (ours, raw) in [
            ("token_sign_eddsa", "ed25519_sign"),
            ("token_verify_eddsa", "ed25519_verify"),
        ] {
            if let (Some(a), Some(b)) = (self.get(ours), self.get(raw)) {
                let _ = writeln!(o, "  {ours} is {:.0} % of {raw}", 100.0 * a / b);
            }
        }
        o
    }
}
