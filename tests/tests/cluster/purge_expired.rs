//! The store leader purges expired refresh families and revoked access tokens through the
//! log: on every member they go, while records that could still matter stay.

use signet_core::{
    Command, Outcome, Query, QueryResult, RefreshFamily, RevokeAccessToken, RevokeRefreshFamily,
};
use signet_store::PurgeHousekeeping;
use signet_testkit::{wait_for, TestCluster};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn fast_purge(c: &mut signet_store::StoreConfig) {
    c.purge = PurgeHousekeeping {
        interval: Duration::from_millis(100),
        scan_rows: 3,
    };
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn family(cluster: &TestCluster, node: u64, id: &str) -> Option<RefreshFamily> {
    let q = Query::GetRefreshFamily {
        family_id: id.into(),
    };
    match cluster.node(node).state_machine().query(&q).unwrap() {
        QueryResult::RefreshFamily(f) => f,
        other => panic!("{other:?}"),
    }
}

pub(crate) fn revoked(cluster: &TestCluster, node: u64, jti: &str) -> bool {
    let q = Query::RevokedTokens {
        jtis: vec![jti.into()],
    };
    match cluster.node(node).state_machine().query(&q).unwrap() {
        QueryResult::Revoked(r) => r[0],
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_purges_expired_token_state_on_every_member() {
    let cluster = TestCluster::start_with(3, fast_purge).await;
    let client = cluster.client();
    let day = 86_400_000;
    let now = now_ms();
    let mut writes = Vec::new();
    // Expired long ago (more than the longest access-token life plus leeway).
    for i in 0..5 {
        writes.push(Command::RevokeRefreshFamily(RevokeRefreshFamily {
            family_id: format!("old-{i}"),
            expires_at_ms: now - 2 * day,
        }));
        writes.push(Command::RevokeAccessToken(RevokeAccessToken {
            jti: format!("old-jti-{i}"),
            expires_at_ms: now - 3_600_000,
        }));
    }
    // Refresh tokens expired a minute ago: a last access token may still be out there.
    writes.push(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "recent".into(),
        expires_at_ms: now - 60_000,
    }));
    writes.push(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "live".into(),
        expires_at_ms: now + day,
    }));
    writes.push(Command::RevokeAccessToken(RevokeAccessToken {
        jti: "live-jti".into(),
        expires_at_ms: now + 3_600_000,
    }));
    for c in writes {
        assert_eq!(client.write(c).await.unwrap().outcome, Outcome::Applied);
    }

    for node in cluster.running() {
        wait_for(
            &format!("node {node} to purge expired records"),
            Duration::from_secs(30),
            || {
                (0..5)
                    .all(|i| {
                        family(&cluster, node, &format!("old-{i}")).is_none()
                            && !revoked(&cluster, node, &format!("old-jti-{i}"))
                    })
                    .then_some(())
            },
        )
        .await;
        assert!(family(&cluster, node, "recent").unwrap().revoked);
        assert!(family(&cluster, node, "live").unwrap().revoked);
        assert!(revoked(&cluster, node, "live-jti"));
    }
    // Every member deleted the same rows.
    cluster.wait_converged(Duration::from_secs(20)).await;
    cluster.shutdown().await;
}
