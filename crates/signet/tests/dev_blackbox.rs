//! Black-box: the built `signet dev` binary starts, reports healthy over gRPC health, keeps
//! its data across a SIGTERM restart, and exits cleanly.

use signet_core::{Command, Outcome, Query, QueryResult, UserPool};
use signet_store::{ReadConsistency, StoreClient};
use signet_testkit::ChildProcess;
use std::path::Path;
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn start_dev(data_dir: &Path) -> ChildProcess {
    let bin = Path::new(env!("CARGO_BIN_EXE_signet"));
    let dir = data_dir.to_str().expect("utf-8 temp dir");
    ChildProcess::start(
        bin,
        &["dev", "--data-dir", dir, "--api-addr", "127.0.0.1:0"],
        Duration::from_secs(60),
    )
    .await
}

async fn health(addr: &str) -> i32 {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = HealthClient::new(channel);
    client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_starts_healthy_and_keeps_data_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let first = start_dev(&data).await;
    assert_eq!(first.ready["role"], "dev");
    let addr = first.ready["api_addr"]
        .as_str()
        .expect("api_addr")
        .to_string();
    assert_eq!(health(&addr).await, ServingStatus::Serving as i32);

    let client = StoreClient::new(vec![addr.clone()]);
    let pool = UserPool::new("eu-dev_blackbox", "black box", 42);
    let w = client
        .write(Command::CreateUserPool { pool: pool.clone() })
        .await
        .expect("write");
    assert_eq!(w.outcome, Outcome::Applied);
    assert_eq!(first.terminate(Duration::from_secs(20)).await, Some(0));

    let second = start_dev(&data).await;
    let addr = second.ready["api_addr"]
        .as_str()
        .expect("api_addr")
        .to_string();
    assert_eq!(health(&addr).await, ServingStatus::Serving as i32);
    let client = StoreClient::new(vec![addr]);
    let (res, applied) = client
        .read(
            &Query::GetUserPool {
                pool_id: pool.id.clone(),
            },
            ReadConsistency::Linearizable,
        )
        .await
        .expect("read");
    assert_eq!(res, QueryResult::UserPool(Some(pool)));
    assert!(applied >= w.index);
    assert_eq!(second.terminate(Duration::from_secs(20)).await, Some(0));
}
