//! Backup and restore (`signet cluster backup`, `signet store --restore FILE --init`):
//!
//! * a backup taken while users keep signing up holds every user acknowledged before it
//!   was asked for; a new three-node cluster restored from it has each of them, and they
//!   sign in with their passwords through a gateway of the new cluster;
//! * the new cluster is a new cluster: its nodes have new incarnations, a node of the old
//!   one (still holding the old state) is refused when someone tries to add it, and the new
//!   cluster takes writes of its own;
//! * a damaged or truncated backup is refused before anything is written; restoring twice
//!   into the same data dir is harmless, into a used one refused.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestCluster, TestEnv};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "Backed-Up-123";

type Clients = (
    pb::user_pool_auth_client::UserPoolAuthClient<tonic::transport::Channel>,
    pb::user_pool_admin_client::UserPoolAdminClient<tonic::transport::Channel>,
);

async fn clients(gw: &signet_gateway::GatewayHandle) -> Clients {
    (auth_client(gw).await, admin_client(gw).await)
}

/// Sign up and confirm `username`; true once both are acknowledged.
async fn sign_up(c: &mut Clients, pool: &str, client: &str, username: &str) -> bool {
    let signed =
        c.0.sign_up(pb::SignUpRequest {
            client_id: client.into(),
            username: username.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await;
    if signed.is_err() {
        return false;
    }
    c.1.admin_confirm_sign_up(admin(user_ref(pool, username)))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_sign_ups_restores_into_a_new_cluster_where_every_acknowledged_user_signs_in(
) {
    let env = TestEnv::start(3, 1).await;
    let (pool, client) = pool_and_client(env.a(), false).await;

    // Four writers sign users up until told to stop.
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    // Every name a writer tried, acknowledged or not: the most a backup can hold.
    let tried = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let mut c = clients(env.a()).await;
        let (pool, client) = (pool.clone(), client.clone());
        let (acked, tried, stop) = (acked.clone(), tried.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("w{w}-{i:03}");
                tried.lock().unwrap().insert(name.clone());
                if sign_up(&mut c, &pool, &client, &name).await {
                    acked.lock().unwrap().insert(name);
                }
                i += 1;
            }
        }));
    }
    signet_testkit::wait_for("sign-ups under way", Duration::from_secs(60), || {
        (acked.lock().unwrap().len() >= 24).then_some(())
    })
    .await;

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("signet.backup");
    let before: BTreeSet<String> = acked.lock().unwrap().clone();
    let info = signet_store::download_backup(&env.cluster().client(), &file)
        .await
        .expect("backup");
    let during = acked.lock().unwrap().len() - before.len();
    // The writers were never held up: more sign-ups are acknowledged after the backup.
    signet_testkit::wait_for("sign-ups after the backup", Duration::from_secs(30), || {
        (acked.lock().unwrap().len() > before.len()).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    let after = acked.lock().unwrap().len();
    let tried = tried.lock().unwrap().clone();
    tracing::info!(
        during,
        after,
        index = info.index,
        rows = info.rows,
        "backup taken"
    );
    assert!(
        info.bytes > 0 && info.rows > before.len() as u64,
        "{info:?}"
    );
    assert_eq!(info.voters, vec![1, 2, 3]);
    // What was written is what a reader of the file finds.
    assert_eq!(signet_store::inspect_backup(&file).expect("inspect"), info);
    // The file is never overwritten.
    let again = signet_store::download_backup(&env.cluster().client(), &file).await;
    assert!(
        again
            .as_ref()
            .is_err_and(|e| e.to_string().contains("exists")),
        "{again:?}"
    );

    // A new cluster from the backup: node 1 restores, nodes 2 and 3 join it.
    let restored = TestCluster::restore(3, &file).await;
    for id in 1..=3 {
        let old = env.cluster().node(id).info().incarnation;
        assert_ne!(restored.node(id).info().incarnation, old, "node {id}");
    }
    let new = TestEnv::around(restored, 1).await;
    for name in &before {
        sign_in(new.a(), &client, name, PASSWORD).await;
    }
    // Users whose sign-up was under way when the backup was asked for may or may not be in
    // it (confirmed or not); nobody who was never signed up is.
    let users = crate::support::imports::all_users(new.a(), &pool).await;
    let have: BTreeSet<String> = users.iter().map(|u| u.username.clone()).collect();
    assert!(have.is_superset(&before));
    assert!(have.is_subset(&tried), "{:?}", have.difference(&tried));
    // The new cluster takes writes of its own, on every member.
    let mut c = clients(new.a()).await;
    assert!(sign_up(&mut c, &pool, &client, "after-restore").await);
    sign_in(new.a(), &client, "after-restore", PASSWORD).await;
    new.cluster().wait_converged(Duration::from_secs(20)).await;

    // A member of the old cluster, still holding the old state, is not added to the new one.
    let old2 = env.cluster().node(2).info().clone();
    let refused = new
        .cluster()
        .client()
        .add_learner(2, &old2.api_addr)
        .await
        .expect_err("an old member joined the new cluster");
    assert!(refused.to_string().contains("another cluster"), "{refused}");
    // And the old cluster is untouched by all this.
    sign_in(env.a(), &client, before.iter().next().unwrap(), PASSWORD).await;
    new.shutdown().await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_backups_and_used_data_dirs_are_refused_and_a_repeated_restore_is_harmless() {
    let cluster = TestCluster::start(1).await;
    let client = cluster.client();
    client
        .write(crate::support::create_pool(crate::support::POOL))
        .await
        .expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b");
    let info = signet_store::download_backup(&client, &file)
        .await
        .expect("backup");
    let bytes = std::fs::read(&file).expect("read");

    let start = |data_dir: std::path::PathBuf, backup: std::path::PathBuf| async move {
        let mut c = signet_testkit::fast_config(1, data_dir, signet_store::Faults::new());
        c.restore = Some(backup);
        let raft = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        signet_store::StoreNode::start(c, raft, api).await
    };
    // One flipped bit, or a missing tail: refused, and nothing is left in the data dir.
    for (name, damaged) in [
        ("flipped", {
            let mut b = bytes.clone();
            let mid = b.len() / 2;
            b[mid] ^= 1;
            b
        }),
        ("truncated", bytes[..bytes.len() - 100].to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, damaged).expect("write");
        let e = signet_store::inspect_backup(&path).expect_err(name);
        let data_dir = dir.path().join(format!("data-{name}"));
        let refused = start(data_dir.clone(), path).await.err().expect(name);
        assert!(
            refused.to_string().contains(&e.to_string()),
            "{name}: {refused} / {e}"
        );
        assert!(!data_dir.join("node.json").exists(), "{name}");
    }

    // A good one, twice into the same dir: the second start only starts.
    let data_dir = dir.path().join("data");
    let node = start(data_dir.clone(), file.clone())
        .await
        .expect("restore");
    node.wait_for_leader(Duration::from_secs(10))
        .await
        .expect("leader");
    // It holds the backup, then commits its own membership entry right after it.
    node.raft()
        .wait(Some(Duration::from_secs(10)))
        .applied_index_at_least(Some(info.index + 1), "the restore's membership entry")
        .await
        .expect("the membership entry applied");
    let m = node.raft().metrics().borrow().clone();
    assert_eq!(
        m.membership_config.log_id().map(|l| l.index),
        Some(info.index + 1)
    );
    let incarnation = node.info().incarnation;
    node.kill().await;
    let node = signet_testkit::wait_for_async("restart", Duration::from_secs(10), || {
        let (d, f) = (data_dir.clone(), file.clone());
        async move { start(d, f).await.ok() }
    })
    .await;
    assert_eq!(node.info().incarnation, incarnation);
    node.wait_for_leader(Duration::from_secs(10))
        .await
        .expect("leader");
    node.kill().await;

    // Into the data dir of a cluster's member (stopped), or into the restored dir with
    // another backup: refused, whatever the backup.
    let mut cluster = cluster;
    cluster.kill(1).await;
    let refused = start(cluster.data_dir(1), file.clone())
        .await
        .err()
        .expect("used dir");
    assert!(
        refused.to_string().contains("holds a store's data"),
        "{refused}"
    );
    let other = dir.path().join("other");
    std::fs::write(&other, &bytes[..]).expect("write");
    let newer = TestCluster::start(1).await;
    let other_backup = dir.path().join("newer");
    signet_store::download_backup(&newer.client(), &other_backup)
        .await
        .expect("another backup");
    let refused = start(data_dir, other_backup)
        .await
        .err()
        .expect("another backup");
    assert!(refused.to_string().contains("another backup"), "{refused}");
    newer.shutdown().await;
    cluster.shutdown().await;
}
