//! `JwksCache` against a counting JWKS server: caching, single-flight refetch on an unknown
//! kid, the refetch rate limit, max-age and ETag revalidation.

mod common;

use common::{expected, key, token, wait_until, within, JwksServer};
use signet_verify::{JwksCache, JwksOptions, VerifyError, MAX_MAX_AGE};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cache(server: &JwksServer, opts: JwksOptions) -> Arc<JwksCache> {
    Arc::new(JwksCache::new(&server.url, opts).unwrap())
}

/// Wait (by the cache's own clock) until the cached set has expired.
async fn wait_for_expiry(cache: &JwksCache) {
    tokio::time::sleep(cache.status().fresh_for).await;
    wait_until("the key set to expire", || {
        cache.status().fresh_for == Duration::ZERO
    })
    .await;
}

#[tokio::test]
async fn a_verified_token_is_fetched_once_then_served_from_cache() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let cache = cache(&server, JwksOptions::default());
        assert_eq!(
            server.requests(),
            0,
            "nothing fetched before the first token"
        );

        let claims = cache.verify(&token(&k1, "u1"), &expected()).await.unwrap();
        assert_eq!(claims["sub"], "u1");
        assert_eq!(server.requests(), 1);

        let claims = cache.verify(&token(&k1, "u2"), &expected()).await.unwrap();
        assert_eq!(claims["sub"], "u2");
        assert_eq!(server.requests(), 1, "second verify must not refetch");

        let status = cache.status();
        assert_eq!((status.keys, status.fetches), (1, 1));
        assert_eq!(status.last_error, None);
        // No Cache-Control: the 60 s default.
        assert!(status.fresh_for > Duration::from_secs(55), "{status:?}");
        assert!(status.fresh_for <= Duration::from_secs(60), "{status:?}");
        // The strict rules still apply through the cache.
        let mut other_client = expected();
        other_client.clients = Some(vec!["c2".into()]);
        assert_eq!(
            cache.verify(&token(&k1, "u1"), &other_client).await,
            Err(VerifyError::WrongAudience)
        );
        assert_eq!(server.requests(), 1);
    })
    .await
}

#[tokio::test]
async fn oversized_and_malformed_tokens_are_refused_without_a_fetch() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let cache = cache(&server, JwksOptions::default());
        let good = token(&k1, "u1");
        let big = format!("{good}{}", "A".repeat(signet_verify::MAX_TOKEN_BYTES));
        assert_eq!(
            cache.verify(&big, &expected()).await,
            Err(VerifyError::TooLarge)
        );
        for bad in ["", "abc", "a.b", "!!.??.##"] {
            assert!(matches!(
                cache.verify(bad, &expected()).await,
                Err(VerifyError::Malformed(_))
            ));
        }
        // A header without a kid cannot name a key.
        let no_kid = format!(
            "{}.{}",
            "eyJhbGciOiJFZERTQSJ9", // {"alg":"EdDSA"}
            good.split_once('.').unwrap().1
        );
        assert_eq!(
            cache.verify(&no_kid, &expected()).await,
            Err(VerifyError::UnknownKey)
        );
        assert_eq!(server.requests(), 0);
    })
    .await
}

#[tokio::test]
async fn concurrent_verifies_of_a_new_kid_share_one_refetch() {
    within(async {
        let (k1, k2) = (key(), key());
        let server = JwksServer::start(&[&k1]).await;
        // No rate limit: only the single flight can keep this to one refetch.
        let opts = JwksOptions {
            min_refetch_interval: Duration::ZERO,
            ..JwksOptions::default()
        };
        let cache = cache(&server, opts);
        cache.verify(&token(&k1, "u1"), &expected()).await.unwrap();
        assert_eq!(server.requests(), 1);

        // The issuer publishes k2; its answer is held until every verify is waiting.
        server.add_key(&k2);
        server.set(|c| c.gated = true);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let cache = cache.clone();
                let t = token(&k2, &format!("user{i}"));
                tokio::spawn(async move { cache.verify(&t, &expected()).await })
            })
            .collect();
        wait_until("the refetch to reach the server", || server.requests() == 2).await;
        // Let the held answer (and any wrongly duplicated fetch) through.
        server.gate.add_permits(1000);
        for (i, task) in tasks.into_iter().enumerate() {
            let claims = task.await.unwrap().unwrap();
            assert_eq!(claims["sub"], format!("user{i}"));
        }
        assert_eq!(server.requests(), 2, "exactly one refetch for 20 misses");
        assert_eq!(cache.status().keys, 2);
        assert_eq!(cache.status().fetches, 2);
    })
    .await
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    within(async {
        let (k1, k2, k3) = (key(), key(), key());
        let server = JwksServer::start(&[&k1]).await;
        let cache = cache(&server, JwksOptions::default()); // 10 s interval
        cache.verify(&token(&k1, "u1"), &expected()).await.unwrap();

        // A genuinely new kid: one refetch, at once (the first fetch does not count).
        server.add_key(&k2);
        let claims = cache.verify(&token(&k2, "u2"), &expected()).await.unwrap();
        assert_eq!(claims["sub"], "u2");
        assert_eq!(server.requests(), 2);

        // A flood of random kids, sequential and concurrent: no further fetch.
        for i in 0..30 {
            assert_eq!(
                cache.verify(&token(&key(), "x"), &expected()).await,
                Err(VerifyError::UnknownKey),
                "random kid {i}"
            );
        }
        let flood: Vec<_> = (0..30)
            .map(|_| {
                let (cache, t) = (cache.clone(), token(&key(), "x"));
                tokio::spawn(async move { cache.verify(&t, &expected()).await })
            })
            .collect();
        for task in flood {
            assert_eq!(task.await.unwrap(), Err(VerifyError::UnknownKey));
        }
        assert_eq!(server.requests(), 2, "rate limit: no refetch within 10 s");

        // The price: a key published within the interval waits for it (or for max-age).
        server.add_key(&k3);
        assert_eq!(
            cache.verify(&token(&k3, "u3"), &expected()).await,
            Err(VerifyError::UnknownKey)
        );
        // Known keys keep verifying without fetches.
        cache.verify(&token(&k2, "u2"), &expected()).await.unwrap();
        assert_eq!(server.requests(), 2);
    })
    .await
}

