//! Unit tests of identity pools: GetId's create-if-absent, linking and merging.

use super::*;
use crate::{Identity, IdentityPool, MemKv, RequestId, Role};
use std::collections::BTreeMap;

fn map(logins: &[(&str, &str)]) -> BTreeMap<String, String> {
    logins
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

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
            roles: Default::default(),
            role_mappings: Default::default(),
            created_at_ms: 1,
            updated_at_ms: 1,
        };
        assert_eq!(
            f.run(Command::CreateIdentityPool(CreateIdentityPool { pool })),
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
        let logins = map(logins);
        self.run(Command::GetOrCreateIdentity(GetOrCreateIdentity {
            pool_id: "local:pool".into(),
            logins,
            new_identity_id: new_id.into(),
            into_identity_id: None,
            at_ms: 5,
        }))
    }

    fn link_into(&mut self, logins: &[(&str, &str)], into: &str) -> Outcome {
        self.run(Command::GetOrCreateIdentity(GetOrCreateIdentity {
            pool_id: "local:pool".into(),
            logins: map(logins),
            new_identity_id: "local:never".into(),
            into_identity_id: Some(into.into()),
            at_ms: 6,
        }))
    }

    fn identity(&self, id: &str) -> Option<Identity> {
        match crate::query(
            &self.kv,
            &crate::Query::GetIdentity {
                pool_id: "local:pool".into(),
                identity_id: id.into(),
            },
        )
        .unwrap()
        {
            crate::QueryResult::Identity(i) => i,
            other => panic!("unexpected {other:?}"),
        }
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

#[test]
fn a_merge_that_would_give_one_provider_two_subjects_is_refused_without_a_trace() {
    let mut f = F::new(false);
    f.get_id(&[("a", "alice"), ("dev", "u1")], "local:id-1");
    f.get_id(&[("b", "bob"), ("dev", "u2")], "local:id-2");
    let before: Vec<_> = f.kv.rows().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(
        f.get_id(&[("a", "alice"), ("b", "bob")], "local:x"),
        Outcome::Rejected(Rejection::LoginConflict {
            provider: "dev".into()
        })
    );
    // Only the dedup bookkeeping changed.
    let after: Vec<_> =
        f.kv.rows()
            .filter(|((t, _), _)| !matches!(t, Table::Dedup | Table::DedupSeq | Table::Meta))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|((t, _), _)| !matches!(t, Table::Dedup | Table::DedupSeq | Table::Meta))
        .collect();
    assert_eq!(before, after);
    // A second subject for a provider the identity already has is refused too.
    assert_eq!(
        f.link_into(&[("a", "mallory")], "local:id-1"),
        Outcome::Rejected(Rejection::LoginConflict {
            provider: "a".into()
        })
    );
}

#[test]
fn developer_logins_link_into_a_named_identity_and_unlink() {
    let mut f = F::new(true);
    f.get_id(&[], "local:guest");
    assert_eq!(
        f.link_into(&[("dev", "u1")], "local:guest"),
        Outcome::Applied
    );
    assert_eq!(f.owner("dev", "u1").as_deref(), Some("local:guest"));
    assert_eq!(
        f.link_into(&[("dev", "u1")], "local:missing"),
        Outcome::Rejected(Rejection::IdentityNotFound)
    );
    // Unlink: only logins linked to that identity.
    let unlink = |f: &mut F, p: &str, s: &str| {
        f.run(Command::UnlinkIdentity(UnlinkIdentity {
            pool_id: "local:pool".into(),
            identity_id: "local:guest".into(),
            logins: map(&[(p, s)]),
            at_ms: 7,
        }))
    };
    assert_eq!(
        unlink(&mut f, "dev", "u2"),
        Outcome::Rejected(Rejection::LoginNotLinked {
            provider: "dev".into()
        })
    );
    assert_eq!(
        f.link_into(&[("a", "alice")], "local:guest"),
        Outcome::Applied
    );
    assert_eq!(unlink(&mut f, "dev", "u1"), Outcome::Applied);
    assert_eq!(f.owner("dev", "u1"), None);
    assert_eq!(
        f.identity("local:guest").unwrap().logins,
        map(&[("a", "alice")])
    );
    // Unlinking the last login makes the identity unreachable, not a guest.
    let last = f.run(Command::UnlinkIdentity(UnlinkIdentity {
        pool_id: "local:pool".into(),
        identity_id: "local:guest".into(),
        logins: map(&[("a", "alice")]),
        at_ms: 8,
    }));
    assert_eq!(last, Outcome::Applied);
    assert!(f.identity("local:guest").is_none());
    assert_eq!(f.owner("a", "alice"), None);
}

