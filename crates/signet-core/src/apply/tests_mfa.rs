//! Unit tests of the second-factor commands: a TOTP step is accepted once, wrong codes
//! lock like wrong passwords, and every change is bound to the user a token named.

use super::tests_flows::Fixture;
use super::*;
use crate::MfaFactor;

const LOCK: (u32, u64, u64) = (3, 1_000, 60_000);

fn associate(seed: &str) -> Command {
    Command::AssociateTotp(AssociateTotp {
        pool_id: "p1".into(),
        username: "ann".into(),
        sub: "sub-ann".into(),
        sealed_seed: seed.into(),
        at_ms: 10,
    })
}

fn verify(seed: &str, step: u64, enable: bool) -> Command {
    Command::VerifyTotp(VerifyTotp {
        pool_id: "p1".into(),
        username: "ann".into(),
        sub: "sub-ann".into(),
        sealed_seed: seed.into(),
        step,
        friendly_name: "phone".into(),
        enable,
        at_ms: 20,
    })
}

fn sign_in(step: Option<u64>, at_ms: u64) -> Command {
    Command::TotpSignIn(TotpSignIn {
        pool_id: "p1".into(),
        username: "ann".into(),
        sub: "sub-ann".into(),
        step,
        at_ms,
        threshold: LOCK.0,
        base_ms: LOCK.1,
        max_ms: LOCK.2,
    })
}

fn with_totp() -> Fixture {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(associate("sealed-1"));
    f.ok(verify("sealed-1", 100, true));
    f
}