#[tokio::test]
async fn the_refetch_interval_ends() {
    within(async {
        let (k1, k2) = (key(), key());
        let server = JwksServer::start(&[&k1]).await;
        let interval = Duration::from_millis(300);
        let opts = JwksOptions {
            min_refetch_interval: interval,
            ..JwksOptions::default()
        };
        let cache = cache(&server, opts);
        cache.verify(&token(&k1, "u1"), &expected()).await.unwrap();
        let before_miss = Instant::now();
        assert_eq!(
            cache.verify(&token(&k2, "u2"), &expected()).await,
            Err(VerifyError::UnknownKey)
        );
        assert_eq!(server.requests(), 2, "the miss refetched once");
        server.add_key(&k2);
        // The refetch started after `before_miss`, so the interval is over by this deadline.
        tokio::time::sleep_until((before_miss + interval).into()).await;
        let claims = cache.verify(&token(&k2, "u2"), &expected()).await.unwrap();
        assert_eq!(claims["sub"], "u2");
        assert_eq!(server.requests(), 3);
    })
    .await
}

#[tokio::test]
async fn max_age_is_honoured_and_etag_revalidates() {
    within(async {
        let (k1, k2) = (key(), key());
        let server = JwksServer::start(&[&k1]).await;
        server.set(|c| {
            c.cache_control = Some("public, max-age=1".into());
            c.etag = Some("\"v1\"".into());
        });
        let cache = cache(&server, JwksOptions::default());
        let t1 = token(&k1, "u1");
        cache.verify(&t1, &expected()).await.unwrap();
        assert_eq!(server.requests(), 1);
        let fresh = cache.status().fresh_for;
        assert!(
            fresh > Duration::ZERO && fresh <= Duration::from_secs(1),
            "{fresh:?}"
        );

        // Past max-age: the next verify revalidates; same ETag, so a 304 keeps the set.
        wait_for_expiry(&cache).await;
        cache.verify(&t1, &expected()).await.unwrap();
        assert_eq!((server.requests(), server.not_modified()), (2, 1));
        let status = cache.status();
        assert_eq!((status.keys, status.fetches), (1, 2));
        assert!(status.fresh_for > Duration::ZERO, "304 extends the age");
        cache.verify(&t1, &expected()).await.unwrap();
        assert_eq!(server.requests(), 2, "fresh again: no fetch");

        // A new document (new ETag): after expiry a 200 replaces the set.
        server.add_key(&k2);
        server.set(|c| c.etag = Some("\"v2\"".into()));
        wait_for_expiry(&cache).await;
        cache.verify(&t1, &expected()).await.unwrap();
        assert_eq!((server.requests(), server.not_modified()), (3, 1));
        assert_eq!(cache.status().keys, 2);
        cache.verify(&token(&k2, "u2"), &expected()).await.unwrap();
        assert_eq!(server.requests(), 3, "k2 came with the refresh");
    })
    .await
}

#[tokio::test]
async fn max_age_is_bounded() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        for (header, low, high) in [
            ("max-age=0", Duration::ZERO, Duration::from_secs(1)),
            ("no-store", Duration::ZERO, Duration::from_secs(1)),
            (
                "max-age=86400",
                MAX_MAX_AGE - Duration::from_secs(10),
                MAX_MAX_AGE,
            ),
            (
                "max-age=300",
                Duration::from_secs(290),
                Duration::from_secs(300),
            ),
        ] {
            server.set(|c| c.cache_control = Some(header.into()));
            let cache = cache(&server, JwksOptions::default());
            assert_eq!(cache.refresh().await, Ok(1));
            let fresh = cache.status().fresh_for;
            assert!(fresh > low && fresh <= high, "{header}: {fresh:?}");
        }
    })
    .await
}
