//! Unit tests of the revocation log: which changes append a row, what it says, how a
//! follower pages through it, and that rows go only once every token they affect expired.

use super::*;
use crate::purge::{MAX_TOKEN_LIFETIME_MS, PURGE_LEEWAY_MS};
use crate::{
    query, AppClient, MemKv, Query, QueryResult, RefreshFamily, RequestId, User, UserPatch,
    UserPool, UserStatus,
};

struct F {
    kv: MemKv,
    n: u8,
}

impl F {
    fn new() -> F {
        let mut f = F {
            kv: MemKv::new(),
            n: 0,
        };
        f.ok(Command::CreateUserPool(CreateUserPool {
            pool: UserPool::new("p1", "test", 1),
        }));
        f.ok(Command::CreateUser(CreateUser {
            pool_id: "p1".into(),
            user: User::new("sub-a", "alice", UserStatus::Confirmed, 1),
        }));
        f
    }

    fn run(&mut self, c: Command) -> Outcome {
        self.n += 1;
        apply(&mut self.kv, &Request::new(RequestId([self.n; 16]), c)).unwrap()
    }

    fn ok(&mut self, c: Command) {
        assert_eq!(self.run(c), Outcome::Applied);
    }

    fn list(&self, after: u64, limit: usize) -> Vec<Revocation> {
        match query(&self.kv, &Query::ListRevocations { after, limit }).unwrap() {
            QueryResult::Revocations(r) => r,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn kinds(&self) -> Vec<Revoked> {
        self.list(0, 1000).into_iter().map(|r| r.what).collect()
    }
}

fn sign_out(at: u64) -> Command {
    Command::UpdateUser(UpdateUser {
        pool_id: "p1".into(),
        username: "alice".into(),
        patch: UserPatch {
            tokens_valid_after_ms: Some(at),
            at_ms: at,
            ..Default::default()
        },
    })
}

fn client(disabled: bool, at: u64) -> AppClient {
    serde_json::from_value(serde_json::json!({
        "client_id": "c1", "pool_id": "p1", "name": "web",
        "disabled": disabled, "created_at_ms": 1, "updated_at_ms": at,
    }))
    .unwrap()
}

#[test]
fn a_sign_out_revokes_the_users_earlier_sign_ins_and_only_a_change_counts() {
    let mut f = F::new();
    assert!(f.kinds().is_empty());
    f.ok(sign_out(5_000));
    let rows = f.list(0, 10);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].seq, rows[0].until_ms),
        (1, 5_000 + MAX_TOKEN_LIFETIME_MS)
    );
    assert_eq!(
        rows[0].what,
        Revoked::User {
            pool_id: "p1".into(),
            sub: "sub-a".into(),
            before_ms: 5_000
        }
    );
    // The same time again, or an older one, changes nothing: no new row.
    f.ok(sign_out(5_000));
    // A change that does not touch the time is no revocation.
    f.ok(Command::UpdateUser(UpdateUser {
        pool_id: "p1".into(),
        username: "alice".into(),
        patch: UserPatch {
            set_attributes: [("name".to_string(), "Alice".to_string())].into(),
            at_ms: 6_000,
            ..Default::default()
        },
    }));
    assert_eq!(f.list(0, 10).len(), 1);
}