#[test]
fn a_verified_seed_becomes_the_authenticator_and_the_pending_one_goes() {
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(associate("sealed-1"));
    assert_eq!(f.get("ann").mfa.pending_seed.as_deref(), Some("sealed-1"));
    // A second association replaces the pending seed: a code checked against the first
    // no longer verifies anything.
    f.ok(associate("sealed-2"));
    assert_eq!(
        f.run(verify("sealed-1", 100, true)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    f.ok(verify("sealed-2", 100, true));
    let mfa = f.get("ann").mfa;
    let totp = mfa.totp.expect("authenticator");
    assert_eq!(
        (totp.sealed_seed.as_str(), totp.last_step),
        ("sealed-2", 100)
    );
    assert!(totp.enabled);
    assert_eq!(mfa.preferred, Some(MfaFactor::SoftwareTokenMfa));
    assert_eq!(mfa.pending_seed, None);
}

#[test]
fn a_step_is_accepted_once_and_never_an_earlier_one() {
    let mut f = with_totp();
    // The step the set-up's code was for cannot sign in.
    assert_eq!(
        f.run(sign_in(Some(100), 1_000)),
        Outcome::Rejected(Rejection::MfaCodeReused)
    );
    f.ok(sign_in(Some(101), 1_000));
    for step in [101, 100, 99] {
        assert_eq!(
            f.run(sign_in(Some(step), 1_000)),
            Outcome::Rejected(Rejection::MfaCodeReused),
            "step {step}"
        );
    }
    f.ok(sign_in(Some(102), 1_000));
    assert_eq!(f.get("ann").mfa.totp.unwrap().last_step, 102);
}

#[test]
fn wrong_codes_lock_and_a_right_one_is_refused_while_locked() {
    let mut f = with_totp();
    for _ in 0..LOCK.0 {
        f.ok(sign_in(None, 1_000));
    }
    let u = f.get("ann");
    assert_eq!(u.failed_sign_ins, LOCK.0);
    assert_eq!(u.locked_until_ms, 1_000 + LOCK.1);
    // Locked: even a right code is refused, and not counted.
    assert_eq!(
        f.run(sign_in(Some(101), 1_500)),
        Outcome::Rejected(Rejection::TooManyAttempts)
    );
    assert_eq!(
        f.run(sign_in(None, 1_500)),
        Outcome::Rejected(Rejection::TooManyAttempts)
    );
    assert_eq!(f.get("ann").failed_sign_ins, LOCK.0);
    // After the lockout a right code signs in and clears the failures.
    f.ok(sign_in(Some(101), 2_000));
    let u = f.get("ann");
    assert_eq!((u.failed_sign_ins, u.locked_until_ms), (0, 0));
}

#[test]
fn another_user_of_the_same_name_is_not_the_one_the_token_named() {
    let mut f = with_totp();
    let mut other = sign_in(Some(101), 1_000);
    if let Command::TotpSignIn(c) = &mut other {
        c.sub = "sub-someone-else".into();
    }
    assert_eq!(f.run(other), Outcome::Rejected(Rejection::UserNotFound));
    let mut assoc = associate("sealed-x");
    if let Command::AssociateTotp(c) = &mut assoc {
        c.sub = "sub-someone-else".into();
    }
    assert_eq!(f.run(assoc), Outcome::Rejected(Rejection::UserNotFound));
    assert_eq!(f.get("ann").mfa.pending_seed, None);
}

#[test]
fn preferences_need_a_verified_authenticator() {
    let pref = |enabled: Option<bool>, preferred: Option<bool>| {
        Command::SetMfaPreference(SetMfaPreference {
            pool_id: "p1".into(),
            username: "ann".into(),
            sub: None,
            totp_enabled: enabled,
            totp_preferred: preferred,
            sms_enabled: None,
            sms_preferred: None,
            email_enabled: None,
            email_preferred: None,
            at_ms: 30,
        })
    };
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    assert_eq!(
        f.run(pref(Some(true), None)),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    f.ok(pref(Some(false), Some(false)));
    f.ok(associate("sealed-1"));
    f.ok(verify("sealed-1", 100, false));
    let mfa = f.get("ann").mfa;
    assert!(!mfa.totp.unwrap().enabled, "verified, not turned on");
    assert_eq!(mfa.preferred, None);
    f.ok(pref(Some(true), Some(true)));
    assert_eq!(
        f.get("ann").mfa.preferred,
        Some(MfaFactor::SoftwareTokenMfa)
    );
    // Turned off, it is no longer preferred either.
    f.ok(pref(Some(false), None));
    let mfa = f.get("ann").mfa;
    assert!(!mfa.totp.unwrap().enabled);
    assert_eq!(mfa.preferred, None);
    assert_eq!(
        f.run(pref(None, Some(true))),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
}

/// An SRP verifier belongs to one password: setting a password without one clears the old
/// verifier; a verifier alone is added only while the password it was derived from is
/// still the user's (expect_password_hash).
#[test]
fn an_srp_verifier_never_outlives_its_password() {
    let patch = |p: crate::UserPatch| {
        Command::UpdateUser(UpdateUser {
            pool_id: "p1".into(),
            username: "ann".into(),
            patch: p,
        })
    };
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(patch(crate::UserPatch {
        password: Some(("hash-1".into(), None)),
        srp: Some("verifier-1".into()),
        at_ms: 2,
        ..Default::default()
    }));
    assert_eq!(f.get("ann").srp.as_deref(), Some("verifier-1"));
    f.ok(patch(crate::UserPatch {
        password: Some(("hash-2".into(), None)),
        at_ms: 3,
        ..Default::default()
    }));
    assert_eq!(f.get("ann").srp, None, "a new password without a verifier");
    // Derived from the first password, too late: refused.
    assert_eq!(
        f.run(patch(crate::UserPatch {
            expect_password_hash: Some("hash-1".into()),
            srp: Some("verifier-1".into()),
            at_ms: 4,
            ..Default::default()
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    f.ok(patch(crate::UserPatch {
        expect_password_hash: Some("hash-2".into()),
        srp: Some("verifier-2".into()),
        at_ms: 5,
        ..Default::default()
    }));
    let u = f.get("ann");
    assert_eq!(
        (u.srp.as_deref(), u.password_hash.as_deref()),
        (Some("verifier-2"), Some("hash-2"))
    );
}

/// SMS and email factors need a verified destination; one preferred factor at most, and
/// a factor that stops being usable (its address unverified) is not reported preferred.
#[test]
fn code_factors_need_a_verified_destination() {
    let pref = |sms: Option<bool>, email: Option<bool>, email_preferred: Option<bool>| {
        Command::SetMfaPreference(SetMfaPreference {
            pool_id: "p1".into(),
            username: "ann".into(),
            sub: Some("sub-ann".into()),
            totp_enabled: None,
            totp_preferred: None,
            sms_enabled: sms,
            sms_preferred: sms,
            email_enabled: email,
            email_preferred,
            at_ms: 30,
        })
    };
    let set = |attrs: &[(&str, &str)]| {
        Command::UpdateUser(UpdateUser {
            pool_id: "p1".into(),
            username: "ann".into(),
            patch: crate::UserPatch {
                set_attributes: attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                at_ms: 25,
                ..Default::default()
            },
        })
    };
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    f.ok(set(&[("email_verified", "false")]));
    assert_eq!(
        f.run(pref(None, Some(true), None)),
        Outcome::Rejected(Rejection::PreconditionFailed),
        "unverified email"
    );
    f.ok(set(&[
        ("email_verified", "true"),
        ("phone_number", "+15550100"),
    ]));
    assert_eq!(
        f.run(pref(Some(true), None, None)),
        Outcome::Rejected(Rejection::PreconditionFailed),
        "unverified phone"
    );
    f.ok(pref(None, Some(true), Some(true)));
    let u = f.get("ann");
    assert!(u.mfa.email_enabled && !u.mfa.sms_enabled);
    assert_eq!(u.mfa.preferred, Some(MfaFactor::EmailOtp));
    f.ok(set(&[("phone_number_verified", "true")]));
    // Preferring SMS moves the preference; email stays on.
    f.ok(pref(Some(true), None, None));
    let u = f.get("ann");
    assert_eq!(u.mfa.preferred, Some(MfaFactor::SmsMfa));
    assert!(u.factor_enabled(MfaFactor::EmailOtp));
    // The phone number unverified: SMS is no longer a factor the user has.
    f.ok(set(&[("phone_number_verified", "false")]));
    assert!(!f.get("ann").factor_enabled(MfaFactor::SmsMfa));
    // A call for another user of the same name changes nothing.
    let mut other = pref(None, Some(false), None);
    if let Command::SetMfaPreference(p) = &mut other {
        p.sub = Some("sub-someone-else".into());
    }
    assert_eq!(f.run(other), Outcome::Rejected(Rejection::UserNotFound));
    assert!(f.get("ann").mfa.email_enabled);
}

/// A sign-in code's patch clears the password's counted reservation, and only for the
/// user the session named.
#[test]
fn a_patch_for_another_sub_or_clearing_failures_does_what_it_says() {
    let patch = |p: crate::UserPatch| {
        Command::UpdateUser(UpdateUser {
            pool_id: "p1".into(),
            username: "ann".into(),
            patch: p,
        })
    };
    let mut f = Fixture::new();
    f.user("ann", "ann@example.com");
    for at in [1, 2, 3] {
        f.ok(sign_in(None, at));
    }
    assert!(f.get("ann").locked_until_ms > 0);
    assert_eq!(
        f.run(patch(crate::UserPatch {
            expect_sub: Some("sub-bob".into()),
            clear_sign_in_failures: true,
            ..Default::default()
        })),
        Outcome::Rejected(Rejection::PreconditionFailed)
    );
    assert_eq!(f.get("ann").failed_sign_ins, 3);
    f.ok(patch(crate::UserPatch {
        expect_sub: Some("sub-ann".into()),
        clear_sign_in_failures: true,
        ..Default::default()
    }));
    let u = f.get("ann");
    assert_eq!((u.failed_sign_ins, u.locked_until_ms), (0, 0));
}
