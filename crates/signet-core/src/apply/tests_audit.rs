//! Unit tests of the audit trail's rings.

use super::*;
use crate::kv::KvRead;
use crate::{
    query, AuditEvent, CreateUser, CreateUserPool, MemKv, Query, QueryResult, RequestId, User,
    UserPool, UserStatus, AUDIT_RING,
};

/// A pool `p` with the users `ann` and `bob`.
fn with_users() -> MemKv {
    let mut kv = MemKv::new();
    let mut n = 0u8;
    let mut run = |kv: &mut MemKv, c: Command| {
        n += 1;
        let id = [0xA0 + n; 16];
        assert_eq!(
            apply(kv, &Request::new(RequestId(id), c)).unwrap(),
            Outcome::Applied
        );
    };
    run(
        &mut kv,
        Command::CreateUserPool(CreateUserPool {
            pool: UserPool::new("p", "pool", 1),
        }),
    );
    for name in ["ann", "bob"] {
        run(
            &mut kv,
            Command::CreateUser(CreateUser {
                pool_id: "p".into(),
                user: User::new(format!("sub-{name}"), name, UserStatus::Confirmed, 1),
            }),
        );
    }
    kv
}

fn event(pool: &str, user: &str, n: u64) -> AuditEvent {
    AuditEvent {
        id: format!("e{n}"),
        at_ms: 1_000 + n,
        action: "InitiateAuth".into(),
        outcome: "Pass".into(),
        exception: String::new(),
        challenge: String::new(),
        actor: "user".into(),
        pool_id: pool.into(),
        username: user.into(),
        client_id: String::new(),
        target: String::new(),
        source_ip: String::new(),
        gateway: String::new(),
        reason: String::new(),
    }
}

fn record(kv: &mut MemKv, n: u32, events: Vec<AuditEvent>) {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    let c = Command::RecordAuditEvents(RecordAuditEvents { events });
    assert_eq!(
        apply(kv, &Request::new(RequestId(id), c)).unwrap(),
        Outcome::Applied
    );
}

fn list(
    kv: &MemKv,
    pool: &str,
    user: &str,
    before: Option<u64>,
    limit: usize,
) -> Vec<(u64, String)> {
    let q = Query::ListAuditEvents {
        pool_id: pool.into(),
        username: user.into(),
        before,
        limit,
    };
    match query(kv, &q).unwrap() {
        QueryResult::AuditEvents(v) => v.into_iter().map(|(s, e)| (s, e.id)).collect(),
        other => panic!("unexpected answer {other:?}"),
    }
}

#[test]
fn a_ring_keeps_the_newest_events_of_each_user() {
    let mut kv = with_users();
    let total = AUDIT_RING + 50;
    for (i, chunk) in (0..total).collect::<Vec<_>>().chunks(40).enumerate() {
        let mut events: Vec<AuditEvent> = chunk.iter().map(|n| event("p", "ann", *n)).collect();
        events.push(event("p", "bob", i as u64));
        record(&mut kv, i as u32, events);
    }
    let all = list(&kv, "p", "ann", None, 1000);
    assert_eq!(all.len() as u64, AUDIT_RING, "bounded");
    assert_eq!(
        all[0],
        (total - 1, format!("e{}", total - 1)),
        "newest first"
    );
    assert_eq!(all.last().unwrap().1, format!("e{}", total - AUDIT_RING));
    // Pages continue below the last sequence number seen.
    let page = list(&kv, "p", "ann", Some(total - 10), 5);
    let ids: Vec<String> = page.into_iter().map(|(_, id)| id).collect();
    assert_eq!(
        ids,
        (total - 15..total - 10)
            .rev()
            .map(|n| format!("e{n}"))
            .collect::<Vec<_>>()
    );
    // Another user, another pool: rings of their own.
    assert_eq!(list(&kv, "p", "bob", None, 1000).len(), 4);
    assert!(list(&kv, "q", "ann", None, 1000).is_empty());
}

#[test]
fn names_the_pool_does_not_have_share_the_pool_ring() {
    let mut kv = with_users();
    let guesses: Vec<AuditEvent> = (0..50)
        .map(|n| event("p", &format!("guess{n}"), n))
        .collect();
    record(&mut kv, 1, guesses);
    record(&mut kv, 2, vec![event("p", "ann", 99)]);
    for n in 0..50 {
        assert!(list(&kv, "p", &format!("guess{n}"), None, 10).is_empty());
    }
    let pool_ring = list(&kv, "p", "", None, 1000);
    assert_eq!(pool_ring.len(), 50);
    assert_eq!(
        list(&kv, "p", "ann", None, 10),
        vec![(0, "e99".to_string())]
    );
    // The rows stay bounded however many names are made up: one ring.
    let rows = kv.scan(Table::AuditEvents, b"", None, 10_000).unwrap();
    assert_eq!(
        rows.len(),
        50 + 1 + 1 + 1,
        "50 slots and a counter, one slot and a counter"
    );
}

#[test]
fn events_are_bounded_and_a_nul_cannot_cross_rings() {
    let mut kv = with_users();
    let mut long = event("p", "ann", 1);
    long.action = "x".repeat(10_000);
    let mut nul = event("p", "ann\0#", 2);
    nul.id = "nul".into();
    record(&mut kv, 1, vec![long, nul]);
    let q = Query::ListAuditEvents {
        pool_id: "p".into(),
        username: "ann".into(),
        before: None,
        limit: 10,
    };
    let QueryResult::AuditEvents(v) = query(&kv, &q).unwrap() else {
        panic!()
    };
    assert_eq!(v.len(), 1, "the event with a NUL is dropped");
    assert_eq!(v[0].1.action.len(), crate::MAX_AUDIT_FIELD);
}
