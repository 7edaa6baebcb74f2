//! Black-box, with the built binary: the reported defect and the README's recovery runbook.
//!
//! * `signet dev` (one voter) receives the report's call, a raw `Cluster.Join` of node 7 at
//!   127.0.0.1:1, several times, and a Promote of node 7: each is refused at once, the
//!   membership stays node 1 alone, and the gateway still writes and reads.
//! * A two-store cluster whose second voter dies for good is recovered with the runbook's
//!   commands (`signet cluster force-new-cluster`, restart, `signet cluster status`), with
//!   its data.

use crate::support::{bin, json_ok, start_dev, text, Cli};
use signet_core::{Command, CreateUserPool, Outcome, Query, QueryResult, UserPool};
use signet_proto::store as pb;
use signet_proto::store::cluster_client::ClusterClient;
use signet_store::{ReadConsistency, StoreClient};
use signet_testkit::{wait_for_async, ChildProcess};
use std::path::Path;
use std::time::{Duration, Instant};

async fn cluster_client(api: &str) -> ClusterClient<tonic::transport::Channel> {
    ClusterClient::connect(format!("http://{api}"))
        .await
        .expect("connect to the store API")
}

/// `signet cluster status --endpoint api`: (leader, member ids).
async fn status(cli: &Cli, api: &str) -> (serde_json::Value, Vec<u64>) {
    let out = cli.raw(&["cluster", "status", "--endpoint", api]).await;
    let s = json_ok("cluster status", &out);
    let members = s["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["node_id"].as_u64().expect("node_id"))
        .collect();
    (s["leader"].clone(), members)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_survives_a_join_of_an_unreachable_node() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);
    let api = text(&dev.ready["api_addr"]);
    let mut cluster = cluster_client(&api).await;
    let ghost = pb::NodeInfo {
        node_id: 7,
        raft_addr: "127.0.0.1:1".into(),
        api_addr: "127.0.0.1:1".into(),
        incarnation: 7,
        known_members: vec![],
    };
    for attempt in 0..3 {
        let started = Instant::now();
        // Before the fix this call never returned (and a retry bricked the store).
        let join = cluster.join(pb::JoinRequest {
            node: Some(ghost.clone()),
        });
        let refused = tokio::time::timeout(Duration::from_secs(15), join)
            .await
            .unwrap_or_else(|_| panic!("attempt {attempt}: the join hung"))
            .expect_err("join of an unreachable node");
        assert_eq!(
            refused.code(),
            tonic::Code::FailedPrecondition,
            "attempt {attempt}: {refused:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "attempt {attempt}"
        );
    }
    let refused = cluster
        .promote(pb::NodeRef { node_id: 7 })
        .await
        .expect_err("promote of a non-member");
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
    assert_eq!(status(&cli, &api).await, (serde_json::json!(1), vec![1]));

    // The gateway writes (a pool) and reads (the list) through the store as before.
    let out = cli.admin(&["create-pool", "--name", "after-join"]).await;
    let pool_id = text(&json_ok("create-pool", &out)["user_pool"]["id"]);
    let pools = json_ok("list-pools", &cli.admin(&["list-pools"]).await);
    assert!(pools["user_pools"]
        .as_array()
        .expect("user_pools")
        .iter()
        .any(|p| p["id"] == pool_id.as_str()));
    assert_eq!(dev.terminate(Duration::from_secs(30)).await, Some(0));
}

/// `signet store` node `id` with data in `dir`, on the given (or free) addresses.
async fn store(dir: &Path, id: u64, addrs: (&str, &str), extra: &[&str]) -> ChildProcess {
    let id = id.to_string();
    let dir = dir.to_str().expect("utf-8 dir");
    let mut args = vec![
        "store",
        "--node-id",
        &id,
        "--data-dir",
        dir,
        "--raft-addr",
        addrs.0,
        "--api-addr",
        addrs.1,
    ];
    args.extend_from_slice(extra);
    ChildProcess::start(bin(), &args, Duration::from_secs(60)).await
}

fn pool_named(name: &str) -> Command {
    Command::CreateUserPool(CreateUserPool {
        pool: UserPool::new(name, name, 1),
    })
}

