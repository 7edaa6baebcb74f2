//! Unit tests of the user-pool commands: codes, refresh families, groups, aliases.

use super::*;
use crate::{
    query, CodePurpose, CodeRecord, Group, MemKv, Query, QueryResult, RequestId, User, UserPatch,
    UserPool, UserStatus,
};

pub(super) struct Fixture {
    kv: MemKv,
    next: u8,
}

impl Fixture {
    pub(super) fn new() -> Self {
        let mut f = Fixture {
            kv: MemKv::new(),
            next: 0,
        };
        let mut pool = UserPool::new("p1", "test", 1);
        pool.config.alias_attributes = vec!["email".into()];
        f.ok(Command::CreateUserPool(CreateUserPool { pool }));
        f
    }

    pub(super) fn run(&mut self, c: Command) -> Outcome {
        self.next = self.next.wrapping_add(1);
        let mut rid = [0u8; 16];
        rid[0] = self.next;
        rid[1] = 0xAB;
        apply(&mut self.kv, &Request::new(RequestId(rid), c)).unwrap()
    }

    pub(super) fn ok(&mut self, c: Command) {
        assert_eq!(self.run(c), Outcome::Applied);
    }

    pub(super) fn user(&mut self, name: &str, email: &str) {
        let mut u = User::new(format!("sub-{name}"), name, UserStatus::Unconfirmed, 1);
        u.attributes.insert("email".into(), email.into());
        u.attributes.insert("email_verified".into(), "true".into());
        self.ok(Command::CreateUser(CreateUser {
            pool_id: "p1".into(),
            user: u,
        }));
    }

    pub(super) fn get(&self, name: &str) -> User {
        match query(
            &self.kv,
            &Query::GetUser {
                pool_id: "p1".into(),
                username: name.into(),
            },
        )
        .unwrap()
        {
            QueryResult::User(Some(u)) => u,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn login(&self, login: &str) -> Option<String> {
        match query(
            &self.kv,
            &Query::GetUserForLogin {
                pool_id: "p1".into(),
                login: login.into(),
            },
        )
        .unwrap()
        {
            QueryResult::UserView(v) => v.map(|v| v.user.username),
            other => panic!("{other:?}"),
        }
    }
}

fn issue(code_hash: &str, attempts: u32) -> Command {
    Command::IssueCode(IssueCode {
        pool_id: "p1".into(),
        username: "ann".into(),
        purpose: CodePurpose::ConfirmSignUp,
        code: CodeRecord {
            code_hash: code_hash.into(),
            expires_at_ms: 1000,
            attempts_left: attempts,
            sent_to: None,
        },
        outbox: None,
        now_ms: 0,
        limits: Default::default(),
    })
}

fn redeem(code_hash: &str, now_ms: u64) -> Command {
    Command::RedeemCode(RedeemCode {
        pool_id: "p1".into(),
        username: "ann".into(),
        purpose: CodePurpose::ConfirmSignUp,
        code_hash: code_hash.into(),
        now_ms,
        patch: UserPatch {
            expect_status: Some(UserStatus::Unconfirmed),
            status: Some(UserStatus::Confirmed),
            at_ms: now_ms,
            ..Default::default()
        },
        limits: Default::default(),
    })
}

#[test]
fn a_code_confirms_once_and_wrong_codes_cost_attempts() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(issue("good", 3));
    assert_eq!(
        f.run(redeem("bad", 10)),
        Outcome::Rejected(Rejection::CodeMismatch { attempts_left: 2 })
    );
    assert_eq!(f.get("ann").status, UserStatus::Unconfirmed);
    f.ok(redeem("good", 11));
    assert_eq!(f.get("ann").status, UserStatus::Confirmed);
    // Spent: the same code again finds nothing.
    assert_eq!(
        f.run(redeem("good", 12)),
        Outcome::Rejected(Rejection::CodeNotFound)
    );
}

#[test]
fn attempts_run_out_and_codes_expire() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(issue("good", 2));
    assert_eq!(
        f.run(redeem("x", 1)),
        Outcome::Rejected(Rejection::CodeMismatch { attempts_left: 1 })
    );
    assert_eq!(
        f.run(redeem("y", 2)),
        Outcome::Rejected(Rejection::TooManyAttempts)
    );
    // Destroyed: even the right code no longer works.
    assert_eq!(
        f.run(redeem("good", 3)),
        Outcome::Rejected(Rejection::CodeNotFound)
    );
    f.ok(issue("good", 2));
    assert_eq!(
        f.run(redeem("good", 1000)),
        Outcome::Rejected(Rejection::CodeExpired)
    );
    assert_eq!(f.get("ann").status, UserStatus::Unconfirmed);
}

