//! The deterministic state transition: one [`Request`] against one transaction.

use crate::kv::compound;
use crate::{
    decode_record, encode_record, Command, CoreError, KvTxn, Outcome, Rejection, Request,
    SigningKey, Table, User, UserPool, LOG_FORMAT_VERSION,
};

/// How many recent request ids the state machine remembers. A client retrying a write
/// (after a timeout or a leader change) gets the first outcome back as long as fewer than
/// this many other writes were applied in between; clients retry within seconds, so this
/// covers minutes of traffic at the target write rate.
pub const DEDUP_WINDOW: u64 = 100_000;

const META_DEDUP_SEQ: &[u8] = b"dedup_seq";

/// Apply one request. Idempotent by request id: a request id seen within the last
/// [`DEDUP_WINDOW`] applied requests returns its first outcome and changes nothing.
///
/// Errors are storage failures or entries from a newer format; both must stop the node
/// rather than let members diverge.
pub fn apply(txn: &mut impl KvTxn, req: &Request) -> Result<Outcome, CoreError> {
    if req.v > LOG_FORMAT_VERSION {
        return Err(CoreError::UnsupportedVersion {
            found: req.v,
            supported: LOG_FORMAT_VERSION,
        });
    }
    let rid = req.request_id.0;
    if let Some(prev) = txn.get(Table::Dedup, &rid)? {
        return Ok(decode_record(Table::Dedup, &prev)?);
    }
    let outcome = apply_command(txn, &req.command)?;
    remember(txn, &rid, &outcome)?;
    Ok(outcome)
}

/// Record the outcome under the request id and evict the id that fell out of the window.
fn remember(txn: &mut impl KvTxn, rid: &[u8; 16], outcome: &Outcome) -> Result<(), CoreError> {
    let seq = match txn.get(Table::Meta, META_DEDUP_SEQ)? {
        Some(b) => decode_record::<u64>(Table::Meta, &b)? + 1,
        None => 1,
    };
    txn.put(Table::Meta, META_DEDUP_SEQ, encode_record(&seq))?;
    txn.put(Table::Dedup, rid, encode_record(outcome))?;
    txn.put(Table::DedupSeq, &seq.to_be_bytes(), rid.to_vec())?;
    if seq > DEDUP_WINDOW {
        let old_seq = (seq - DEDUP_WINDOW).to_be_bytes();
        if let Some(old_rid) = txn.get(Table::DedupSeq, &old_seq)? {
            txn.delete(Table::Dedup, &old_rid)?;
            txn.delete(Table::DedupSeq, &old_seq)?;
        }
    }
    Ok(())
}

fn apply_command(txn: &mut impl KvTxn, cmd: &Command) -> Result<Outcome, CoreError> {
    match cmd {
        Command::CreateUserPool { pool } => create_pool(txn, pool),
        Command::CreateUser { pool_id, user } => create_user(txn, pool_id, user),
        Command::DeleteUser { pool_id, username } => delete_user(txn, pool_id, username),
        Command::PublishKey { key } => publish_key(txn, key),
    }
}

fn reject(r: Rejection) -> Result<Outcome, CoreError> {
    Ok(Outcome::Rejected(r))
}

fn create_pool(txn: &mut impl KvTxn, pool: &UserPool) -> Result<Outcome, CoreError> {
    if txn.get(Table::Pools, pool.id.as_bytes())?.is_some() {
        return reject(Rejection::PoolExists);
    }
    txn.put(Table::Pools, pool.id.as_bytes(), encode_record(pool))?;
    Ok(Outcome::Applied)
}

fn create_user(txn: &mut impl KvTxn, pool_id: &str, user: &User) -> Result<Outcome, CoreError> {
    if txn.get(Table::Pools, pool_id.as_bytes())?.is_none() {
        return reject(Rejection::PoolNotFound);
    }
    let key = compound(pool_id, &user.username);
    let sub_key = compound(pool_id, &user.sub);
    if txn.get(Table::Users, &key)?.is_some() || txn.get(Table::UsersBySub, &sub_key)?.is_some() {
        return reject(Rejection::UsernameExists);
    }
    txn.put(Table::Users, &key, encode_record(user))?;
    txn.put(
        Table::UsersBySub,
        &sub_key,
        user.username.as_bytes().to_vec(),
    )?;
    Ok(Outcome::Applied)
}

fn delete_user(txn: &mut impl KvTxn, pool_id: &str, username: &str) -> Result<Outcome, CoreError> {
    let key = compound(pool_id, username);
    let Some(raw) = txn.get(Table::Users, &key)? else {
        return reject(Rejection::UserNotFound);
    };
    let user: User = decode_record(Table::Users, &raw)?;
    txn.delete(Table::Users, &key)?;
    txn.delete(Table::UsersBySub, &compound(pool_id, &user.sub))?;
    Ok(Outcome::Applied)
}

fn publish_key(txn: &mut impl KvTxn, key: &SigningKey) -> Result<Outcome, CoreError> {
    if let Some(raw) = txn.get(Table::SigningKeys, key.kid.as_bytes())? {
        let existing: SigningKey = decode_record(Table::SigningKeys, &raw)?;
        // Re-publishing identical material (a retried write) is harmless; other material
        // under a known kid would let two keys answer to one name.
        if existing.public_jwk == key.public_jwk && existing.alg == key.alg {
            return Ok(Outcome::Applied);
        }
        return reject(Rejection::KidConflict);
    }
    txn.put(Table::SigningKeys, key.kid.as_bytes(), encode_record(key))?;
    Ok(Outcome::Applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{query, MemKv, Query, QueryResult, RequestId, UserStatus};

    fn pool(id: &str) -> Command {
        Command::CreateUserPool {
            pool: UserPool {
                id: id.into(),
                name: "test".into(),
                created_at_ms: 1,
            },
        }
    }

    fn user(name: &str, sub: &str) -> Command {
        Command::CreateUser {
            pool_id: "p1".into(),
            user: User {
                sub: sub.into(),
                username: name.into(),
                status: UserStatus::Confirmed,
                enabled: true,
                password_hash: None,
                attributes: Default::default(),
                created_at_ms: 5,
                updated_at_ms: 5,
            },
        }
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
        let key = |jwk: &str| Command::PublishKey {
            key: SigningKey {
                kid: "k1".into(),
                owner: "gw-a".into(),
                alg: "EdDSA".into(),
                public_jwk: jwk.into(),
                published_at_ms: 1,
                usable_from_ms: 2,
            },
        };
        assert_eq!(apply(&mut kv, &req(1, key("A"))).unwrap(), Outcome::Applied);
        assert_eq!(apply(&mut kv, &req(2, key("A"))).unwrap(), Outcome::Applied);
        assert_eq!(
            apply(&mut kv, &req(3, key("B"))).unwrap(),
            Outcome::Rejected(Rejection::KidConflict)
        );
    }
}
