//! The validation rules, each attacked with a token that breaks exactly that rule.

use base64::Engine;
use serde_json::json;
use signet_crypto::{Algorithm, SigningKeyPair};
use signet_verify::{verify, verify_at, Expected, KeySet, TokenUse, VerifyError};

const ISS: &str = "https://id.example/eu_pool1";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn setup() -> (SigningKeyPair, KeySet) {
    let key = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
    let mut ks = KeySet::new();
    ks.insert_jwk(&key.public_jwk().to_string()).unwrap();
    (key, ks)
}

fn access_claims() -> serde_json::Value {
    json!({"sub": "u1", "iss": ISS, "client_id": "c1", "token_use": "access", "exp": now() + 600, "iat": now()})
}

fn expect(token_use: TokenUse) -> Expected {
    Expected {
        issuer: ISS.into(),
        token_use,
        clients: Some(vec!["c1".into()]),
        leeway_s: 5,
    }
}

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

#[test]
fn a_good_access_token_passes() {
    let (key, ks) = setup();
    let t = key.sign(&access_claims()).unwrap();
    let c = verify(&t, &ks, &expect(TokenUse::Access)).unwrap();
    assert_eq!(c["sub"], "u1");
}

#[test]
fn claim_rules() {
    let (key, ks) = setup();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = access_claims();
        f(&mut c);
        verify(&key.sign(&c).unwrap(), &ks, &expect(TokenUse::Access))
    };
    assert_eq!(
        with(&|c| c["iss"] = json!(format!("{ISS}/"))),
        Err(VerifyError::WrongIssuer)
    );
    assert_eq!(
        with(&|c| c["iss"] = json!("https://id.example/eu_pool2")),
        Err(VerifyError::WrongIssuer)
    );
    assert_eq!(
        with(&|c| c["client_id"] = json!("c2")),
        Err(VerifyError::WrongAudience)
    );
    assert_eq!(
        with(&|c| c["token_use"] = json!("id")),
        Err(VerifyError::WrongTokenUse)
    );
    assert_eq!(
        with(&|c| c["exp"] = json!(now() - 6)),
        Err(VerifyError::Expired)
    );
    assert!(
        with(&|c| c["exp"] = json!(now() - 3)).is_ok(),
        "within leeway"
    );
    assert!(
        with(&|c| c["exp"] = json!(format!("{}", now() + 600))).is_err(),
        "exp as string"
    );
    assert!(with(&|c| {
        c.as_object_mut().unwrap().remove("exp");
    })
    .is_err());
    assert_eq!(
        with(&|c| c["nbf"] = json!(now() + 60)),
        Err(VerifyError::Expired)
    );
    assert_eq!(
        with(&|c| c["iat"] = json!("yesterday")),
        Err(VerifyError::InvalidClaim("iat"))
    );
}

