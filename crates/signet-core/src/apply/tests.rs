//! Unit tests of apply.

use super::*;
use crate::{query, MemKv, Query, QueryResult, RequestId, SigningKey, User, UserPool, UserStatus};

fn pool(id: &str) -> Command {
    Command::CreateUserPool(CreateUserPool {
        pool: UserPool::new(id, "test", 1),
    })
}

fn user(name: &str, sub: &str) -> Command {
    Command::CreateUser(CreateUser {
        pool_id: "p1".into(),
        user: User::new(sub, name, UserStatus::Confirmed, 5),
    })
}

fn req(n: u8, c: Command) -> Request {
    Request::new(RequestId([n; 16]), c)
}

#[test]
fn retried_request_returns_first_outcome_and_changes_nothing() {
    let mut kv = MemKv::new();
    assert_eq!(
        apply(&mut kv, &req(1, pool("p1"))).unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        apply(&mut kv, &req(2, user("alice", "s1"))).unwrap(),
        Outcome::Applied
    );
    let before = kv.clone();
    // Same request id again: the first answer, not UsernameExists, and no new rows.
    assert_eq!(
        apply(&mut kv, &req(2, user("alice", "s1"))).unwrap(),
        Outcome::Applied
    );
    assert_eq!(kv, before);
    // A different request for the same username is a business rejection.
    assert_eq!(
        apply(&mut kv, &req(3, user("alice", "s2"))).unwrap(),
        Outcome::Rejected(Rejection::UsernameExists)
    );
    // ...and so is reusing a sub under another name.
    assert_eq!(
        apply(&mut kv, &req(4, user("bob", "s1"))).unwrap(),
        Outcome::Rejected(Rejection::UsernameExists)
    );
}

#[test]
fn user_needs_an_existing_pool() {
    let mut kv = MemKv::new();
    assert_eq!(
        apply(&mut kv, &req(1, user("alice", "s1"))).unwrap(),
        Outcome::Rejected(Rejection::PoolNotFound)
    );
}

#[test]
fn replay_is_deterministic() {
    let log: Vec<Request> = std::iter::once(req(0, pool("p1")))
        .chain((1..=200u8).map(|i| req(i, user(&format!("u{i:03}"), &format!("s{}", i % 150)))))
        .collect();
    let run = || {
        let mut kv = MemKv::new();
        let outcomes: Vec<Outcome> = log.iter().map(|r| apply(&mut kv, r).unwrap()).collect();
        (kv, outcomes)
    };
    let (a, oa) = run();
    let (b, ob) = run();
    assert_eq!(a, b);
    assert_eq!(oa, ob);
    // subs 1..=149 and 0 repeat after 150 users: 50 rejections.
    let rejected = oa
        .iter()
        .filter(|o| matches!(o, Outcome::Rejected(_)))
        .count();
    assert_eq!(rejected, 50);
    let QueryResult::Users(users) = query(
        &a,
        &Query::ListUsers {
            pool_id: "p1".into(),
            after: None,
            limit: 1000,
        },
    )
    .unwrap() else {
        panic!("wrong result type")
    };
    assert_eq!(users.len(), 150);
}

#[test]
fn dedup_window_evicts_oldest_ids() {
    let mut kv = MemKv::new();
    apply(&mut kv, &req(0, pool("p1"))).unwrap();
    // Simulate a counter near the window edge so the test stays fast.
    kv.put(Table::Meta, META_DEDUP_SEQ, encode_record(&DEDUP_WINDOW))
        .unwrap();
    kv.put(Table::DedupSeq, &1u64.to_be_bytes(), vec![0; 16])
        .unwrap();
    apply(&mut kv, &req(9, user("zed", "sz"))).unwrap();
    // seq DEDUP_WINDOW+1 evicted seq 1, which pointed at request id [0;16].
    assert!(KvTxn::get(&kv, Table::Dedup, &[0; 16]).unwrap().is_none());
    assert!(KvTxn::get(&kv, Table::Dedup, &[9; 16]).unwrap().is_some());
}

#[test]
fn newer_log_format_stops_apply() {
    let mut kv = MemKv::new();
    let mut r = req(1, pool("p1"));
    r.v = LOG_FORMAT_VERSION + 1;
    assert!(matches!(
        apply(&mut kv, &r),
        Err(CoreError::UnsupportedVersion { .. })
    ));
}

#[test]
fn kid_is_never_reused_with_other_material() {
    let mut kv = MemKv::new();
    let key = |jwk: &str| {
        Command::PublishKey(PublishKey {
            key: SigningKey {
                kid: "k1".into(),
                owner: "gw-a".into(),
                alg: "EdDSA".into(),
                public_jwk: jwk.into(),
                published_at_ms: 1,
                usable_from_ms: 2,
                state: Default::default(),
            },
        })
    };
    assert_eq!(apply(&mut kv, &req(1, key("A"))).unwrap(), Outcome::Applied);
    assert_eq!(apply(&mut kv, &req(2, key("A"))).unwrap(), Outcome::Applied);
    assert_eq!(
        apply(&mut kv, &req(3, key("B"))).unwrap(),
        Outcome::Rejected(Rejection::KidConflict)
    );
}