#[test]
fn deleted_identities_and_pools_are_gone_for_reads() {
    let mut f = F::new(false);
    f.get_id(&[("a", "alice")], "local:id-1");
    f.get_id(&[("a", "bob")], "local:id-2");
    assert_eq!(
        f.run(Command::DeleteIdentities(DeleteIdentities {
            pool_id: "local:pool".into(),
            identity_ids: vec!["local:id-1".into(), "local:unknown".into()],
        })),
        Outcome::Applied
    );
    assert_eq!(f.owner("a", "alice"), None);
    assert!(f.identity("local:id-1").is_none());
    let by_id = |f: &F, id: &str| {
        crate::query(
            &f.kv,
            &crate::Query::GetIdentityById {
                identity_id: id.into(),
            },
        )
        .unwrap()
    };
    assert_eq!(by_id(&f, "local:id-1"), crate::QueryResult::Identity(None));
    assert!(matches!(
        by_id(&f, "local:id-2"),
        crate::QueryResult::Identity(Some(ref i)) if i.pool_id == "local:pool"
    ));
    // The same login now gets a fresh identity.
    f.get_id(&[("a", "alice")], "local:id-3");
    assert_eq!(f.owner("a", "alice").as_deref(), Some("local:id-3"));
    assert!(f.identity("local:id-2").is_some());
    assert_eq!(
        f.run(Command::DeleteIdentityPool(DeleteIdentityPool {
            pool_id: "local:pool".into()
        })),
        Outcome::Applied
    );
    assert!(f.identity("local:id-2").is_none());
    assert_eq!(
        f.get_id(&[("a", "bob")], "local:id-4"),
        Outcome::Rejected(Rejection::IdentityPoolNotFound)
    );
}

fn role(name: &str) -> Role {
    Role {
        name: name.into(),
        arn: Role::arn_of(name),
        role_id: "AROA1".into(),
        description: String::new(),
        trust_policy: "{}".into(),
        max_session_s: 3600,
        policies: BTreeMap::new(),
        created_at_ms: 1,
        updated_at_ms: 1,
    }
}

#[test]
fn roles_carry_policies_and_are_deleted_only_without_them() {
    let mut f = F::new(false);
    assert_eq!(
        f.run(Command::CreateRole(CreateRole {
            role: role("reader")
        })),
        Outcome::Applied
    );
    assert_eq!(
        f.run(Command::CreateRole(CreateRole {
            role: role("reader")
        })),
        Outcome::Rejected(Rejection::RoleExists)
    );
    let put = Command::PutRolePolicy(PutRolePolicy {
        role_name: "reader".into(),
        policy_name: "p1".into(),
        document: "{\"Statement\":[]}".into(),
        at_ms: 2,
    });
    assert_eq!(f.run(put), Outcome::Applied);
    assert_eq!(
        f.run(Command::DeleteRole(DeleteRole {
            name: "reader".into()
        })),
        Outcome::Rejected(Rejection::RoleHasPolicies)
    );
    let del = |f: &mut F| {
        f.run(Command::DeleteRolePolicy(DeleteRolePolicy {
            role_name: "reader".into(),
            policy_name: "p1".into(),
            at_ms: 3,
        }))
    };
    assert_eq!(del(&mut f), Outcome::Applied);
    assert_eq!(del(&mut f), Outcome::Rejected(Rejection::PolicyNotFound));
    assert_eq!(
        f.run(Command::UpdateRole(UpdateRole {
            name: "reader".into(),
            description: Some("reads".into()),
            trust_policy: None,
            max_session_s: Some(7200),
            at_ms: 4,
        })),
        Outcome::Applied
    );
    let r = match crate::query(
        &f.kv,
        &crate::Query::GetRole {
            name: "reader".into(),
        },
    )
    .unwrap()
    {
        crate::QueryResult::Role(Some(r)) => r,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        (
            r.description.as_str(),
            r.max_session_s,
            r.trust_policy.as_str()
        ),
        ("reads", 7200, "{}")
    );
    assert_eq!(
        f.run(Command::DeleteRole(DeleteRole {
            name: "reader".into()
        })),
        Outcome::Applied
    );
    assert_eq!(
        f.run(Command::DeleteRole(DeleteRole {
            name: "reader".into()
        })),
        Outcome::Rejected(Rejection::RoleNotFound)
    );
}