#[test]
fn refresh_family_rotates_once_per_generation_and_reuse_revokes() {
    let mut f = Fixture::new();
    let adv = |g: u32| {
        Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: "fam1".into(),
            presented_generation: g,
            expires_at_ms: 99,
            at_ms: 0,
            grace_ms: 0,
        })
    };
    f.ok(adv(0));
    f.ok(adv(1));
    // Generation 1 was already rotated: reuse detected, family revoked.
    assert_eq!(f.run(adv(1)), Outcome::Rejected(Rejection::RefreshReused));
    // Even the legitimate next generation is now refused.
    assert_eq!(f.run(adv(2)), Outcome::Rejected(Rejection::RefreshRevoked));
    f.ok(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "fam2".into(),
        expires_at_ms: 5,
    }));
    assert_eq!(
        f.run(Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: "fam2".into(),
            presented_generation: 0,
            expires_at_ms: 5,
            at_ms: 0,
            grace_ms: 0,
        })),
        Outcome::Rejected(Rejection::RefreshRevoked)
    );
}

#[test]
fn an_authorization_code_starts_its_family_once_and_the_family_then_rotates() {
    let mut f = Fixture::new();
    let start = || {
        Command::StartRefreshFamily(StartRefreshFamily {
            family_id: "famc".into(),
            expires_at_ms: 99,
        })
    };
    f.ok(start());
    // The code again: refused, whoever asks; the caller revokes what the first one got.
    assert_eq!(
        f.run(start()),
        Outcome::Rejected(Rejection::RefreshFamilyExists)
    );
    // The started family is an ordinary one: it rotates from generation 0.
    f.ok(Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
        family_id: "famc".into(),
        presented_generation: 0,
        expires_at_ms: 99,
        at_ms: 0,
        grace_ms: 0,
    }));
    // A revoked family can not be started again either.
    f.ok(Command::RevokeRefreshFamily(RevokeRefreshFamily {
        family_id: "famd".into(),
        expires_at_ms: 5,
    }));
    assert_eq!(
        f.run(Command::StartRefreshFamily(StartRefreshFamily {
            family_id: "famd".into(),
            expires_at_ms: 5,
        })),
        Outcome::Rejected(Rejection::RefreshFamilyExists)
    );
}

#[test]
fn identity_provider_names_and_identifiers_are_unique_in_a_pool() {
    let mut f = Fixture::new();
    let idp = |name: &str, ids: &[&str]| crate::IdentityProvider {
        pool_id: "p1".into(),
        name: name.into(),
        provider_type: crate::ProviderType::Oidc,
        details: Default::default(),
        attribute_mapping: Default::default(),
        identifiers: ids.iter().map(|s| s.to_string()).collect(),
        created_at_ms: 1,
        updated_at_ms: 1,
    };
    let put = |p: crate::IdentityProvider, create: bool| {
        Command::PutIdentityProvider(PutIdentityProvider {
            provider: p,
            create,
        })
    };
    let by_id = |f: &Fixture, id: &str| match query(
        &f.kv,
        &crate::Query::GetIdentityProviderByIdentifier {
            pool_id: "p1".into(),
            identifier: id.into(),
        },
    )
    .unwrap()
    {
        crate::QueryResult::IdentityProvider(p) => p.map(|p| p.name),
        other => panic!("{other:?}"),
    };
    f.ok(put(idp("Corp", &["corp.example", "corp"]), true));
    assert_eq!(
        f.run(put(idp("Corp", &[]), true)),
        Outcome::Rejected(Rejection::ProviderExists)
    );
    assert_eq!(
        f.run(put(idp("Other", &["corp"]), true)),
        Outcome::Rejected(Rejection::ProviderExists)
    );
    assert_eq!(
        f.run(put(idp("Nobody", &[]), false)),
        Outcome::Rejected(Rejection::ProviderNotFound)
    );
    assert_eq!(by_id(&f, "corp").as_deref(), Some("Corp"));
    // Replacing drops the identifiers it no longer names; another provider may take them.
    f.ok(put(idp("Corp", &["corp.example"]), false));
    assert_eq!(by_id(&f, "corp"), None);
    f.ok(put(idp("Other", &["corp"]), true));
    assert_eq!(by_id(&f, "corp").as_deref(), Some("Other"));
    f.ok(Command::DeleteIdentityProvider(DeleteIdentityProvider {
        pool_id: "p1".into(),
        name: "Corp".into(),
    }));
    assert_eq!(by_id(&f, "corp.example"), None);
}

