//! Clock offsets, with real processes and libfaketime (Debian's `faketime`, which
//! `.ci/run` installs): what a wrong clock may and may not do.
//!
//! * A store leader whose clock runs two days ahead: it still takes the commands of a
//!   gateway whose clock is right (they are compared with cluster time, the middle store
//!   clock, not the leader's), and its key housekeeping retires no live key (it decides on
//!   the time a majority of the stores' clocks have reached). Before cluster time, that
//!   leader refused every clocked command (the gateway never became ready) and would have
//!   retired every published key and dropped retired ones two days early.
//! * A gateway whose clock is two minutes off reports not ready and says why.

use crate::support::bin;
use signet_core::{KeyState, Query, QueryResult};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_store::{ReadConsistency, StoreClient};
use signet_testkit::{http_get, metric, wait_for_async, ChildProcess};
use std::path::Path;
use std::time::Duration;

const READY: Duration = Duration::from_secs(60);
/// Two days: more than the longest token lifetime plus leeway (a retired key's overlap),
/// so a leader deciding on its own clock would drop keys whose tokens are still valid.
const TWO_DAYS_S: i64 = 2 * 86_400;

async fn store(dir: &Path, id: u64, extra: &[&str], clock_s: i64) -> ChildProcess {
    let (id, dir) = (id.to_string(), dir.display().to_string());
    let mut args = vec![
        "store",
        "--node-id",
        &id,
        "--data-dir",
        &dir,
        "--raft-addr",
        "127.0.0.1:0",
        "--api-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    start(&args, clock_s).await
}

async fn start(args: &[&str], clock_s: i64) -> ChildProcess {
    let env = match clock_s {
        0 => Vec::new(),
        s => signet_chaos::clock::skewed(s).expect("libfaketime (apt-get install faketime)"),
    };
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ChildProcess::start_with_env(bin(), args, &env, READY).await
}

async fn gateway(stores: &[&str], clock_s: i64) -> ChildProcess {
    let stores = stores.join(",");
    let args = [
        "gateway",
        "--store",
        &stores,
        "--grpc-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--public-url",
        "http://127.0.0.1:7411",
        "--admin-secret",
        signet_testkit::TEST_ADMIN_SECRET,
        "--server-secret",
        "0000000000000000000000000000000000000000000000000000000000000001",
        "--jwks-max-age-secs",
        "1",
        "--dev-outbox",
    ];
    start(&args, clock_s).await
}

fn field<'a>(p: &'a ChildProcess, k: &str) -> &'a str {
    p.ready[k]
        .as_str()
        .unwrap_or_else(|| panic!("no {k} in {}", p.ready))
}

