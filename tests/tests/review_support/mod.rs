//! Helpers shared by the `review_*` attack tests (findings of the outside review): the
//! smallest cluster that shows an attack, pools and users made through the public admin
//! API, and the answer of a call reduced to a comparable string.
#![allow(dead_code)]

pub use crate::support::pools::public_client;
use crate::support::pools::{exception, outbox, user_ref};
use signet_gateway::{GatewayConfig, GatewayHandle};
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway, test_gateway_config, TestCluster,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tonic::Status;

/// How long a change (a disabled client, a disabled user) may take to reach a gateway.
pub const PROPAGATION: Duration = Duration::from_secs(10);

/// One store and `n` gateways, each with `tweak` applied to its config.
pub struct Small {
    pub cluster: TestCluster,
    pub gws: Vec<GatewayHandle>,
}

impl Small {
    pub async fn start(n: usize, tweak: fn(&mut GatewayConfig)) -> Small {
        let cluster = TestCluster::start(1).await;
        let starts = (0..n).map(|_| {
            let mut c = test_gateway_config();
            tweak(&mut c);
            start_gateway(cluster.api_addrs(), c)
        });
        let gws = futures::future::join_all(starts).await;
        Small { cluster, gws }
    }

    /// The first gateway.
    pub fn gw(&self) -> &GatewayHandle {
        &self.gws[0]
    }

    pub async fn shutdown(self) {
        for g in self.gws {
            g.shutdown().await;
        }
        self.cluster.shutdown().await;
    }
}

/// The answer of a call as a string: "OK" or its exception name.
pub fn outcome<T>(r: &Result<T, Status>) -> String {
    match r {
        Ok(_) => "OK".to_string(),
        Err(s) => exception(s),
    }
}

/// The answer of a call as a string: "OK" or "{exception}: {message}".
pub fn outcome_msg<T>(r: &Result<T, Status>) -> String {
    match r {
        Ok(_) => "OK".to_string(),
        Err(s) => format!("{}: {}", exception(s), s.message()),
    }
}

pub fn attr(name: &str, value: &str) -> pb::AttributeType {
    pb::AttributeType {
        name: name.into(),
        value: value.into(),
    }
}

/// CreateUserPool as given: the pool id.
pub async fn create_pool(gw: &GatewayHandle, req: pb::CreateUserPoolRequest) -> String {
    admin_client(gw)
        .await
        .create_user_pool(admin(req))
        .await
        .unwrap_or_else(|e| panic!("create pool: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool
        .expect("pool")
        .id
}

/// CreateUserPool as given and a public client of it (no refresh token rotation):
/// (pool id, client id).
pub async fn pool_with_client(
    gw: &GatewayHandle,
    req: pb::CreateUserPoolRequest,
) -> (String, String) {
    let pool = create_pool(gw, req).await;
    let client = public_client(gw, &pool, false).await;
    (pool, client)
}

/// A pool that does not verify anything on its own (codes are asked for explicitly), and a
/// public client: (pool id, client id).
pub async fn manual_verify_pool(gw: &GatewayHandle) -> (String, String) {
    pool_with_client(
        gw,
        pb::CreateUserPoolRequest {
            pool_name: "manual-verify".into(),
            ..Default::default()
        },
    )
    .await
}

/// A confirmed user made by an admin (AdminCreateUser with `attrs`, nothing sent, then
/// `password` set as permanent).
pub async fn admin_user(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
    attrs: &[(&str, &str)],
    password: &str,
) {
    let mut a = admin_client(gw).await;
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool_id.into(),
        username: username.into(),
        user_attributes: attrs.iter().map(|(n, v)| attr(n, v)).collect(),
        temporary_password: "Temp-Pa55word!".into(),
        message_action: "SUPPRESS".into(),
    }))
    .await
    .unwrap_or_else(|e| panic!("create {username}: {}: {}", exception(&e), e.message()));
    a.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool_id.into(),
        username: username.into(),
        password: password.into(),
        permanent: true,
    }))
    .await
    .unwrap_or_else(|e| panic!("password of {username}: {}: {}", exception(&e), e.message()));
}

/// [`admin_user`] with the verified e-mail `{username}@example.com`, then `more` attributes.
pub async fn verified_admin_user(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
    more: &[(&str, &str)],
    password: &str,
) {
    let email = format!("{username}@example.com");
    let mut attrs = vec![("email", email.as_str()), ("email_verified", "true")];
    attrs.extend_from_slice(more);
    admin_user(gw, pool_id, username, &attrs, password).await;
}

/// A user's attributes as the admin API shows them.
pub async fn admin_attributes(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
) -> BTreeMap<String, String> {
    admin_client(gw)
        .await
        .admin_get_user(admin(user_ref(pool_id, username)))
        .await
        .unwrap_or_else(|e| panic!("get {username}: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user
        .expect("user")
        .attributes
        .into_iter()
        .map(|a| (a.name, a.value))
        .collect()
}

/// GetUser with an access token.
pub async fn get_user(
    gw: &GatewayHandle,
    access_token: &str,
) -> Result<pb::GetUserResponse, Status> {
    auth_client(gw)
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: access_token.into(),
        })
        .await
        .map(|r| r.into_inner())
}

/// The code of the outbox message for `username` sent to `destination` by a
/// `verify…` purpose (attribute verification).
pub async fn verification_code_sent_to(
    gw: &GatewayHandle,
    pool_id: &str,
    username: &str,
    destination: &str,
) -> String {
    let msgs = outbox(gw, pool_id).await;
    msgs.iter()
        .find(|m| {
            m.username == username
                && m.destination == destination
                && m.purpose.starts_with("verify")
        })
        .unwrap_or_else(|| panic!("no verification code for {username} to {destination}: {msgs:?}"))
        .code
        .clone()
}

/// A six-digit code that is not `code`.
pub fn other_code(code: &str, k: u32) -> String {
    let n: u32 = code.parse().expect("numeric code");
    format!("{:06}", (n + k) % 1_000_000)
}

/// Call `attempt` until it fails or `deadline` passes; the last answer either way (a
/// change may take a moment to reach a gateway's caches).
pub async fn until_refused<T, F, Fut>(deadline: Duration, mut attempt: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let end = Instant::now() + deadline;
    loop {
        let r = attempt().await;
        if r.is_err() || Instant::now() >= end {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
