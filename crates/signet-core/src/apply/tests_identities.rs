//! Unit tests of identity pools: GetId's create-if-absent, linking and merging.

use super::*;
use crate::{IdentityPool, MemKv, RequestId};
use std::collections::BTreeMap;

struct F {
    kv: MemKv,
    n: u8,
}

impl F {
    fn new(allow_unauthenticated: bool) -> F {
        let mut f = F {
            kv: MemKv::new(),
            n: 0,
        };
        let pool = IdentityPool {
            id: "local:pool".into(),
            name: "ids".into(),
            allow_unauthenticated,
            allow_classic_flow: false,
            providers: vec![],
            developer_provider: None,
            created_at_ms: 1,
            updated_at_ms: 1,
        };
        assert_eq!(
            f.run(Command::CreateIdentityPool { pool }),
            Outcome::Applied
        );
        f
    }

    fn run(&mut self, c: Command) -> Outcome {
        self.n += 1;
        let mut rid = [0u8; 16];
        rid[0] = self.n;
        rid[1] = 0xEF;
        apply(&mut self.kv, &Request::new(RequestId(rid), c)).unwrap()
    }

    fn get_id(&mut self, logins: &[(&str, &str)], new_id: &str) -> Outcome {
        let logins: BTreeMap<String, String> = logins
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect();
        self.run(Command::GetOrCreateIdentity {
            pool_id: "local:pool".into(),
            logins,
            new_identity_id: new_id.into(),
            at_ms: 5,
        })
    }

    fn owner(&self, provider: &str, subject: &str) -> Option<String> {
        KvTxn::get(
            &self.kv,
            Table::IdentityLogins,
            &crate::kv::key(&["local:pool", provider, subject]),
        )
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap())
    }

    fn identities(&self) -> usize {
        self.kv
            .rows()
            .filter(|((t, _), _)| *t == Table::Identities)
            .count()
    }
}

#[test]
fn one_login_gets_one_identity_however_often_it_asks() {
    let mut f = F::new(false);
    assert_eq!(
        f.get_id(&[("idp.example/pool1", "alice")], "local:id-1"),
        Outcome::Applied
    );
    // A concurrent call proposed another id; it is not used.
    assert_eq!(
        f.get_id(&[("idp.example/pool1", "alice")], "local:id-2"),
        Outcome::Applied
    );
    assert_eq!(
        f.owner("idp.example/pool1", "alice").as_deref(),
        Some("local:id-1")
    );
    assert_eq!(f.identities(), 1);
}

#[test]
fn new_logins_link_and_owned_logins_merge() {
    let mut f = F::new(false);
    f.get_id(&[("a", "alice")], "local:id-a");
    f.get_id(&[("b", "alice-b")], "local:id-b");
    assert_eq!(f.identities(), 2);
    // Linking a fresh login to an existing one keeps one identity.
    f.get_id(&[("a", "alice"), ("c", "alice-c")], "local:unused");
    assert_eq!(f.owner("c", "alice-c").as_deref(), Some("local:id-a"));
    // Presenting logins owned by two identities merges them into the first one.
    f.get_id(&[("a", "alice"), ("b", "alice-b")], "local:unused-2");
    assert_eq!(f.identities(), 1);
    assert_eq!(f.owner("b", "alice-b").as_deref(), Some("local:id-a"));
}

#[test]
fn unauthenticated_identities_only_when_allowed() {
    let mut f = F::new(false);
    assert_eq!(
        f.get_id(&[], "local:anon"),
        Outcome::Rejected(Rejection::UnauthenticatedNotAllowed)
    );
    let mut g = F::new(true);
    assert_eq!(g.get_id(&[], "local:anon"), Outcome::Applied);
    assert_eq!(g.identities(), 1);
}