async fn metrics(p: &ChildProcess) -> String {
    let (status, body) = http_get(field(p, "metrics_addr"), "/metrics")
        .await
        .expect("store /metrics answers");
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_leader_two_days_ahead_takes_correct_gateways_and_retires_no_key() {
    let _one = super::one_cluster_at_a_time_async().await;
    let dir = tempfile::tempdir().unwrap();
    // Store 1 makes the cluster, so it leads; its clock is two days ahead.
    let s1 = store(&dir.path().join("s1"), 1, &["--init"], TWO_DAYS_S).await;
    let seed = field(&s1, "api_addr").to_string();
    let s2 = store(&dir.path().join("s2"), 2, &["--join", &seed], 0).await;
    let s3 = store(&dir.path().join("s3"), 3, &["--join", &seed], 0).await;
    let apis = [
        seed.as_str(),
        field(&s2, "api_addr"),
        field(&s3, "api_addr"),
    ];
    let client = StoreClient::new(apis.iter().map(|a| a.to_string()).collect());

    // The leader hears the others' clocks in their Raft replies: it knows its own is two
    // days ahead of cluster time.
    let offset = wait_for_async("store 1 to measure its offset", READY, || async {
        let m = metrics(&s1).await;
        let known = metric(&m, "signet_store_cluster_time_known") == Some(1.0);
        let off = metric(&m, "signet_store_clock_offset_seconds")?;
        (known && off > 1000.0).then_some(off)
    })
    .await;
    assert!(
        (offset - TWO_DAYS_S as f64).abs() < 5.0,
        "store 1's offset from cluster time: {offset} s"
    );

    // A gateway with a true clock becomes ready: its key publication (a command that
    // carries its clock) was taken by the skewed leader.
    let gw = gateway(&apis, 0).await;
    let http = field(&gw, "http_addr").to_string();
    wait_for_async("the gateway to be ready", READY, || async {
        let (status, _) = http_get(&http, "/readyz").await?;
        (status == 200).then_some(())
    })
    .await;
    let (_, gw_metrics) = http_get(&http, "/metrics").await.expect("gateway /metrics");
    let gw_off = metric(&gw_metrics, "signet_clock_offset_seconds").expect("clock offset");
    assert!(
        gw_off.abs() < 5.0,
        "the gateway agrees with cluster time: {gw_off} s"
    );
    // A command that carries the gateway's clock (UpdateUserPool) commits.
    let grpc = format!("http://{}", field(&gw, "grpc_addr"));
    let mut admin = UserPoolAdminClient::connect(grpc)
        .await
        .expect("gateway gRPC");
    let pool = admin
        .create_user_pool(signet_testkit::admin(pb::CreateUserPoolRequest {
            pool_name: "skew".into(),
            ..Default::default()
        }))
        .await
        .expect("CreateUserPool")
        .into_inner()
        .user_pool
        .expect("a pool")
        .id;
    admin
        .update_user_pool(signet_testkit::admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool,
            pool_name: Some("skew, renamed".into()),
            ..Default::default()
        }))
        .await
        .expect("UpdateUserPool (clocked) is taken by the skewed leader");

    // Let the leader's key housekeeping run a few rounds (every 5 s) on cluster time. On
    // its own clock it would find the gateway's lease lapsed two days ago and retire its key.
    let rounds = |m: &str| metric(m, "signet_store_key_housekeeping_rounds_total").unwrap_or(0.0);
    let before = rounds(&metrics(&s1).await);
    wait_for_async("three housekeeping rounds on store 1", READY, || async {
        (rounds(&metrics(&s1).await) >= before + 3.0).then_some(())
    })
    .await;
    let status = client.status_of(&seed).await.expect("status of store 1");
    assert_eq!(status.leader_id, Some(1), "store 1 still leads: {status:?}");
    let keys = match client
        .read(&Query::ListSigningKeys, ReadConsistency::Linearizable)
        .await
        .expect("list keys")
        .0
    {
        QueryResult::SigningKeys(k) => k,
        other => panic!("{other:?}"),
    };
    assert!(!keys.is_empty(), "the gateway published a key");
    for k in &keys {
        assert_eq!(k.state, KeyState::Published, "key {} was touched", k.kid);
    }
    let (status, _) = http_get(&http, "/readyz").await.expect("readyz");
    assert_eq!(status, 200, "the gateway is still ready");

    gw.terminate(Duration::from_secs(30)).await;
    for s in [s3, s2, s1] {
        s.terminate(Duration::from_secs(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_whose_clock_is_off_is_not_ready_and_says_why() {
    let _one = super::one_cluster_at_a_time_async().await;
    let dir = tempfile::tempdir().unwrap();
    let s1 = store(&dir.path().join("s1"), 1, &["--init"], 0).await;
    let api = field(&s1, "api_addr").to_string();
    for (clock_s, says) in [(120, "ahead of"), (-120, "behind")] {
        let gw = gateway(&[&api], clock_s).await;
        let http = field(&gw, "http_addr").to_string();
        let why = wait_for_async(
            "the gateway's readiness to name its clock",
            READY,
            || async {
                let (status, body) = http_get(&http, "/readyz").await?;
                assert_ne!(status, 200, "a gateway {clock_s} s off is ready: {body}");
                body.contains("clock").then_some(body)
            },
        )
        .await;
        assert!(
            why.contains(&format!("clock is 120 s {says} the store cluster's")),
            "{why}"
        );
        let (_, m) = http_get(&http, "/metrics").await.expect("gateway /metrics");
        let off = metric(&m, "signet_clock_offset_seconds").expect("clock offset");
        assert!((off - clock_s as f64).abs() < 5.0, "{off}");
        gw.terminate(Duration::from_secs(30)).await;
    }
    s1.terminate(Duration::from_secs(30)).await;
}
