//! Revocation and on-demand rotation of signing keys:
//! * a revoked key leaves every gateway's JWKS at once; tokens it signed are refused by
//!   Signet's APIs and by signet-verify with a fresh JWKS, other tokens still pass; its
//!   owner stops signing with it and rotates;
//! * RotateSigningKeys makes every gateway rotate.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway, test_gateway_config, wait_for_async,
    TestCluster,
};
use std::time::Duration;

const PASSWORD: &str = "Rev0ke-Me!";

fn config() -> signet_gateway::GatewayConfig {
    let mut c = test_gateway_config();
    c.jwks_max_age = Duration::from_millis(200);
    c.password = signet_crypto::PasswordParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };
    c
}

async fn get_user(gw: &signet_gateway::GatewayHandle, token: &str) -> Result<String, String> {
    auth_client(gw)
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: token.into(),
        })
        .await
        .map(|r| r.into_inner().username)
        .map_err(|e| exception(&e))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_is_refused_and_its_owner_rotates() {
    let cluster = TestCluster::start(1).await;
    let a = start_gateway(cluster.api_addrs(), config()).await;
    let b = start_gateway(cluster.api_addrs(), config()).await;
    let (pool, client) = pool_and_client(&a, false).await;
    confirmed_user(&a, &pool, &client, "jo", "jo@example.com", PASSWORD).await;
    let on_a = sign_in(&a, &client, "jo", PASSWORD).await;
    let on_b = sign_in(&b, &client, "jo", PASSWORD).await;
    let revoked = kid_of(&on_a.access_token);
    assert_ne!(revoked, kid_of(&on_b.access_token));
    assert_eq!(get_user(&b, &on_a.access_token).await.as_deref(), Ok("jo"));

    admin_client(&a)
        .await
        .revoke_signing_key(admin(pb::KidRef {
            kid: revoked.clone(),
        }))
        .await
        .expect("revoke");

    // Out of both JWKS, refused by both gateways; B's token unaffected.
    for gw in [&a, &b] {
        wait_for_async("revoked kid refused", Duration::from_secs(10), || async {
            (get_user(gw, &on_a.access_token).await == Err("NotAuthorizedException".into()))
                .then_some(())
        })
        .await;
        let keys = jwks(gw, &pool).await;
        assert!(!keys.contains(&revoked));
        assert!(signet_verify::verify(
            &on_a.access_token,
            &keys,
            &expected(&pool, &client, signet_verify::TokenUse::Access)
        )
        .is_err());
        signet_verify::verify(
            &on_b.access_token,
            &keys,
            &expected(&pool, &client, signet_verify::TokenUse::Access),
        )
        .expect("other key still valid");
        assert_eq!(get_user(gw, &on_b.access_token).await.as_deref(), Ok("jo"));
    }
    let listed = admin_client(&a)
        .await
        .list_signing_keys(admin(pb::Empty {}))
        .await
        .unwrap()
        .into_inner()
        .keys;
    let k = listed
        .iter()
        .find(|k| k.kid == revoked)
        .expect("tombstone kept");
    assert_eq!(k.state, "revoked");

    // A rotated away from the revoked key and signs again with a new one.
    let fresh = wait_for_async(
        "A signs with a new key",
        Duration::from_secs(20),
        || async {
            let t = auth_client(&a)
                .await
                .initiate_auth(password_auth(&client, "jo", PASSWORD))
                .await
                .ok()?
                .into_inner()
                .authentication_result?;
            (kid_of(&t.access_token) != revoked).then_some(t)
        },
    )
    .await;
    assert_eq!(get_user(&b, &fresh.access_token).await.as_deref(), Ok("jo"));
    a.shutdown().await;
    b.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_signing_keys_rotates_every_gateway() {
    let cluster = TestCluster::start(1).await;
    let a = start_gateway(cluster.api_addrs(), config()).await;
    let b = start_gateway(cluster.api_addrs(), config()).await;
    let (pool, client) = pool_and_client(&a, false).await;
    confirmed_user(&a, &pool, &client, "kim", "kim@example.com", PASSWORD).await;
    let before_a = kid_of(&sign_in(&a, &client, "kim", PASSWORD).await.id_token);
    let before_b = kid_of(&sign_in(&b, &client, "kim", PASSWORD).await.id_token);
    admin_client(&b)
        .await
        .rotate_signing_keys(admin(pb::Empty {}))
        .await
        .expect("rotate");
    for (gw, before) in [(&a, before_a), (&b, before_b)] {
        let t = wait_for_async("gateway rotated", Duration::from_secs(20), || async {
            let t = auth_client(gw)
                .await
                .initiate_auth(password_auth(&client, "kim", PASSWORD))
                .await
                .ok()?
                .into_inner()
                .authentication_result?;
            (kid_of(&t.id_token) != before).then_some(t)
        })
        .await;
        // Old tokens keep verifying: the rotated-out key stays published.
        let keys = jwks(gw, &pool).await;
        assert!(keys.contains(&before));
        signet_verify::verify(
            &t.id_token,
            &keys,
            &expected(&pool, &client, signet_verify::TokenUse::Id),
        )
        .unwrap();
    }
    // The old keys are retired right after the new ones start signing.
    wait_for_async(
        "both gateways' first keys retired",
        Duration::from_secs(10),
        || async {
            let listed = admin_client(&a)
                .await
                .list_signing_keys(admin(pb::Empty {}))
                .await
                .ok()?
                .into_inner()
                .keys;
            (listed.iter().filter(|k| k.state == "retired").count() == 6).then_some(())
        },
    )
    .await;
    a.shutdown().await;
    b.shutdown().await;
    cluster.shutdown().await;
}
