//! Unit tests of the review's code rules: a code is bound to the value it was sent to, its
//! failures are counted across reissues, issuance is limited; aliases need verification.

use super::tests_flows::Fixture;
use super::*;
use crate::{CodeLimits, CodePurpose, CodeRecord, CodeTarget, User, UserPatch, UserStatus};
use std::collections::BTreeMap;

const LIMITS: CodeLimits = CodeLimits {
    window_ms: 1_000,
    max_issued: 4,
    max_failures: 3,
};

fn verify_email() -> CodePurpose {
    CodePurpose::VerifyAttribute("email".into())
}

fn issue(hash: &str, to: &str, now_ms: u64) -> Command {
    Command::IssueCode(IssueCode {
        pool_id: "p1".into(),
        username: "ann".into(),
        purpose: verify_email(),
        code: CodeRecord {
            code_hash: hash.into(),
            expires_at_ms: now_ms + 10_000,
            attempts_left: 5,
            sent_to: Some(CodeTarget {
                attribute: "email".into(),
                value: to.into(),
            }),
        },
        outbox: None,
        now_ms,
        limits: LIMITS,
    })
}

fn redeem(hash: &str, now_ms: u64) -> Command {
    let mut set = BTreeMap::new();
    set.insert("email_verified".to_string(), "true".to_string());
    Command::RedeemCode(RedeemCode {
        pool_id: "p1".into(),
        username: "ann".into(),
        purpose: verify_email(),
        code_hash: hash.into(),
        now_ms,
        patch: UserPatch {
            set_attributes: set,
            at_ms: now_ms,
            ..Default::default()
        },
        limits: LIMITS,
    })
}

fn set_email(f: &mut Fixture, user: &str, email: &str, verified: &str) {
    let mut set = BTreeMap::new();
    set.insert("email".to_string(), email.to_string());
    set.insert("email_verified".to_string(), verified.to_string());
    f.ok(Command::UpdateUser(UpdateUser {
        pool_id: "p1".into(),
        username: user.into(),
        patch: UserPatch {
            set_attributes: set,
            at_ms: 5,
            ..Default::default()
        },
    }));
}

#[test]
fn a_code_is_void_once_its_value_changed() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    set_email(&mut f, "ann", "mallory@example.com", "false");
    f.ok(issue("good", "mallory@example.com", 10));
    // The attacker switches the address to the victim's and redeems the code they got.
    set_email(&mut f, "ann", "victim@example.com", "false");
    assert_eq!(
        f.run(redeem("good", 11)),
        Outcome::Rejected(Rejection::CodeNotFound)
    );
    assert_eq!(f.get("ann").attributes["email_verified"], "false");
    // Destroyed, not merely refused: switching back does not revive it.
    set_email(&mut f, "ann", "mallory@example.com", "false");
    assert_eq!(
        f.run(redeem("good", 12)),
        Outcome::Rejected(Rejection::CodeNotFound)
    );
    // A code for the current value works.
    f.ok(issue("fresh", "mallory@example.com", 13));
    f.ok(redeem("fresh", 14));
    assert_eq!(f.get("ann").attributes["email_verified"], "true");
}

#[test]
fn failures_are_counted_across_reissues_until_the_window_passes() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(issue("c1", "ann@example.com", 0));
    f.run(redeem("x", 1));
    f.run(redeem("y", 2));
    // A reissue does not give the attempts back.
    f.ok(issue("c2", "ann@example.com", 3));
    assert_eq!(
        f.run(redeem("z", 4)),
        Outcome::Rejected(Rejection::TooManyAttempts)
    );
    // Spent: no code is issued, and not even the right code is checked.
    assert_eq!(
        f.run(issue("c3", "ann@example.com", 5)),
        Outcome::Rejected(Rejection::CodeLimitExceeded)
    );
    assert_eq!(
        f.run(redeem("c2", 6)),
        Outcome::Rejected(Rejection::CodeLimitExceeded)
    );
    assert_eq!(f.get("ann").attributes["email_verified"], "true");
    // A new window: codes again, and a right one resets the budget.
    f.ok(issue("c4", "ann@example.com", 1_000));
    f.ok(redeem("c4", 1_001));
    for t in 0..LIMITS.max_issued {
        f.ok(issue("c5", "ann@example.com", 1_002 + u64::from(t)));
    }
}

#[test]
fn issuance_is_limited_per_window() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    for t in 0..LIMITS.max_issued {
        f.ok(issue("c", "ann@example.com", u64::from(t)));
    }
    assert_eq!(
        f.run(issue("c", "ann@example.com", 10)),
        Outcome::Rejected(Rejection::CodeLimitExceeded)
    );
    f.ok(issue("c", "ann@example.com", 1_000));
}

#[test]
fn an_unverified_address_claims_no_alias() {
    let mut f = Fixture::new();
    f.user("victim", "victim@example.com");
    set_email(&mut f, "victim", "x@example.com", "true");
    // Mallory writes the victim's old address unverified: no alias, and no conflict either.
    let mut m = User::new("sub-m", "mallory", UserStatus::Confirmed, 1);
    m.attributes
        .insert("email".into(), "victim@example.com".into());
    f.ok(Command::CreateUser(CreateUser {
        pool_id: "p1".into(),
        user: m,
    }));
    assert_eq!(f.login("victim@example.com"), None);
    // The victim verifies the address again and gets it back.
    f.ok(Command::UpdateUser(UpdateUser {
        pool_id: "p1".into(),
        username: "victim".into(),
        patch: UserPatch {
            set_attributes: [
                ("email".to_string(), "victim@example.com".to_string()),
                ("email_verified".to_string(), "true".to_string()),
            ]
            .into(),
            at_ms: 6,
            ..Default::default()
        },
    }));
    assert_eq!(f.login("victim@example.com").as_deref(), Some("victim"));
}