#[test]
fn a_retry_within_the_grace_refreshes_again_and_a_later_one_revokes() {
    let mut f = Fixture::new();
    let adv = |g: u32, at_ms: u64| {
        Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: "fam1".into(),
            presented_generation: g,
            expires_at_ms: 999_999,
            at_ms,
            grace_ms: 10_000,
        })
    };
    f.ok(adv(0, 1_000));
    // Generation 0 again, 9 s later: a retry; the family stays at generation 1.
    f.ok(adv(0, 10_999));
    f.ok(adv(1, 11_000));
    // Generation 0 is two behind now: reuse, whatever the time.
    assert_eq!(
        f.run(adv(0, 11_001)),
        Outcome::Rejected(Rejection::RefreshReused)
    );
    let mut f = Fixture::new();
    f.ok(adv(0, 1_000));
    // The grace has passed: reuse.
    assert_eq!(
        f.run(adv(0, 11_000)),
        Outcome::Rejected(Rejection::RefreshReused)
    );
}

#[test]
fn aliases_are_unique_and_follow_attribute_changes() {
    let mut f = Fixture::new();
    f.user("ann", "shared@example.com");
    let mut bob = User::new("sub-bob", "bob", UserStatus::Confirmed, 1);
    bob.attributes
        .insert("email".into(), "shared@example.com".into());
    bob.attributes
        .insert("email_verified".into(), "true".into());
    assert_eq!(
        f.run(Command::CreateUser(CreateUser {
            pool_id: "p1".into(),
            user: bob
        })),
        Outcome::Rejected(Rejection::AliasExists {
            attribute: "email".into()
        })
    );
    assert_eq!(f.login("shared@example.com").as_deref(), Some("ann"));
    // Ann changes her e-mail: the old alias is released, the new one resolves.
    let mut set = std::collections::BTreeMap::new();
    set.insert("email".to_string(), "ann@new.example".to_string());
    f.ok(Command::UpdateUser(UpdateUser {
        pool_id: "p1".into(),
        username: "ann".into(),
        patch: UserPatch {
            set_attributes: set,
            at_ms: 2,
            ..Default::default()
        },
    }));
    assert_eq!(f.login("shared@example.com"), None);
    assert_eq!(f.login("ann@new.example").as_deref(), Some("ann"));
    assert_eq!(f.login("ann").as_deref(), Some("ann"));
    f.user("bob", "shared@example.com");
}

