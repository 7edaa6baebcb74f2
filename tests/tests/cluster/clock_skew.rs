//! Commands carry their proposer's clock, and apply decides with it (code expiry, lockout
//! windows, purges, key leases). The store leader refuses a command whose clock is further
//! than `MAX_PROPOSER_SKEW` from its own: a gateway with a clock ahead cannot purge a
//! revocation that still matters (un-revoking a token), and one behind cannot redeem a code
//! past its expiry.

use super::purge_expired::{now_ms, revoked};
use signet_core::{Command, PurgeExpired, RevokeAccessToken};
use signet_store::{ClientError, MAX_PROPOSER_SKEW};
use signet_testkit::TestCluster;
use std::time::Duration;
use tonic::Code;

fn purge_at(now_ms: u64, jti: &str) -> Command {
    Command::PurgeExpired(PurgeExpired {
        now_ms,
        families: vec![],
        revoked_tokens: vec![jti.into()],
        revocations: vec![],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposer_clock_beyond_the_bound_is_refused_and_changes_nothing() {
    let cluster = TestCluster::start(3).await;
    let client = cluster.client();
    let hour = 3_600_000;
    let skew = MAX_PROPOSER_SKEW.as_millis() as u64;
    // A token revoked for the hour it still lives.
    client
        .write(Command::RevokeAccessToken(RevokeAccessToken {
            jti: "live".into(),
            expires_at_ms: now_ms() + hour,
        }))
        .await
        .unwrap();

    // The attack: a proposer whose clock runs two hours ahead purges it as "expired".
    for (clock, side) in [
        (now_ms() + 2 * hour, "ahead of"),
        (now_ms() - 2 * hour, "behind"),
    ] {
        match client.write(purge_at(clock, "live")).await {
            Err(ClientError::Refused { code, message }) => {
                assert_eq!(code, Code::InvalidArgument, "{message}");
                assert!(message.contains("purge_expired"), "{message}");
                assert!(message.contains(side), "{message}");
                assert!(message.contains("NTP"), "{message}");
            }
            other => panic!("a clock {side} the leader's by 2 h was accepted: {other:?}"),
        }
    }
    // Just past the bound: still refused; well within it: applied.
    assert!(matches!(
        client
            .write(purge_at(now_ms() + skew + 5_000, "live"))
            .await,
        Err(ClientError::Refused {
            code: Code::InvalidArgument,
            ..
        })
    ));
    client
        .write(purge_at(now_ms() + skew / 2, "live"))
        .await
        .expect("a clock within the bound is accepted");

    // Nothing un-revoked anywhere: the refused purges never reached the log, and the
    // accepted one saw the token still alive.
    cluster.wait_converged(Duration::from_secs(20)).await;
    for node in cluster.running() {
        assert!(
            revoked(&cluster, node, "live"),
            "node {node} forgot the revocation"
        );
    }
    cluster.shutdown().await;
}
