//! Black-box: the built `signet dev` binary starts the store and a gateway, reports healthy
//! and ready, keeps its data (and its generated admin secret) across a SIGTERM restart,
//! serves the pool's JWKS over HTTP, and exits cleanly.

use crate::support::start_dev;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn channel(addr: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

async fn health(addr: &str) -> i32 {
    HealthClient::new(channel(addr).await)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status
}

fn with_secret<T>(msg: T, secret: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    r
}

async fn http_get(addr: &str, path: &str) -> (u16, String) {
    signet_testkit::http_get(addr, path)
        .await
        .unwrap_or_else(|| panic!("no answer from {addr}{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_starts_healthy_and_keeps_data_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let first = start_dev(&data).await;
    assert_eq!(first.ready["role"], "dev");
    let store_addr = first.ready["api_addr"].as_str().unwrap().to_string();
    let grpc = first.ready["grpc_addr"].as_str().unwrap().to_string();
    let http = first.ready["http_addr"].as_str().unwrap().to_string();
    assert_eq!(health(&store_addr).await, ServingStatus::Serving as i32);
    assert_eq!(health(&grpc).await, ServingStatus::Serving as i32);
    assert_eq!(http_get(&http, "/readyz").await.0, 200);

    let secrets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("dev-secrets.json")).unwrap())
            .unwrap();
    let secret = secrets["admin_secret"].as_str().unwrap().to_string();
    let mut admin = UserPoolAdminClient::new(channel(&grpc).await);
    // Admin calls are closed without the secret.
    let refused = admin
        .create_user_pool(pb::CreateUserPoolRequest {
            pool_name: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let pool = admin
        .create_user_pool(with_secret(
            pb::CreateUserPoolRequest {
                pool_name: "black box".into(),
                ..Default::default()
            },
            &secret,
        ))
        .await
        .expect("create pool")
        .into_inner()
        .user_pool
        .unwrap();
    assert_eq!(first.terminate(Duration::from_secs(20)).await, Some(0));

    let second = start_dev(&data).await;
    let grpc = second.ready["grpc_addr"].as_str().unwrap().to_string();
    let http = second.ready["http_addr"].as_str().unwrap().to_string();
    let mut admin = UserPoolAdminClient::new(channel(&grpc).await);
    let again = admin
        .describe_user_pool(with_secret(
            pb::UserPoolRef {
                user_pool_id: pool.id.clone(),
            },
            &secret,
        ))
        .await
        .expect("pool survives the restart, and so does the admin secret")
        .into_inner()
        .user_pool
        .unwrap();
    assert_eq!(again.name, "black box");
    let (status, body) = http_get(&http, &format!("/{}/.well-known/jwks.json", pool.id)).await;
    assert_eq!(status, 200);
    let jwks: serde_json::Value = serde_json::from_str(&body).unwrap();
    // The first run's keys and this run's keys are published (three algorithms each).
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 6);
    assert_eq!(second.terminate(Duration::from_secs(20)).await, Some(0));
}