#[test]
fn compare_and_set_patches_refuse_stale_state() {
    let mut f = Fixture::new();
    f.user("ann", "a@example.com");
    let patch = UserPatch {
        expect_status: Some(UserStatus::ForceChangePassword),
        status: Some(UserStatus::Confirmed),
        at_ms: 3,
        ..Default::default()
    };
    assert_eq!(
        f.run(Command::UpdateUser(UpdateUser {
            pool_id: "p1".into(),
            username: "ann".into(),
            patch
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.get("ann").status, UserStatus::Unconfirmed);
}

#[test]
fn deleted_groups_and_users_leave_no_live_membership() {
    let mut f = Fixture::new();
    f.user("ann", "a@example.com");
    let group = |id: &str| Group {
        pool_id: "p1".into(),
        name: "admins".into(),
        group_id: id.into(),
        description: String::new(),
        precedence: Some(1),
        role_arn: None,
        created_at_ms: 1,
        updated_at_ms: 1,
    };
    f.ok(Command::CreateGroup(CreateGroup { group: group("g1") }));
    f.ok(Command::AddUserToGroup(AddUserToGroup {
        pool_id: "p1".into(),
        username: "ann".into(),
        group: "admins".into(),
    }));
    let groups = |f: &Fixture| match query(
        &f.kv,
        &Query::ListGroupsForUser {
            pool_id: "p1".into(),
            username: "ann".into(),
        },
    )
    .unwrap()
    {
        QueryResult::Groups(g) => g.into_iter().map(|g| g.group_id).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(groups(&f), vec!["g1"]);
    // Delete and re-create the group: the new incarnation starts empty.
    f.ok(Command::DeleteGroup(DeleteGroup {
        pool_id: "p1".into(),
        name: "admins".into(),
    }));
    f.ok(Command::CreateGroup(CreateGroup { group: group("g2") }));
    assert!(groups(&f).is_empty());
    f.ok(Command::AddUserToGroup(AddUserToGroup {
        pool_id: "p1".into(),
        username: "ann".into(),
        group: "admins".into(),
    }));
    // Delete and re-create the user: the new user is in no group.
    f.ok(Command::DeleteUser(DeleteUser {
        pool_id: "p1".into(),
        username: "ann".into(),
        at_ms: 0,
    }));
    let mut again = User::new("sub-ann-2", "ann", UserStatus::Confirmed, 5);
    again
        .attributes
        .insert("email".into(), "a@example.com".into());
    f.ok(Command::CreateUser(CreateUser {
        pool_id: "p1".into(),
        user: again,
    }));
    assert!(groups(&f).is_empty());
    match query(
        &f.kv,
        &Query::ListUsersInGroup {
            pool_id: "p1".into(),
            group: "admins".into(),
            after: None,
            limit: 10,
        },
    )
    .unwrap()
    {
        QueryResult::Users(u) => assert!(u.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deleted_pool_ids_are_never_reused_and_protection_holds() {
    let mut f = Fixture::new();
    let mut protected = UserPool::new("p2", "keep", 1);
    protected.config.deletion_protection = true;
    f.ok(Command::CreateUserPool(CreateUserPool { pool: protected }));
    assert_eq!(
        f.run(Command::DeleteUserPool(DeleteUserPool {
            pool_id: "p2".into(),
            at_ms: 2
        })),
        Outcome::Rejected(Rejection::DeletionProtected)
    );
    f.ok(Command::DeleteUserPool(DeleteUserPool {
        pool_id: "p1".into(),
        at_ms: 2,
    }));
    assert_eq!(
        f.run(Command::CreateUserPool(CreateUserPool {
            pool: UserPool::new("p1", "again", 3)
        })),
        Outcome::Rejected(Rejection::PoolExists)
    );
}

#[test]
fn nul_bytes_in_keys_are_refused() {
    let mut f = Fixture::new();
    assert_eq!(
        f.run(Command::CreateUser(CreateUser {
            pool_id: "p1".into(),
            user: User::new("s", "a\0b", UserStatus::Confirmed, 1)
        })),
        Outcome::Rejected(Rejection::InvalidKey)
    );
}

#[test]
fn failures_lock_out_with_doubling_backoff_and_success_clears() {
    let mut f = Fixture::new();
    f.user("ann", "a@example.com");
    let fail = |at| {
        Command::RecordSignInFailure(RecordSignInFailure {
            pool_id: "p1".into(),
            username: "ann".into(),
            at_ms: at,
            threshold: 3,
            base_ms: 1000,
            max_ms: 5000,
        })
    };
    f.ok(fail(10));
    f.ok(fail(20));
    assert_eq!(f.get("ann").locked_until_ms, 0);
    f.ok(fail(30));
    assert_eq!(f.get("ann").locked_until_ms, 1030);
    // During the lockout an attempt is refused unchecked and does not count.
    assert_eq!(
        f.run(fail(40)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.get("ann").failed_sign_ins, 3);
    // Each failure after a lockout doubles the next one.
    f.ok(fail(1030));
    assert_eq!(f.get("ann").locked_until_ms, 3030);
    f.ok(fail(3030));
    assert_eq!(f.get("ann").locked_until_ms, 7030);
    f.ok(fail(7030));
    // Capped at max_ms.
    assert_eq!(f.get("ann").locked_until_ms, 12030);
    assert_eq!(f.get("ann").failed_sign_ins, 6);
    f.ok(Command::ClearSignInFailures(ClearSignInFailures {
        pool_id: "p1".into(),
        username: "ann".into(),
    }));
    let u = f.get("ann");
    assert_eq!((u.failed_sign_ins, u.locked_until_ms), (0, 0));
}

#[test]
fn custom_attributes_are_added_once_and_survive_an_update_from_an_older_read() {
    let mut f = Fixture::new();
    let attr = |name: &str| crate::SchemaAttribute {
        name: name.into(),
        data_type: crate::AttributeType::String,
        mutable: true,
        required: false,
        max_length: None,
    };
    let add = |names: &[&str], max: u32| {
        Command::AddCustomAttributes(AddCustomAttributes {
            pool_id: "p1".into(),
            attributes: names.iter().map(|n| attr(n)).collect(),
            max_custom: max,
            at_ms: 5,
        })
    };
    let pool = |f: &Fixture| match query(
        &f.kv,
        &crate::Query::GetUserPool {
            pool_id: "p1".into(),
        },
    )
    .unwrap()
    {
        crate::QueryResult::UserPool(Some(p)) => p,
        other => panic!("{other:?}"),
    };
    let older = pool(&f);
    f.ok(add(&["custom:plan"], 50));
    assert_eq!(
        f.run(add(&["custom:plan"], 50)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    // All or none: the second name is over the limit, so the first is not added either.
    assert_eq!(
        f.run(add(&["custom:a", "custom:b"], 2)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(pool(&f).config.schema.len(), 1);
    // An update proposed from a read before the addition keeps the new attribute.
    f.ok(Command::UpdateUserPool(UpdateUserPool {
        pool_id: "p1".into(),
        name: "renamed".into(),
        config: older.config.clone(),
        at_ms: 6,
    }));
    let now = pool(&f);
    assert_eq!(now.name, "renamed");
    assert!(now.config.schema.iter().any(|a| a.name == "custom:plan"));
}