async fn has_pool(client: &StoreClient, name: &str) -> bool {
    let q = Query::GetUserPool {
        pool_id: name.to_string(),
    };
    match client.read(&q, ReadConsistency::Linearizable).await {
        Ok((QueryResult::UserPool(p), _)) => p.is_some(),
        other => panic!("read of pool {name}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbook_recovers_a_cluster_that_lost_quorum() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (d1, d2) = (tmp.path().join("s1"), tmp.path().join("s2"));
    let any = ("127.0.0.1:0", "127.0.0.1:0");
    let s1 = store(&d1, 1, any, &["--init"]).await;
    let (raft1, api1) = (text(&s1.ready["raft_addr"]), text(&s1.ready["api_addr"]));
    let s2 = store(&d2, 2, any, &["--join", &api1]).await;
    let cli = Cli {
        grpc: String::new(),
        data_dir: tmp.path().to_path_buf(),
    };
    assert_eq!(
        status(&cli, &api1).await,
        (serde_json::json!(1), vec![1, 2])
    );
    let client = StoreClient::new(vec![api1.clone()]);
    let w = client.write(pool_named("before")).await.expect("write");
    assert_eq!(w.outcome, Outcome::Applied);

    // Node 2 dies for good (SIGKILL); node 1 alone is no quorum of two.
    s2.kill().await;
    let impatient = StoreClient::with_timeouts(
        vec![api1.clone()],
        Duration::from_secs(2),
        Duration::from_secs(1),
    );
    assert!(impatient.write(pool_named("lost")).await.is_err());
    s1.kill().await;

    // The runbook: look (dry run), recover the survivor, start it as before, check.
    let d1s = d1.to_str().expect("utf-8 dir");
    let force = [
        "cluster",
        "force-new-cluster",
        "--node-id",
        "1",
        "--data-dir",
        d1s,
    ];
    let dry = json_ok(
        "dry run",
        &cli.raw(&[&force[..], &["--dry-run"]].concat()).await,
    );
    assert_eq!(dry["changed"], false, "{dry}");
    assert_eq!(dry["previous_voters"], serde_json::json!([1, 2]));
    assert!(dry["last_log_id"].is_string(), "{dry}");
    let done = json_ok("force-new-cluster", &cli.raw(&force).await);
    assert_eq!(done["changed"], true, "{done}");
    assert_eq!(done["membership_log_id"], dry["membership_log_id"]);

    let s1 = store(&d1, 1, (&raft1, &api1), &[]).await;
    // It leads alone once its election timeout has passed.
    let members = wait_for_async("node 1 to lead", Duration::from_secs(20), || async {
        let (leader, members) = status(&cli, &api1).await;
        (leader == serde_json::json!(1)).then_some(members)
    })
    .await;
    assert_eq!(members, vec![1]);
    let client = StoreClient::new(vec![api1.clone()]);
    assert!(has_pool(&client, "before").await);
    let w = client
        .write(pool_named("after"))
        .await
        .expect("write after");
    assert_eq!(w.outcome, Outcome::Applied);
    assert!(has_pool(&client, "after").await);
    assert_eq!(s1.terminate(Duration::from_secs(30)).await, Some(0));
}

/// The README's backup and restore, with the built binary: `signet cluster backup` from a
/// running store, then `signet store --restore FILE --init` on an empty data dir starts a
/// new cluster holding exactly what the backup held; repeated, it only starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_by_the_cli_restores_into_a_new_cluster() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let any = ("127.0.0.1:0", "127.0.0.1:0");
    let old = store(&tmp.path().join("old"), 1, any, &["--init"]).await;
    let api = text(&old.ready["api_addr"]);
    let client = StoreClient::new(vec![api.clone()]);
    client.write(pool_named("before")).await.expect("write");
    let cli = Cli {
        grpc: String::new(),
        data_dir: tmp.path().to_path_buf(),
    };
    let file = tmp.path().join("signet.backup");
    let file_s = file.to_str().expect("utf-8");
    let backup = ["cluster", "backup", "--endpoint", &api, "--out", file_s];
    let made = json_ok("backup", &cli.raw(&backup).await);
    assert_eq!(made["file"], file_s, "{made}");
    assert!(made["index"].as_u64() > Some(0), "{made}");
    assert_eq!(
        made["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert_eq!(made["voters"], serde_json::json!([1]), "{made}");
    // Never over an existing file.
    let again = cli.raw(&backup).await;
    assert_ne!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    // On a schedule: into a directory, named by time and index, the newest two kept.
    let dir = tmp.path().join("scheduled");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("unrelated.txt"), "kept").expect("write");
    let dir_s = dir.to_str().expect("utf-8");
    let scheduled = [
        "cluster",
        "backup",
        "--endpoint",
        &api,
        "--out-dir",
        dir_s,
        "--keep",
        "2",
    ];
    let mut made = Vec::new();
    for i in 0..3 {
        client
            .write(pool_named(&format!("s{i}")))
            .await
            .expect("write");
        let m = json_ok("scheduled backup", &cli.raw(&scheduled).await);
        made.push(text(&m["file"]));
        let deleted = m["deleted"].as_array().expect("deleted").len();
        assert_eq!(deleted, usize::from(i == 2), "{m}");
    }
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    left.sort();
    let mut want = made[1..].to_vec();
    want.push(dir.join("unrelated.txt").display().to_string());
    want.sort();
    assert_eq!(left, want);
    client.write(pool_named("after")).await.expect("write");

    // --restore without --init is refused by the argument parser.
    let no_init = cli
        .raw(&[
            "store",
            "--node-id",
            "1",
            "--restore",
            file_s,
            "--insecure-plaintext",
        ])
        .await;
    assert_ne!(no_init.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&no_init.stderr).contains("--init"));

    let dir = tmp.path().join("new");
    for round in 0..2 {
        let new = store(&dir, 1, any, &["--restore", file_s, "--init"]).await;
        let new_api = text(&new.ready["api_addr"]);
        let cli_status = wait_for_async(
            "the restored node to lead",
            Duration::from_secs(20),
            || async {
                let (leader, members) = status(&cli, &new_api).await;
                (leader == serde_json::json!(1)).then_some(members)
            },
        )
        .await;
        assert_eq!(cli_status, vec![1], "round {round}");
        let c = StoreClient::new(vec![new_api.clone()]);
        assert!(has_pool(&c, "before").await, "round {round}");
        assert!(!has_pool(&c, "after").await, "round {round}");
        c.write(pool_named(&format!("new{round}")))
            .await
            .expect("write");
        assert!(has_pool(&c, "new0").await, "round {round}");
        assert_eq!(new.terminate(Duration::from_secs(30)).await, Some(0));
    }
    assert_eq!(old.terminate(Duration::from_secs(30)).await, Some(0));
}
