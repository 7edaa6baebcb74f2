//! Unit tests of the signing-key lifecycle.

use super::*;
use crate::{query, KeyState, MemKv, Query, QueryResult, RequestId, RetireReason, SigningKey};

fn key(kid: &str, owner: &str, jwk: &str) -> Command {
    Command::PublishKey(PublishKey {
        key: SigningKey {
            kid: kid.into(),
            owner: owner.into(),
            alg: "EdDSA".into(),
            public_jwk: jwk.into(),
            published_at_ms: 1,
            usable_from_ms: 2,
            state: KeyState::Published,
        },
    })
}

struct F {
    kv: MemKv,
    n: u8,
}

impl F {
    fn run(&mut self, c: Command) -> Outcome {
        self.n += 1;
        let mut rid = [0u8; 16];
        rid[0] = self.n;
        rid[1] = 0xCD;
        apply(&mut self.kv, &Request::new(RequestId(rid), c)).unwrap()
    }

    fn state(&self, kid: &str) -> Option<KeyState> {
        match query(&self.kv, &Query::ListSigningKeys).unwrap() {
            QueryResult::SigningKeys(k) => k.into_iter().find(|k| k.kid == kid).map(|k| k.state),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn lease_lapse_retires_only_when_the_lease_really_lapsed() {
    let mut f = F {
        kv: MemKv::new(),
        n: 0,
    };
    assert_eq!(f.run(key("k1", "gw-a", "A")), Outcome::Applied);
    assert_eq!(
        f.run(Command::RenewKeyLease(RenewKeyLease {
            owner: "gw-a".into(),
            until_ms: 100
        })),
        Outcome::Applied
    );
    let retire = |at| {
        Command::RetireKey(RetireKey {
            kid: "k1".into(),
            reason: RetireReason::LeaseLapsed,
            at_ms: at,
            drop_after_ms: at + 50,
        })
    };
    // The owner is alive at 90: a stale housekeeper's retirement is refused.
    assert_eq!(
        f.run(retire(90)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.state("k1"), Some(KeyState::Published));
    // A renewal never shortens the lease.
    f.run(Command::RenewKeyLease(RenewKeyLease {
        owner: "gw-a".into(),
        until_ms: 80,
    }));
    assert_eq!(f.run(retire(101)), Outcome::Applied);
    assert_eq!(
        f.state("k1"),
        Some(KeyState::Retired {
            retired_at_ms: 101,
            drop_after_ms: 151
        })
    );
    // Retiring again changes nothing.
    assert_eq!(f.run(retire(120)), Outcome::Applied);
    assert_eq!(
        f.state("k1"),
        Some(KeyState::Retired {
            retired_at_ms: 101,
            drop_after_ms: 151
        })
    );
}

#[test]
fn drop_waits_for_the_overlap_and_the_kid_is_never_reused() {
    let mut f = F {
        kv: MemKv::new(),
        n: 0,
    };
    f.run(key("k1", "gw-a", "A"));
    // A published key is never dropped.
    assert_eq!(
        f.run(Command::DropKey(DropKey {
            kid: "k1".into(),
            at_ms: 1_000
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    f.run(Command::RetireKey(RetireKey {
        kid: "k1".into(),
        reason: RetireReason::Rotated,
        at_ms: 10,
        drop_after_ms: 60,
    }));
    assert_eq!(
        f.run(Command::DropKey(DropKey {
            kid: "k1".into(),
            at_ms: 59
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(
        f.run(Command::DropKey(DropKey {
            kid: "k1".into(),
            at_ms: 60
        })),
        Outcome::Applied
    );
    assert_eq!(f.state("k1"), None);
    // Dropping twice is harmless; publishing the kid again, even with the same material, is not.
    assert_eq!(
        f.run(Command::DropKey(DropKey {
            kid: "k1".into(),
            at_ms: 61
        })),
        Outcome::Applied
    );
    assert_eq!(
        f.run(key("k1", "gw-a", "A")),
        Outcome::Rejected(Rejection::KidConflict)
    );
}

#[test]
fn revocation_takes_effect_from_any_state_and_sticks() {
    let mut f = F {
        kv: MemKv::new(),
        n: 0,
    };
    f.run(key("k1", "gw-a", "A"));
    f.run(Command::RetireKey(RetireKey {
        kid: "k1".into(),
        reason: RetireReason::Rotated,
        at_ms: 10,
        drop_after_ms: 60,
    }));
    assert_eq!(
        f.run(Command::RevokeKey(RevokeKey {
            kid: "k1".into(),
            at_ms: 20,
            drop_after_ms: 500
        })),
        Outcome::Applied
    );
    let revoked = KeyState::Revoked {
        revoked_at_ms: 20,
        drop_after_ms: 500,
    };
    assert_eq!(f.state("k1"), Some(revoked));
    assert!(!revoked.is_published());
    // Neither a retirement nor an early drop brings it back or removes the tombstone.
    f.run(Command::RetireKey(RetireKey {
        kid: "k1".into(),
        reason: RetireReason::Rotated,
        at_ms: 30,
        drop_after_ms: 40,
    }));
    assert_eq!(f.state("k1"), Some(revoked));
    assert_eq!(
        f.run(Command::DropKey(DropKey {
            kid: "k1".into(),
            at_ms: 100
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(
        f.run(Command::RevokeKey(RevokeKey {
            kid: "nope".into(),
            at_ms: 1,
            drop_after_ms: 2
        })),
        Outcome::Rejected(Rejection::KeyNotFound)
    );
}
