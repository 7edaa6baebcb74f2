//! Helpers for user-pool tests: a cluster with two gateways, a pool and a client.

use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, start_gateway, test_gateway_config, TestCluster};

/// Three stores and two gateways.
pub struct Env {
    pub cluster: TestCluster,
    pub a: GatewayHandle,
    pub b: GatewayHandle,
}

impl Env {
    pub async fn start() -> Env {
        let cluster = TestCluster::start(3).await;
        let a = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
        let b = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
        Env { cluster, a, b }
    }

    pub async fn shutdown(self) {
        self.a.shutdown().await;
        self.b.shutdown().await;
        self.cluster.shutdown().await;
    }
}

/// A pool that verifies e-mail at sign-up, and a public client with password and refresh
/// flows. Returns (pool id, client id).
pub async fn pool_and_client(gw: &GatewayHandle, rotation: bool) -> (String, String) {
    let mut a = admin_client(gw).await;
    let pool = a
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: "journey".into(),
            auto_verified_attributes: vec!["email".into()],
            ..Default::default()
        }))
        .await
        .expect("create pool")
        .into_inner()
        .user_pool
        .expect("pool");
    let client = a
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.id.clone(),
            client_name: "web".into(),
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            enable_refresh_token_rotation: rotation,
            ..Default::default()
        }))
        .await
        .expect("create client")
        .into_inner()
        .user_pool_client
        .expect("client");
    (pool.id, client.client_id)
}

/// The latest outbox code for `username` and `purpose` (`confirm`, `reset`, `verify:email`).
pub async fn outbox_code(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
    purpose: &str,
) -> String {
    let mut a = admin_client(gw).await;
    let msgs = a
        .list_outbox(admin(pb::UserPoolRef {
            user_pool_id: pool_id.into(),
        }))
        .await
        .expect("outbox")
        .into_inner()
        .messages;
    msgs.into_iter()
        .find(|m| m.username == username && m.purpose == purpose)
        .unwrap_or_else(|| panic!("no {purpose} code for {username}"))
        .code
}

/// The Cognito exception name of a failed call.
pub fn exception(s: &tonic::Status) -> String {
    signet_gateway::exception_name(s)
        .unwrap_or_else(|| format!("<no detail: {:?} {}>", s.code(), s.message()))
}

pub fn params(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
