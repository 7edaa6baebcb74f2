//! Mutual TLS on the internal planes (issue 13, review defect 10): the store's Raft, Store
//! and Cluster listeners accept only callers whose certificate chains to the cluster CA and
//! names a role allowed to make the call. The review's attack — read a user's password hash
//! and publish a signing key through the store API — must fail without a certificate, with
//! one of the wrong role and with one from another CA, and change nothing.

use signet_core::SigningKey;
use signet_core::{Command, Outcome, PublishKey, Query, QueryResult, RenewKeyLease};
use signet_proto::store::raft_client::RaftClient;
use signet_proto::store::RaftMessage;
use signet_store::{ClientError, StoreClient};
use signet_testkit::{wait_for_async, TestCluster, TestPki, TEST_TRUST_DOMAIN};
use signet_tls::{Role, TlsFiles, TlsSource, Transport};
use std::path::Path;
use std::time::Duration;
use tonic::Code;

fn quick(cluster: &TestCluster, transport: Transport) -> StoreClient {
    StoreClient::with_transport(
        cluster.api_addrs(),
        Duration::from_secs(2),
        Duration::from_secs(1),
        transport,
    )
}

fn forged_key() -> Command {
    Command::PublishKey(PublishKey {
        key: SigningKey {
            kid: "forged-kid".into(),
            owner: "attacker".into(),
            alg: "EdDSA".into(),
            public_jwk: r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#.into(),
            published_at_ms: 1,
            usable_from_ms: 1,
            state: Default::default(),
        },
    })
}

fn read_user() -> Query {
    Query::GetUser {
        pool_id: "us-east-1_victim".into(),
        username: "alice".into(),
    }
}

fn code(e: &ClientError) -> Option<Code> {
    match e {
        ClientError::Refused { code, .. } => Some(*code),
        _ => None,
    }
}

/// Only the CA, no client certificate.
fn anonymous(pki: &TestPki) -> Transport {
    let files = TlsFiles {
        ca: Some(pki.ca_path()),
        cert: None,
        trust_domain: TEST_TRUST_DOMAIN.into(),
    };
    Transport::Tls {
        source: TlsSource::load(files).expect("ca only"),
        expect: Some(Role::Store),
    }
}

