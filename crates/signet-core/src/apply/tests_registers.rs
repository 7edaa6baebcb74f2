//! Unit tests of the diagnostic compare-and-set registers.

use super::*;
use crate::{query, MemKv, Query, QueryResult, RequestId};

struct F {
    kv: MemKv,
    n: u8,
}

impl F {
    fn new() -> F {
        F {
            kv: MemKv::new(),
            n: 0,
        }
    }

    fn cas(&mut self, name: &str, expect: Option<i64>, value: i64) -> Outcome {
        self.n += 1;
        let c = Command::CasRegister(CasRegister {
            name: name.into(),
            expect,
            value,
        });
        apply(&mut self.kv, &Request::new(RequestId([self.n; 16]), c)).unwrap()
    }

    fn read(&self, name: &str) -> Option<i64> {
        let q = Query::GetRegister { name: name.into() };
        match query(&self.kv, &q).unwrap() {
            QueryResult::Register(v) => v,
            other => panic!("unexpected answer {other:?}"),
        }
    }
}

#[test]
fn a_write_sets_the_register_and_the_query_returns_it() {
    let mut f = F::new();
    assert_eq!(f.read("r0"), None, "never written");
    assert_eq!(f.cas("r0", None, 3), Outcome::Applied);
    assert_eq!(f.read("r0"), Some(3));
    // Unconditional writes overwrite, negative values included; other registers untouched.
    assert_eq!(f.cas("r0", None, -7), Outcome::Applied);
    assert_eq!(f.read("r0"), Some(-7));
    assert_eq!(f.read("r1"), None);
}

#[test]
fn a_cas_from_the_current_value_sets_the_new_one() {
    let mut f = F::new();
    assert_eq!(f.cas("r0", None, 1), Outcome::Applied);
    assert_eq!(f.cas("r0", Some(1), 2), Outcome::Applied);
    assert_eq!(f.read("r0"), Some(2));
    // Setting the value it already holds is a success too.
    assert_eq!(f.cas("r0", Some(2), 2), Outcome::Applied);
    assert_eq!(f.read("r0"), Some(2));
}

#[test]
fn a_cas_from_another_value_is_rejected_and_changes_nothing() {
    let mut f = F::new();
    assert_eq!(f.cas("r0", None, 1), Outcome::Applied);
    let before = f.kv.clone();
    assert_eq!(
        f.cas("r0", Some(4), 2),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.read("r0"), Some(1));
    // Only the dedup bookkeeping of the rejected request was written.
    let state = |kv: &MemKv| -> Vec<_> {
        kv.rows()
            .filter(|((t, _), _)| !matches!(t, Table::Dedup | Table::DedupSeq | Table::Meta))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(state(&f.kv), state(&before));
}

#[test]
fn a_cas_on_a_register_never_written_is_rejected() {
    let mut f = F::new();
    assert_eq!(
        f.cas("fresh", Some(0), 1),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.read("fresh"), None);
}

#[test]
fn invalid_names_are_rejected() {
    let mut f = F::new();
    let long = "a".repeat(MAX_REGISTER_NAME + 1);
    for bad in [
        "",
        "r 0",
        "r/0",
        "r\u{0}0",
        "r\u{e9}",
        "r0\n",
        long.as_str(),
    ] {
        assert_eq!(
            f.cas(bad, None, 1),
            Outcome::Rejected(Rejection::InvalidKey),
            "{bad:?}"
        );
        assert_eq!(f.read(bad), None, "{bad:?}");
    }
    let longest = "b".repeat(MAX_REGISTER_NAME);
    for good in ["r0", "chaos.r-1", "A_b:c", longest.as_str()] {
        assert!(valid_register_name(good), "{good:?}");
        assert_eq!(f.cas(good, None, 1), Outcome::Applied, "{good:?}");
        assert_eq!(f.read(good), Some(1));
    }
}