#[test]
fn header_and_envelope_attacks() {
    let (key, ks) = setup();
    let good = key.sign(&access_claims()).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    // alg none, signature stripped.
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    assert!(verify(&none, &ks, &expect(TokenUse::Access)).is_err());
    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert!(verify(&stripped, &ks, &expect(TokenUse::Access)).is_err());
    // The header claims HS256 with our kid: refused whatever the signature.
    let kid = key.kid();
    let hs = format!(
        "{}.{}.{}",
        b64(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#).as_bytes()),
        parts[1],
        parts[2]
    );
    assert_eq!(
        verify(&hs, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::WrongAlgorithm)
    );
    // Unknown, path-like and huge kids.
    for k in ["nope", "../../etc/passwd", &"k".repeat(10_000)] {
        let t = format!(
            "{}.{}.{}",
            b64(format!(r#"{{"alg":"EdDSA","kid":"{k}"}}"#).as_bytes()),
            parts[1],
            parts[2]
        );
        assert!(verify(&t, &ks, &expect(TokenUse::Access)).is_err());
    }
    // A 1 MB token is refused before any decoding.
    let big = format!("{}.{}.{}", parts[0], "A".repeat(1 << 20), parts[2]);
    assert_eq!(
        verify(&big, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::TooLarge)
    );
    // Flipped signature.
    let mut sig = parts[2].as_bytes().to_vec();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    let bad = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    assert_eq!(
        verify(&bad, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn duplicate_claims_are_refused_even_when_signed() {
    let (key, ks) = setup();
    // Sign a payload that repeats "client_id": build the JWS by hand with the key's header.
    let header = key.sign(&json!({})).unwrap();
    let header = header.split('.').next().unwrap();
    let payload = format!(
        r#"{{"sub":"u1","iss":"{ISS}","client_id":"c2","client_id":"c1","token_use":"access","exp":{}}}"#,
        now() + 600
    );
    // Only our signer can produce a valid signature; sign the raw bytes through a claims
    // value that serialises to exactly this text.
    let raw: Box<serde_json::value::RawValue> =
        serde_json::value::RawValue::from_string(payload).unwrap();
    let token = key.sign(&raw).unwrap();
    assert_eq!(token.split('.').next().unwrap(), header);
    assert_eq!(
        verify(&token, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::DuplicateClaim)
    );
}

#[test]
fn id_tokens_check_aud_and_are_not_access_tokens() {
    let (key, ks) = setup();
    let id = json!({"sub": "u1", "iss": ISS, "aud": "c1", "token_use": "id", "exp": now() + 600});
    let t = key.sign(&id).unwrap();
    assert!(verify(&t, &ks, &expect(TokenUse::Id)).is_ok());
    assert_eq!(
        verify(&t, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::WrongTokenUse)
    );
    let other =
        json!({"sub": "u1", "iss": ISS, "aud": "c9", "token_use": "id", "exp": now() + 600});
    assert_eq!(
        verify(&key.sign(&other).unwrap(), &ks, &expect(TokenUse::Id)),
        Err(VerifyError::WrongAudience)
    );
}

#[test]
fn key_hints_in_the_header_are_ignored() {
    let (key, ks) = setup();
    let evil = SigningKeyPair::generate(Algorithm::EdDSA).unwrap();
    let payload = b64(access_claims().to_string().as_bytes());
    for extra in [
        json!({"jwk": evil.public_jwk()}),
        json!({"jku": "http://127.0.0.1:9/jwks.json"}),
        json!({"x5u": "http://127.0.0.1:9/cert.pem"}),
    ] {
        // The attacker's key signs; the header names our kid, or the attacker's, and points
        // at the attacker's key: neither is ever used.
        for kid in [key.kid(), evil.kid()] {
            let mut h = json!({"alg": "EdDSA", "kid": kid});
            h.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let input = format!("{}.{payload}", b64(h.to_string().as_bytes()));
            let sig = evil.sign_detached(input.as_bytes()).unwrap();
            let t = format!("{input}.{}", b64(&sig));
            assert!(
                verify(&t, &ks, &expect(TokenUse::Access)).is_err(),
                "{extra}"
            );
        }
    }
}

#[test]
fn opaque_tokens_are_not_bearers() {
    let (_, ks) = setup();
    // A refresh token is sealed, not a JWS.
    let refresh = "AQx9YWxpY2UtZmFtaWx5LWlkLTAwMDAwMDAwMDAwMDAwMDA";
    assert!(matches!(
        verify(refresh, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn verify_at_judges_exp_and_nbf_at_the_given_time() {
    let (key, ks) = setup();
    let t0 = now();
    let mut c = access_claims();
    c["exp"] = json!(t0 - 3600);
    c["nbf"] = json!(t0 - 7200);
    let old = key.sign(&c).unwrap();
    let e = expect(TokenUse::Access);
    // Expired now, valid when it was in force (leeway 5 s on either side).
    assert_eq!(verify(&old, &ks, &e), Err(VerifyError::Expired));
    assert_eq!(
        verify_at(&old, &ks, &e, t0 - 3600 + 5).unwrap()["sub"],
        "u1"
    );
    assert_eq!(
        verify_at(&old, &ks, &e, t0 - 3600 + 6),
        Err(VerifyError::Expired)
    );
    assert!(verify_at(&old, &ks, &e, t0 - 7205).is_ok());
    assert_eq!(
        verify_at(&old, &ks, &e, t0 - 7206),
        Err(VerifyError::Expired),
        "before nbf"
    );
    // Every other rule still holds: a tampered signature, an unknown key, no exp.
    let (signed, sig) = old.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{signed}.{flipped}{}", &sig[1..]);
    assert_eq!(
        verify_at(&tampered, &ks, &e, t0 - 3600),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_at(&old, &KeySet::new(), &e, t0 - 3600),
        Err(VerifyError::UnknownKey)
    );
    c.as_object_mut().unwrap().remove("exp");
    assert!(verify_at(&key.sign(&c).unwrap(), &ks, &e, t0).is_err());
}

#[test]
fn es256_and_rs256_keys_verify_their_own_tokens_only() {
    let keys: Vec<SigningKeyPair> = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256]
        .into_iter()
        .map(|a| SigningKeyPair::generate(a).unwrap())
        .collect();
    let mut ks = KeySet::new();
    for k in &keys {
        ks.insert_jwk(&k.public_jwk().to_string()).unwrap();
    }
    for k in &keys {
        let t = k.sign(&access_claims()).unwrap();
        let c = verify(&t, &ks, &expect(TokenUse::Access)).unwrap();
        assert_eq!(c["sub"], "u1", "{:?}", k.public_jwk()["alg"]);
        // One bit of the signature flipped.
        let mut sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t.rsplit('.').next().unwrap())
            .unwrap();
        sig[3] ^= 1;
        let (input, _) = t.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", b64(&sig));
        assert_eq!(
            verify(&forged, &ks, &expect(TokenUse::Access)),
            Err(VerifyError::BadSignature)
        );
    }
    // A header naming another algorithm than its key's.
    let t = keys[2].sign(&access_claims()).unwrap();
    let parts: Vec<&str> = t.split('.').collect();
    let kid = keys[2].public_jwk()["kid"].as_str().unwrap().to_string();
    let header = b64(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#).as_bytes());
    let swapped = format!("{header}.{}.{}", parts[1], parts[2]);
    assert_eq!(
        verify(&swapped, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::WrongAlgorithm)
    );
    // A critical header extension nobody here understands.
    let header = b64(format!(r#"{{"alg":"RS256","kid":"{kid}","crit":["exp"]}}"#).as_bytes());
    let crit = format!("{header}.{}.{}", parts[1], parts[2]);
    assert!(matches!(
        verify(&crit, &ks, &expect(TokenUse::Access)),
        Err(VerifyError::Malformed(_))
    ));
    // A JWK whose parameters are not of its algorithm's kind is refused at load.
    let mut jwk = keys[1].public_jwk().clone();
    jwk["alg"] = "EdDSA".into();
    assert!(matches!(
        KeySet::new().insert_jwk(&jwk.to_string()),
        Err(VerifyError::BadKey(_))
    ));
}
