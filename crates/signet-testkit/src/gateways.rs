//! Gateways in front of a [`crate::TestCluster`]: same public URL (so tokens from any of
//! them carry the same issuer), same server secret and admin secret, each on its own ports.

use signet_gateway::{GatewayConfig, GatewayHandle};
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::identity_client::IdentityClient;
use signet_proto::v1::sts_client::StsClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::Channel;

/// Public URL every test gateway claims; issuers are `{TEST_PUBLIC_URL}/{pool_id}`.
pub const TEST_PUBLIC_URL: &str = "http://signet.test";
/// Admin secret of test gateways.
pub const TEST_ADMIN_SECRET: &str = "test-admin-secret-0123456789";

/// Signing secret of test gateways' webhook and hook calls (`Signet-Signature`).
pub const TEST_WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789abcdef";

/// Settings for a test gateway: production password hashing, a 1 s JWKS max-age and no
/// extra margin, so a new gateway signs about a second after it starts. Tests run their
/// webhooks, hooks and identity providers as plain-http servers on loopback, so that is
/// allowed, and outbound calls are signed with [`TEST_WEBHOOK_SECRET`].
pub fn test_gateway_config() -> GatewayConfig {
    let secret = signet_crypto::Secret::new(vec![7u8; 32]).expect("32 bytes");
    let mut c = GatewayConfig::new(TEST_PUBLIC_URL, TEST_ADMIN_SECRET.into(), secret);
    c.jwks_max_age = Duration::from_secs(1);
    c.key_publish_margin = Duration::ZERO;
    c.webhook_secret = signet_crypto::Secret::new(TEST_WEBHOOK_SECRET.as_bytes().to_vec());
    c.allow_insecure_loopback_http = true;
    c
}

/// Start a gateway talking to `store_endpoints`, and wait until it is ready.
pub async fn start_gateway(store_endpoints: Vec<String>, config: GatewayConfig) -> GatewayHandle {
    start_gateway_on(signet_store::StoreClient::new(store_endpoints), config).await
}

/// Start a gateway reaching the stores through `store` (e.g. a mutual-TLS client with a
/// gateway certificate), and wait until it is ready.
pub async fn start_gateway_on(
    store: signet_store::StoreClient,
    config: GatewayConfig,
) -> GatewayHandle {
    start_gateway_groups(vec![store], config).await
}

/// Start a gateway in front of several store groups (one client each, group 0 first: the
/// directory), and wait until it is ready.
pub async fn start_gateway_groups(
    groups: Vec<signet_store::StoreClient>,
    config: GatewayConfig,
) -> GatewayHandle {
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind grpc");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let gw = signet_gateway::start_groups(config, groups, grpc, http)
        .await
        .expect("start gateway");
    crate::wait_for("gateway ready", Duration::from_secs(30), || {
        gw.is_ready().then_some(())
    })
    .await;
    gw
}

/// A gRPC channel to a gateway.
pub async fn channel(gw: &GatewayHandle) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", gw.grpc_addr()))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect to gateway")
}

/// Admin client of a gateway (add [`admin`] to each request).
pub async fn admin_client(gw: &GatewayHandle) -> UserPoolAdminClient<Channel> {
    UserPoolAdminClient::new(channel(gw).await)
}

/// Public auth client of a gateway.
pub async fn auth_client(gw: &GatewayHandle) -> UserPoolAuthClient<Channel> {
    UserPoolAuthClient::new(channel(gw).await)
}

/// Identity-pool and role admin client of a gateway (add [`admin`] to each request).
pub async fn identity_admin_client(gw: &GatewayHandle) -> IdentityAdminClient<Channel> {
    IdentityAdminClient::new(channel(gw).await)
}

/// Public identity client (GetId, GetCredentialsForIdentity, ...) of a gateway.
pub async fn identity_client(gw: &GatewayHandle) -> IdentityClient<Channel> {
    IdentityClient::new(channel(gw).await)
}

/// STS client (AssumeRoleWithWebIdentity, Authorize, ...) of a gateway.
pub async fn sts_client(gw: &GatewayHandle) -> StsClient<Channel> {
    StsClient::new(channel(gw).await)
}

/// Wrap `msg` in a request carrying the test admin credentials.
pub fn admin<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {TEST_ADMIN_SECRET}")
            .parse()
            .expect("ascii"),
    );
    r
}
