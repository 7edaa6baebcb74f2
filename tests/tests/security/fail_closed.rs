//! Fail closed, and keep secrets unreadable at rest:
//! * GlobalSignOut and RevokeToken that cannot commit (no store quorum) return an error,
//!   never OK; once the quorum is back, they work.
//! * Client secrets and one-time codes never appear in plaintext in the replicated state.

use crate::support::pools::*;
use signet_gateway::NotifierConfig;
use signet_proto::v1 as pb;
use signet_store::StoreClient;
use signet_testkit::{admin, admin_client, auth_client, test_gateway_config, TestCluster};
use std::time::Duration;

const PASSWORD: &str = "Fail-Cl0sed!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_and_revoke_without_quorum_are_errors() {
    let mut cluster = TestCluster::start(3).await;
    // A store client that gives up after 3 s, so the test does not wait 15 s.
    let store = StoreClient::with_timeouts(
        cluster.api_addrs(),
        Duration::from_secs(3),
        Duration::from_secs(1),
    );
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gw = signet_gateway::start(test_gateway_config(), store, grpc, http)
        .await
        .unwrap();
    signet_testkit::wait_for("gateway ready", Duration::from_secs(30), || {
        gw.is_ready().then_some(())
    })
    .await;
    let (pool, client) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.clone(),
        username: "erin".into(),
        temporary_password: "Temp-Passw0rd!".into(),
        message_action: "SUPPRESS".into(),
        ..Default::default()
    }))
    .await
    .unwrap();
    a.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool.clone(),
        username: "erin".into(),
        password: PASSWORD.into(),
        permanent: true,
    }))
    .await
    .unwrap();
    let mut auth = auth_client(&gw).await;
    let tokens = auth
        .initiate_auth(pb::InitiateAuthRequest {
            client_id: client.clone(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: params(&[("USERNAME", "erin"), ("PASSWORD", PASSWORD)]),
            client_metadata: Default::default(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication_result
        .unwrap();

    // Lose the quorum.
    let leader = cluster.wait_leader(Duration::from_secs(5)).await;
    let others: Vec<u64> = cluster
        .running()
        .into_iter()
        .filter(|i| *i != leader)
        .collect();
    cluster.kill(others[0]).await;
    cluster.kill(others[1]).await;

    let revoke = pb::RevokeTokenRequest {
        token: tokens.refresh_token.clone(),
        client_id: client.clone(),
        client_secret: String::new(),
    };
    let err = auth
        .revoke_token(revoke.clone())
        .await
        .expect_err("revoke must not report OK without a quorum");
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    let after_revoke = raft_state(&cluster, leader);
    // Sign-out first needs a linearizable read, which also needs the quorum: an error too.
    let err = auth
        .global_sign_out(pb::AccessTokenRequest {
            access_token: tokens.access_token.clone(),
        })
        .await
        .expect_err("sign-out must not report OK without a quorum");
    // Seen once in CI (not reproduced since): this answered "revoked", which takes a
    // committed revocation. Say what the surviving node saw, so a recurrence explains itself.
    assert_eq!(
        err.code(),
        tonic::Code::Unavailable,
        "{err:?}\nrunning: {:?}\nleader {leader} after the revoke: {after_revoke}\nnow: {}",
        cluster.running(),
        raft_state(&cluster, leader)
    );

    // Quorum back: the revocation goes through and the refresh token is dead.
    cluster.restart(others[0]).await;
    cluster.wait_leader(Duration::from_secs(20)).await;
    auth.revoke_token(revoke)
        .await
        .expect("revoke with a quorum");
    let err = auth
        .initiate_auth(pb::InitiateAuthRequest {
            client_id: client,
            auth_flow: "REFRESH_TOKEN_AUTH".into(),
            auth_parameters: params(&[("REFRESH_TOKEN", &tokens.refresh_token)]),
            client_metadata: Default::default(),
        })
        .await
        .unwrap_err();
    assert_eq!(exception(&err), "NotAuthorizedException");
    gw.shutdown().await;
    cluster.shutdown().await;
}

/// What node `id`'s Raft reports: role, leader, membership, log and apply positions.
fn raft_state(cluster: &TestCluster, id: u64) -> String {
    let m = cluster.node(id).raft().metrics().borrow().clone();
    format!(
        "state {:?}, term {}, leader {:?}, last log {:?}, committed/applied {:?}, membership {:?}, replication {:?}",
        m.state,
        m.current_term,
        m.current_leader,
        m.last_log_index,
        m.last_applied,
        m.membership_config.membership(),
        m.replication
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_codes_are_not_stored_in_plaintext() {
    let cluster = TestCluster::start(1).await;
    let mut cfg = test_gateway_config();
    // A webhook nobody listens on: the outbox (which exists to show codes) is off.
    cfg.notifier = NotifierConfig::Webhook("http://127.0.0.1:9/unused".into());
    let gw = signet_testkit::start_gateway(cluster.api_addrs(), cfg).await;
    let (pool, _) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    let created = a
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "backend".into(),
            generate_secret: true,
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .user_pool_client
        .unwrap();
    let secret = created.client_secret.clone();
    assert!(secret.len() >= 40, "secret shown once at creation");
    let described = a
        .describe_user_pool_client(admin(pb::ClientRef {
            user_pool_id: pool.clone(),
            client_id: created.client_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .user_pool_client
        .unwrap();
    assert!(described.client_secret.is_empty() && described.has_secret);

    // A code is issued for a new user; read nothing back but the stored rows.
    let mut auth = auth_client(&gw).await;
    let hash = signet_gateway::secret_hash(&secret, "frank", &created.client_id);
    auth.sign_up(pb::SignUpRequest {
        client_id: created.client_id.clone(),
        secret_hash: hash,
        username: "frank".into(),
        password: "Plain-Passw0rd!".into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: "frank@example.com".into(),
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let rows = cluster.node(1).state_machine().rows().unwrap();
    // Records are searched as their JSON (stored compressed, a plaintext secret would not
    // show in the raw bytes); index values that are not records, as they are.
    let readable = |v: &[u8]| -> Vec<u8> {
        signet_core::record_json(v)
            .map(|j| j.into_owned())
            .unwrap_or_else(|_| v.to_vec())
    };
    let all: Vec<u8> = rows
        .iter()
        .flat_map(|(k, v)| k.iter().copied().chain(readable(v)))
        .collect();
    let contains = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(
        !contains(secret.as_bytes()),
        "client secret stored in plaintext"
    );
    assert!(
        !contains(b"Plain-Passw0rd!"),
        "password stored in plaintext"
    );
    // Every stored code hash is 64 hex digits, never 6 digits.
    let codes: Vec<serde_json::Value> = rows
        .iter()
        .filter(|(k, _)| k[0] == signet_core::Table::Codes.prefix())
        .map(|(_, v)| serde_json::from_slice(&readable(v)).unwrap())
        .collect();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0]["code_hash"].as_str().unwrap().len(), 64);
    gw.shutdown().await;
    cluster.shutdown().await;
}