async fn kids(cluster: &TestCluster) -> Vec<String> {
    match cluster
        .client()
        .read(
            &Query::ListSigningKeys,
            signet_store::ReadConsistency::Linearizable,
        )
        .await
        .expect("operator reads keys")
        .0
    {
        QueryResult::SigningKeys(k) => k.into_iter().map(|k| k.kid).collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_callers_without_the_right_certificate() {
    let pki = TestPki::new();
    let cluster = TestCluster::start_tls(3, pki).await;
    let pki = cluster.pki().expect("pki");
    let (applied_before, digest_before) = cluster.wait_converged(Duration::from_secs(10)).await;

    // No TLS at all: the listener speaks only TLS, nothing gets through.
    let plain = quick(&cluster, Transport::Plaintext);
    let e = plain
        .write(forged_key())
        .await
        .expect_err("plaintext write");
    assert!(matches!(e, ClientError::Unavailable(_)), "{e:?}");
    assert!(plain
        .read(&read_user(), signet_store::ReadConsistency::Any)
        .await
        .is_err());

    // TLS without a client certificate: UNAUTHENTICATED.
    let anon = quick(&cluster, anonymous(pki));
    let e = anon.write(forged_key()).await.expect_err("anonymous write");
    assert_eq!(code(&e), Some(Code::Unauthenticated), "{e:?}");
    let e = anon
        .read(&read_user(), signet_store::ReadConsistency::Any)
        .await
        .expect_err("anonymous read");
    assert_eq!(code(&e), Some(Code::Unauthenticated), "{e:?}");

    // A store's certificate is not a client of the Store API.
    let as_store = quick(&cluster, pki.transport(Role::Store, "9"));
    let e = as_store.write(forged_key()).await.expect_err("store write");
    assert_eq!(code(&e), Some(Code::PermissionDenied), "{e:?}");

    // A certificate of the right role from another CA fails the handshake.
    let other_ca = TestPki::new();
    let foreign = quick(&cluster, other_ca.transport(Role::Operator, "mallory"));
    let e = foreign
        .write(forged_key())
        .await
        .expect_err("foreign write");
    assert!(matches!(e, ClientError::Unavailable(_)), "{e:?}");

    // Nothing was applied anywhere: same applied index and state on every member.
    assert_eq!(
        cluster.wait_converged(Duration::from_secs(10)).await,
        (applied_before, digest_before)
    );
    assert!(!kids(&cluster).await.contains(&"forged-kid".to_string()));

    // The right roles do get through: a gateway reads, an operator writes.
    let gateway = quick(&cluster, pki.transport(Role::Gateway, "gw-1"));
    let (r, _) = gateway
        .read(&read_user(), signet_store::ReadConsistency::Linearizable)
        .await
        .expect("gateway reads");
    assert!(matches!(r, QueryResult::User(None)), "{r:?}");
    let w = cluster
        .client()
        .write(Command::RenewKeyLease(RenewKeyLease {
            owner: "operator-test".into(),
            until_ms: 1,
        }))
        .await
        .expect("operator writes");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raft_and_membership_calls_need_their_role() {
    let cluster = TestCluster::start_tls(3, TestPki::new()).await;
    let pki = cluster.pki().expect("pki");
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let raft_addr = cluster.node(leader).info().raft_addr.clone();
    let (applied_before, _) = cluster.wait_converged(Duration::from_secs(10)).await;

    // A forged AppendEntries: refused before it is even decoded, by role.
    let append = |transport: Transport| {
        let raft_addr = raft_addr.clone();
        async move {
            let ch = signet_tls::channel(&raft_addr, &transport, Duration::from_secs(1))
                .expect("channel");
            RaftClient::new(ch)
                .append_entries(RaftMessage {
                    data: b"{}".to_vec(),
                })
                .await
                .map(|_| ())
        }
    };
    for (who, transport, want) in [
        ("no certificate", anonymous(pki), Code::Unauthenticated),
        (
            "gateway",
            pki.transport(Role::Gateway, "gw-1"),
            Code::PermissionDenied,
        ),
        (
            "operator",
            pki.transport(Role::Operator, "op"),
            Code::PermissionDenied,
        ),
    ] {
        let status = append(transport).await.expect_err(who);
        assert_eq!(status.code(), want, "{who}: {status:?}");
    }
    // A store certificate reaches Raft itself (the body is garbage, so Raft answers with
    // a decoding error, not a refusal).
    let status = append(pki.transport(Role::Store, "9"))
        .await
        .expect_err("garbage body");
    assert!(
        !matches!(
            status.code(),
            Code::Unauthenticated | Code::PermissionDenied
        ),
        "{status:?}"
    );

    // Membership changes are an operator's: a gateway or a store cannot remove a member.
    for role in [Role::Gateway, Role::Store] {
        let e = quick(&cluster, pki.transport(role, "x"))
            .remove(2)
            .await
            .expect_err("remove refused");
        assert_eq!(code(&e), Some(Code::PermissionDenied), "{role}: {e:?}");
    }
    // Status stays open to every role (clients find the leader with it).
    let status = quick(&cluster, pki.transport(Role::Gateway, "gw-1"))
        .status_of(&cluster.api_addr(leader))
        .await
        .expect("status");
    assert_eq!(status.members.len(), 3);
    let (applied_after, _) = cluster.wait_converged(Duration::from_secs(10)).await;
    assert_eq!(applied_after, applied_before, "nothing was applied");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_under_mtls_replicates_and_catches_up_by_snapshot() {
    let cluster = TestCluster::start_tls(3, TestPki::new()).await;
    let mut cluster = cluster;
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    let follower = cluster
        .running()
        .into_iter()
        .find(|id| *id != leader)
        .expect("a follower");
    let store = cluster.client();
    cluster.kill(follower).await;
    for i in 0..30 {
        let w = store
            .write(Command::RenewKeyLease(RenewKeyLease {
                owner: format!("gw-{i}"),
                until_ms: 1,
            }))
            .await
            .expect("write with a member down");
        assert_eq!(w.outcome, Outcome::Applied);
    }
    // Build a snapshot and drop the log behind it on both running members (leadership may
    // move to the other one before the follower is back): the follower can then only catch
    // up by installing a snapshot, over the mutual-TLS Raft plane.
    let (applied, _) = cluster.wait_converged(Duration::from_secs(10)).await;
    let mut snapshot_index = u64::MAX;
    for id in cluster.running() {
        let (index, purged) = store
            .snapshot_of(&cluster.api_addr(id), true)
            .await
            .expect("snapshot");
        assert!(
            index >= applied,
            "node {id}: snapshot at {index} < {applied}"
        );
        assert!(purged >= Some(index), "node {id}: {purged:?} {index}");
        snapshot_index = snapshot_index.min(index);
    }
    cluster.restart(follower).await;
    let (applied, _) = cluster.wait_converged(Duration::from_secs(20)).await;
    assert!(applied >= snapshot_index);
    // The state is installed before Raft's metrics say so: wait for them, bounded.
    let installed = cluster
        .node(follower)
        .raft()
        .wait(Some(Duration::from_secs(10)))
        .metrics(
            |m| m.snapshot.is_some_and(|s| s.index >= snapshot_index),
            "the follower installed the snapshot",
        )
        .await;
    assert!(
        installed.is_ok(),
        "the follower caught up without the snapshot: {:?}",
        cluster.node(follower).raft().metrics().borrow().snapshot
    );
    cluster.shutdown().await;
}

/// Replace `path` atomically, as Kubernetes does when it updates a mounted Secret.
fn replace(path: &Path, body: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, body).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_and_cas_swapped_on_disk_are_picked_up() {
    let cluster = TestCluster::start_tls(3, TestPki::new()).await;
    let old = cluster.pki().expect("pki");
    let new = TestPki::new();
    let bundle_path = old.ca_path();
    let work = tempfile::tempdir().expect("dir");

    // An operator of the new CA that trusts whatever bundle the cluster uses.
    let new_op = |ca: &Path| {
        let (cert, key) = (work.path().join("op.crt"), work.path().join("op.key"));
        if !cert.exists() {
            new.issue_to(Role::Operator, "new-op", 30, &cert, &key);
        }
        Transport::Tls {
            source: TlsSource::load(TlsFiles::mutual(ca, cert, key, TEST_TRUST_DOMAIN))
                .expect("load"),
            expect: Some(Role::Store),
        }
    };
    let lease = |owner: &str| {
        Command::RenewKeyLease(RenewKeyLease {
            owner: owner.into(),
            until_ms: 1,
        })
    };
    // Before the rotation, the new CA's operator is a stranger.
    let e = quick(&cluster, new_op(&bundle_path))
        .write(lease("before"))
        .await
        .expect_err("unknown CA");
    assert!(matches!(e, ClientError::Unavailable(_)), "{e:?}");

    // 1. Every node trusts both CAs (the bundle file is shared by the nodes).
    replace(&bundle_path, &format!("{}{}", old.ca().cert, new.ca().cert));
    wait_for_async(
        "the nodes trust the new CA",
        Duration::from_secs(10),
        || async {
            quick(&cluster, new_op(&bundle_path))
                .write(lease("bundle"))
                .await
                .ok()
        },
    )
    .await;

    // 2. Every store swaps its certificate for one of the new CA.
    for id in cluster.running() {
        let files = old.files(Role::Store, &id.to_string());
        let (cert, key) = files.cert.expect("cert");
        let (c, k) = (work.path().join("s.crt"), work.path().join("s.key"));
        new.issue_to(Role::Store, &id.to_string(), 30, &c, &k);
        // Key first: a reload between the two renames fails the key check and keeps the
        // old pair, it never serves a mismatched one.
        replace(&key, &std::fs::read_to_string(&k).expect("key"));
        replace(&cert, &std::fs::read_to_string(&c).expect("cert"));
    }
    // A client trusting only the new CA now reaches every node.
    let new_only = work.path().join("new-ca.crt");
    std::fs::write(&new_only, &new.ca().cert).expect("write");
    for id in cluster.running() {
        let addr = cluster.api_addr(id);
        wait_for_async(
            "the node serves its new certificate",
            Duration::from_secs(10),
            || async {
                quick(&cluster, new_op(&new_only))
                    .status_of(&addr)
                    .await
                    .ok()
            },
        )
        .await;
    }

    // 3. The old CA is dropped: its operator is refused, the cluster keeps working.
    replace(&bundle_path, &new.ca().cert);
    let old_op = old.transport(Role::Operator, "old-op");
    wait_for_async("the old CA is refused", Duration::from_secs(10), || async {
        quick(&cluster, old_op.clone())
            .write(lease("old"))
            .await
            .err()
    })
    .await;
    let w = quick(&cluster, new_op(&new_only))
        .write(lease("after"))
        .await
        .expect("new operator writes");
    assert_eq!(w.outcome, Outcome::Applied);
    cluster.wait_converged(Duration::from_secs(10)).await;
    cluster.shutdown().await;
}
