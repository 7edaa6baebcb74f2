//! What the sign-in workloads (`refresh`, `codes`, `lockout`) share: a user pool of their
//! own (the sign-up workload's pool must hold only its users), one public app client with
//! password sign-in and refresh-token rotation, users with permanent passwords, and
//! public API clients that race each other through different gateways.

use super::endpoints::Endpoints;
use crate::rpc::{status_error, AdminChannel};
use anyhow::Context;
use signet_chaos::history::{Op, Outcome};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// What a sign-in workload's client holds: admin calls through one gateway, racers through
/// it and the next ones, the pool, the run's start (times are recorded from it) and the
/// call timeout.
pub struct Seat {
    pub id: u32,
    pub admin: UserPoolAdminClient<AdminChannel>,
    /// The racers' public API clients and gateway indexes.
    pub racers: Vec<(UserPoolAuthClient<Channel>, usize)>,
    pub pool: AuthPool,
    pub start: Instant,
    pub timeout: Duration,
}

impl Seat {
    /// Client `id`, its admin calls through gateway `g`, `n` racers on `g` and the next.
    pub async fn new(
        id: u32,
        e: &Endpoints,
        g: usize,
        pool: &AuthPool,
        (start, timeout): (Instant, Duration),
        n: usize,
    ) -> anyhow::Result<Seat> {
        Ok(Seat {
            id,
            admin: UserPoolAdminClient::new(super::channel(e, g).await?),
            racers: racers(e, g, n).await?,
            pool: pool.clone(),
            start,
            timeout,
        })
    }
}

/// The pool and app client of the sign-in workloads.
#[derive(Debug, Clone)]
pub struct AuthPool {
    pub pool_id: String,
    pub client_id: String,
}

/// Make the pool (user existence errors shown, so a lockout is told apart from a wrong
/// password) and its public client: USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, with
/// refresh-token rotation (`enable_refresh_token_rotation`).
pub async fn setup(admin: &mut UserPoolAdminClient<AdminChannel>) -> anyhow::Result<AuthPool> {
    let pool_id = admin
        .create_user_pool(pb::CreateUserPoolRequest {
            pool_name: "chaos-auth".into(),
            prevent_user_existence_errors: Some(false),
            ..Default::default()
        })
        .await
        .map_err(status_error)
        .context("CreateUserPool (sign-in workloads)")?
        .into_inner()
        .user_pool
        .context("no pool in the answer")?
        .id;
    let client_id = admin
        .create_user_pool_client(pb::CreateUserPoolClientRequest {
            user_pool_id: pool_id.clone(),
            client_name: "chaos-users".into(),
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            enable_refresh_token_rotation: true,
            ..Default::default()
        })
        .await
        .map_err(status_error)
        .context("CreateUserPoolClient (sign-in workloads)")?
        .into_inner()
        .user_pool_client
        .context("no client in the answer")?
        .client_id;
    Ok(AuthPool { pool_id, client_id })
}

/// A fresh password that meets the default policy.
pub fn password() -> String {
    format!("Chaos-{}-9a!", signet_crypto::random_hex_id())
}

/// `fut`, or DEADLINE_EXCEEDED after `timeout` (an unknown outcome).
pub async fn timed<T>(
    timeout: Duration,
    fut: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, tonic::Status> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r.map(tonic::Response::into_inner),
        Err(_) => Err(tonic::Status::deadline_exceeded("no answer in time")),
    }
}

/// Make a confirmed user with a permanent password (and a verified e-mail, for reset
/// codes).
pub async fn make_user(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<(), tonic::Status> {
    let email = format!("{username}@example.com");
    let attributes = crate::rpc::attributes(&[
        ("email".into(), email),
        ("email_verified".into(), "true".into()),
    ]);
    timed(
        timeout,
        admin.admin_create_user(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.into(),
            username: username.into(),
            user_attributes: attributes,
            message_action: "SUPPRESS".into(),
            ..Default::default()
        }),
    )
    .await?;
    timed(
        timeout,
        admin.admin_set_user_password(pb::AdminSetUserPasswordRequest {
            user_pool_id: pool_id.into(),
            username: username.into(),
            password: password.into(),
            permanent: true,
        }),
    )
    .await?;
    Ok(())
}

/// USER_PASSWORD_AUTH through `auth`.
pub async fn sign_in(
    auth: &mut UserPoolAuthClient<Channel>,
    client_id: &str,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<pb::AuthenticationResultType, tonic::Status> {
    let r = timed(
        timeout,
        auth.initiate_auth(pb::InitiateAuthRequest {
            client_id: client_id.into(),
            auth_flow: "USER_PASSWORD_AUTH".into(),
            auth_parameters: HashMap::from([
                ("USERNAME".to_string(), username.to_string()),
                ("PASSWORD".to_string(), password.to_string()),
            ]),
            client_metadata: Default::default(),
        }),
    )
    .await?;
    r.authentication_result
        .ok_or_else(|| tonic::Status::internal("a challenge, not tokens"))
}

/// The answer a wrong password gets once it was checked.
pub fn says_incorrect(s: &tonic::Status) -> bool {
    s.code() == tonic::Code::Unauthenticated && s.message().contains("Incorrect username")
}

/// The answer any password gets during a lockout.
pub fn says_locked(s: &tonic::Status) -> bool {
    s.code() == tonic::Code::Unauthenticated && s.message().contains("attempts exceeded")
}

/// The public API of every gateway, in order.
pub async fn public_clients(e: &Endpoints) -> anyhow::Result<Vec<UserPoolAuthClient<Channel>>> {
    let mut out = Vec::new();
    for g in &e.gateways {
        let channel = crate::rpc::connect_to(&g.grpc, &e.gateway_transport).await?;
        out.push(UserPoolAuthClient::new(channel));
    }
    Ok(out)
}

/// The history id of racer `r` of workload client `id`: racers make their calls at the
/// same time, so each needs an id of its own (`id` itself for the first; clients are
/// fewer than 2^16).
pub fn racer(id: u32, r: usize) -> u32 {
    id + ((r as u32) << 16)
}

/// `gateway-N` of gateway index `g`.
pub fn gateway_name(g: usize) -> String {
    format!("gateway-{}", g + 1)
}

/// Run one call as client `client` and record it: invoked now, completed when `call`
/// ends with a decided outcome (an unknown one has no completion).
pub async fn record<I, O>(
    client: u32,
    start: Instant,
    input: I,
    call: impl Future<Output = Outcome<O>>,
) -> Op<I, O> {
    let invoke_ns = start.elapsed().as_nanos() as u64;
    let outcome = call.await;
    let complete_ns =
        (!matches!(outcome, Outcome::Unknown)).then(|| start.elapsed().as_nanos() as u64);
    Op {
        client,
        input,
        invoke_ns,
        complete_ns,
        outcome,
    }
}

/// `n` racers' public API clients, on gateways `first`, `first + 1`, … (modulo their
/// number), with each one's gateway index.
pub async fn racers(
    e: &Endpoints,
    first: usize,
    n: usize,
) -> anyhow::Result<Vec<(UserPoolAuthClient<Channel>, usize)>> {
    let mut out = Vec::new();
    for r in 0..n {
        let g = (first + r) % e.gateways.len();
        let channel = crate::rpc::connect_to(&e.gateways[g].grpc, &e.gateway_transport).await?;
        out.push((UserPoolAuthClient::new(channel), g));
    }
    Ok(out)
}
