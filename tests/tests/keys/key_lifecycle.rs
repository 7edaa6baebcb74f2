//! Signing keys live and die through the log:
//! * 50 gateway restarts: keys of gateways that stopped renewing their lease are retired by
//!   the store leader and dropped after the overlap, so the key set stays bounded;
//! * rotation under continuous issuance on two gateways: every token's kid is in both
//!   gateways' JWKS when the token is issued, and every token still verifies afterwards.

use crate::support::pools::*;
use signet_core::{Query, QueryResult, SigningKey};
use signet_gateway::GatewayHandle;
use signet_store::KeyHousekeeping;
use signet_testkit::{start_gateway, test_gateway_config, wait_for, wait_for_async, TestCluster};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn fast_housekeeping(c: &mut signet_store::StoreConfig) {
    c.key_housekeeping = KeyHousekeeping {
        interval: Duration::from_millis(100),
        lease_grace: Duration::from_millis(300),
        overlap: Duration::from_millis(500),
    };
}

fn keys(cluster: &TestCluster) -> Vec<SigningKey> {
    let node = cluster.node(cluster.running()[0]);
    match node.state_machine().query(&Query::ListSigningKeys).unwrap() {
        QueryResult::SigningKeys(k) => k,
        other => panic!("{other:?}"),
    }
}

fn quick_gateway_config() -> signet_gateway::GatewayConfig {
    let mut c = test_gateway_config();
    c.jwks_max_age = Duration::ZERO;
    c.key_lease = Duration::from_millis(600);
    c.key_overlap = Duration::from_millis(500);
    c.password = signet_crypto::PasswordParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_set_stays_bounded_across_50_gateway_restarts() {
    let cluster = TestCluster::start_with(1, fast_housekeeping).await;
    let mut most = 0;
    for _ in 0..50 {
        let gw = start_gateway(cluster.api_addrs(), quick_gateway_config()).await;
        gw.shutdown().await;
        most = most.max(keys(&cluster).len());
    }
    // Without retirement there would be 150 keys; with it, only the last second's.
    assert!(most <= 30, "key set grew to {most}");
    let alive = start_gateway(cluster.api_addrs(), quick_gateway_config()).await;
    let owner = alive.gateway().config().instance.clone();
    let left = wait_for(
        "dead gateways' keys dropped",
        Duration::from_secs(20),
        || {
            let k = keys(&cluster);
            k.iter().all(|k| k.owner == owner).then_some(k)
        },
    )
    .await;
    assert_eq!(left.len(), 3, "one key per algorithm for the live gateway");
    alive.shutdown().await;
    cluster.shutdown().await;
}

async fn jwks_kids(gw: &GatewayHandle, pool: &str) -> BTreeSet<String> {
    let (status, _, body) = crate::support::http::get(
        &gw.http_addr().to_string(),
        &format!("/{pool}/.well-known/jwks.json"),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_issuance_never_signs_with_an_unpublished_kid() {
    let cluster = TestCluster::start_with(1, fast_housekeeping).await;
    let cfg = || {
        let mut c = quick_gateway_config();
        c.jwks_max_age = Duration::from_millis(300);
        c.rotation_interval = Duration::from_millis(1200);
        // Long enough that every token of this test verifies at the end.
        c.key_overlap = Duration::from_secs(120);
        c
    };
    let a = start_gateway(cluster.api_addrs(), cfg()).await;
    let b = start_gateway(cluster.api_addrs(), cfg()).await;
    let (pool, client) = pool_and_client(&a, false).await;
    confirmed_user(
        &a,
        &pool,
        &client,
        "ivy",
        "ivy@example.com",
        "Rotat1on-Test!",
    )
    .await;

    let started = Instant::now();
    let mut tokens = Vec::new();
    let mut kids_a = BTreeSet::new();
    while started.elapsed() < Duration::from_millis(4500) {
        for gw in [&a, &b] {
            let t = sign_in(gw, &client, "ivy", "Rotat1on-Test!").await;
            let kid = kid_of(&t.id_token);
            // Published before it signs: both gateways already serve it.
            assert!(
                jwks_kids(&a, &pool).await.contains(&kid),
                "kid {kid} not in A's JWKS yet"
            );
            assert!(
                jwks_kids(&b, &pool).await.contains(&kid),
                "kid {kid} not in B's JWKS yet"
            );
            if std::ptr::eq(gw, &a) {
                kids_a.insert(kid);
            }
            tokens.push(t.id_token);
        }
    }
    assert!(
        kids_a.len() >= 3,
        "gateway A rotated {} times",
        kids_a.len() - 1
    );
    // Every token verifies against either gateway's JWKS afterwards (retired keys stay
    // published for the overlap).
    for gw in [&a, &b] {
        let keys = jwks(gw, &pool).await;
        for t in &tokens {
            signet_verify::verify(
                t,
                &keys,
                &expected(&pool, &client, signet_verify::TokenUse::Id),
            )
            .expect("token verifies");
        }
    }
    a.shutdown().await;
    b.shutdown().await;
    cluster.shutdown().await;
}

/// A gateway that is alive but whose lease the stores judged lapsed (it was cut off or
/// frozen longer than its lease) finds its keys retired. A retired key leaves the JWKS one
/// overlap after its retirement, whatever it signed later, so the gateway must stop signing
/// with it at once and publish a new one, not go on signing with a key on its way out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_gateway_whose_keys_the_stores_retire_stops_signing_with_them() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), quick_gateway_config()).await;
    let (pool, client) = pool_and_client(&gw, false).await;
    confirmed_user(
        &gw,
        &pool,
        &client,
        "lea",
        "lea@example.com",
        "Lease-Lapse-1!",
    )
    .await;
    let before = kid_of(
        &sign_in(&gw, &client, "lea", "Lease-Lapse-1!")
            .await
            .id_token,
    );

    // What the housekeeper proposes for a lapsed lease, as of 5 s from now: the lease
    // (renewed every 200 ms for 600 ms) has run out by then, so the store applies it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let written = cluster
        .client()
        .write(signet_core::Command::RetireKey(signet_core::RetireKey {
            kid: before.clone(),
            reason: signet_core::RetireReason::LeaseLapsed,
            at_ms: now + 5_000,
            drop_after_ms: now + 3_600_000,
        }))
        .await
        .expect("retirement written");
    assert_eq!(written.outcome, signet_core::Outcome::Applied);

    // The next token that comes back is signed with a new key, published in the JWKS.
    let mut auth = signet_testkit::auth_client(&gw).await;
    let after = wait_for_async(
        "a token signed with a new key",
        Duration::from_secs(20),
        || {
            let mut auth = auth.clone();
            let (client, before) = (client.clone(), before.clone());
            async move {
                let r = auth
                    .initiate_auth(password_auth(&client, "lea", "Lease-Lapse-1!"))
                    .await
                    .ok()?;
                let kid = kid_of(&r.into_inner().authentication_result?.id_token);
                (kid != before).then_some(kid)
            }
        },
    )
    .await;
    assert!(jwks_kids(&gw, &pool).await.contains(&after));
    // Nothing comes back signed with the retired key any more.
    for _ in 0..5 {
        let r = auth
            .initiate_auth(password_auth(&client, "lea", "Lease-Lapse-1!"))
            .await
            .expect("sign in")
            .into_inner();
        assert_ne!(kid_of(&r.authentication_result.unwrap().id_token), before);
    }
    gw.shutdown().await;
    cluster.shutdown().await;
}
