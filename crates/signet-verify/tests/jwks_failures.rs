//! `JwksCache` when the issuer misbehaves: unreachable, errors, oversized or slow answers,
//! and what a served JWKS may contain.

mod common;

use common::{expected, key, token, wait_until, within, JwksServer};
use serde_json::json;
use signet_verify::{JwksCache, JwksOptions, KeySet, VerifyError};
use std::time::{Duration, Instant};

fn unavailable(r: Result<serde_json::Map<String, serde_json::Value>, VerifyError>) -> String {
    match r {
        Err(VerifyError::KeysUnavailable(why)) => why,
        other => panic!("expected KeysUnavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_issuer_is_keys_unavailable() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let cache = JwksCache::new(
            &format!("http://{addr}/p/.well-known/jwks.json"),
            JwksOptions::default(),
        )
        .unwrap();
        let why = unavailable(cache.verify(&token(&key(), "u1"), &expected()).await);
        assert!(why.contains(&addr.to_string()), "{why}");
        assert_eq!(cache.status().last_error, Some(why));
        assert!(matches!(
            cache.refresh().await,
            Err(VerifyError::KeysUnavailable(_))
        ));
    })
    .await
}

#[tokio::test]
async fn error_statuses_oversized_and_slow_answers_are_refused() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let t1 = token(&k1, "u1");

        server.set(|c| c.fail_status = Some(500));
        let cache = JwksCache::new(&server.url, JwksOptions::default()).unwrap();
        let why = unavailable(cache.verify(&t1, &expected()).await);
        assert!(why.contains("500"), "{why}");
        // Backing off: an immediate retry does not hit the issuer again.
        unavailable(cache.verify(&t1, &expected()).await);
        assert_eq!(server.requests(), 1);

        // Over 1 MiB without a declared length: cut off while reading.
        server.set(|c| {
            c.fail_status = None;
            c.padding = 2 << 20;
        });
        let cache = JwksCache::new(&server.url, JwksOptions::default()).unwrap();
        let why = unavailable(cache.verify(&t1, &expected()).await);
        assert!(why.contains("length limit"), "{why}");

        // The same document within the cap is fine: the cap is on size, not on the reading.
        server.set(|c| c.padding = 0);
        let small = JwksOptions {
            max_response_bytes: 1 << 10,
            ..JwksOptions::default()
        };
        let cache = JwksCache::new(&server.url, small).unwrap();
        assert!(cache.verify(&t1, &expected()).await.is_ok());

        // An issuer that accepts and never answers: the fetch timeout ends it.
        server.set(|c| c.hang = true);
        let opts = JwksOptions {
            fetch_timeout: Duration::from_millis(200),
            ..JwksOptions::default()
        };
        let cache = JwksCache::new(&server.url, opts).unwrap();
        let started = Instant::now();
        let why = unavailable(cache.verify(&t1, &expected()).await);
        assert!(why.contains("no answer within"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await
}

#[tokio::test]
async fn an_expired_set_serves_while_the_issuer_fails_within_stale_if_error() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        server.set(|c| c.cache_control = Some("max-age=1".into()));
        let lenient = JwksCache::new(&server.url, JwksOptions::default()).unwrap();
        let strict = JwksCache::new(
            &server.url,
            JwksOptions {
                stale_if_error: Duration::ZERO,
                ..JwksOptions::default()
            },
        )
        .unwrap();
        let t1 = token(&k1, "u1");
        lenient.verify(&t1, &expected()).await.unwrap();
        strict.verify(&t1, &expected()).await.unwrap();
        assert_eq!(server.requests(), 2);

        server.set(|c| c.fail_status = Some(503));
        for cache in [&lenient, &strict] {
            tokio::time::sleep(cache.status().fresh_for).await;
            wait_until("expiry", || cache.status().fresh_for == Duration::ZERO).await;
        }
        let claims = lenient.verify(&t1, &expected()).await.unwrap();
        assert_eq!(claims["sub"], "u1");
        assert!(lenient.status().last_error.unwrap().contains("503"));
        unavailable(strict.verify(&t1, &expected()).await);
        assert_eq!(server.requests(), 4, "one failed refresh each");

        // The issuer recovers: after the back-off the next verify refreshes.
        server.set(|c| c.fail_status = None);
        let deadline = Instant::now() + Duration::from_secs(10);
        while strict.verify(&t1, &expected()).await.is_err() {
            assert!(Instant::now() < deadline, "strict cache never recovered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(strict.status().last_error, None);
    })
    .await
}

#[test]
fn urls_the_built_in_client_cannot_fetch_are_refused() {
    for url in [
        "https://id.example/p/.well-known/jwks.json",
        "not a url",
        "/relative/jwks.json",
    ] {
        assert!(
            matches!(
                JwksCache::new(url, JwksOptions::default()),
                Err(VerifyError::InvalidJwksUrl(_))
            ),
            "{url}"
        );
    }
}

#[test]
fn from_jwks_skips_unusable_keys_and_drops_ambiguous_kids() {
    let (k1, k2, k3) = (key(), key(), key());
    let mut impostor = k3.public_jwk().clone();
    impostor["kid"] = k2.kid().into();
    let mut enc = k3.public_jwk().clone();
    enc["use"] = "enc".into();
    let mut hs = k3.public_jwk().clone();
    hs["alg"] = "HS256".into();
    let doc = json!({"keys": [
        k1.public_jwk(), k2.public_jwk(), impostor, enc, hs,
        {"kty": "oct", "k": "c2VjcmV0"}, "junk",
    ]});
    let set = KeySet::from_jwks(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.len(), 1);
    assert!(set.contains(k1.kid()));
    assert!(!set.contains(k2.kid()), "a kid listed twice is refused");
    assert!(!set.contains(k3.kid()));
    for bad in [&b"[]"[..], b"{}", b"not json", br#"{"keys": 3}"#] {
        assert!(matches!(
            KeySet::from_jwks(bad),
            Err(VerifyError::BadKey(_))
        ));
    }
}