#[test]
fn deletions_families_tokens_clients_pools_and_keys_each_append_one_row() {
    let mut f = F::new();
    f.ok(Command::CreateAppClient(CreateAppClient {
        client: client(false, 1),
    }));
    f.ok(Command::UpdateAppClient(UpdateAppClient {
        client: client(true, 7_000),
    }));
    // Disabled again (another change of the record): not a second revocation.
    f.ok(Command::UpdateAppClient(UpdateAppClient {
        client: client(true, 7_500),
    }));
    f.ok(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "fam-1".into(),
        expires_at_ms: 90_000,
    }));
    f.ok(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "fam-1".into(),
        expires_at_ms: 90_000,
    }));
    f.ok(Command::RevokeAccessToken(RevokeAccessToken {
        jti: "jti-1".into(),
        expires_at_ms: 60_000,
    }));
    f.ok(Command::DeleteUser(DeleteUser {
        pool_id: "p1".into(),
        username: "alice".into(),
        at_ms: 8_000,
    }));
    f.ok(Command::DeleteUserPool(DeleteUserPool {
        pool_id: "p1".into(),
        at_ms: 9_000,
    }));
    let rows = f.list(0, 100);
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let whats: Vec<Revoked> = rows.iter().map(|r| r.what.clone()).collect();
    assert_eq!(
        whats,
        [
            Revoked::Client {
                pool_id: "p1".into(),
                client_id: "c1".into(),
                before_ms: 7_000
            },
            Revoked::Family {
                family_id: "fam-1".into()
            },
            Revoked::Token {
                jti: "jti-1".into()
            },
            Revoked::User {
                pool_id: "p1".into(),
                sub: "sub-a".into(),
                before_ms: u64::MAX
            },
            Revoked::Pool {
                pool_id: "p1".into()
            },
        ]
    );
    // Until: the family's tokens can be minted until it expires, and live a token
    // lifetime more; a revoked access token matters until its own expiry.
    assert_eq!(rows[1].until_ms, 90_000 + MAX_TOKEN_LIFETIME_MS);
    assert_eq!(rows[2].until_ms, 60_000);
    // A follower pages on from the last sequence number it saw.
    let next: Vec<u64> = f.list(2, 2).iter().map(|r| r.seq).collect();
    assert_eq!(next, [3, 4]);
    assert!(f.list(5, 10).is_empty());
}

#[test]
fn a_reused_refresh_token_revokes_its_family_in_the_log() {
    let mut f = F::new();
    let advance = |generation| {
        Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: "fam-2".into(),
            presented_generation: generation,
            expires_at_ms: 50_000,
            at_ms: 0,
            grace_ms: 0,
        })
    };
    f.ok(advance(0));
    f.ok(advance(1));
    assert_eq!(
        f.run(advance(0)),
        Outcome::Rejected(Rejection::RefreshReused)
    );
    assert_eq!(
        f.kinds(),
        [Revoked::Family {
            family_id: "fam-2".into()
        }]
    );
    let fam: Option<RefreshFamily> = get(&f.kv, Table::RefreshFamilies, b"fam-2").unwrap();
    assert!(fam.unwrap().revoked);
}

#[test]
fn rows_are_purged_only_once_every_token_they_affect_has_expired() {
    let mut f = F::new();
    f.ok(Command::RevokeAccessToken(RevokeAccessToken {
        jti: "short".into(),
        expires_at_ms: 10_000,
    }));
    f.ok(sign_out(20_000));
    let keys = vec![revocation_key(1), revocation_key(2)];
    let purge = |now_ms| {
        Command::PurgeExpired(PurgeExpired {
            now_ms,
            families: vec![],
            revoked_tokens: vec![],
            revocations: keys.clone(),
        })
    };
    // Just before the token's expiry (plus leeway): both stay.
    f.ok(purge(10_000 + PURGE_LEEWAY_MS - 1));
    assert_eq!(f.list(0, 10).len(), 2);
    // After it: the token's row goes, the sign-out's stays a token lifetime.
    f.ok(purge(10_000 + PURGE_LEEWAY_MS));
    let left: Vec<u64> = f.list(0, 10).iter().map(|r| r.seq).collect();
    assert_eq!(left, [2]);
    f.ok(purge(20_000 + MAX_TOKEN_LIFETIME_MS + PURGE_LEEWAY_MS));
    assert!(f.list(0, 10).is_empty());
    // Sequence numbers never go back after a purge.
    f.ok(sign_out(30_000));
    assert_eq!(f.list(0, 10)[0].seq, 3);
}
