//! Unit tests of pool placement: routed commands apply only where the pool is owned at the
//! epoch they were routed with, and a refusal is not remembered as the request's outcome.

use super::*;
use crate::{query, MemKv, Query, QueryResult, RequestId, UserPool};

fn req(n: u8, c: Command) -> Request {
    Request::new(RequestId([n; 16]), c)
}

fn place(pool: &str, group: u32, epoch: u64, frozen: bool) -> Command {
    Command::PlacePool(PlacePool {
        pool_id: pool.into(),
        placement: Placement {
            group,
            epoch,
            frozen,
        },
    })
}

fn routed(group: u32, epoch: u64, c: Command) -> Command {
    Command::Routed(Routed {
        group,
        epoch,
        command: Box::new(c),
    })
}

fn create_pool(id: &str) -> Command {
    Command::CreateUserPool(CreateUserPool {
        pool: UserPool::new(id, "sharded", 1),
    })
}

fn pool_exists(kv: &MemKv, id: &str) -> bool {
    let q = Query::GetUserPool { pool_id: id.into() };
    matches!(query(kv, &q).unwrap(), QueryResult::UserPool(Some(_)))
}

fn wrong(epoch: u64) -> Outcome {
    Outcome::Rejected(Rejection::WrongGroup { epoch })
}

#[test]
fn a_routed_command_applies_only_at_the_owning_group_and_epoch() {
    let mut kv = MemKv::new();
    // No placement row: nothing routed applies.
    assert_eq!(
        apply(&mut kv, &req(1, routed(1, 1, create_pool("p1")))).unwrap(),
        wrong(0)
    );
    assert_eq!(
        apply(&mut kv, &req(2, place("p1", 1, 1, false))).unwrap(),
        Outcome::Applied
    );
    // Another group, an older or newer epoch: refused with the epoch held.
    assert_eq!(
        apply(&mut kv, &req(3, routed(2, 1, create_pool("p1")))).unwrap(),
        wrong(1)
    );
    assert_eq!(
        apply(&mut kv, &req(4, routed(1, 0, create_pool("p1")))).unwrap(),
        wrong(1)
    );
    assert_eq!(
        apply(&mut kv, &req(5, routed(1, 2, create_pool("p1")))).unwrap(),
        wrong(1)
    );
    assert!(!pool_exists(&kv, "p1"));
    assert_eq!(
        apply(&mut kv, &req(6, routed(1, 1, create_pool("p1")))).unwrap(),
        Outcome::Applied
    );
    assert!(pool_exists(&kv, "p1"));
    // Frozen (a move is shipping its last changes): refused, reads still answer.
    assert_eq!(
        apply(&mut kv, &req(7, place("p1", 1, 1, true))).unwrap(),
        Outcome::Applied
    );
    let delete = Command::DeleteUserPool(DeleteUserPool {
        pool_id: "p1".into(),
        at_ms: 5,
    });
    assert_eq!(
        apply(&mut kv, &req(8, routed(1, 1, delete))).unwrap(),
        wrong(1)
    );
    assert!(pool_exists(&kv, "p1"));
}

#[test]
fn a_refusal_is_not_remembered_so_the_same_request_applies_once_the_placement_is_true() {
    let mut kv = MemKv::new();
    apply(&mut kv, &req(1, place("p1", 1, 1, false))).unwrap();
    // Sent with a stale epoch 2 (say, the map moved on and back): refused…
    assert_eq!(
        apply(&mut kv, &req(9, routed(1, 2, create_pool("p1")))).unwrap(),
        wrong(1)
    );
    // …the group catches up to epoch 2, the gateway retries the same request id: applied.
    apply(&mut kv, &req(2, place("p1", 1, 2, false))).unwrap();
    assert_eq!(
        apply(&mut kv, &req(9, routed(1, 2, create_pool("p1")))).unwrap(),
        Outcome::Applied
    );
    // And from then on the request id answers its first outcome, like any other.
    let before = kv.clone();
    assert_eq!(
        apply(&mut kv, &req(9, routed(1, 2, create_pool("p1")))).unwrap(),
        Outcome::Applied
    );
    assert_eq!(kv, before);
}

#[test]
fn placement_epochs_only_go_forward() {
    let mut kv = MemKv::new();
    let ok = Outcome::Applied;
    let stale = Outcome::Rejected(Rejection::PreconditionFailed);
    assert_eq!(
        apply(&mut kv, &req(1, place("p1", 1, 3, false))).unwrap(),
        ok
    );
    assert_eq!(
        apply(&mut kv, &req(2, place("p1", 1, 3, false))).unwrap(),
        ok,
        "same row again"
    );
    assert_eq!(
        apply(&mut kv, &req(3, place("p1", 2, 2, false))).unwrap(),
        stale,
        "older epoch"
    );
    assert_eq!(
        apply(&mut kv, &req(4, place("p1", 2, 3, false))).unwrap(),
        stale,
        "same epoch, other group"
    );
    assert_eq!(
        apply(&mut kv, &req(5, place("p1", 1, 3, true))).unwrap(),
        ok,
        "freeze"
    );
    assert_eq!(
        apply(&mut kv, &req(6, place("p1", 1, 3, false))).unwrap(),
        stale,
        "unfreeze at the same epoch"
    );
    assert_eq!(
        apply(&mut kv, &req(7, place("p1", 2, 4, false))).unwrap(),
        ok,
        "moved"
    );
    let q = Query::GetPlacement {
        pool_id: "p1".into(),
    };
    assert_eq!(
        query(&kv, &q).unwrap(),
        QueryResult::Placement(Some(Placement {
            group: 2,
            epoch: 4,
            frozen: false
        }))
    );
}

#[test]
fn routed_commands_must_name_a_pool_and_not_nest() {
    let mut kv = MemKv::new();
    apply(&mut kv, &req(1, place("p1", 0, 1, false))).unwrap();
    let not_a_pools = Command::RequestKeyRotation(RequestKeyRotation { at_ms: 1 });
    let invalid = Outcome::Rejected(Rejection::InvalidKey);
    assert_eq!(
        apply(&mut kv, &req(2, routed(0, 1, not_a_pools))).unwrap(),
        invalid
    );
    let nested = routed(0, 1, routed(0, 1, create_pool("p1")));
    assert_eq!(apply(&mut kv, &req(3, nested)).unwrap(), invalid);
    assert!(!pool_exists(&kv, "p1"));
}

#[test]
fn a_client_id_is_recorded_for_one_pool_only() {
    let mut kv = MemKv::new();
    let index = |client: &str, pool: &str| {
        Command::IndexClient(IndexClient {
            client_id: client.into(),
            pool_id: pool.into(),
        })
    };
    assert_eq!(
        apply(&mut kv, &req(1, index("c1", "p1"))).unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        apply(&mut kv, &req(2, index("c1", "p1"))).unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        apply(&mut kv, &req(3, index("c1", "p2"))).unwrap(),
        Outcome::Rejected(Rejection::ClientExists)
    );
    let q = Query::GetClientPool {
        client_id: "c1".into(),
    };
    assert_eq!(
        query(&kv, &q).unwrap(),
        QueryResult::ClientPool(Some("p1".into()))
    );
}
