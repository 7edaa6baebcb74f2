//! The sign-in workloads of `signet chaos run` (refresh rotation, reset codes, lockout):
//! what the CI run in `chaos_run` asserts of them, and `signet chaos check` reporting
//! their anomalies from saved histories.

use crate::support::bin;
use serde_json::Value;
use std::process::Command;

/// The sign-in workloads of the run made progress through the faults and every rule held.
pub(crate) fn signins_held(r: &Value) {
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let empty = |v: &Value| v.as_array().map(Vec::len) == Some(0);
    // Refresh: families rotated and raced; each race decided with one winner and a
    // revoked loser revoked the family for good; every family's last token presented
    // again after healing, the revoked ones refused.
    let refresh = &r["workloads"]["refresh"];
    let c = &refresh["check"];
    assert_eq!(refresh["anomalies"], 0, "{refresh:#}");
    assert!(
        n(&refresh["operations"]["ok"]) > 20,
        "refresh progressed: {refresh:#}"
    );
    assert!(n(&c["families"]) > 5, "{refresh:#}");
    assert!(n(&c["rotated"]) > 5, "{refresh:#}");
    assert!(n(&c["decided_reuses"]) > 0, "{refresh:#}");
    assert_eq!(refresh["probes"]["total"], c["families"], "{refresh:#}");
    assert!(n(&refresh["probes_refused_as_revoked"]) > 0, "{refresh:#}");
    for k in [
        "double_winners",
        "accepted_after_revocation",
        "revoked_without_reuse",
    ] {
        assert!(empty(&c[k]), "{k}: {refresh:#}");
    }
    // Codes: raced codes were won, and every round's four passwords were tried after
    // healing, each answered.
    let codes = &r["workloads"]["codes"];
    let c = &codes["check"];
    assert_eq!(codes["anomalies"], 0, "{codes:#}");
    assert!(n(&c["won"]) > 5, "codes were won: {codes:#}");
    assert_eq!(
        n(&codes["passwords_tried"]),
        4 * n(&c["codes"]),
        "{codes:#}"
    );
    assert!(empty(&c["unjudged"]), "{codes:#}");
    assert!(empty(&c["wrong_password"]), "{codes:#}");
    // Lockout: users were locked out (the threshold of wrong guesses checked), the right
    // password refused meanwhile and accepted afterwards.
    let lockout = &r["workloads"]["lockout"];
    let c = &lockout["check"];
    assert_eq!(lockout["anomalies"], 0, "{lockout:#}");
    assert!(n(&c["users"]) > 3, "{lockout:#}");
    assert!(
        n(&c["most_checked"]) >= n(&lockout["policy"]["threshold"]),
        "{lockout:#}"
    );
    assert!(n(&c["locked"]) > 0, "{lockout:#}");
    assert!(n(&c["right_refused_while_locked"]) > 0, "{lockout:#}");
    assert!(n(&c["signed_in"]) > 3, "{lockout:#}");
    for k in ["too_many_checked", "signed_in_while_locked", "misjudged"] {
        assert!(empty(&c[k]), "{k}: {lockout:#}");
    }
}

/// The sign-in checkers can fail through `signet chaos check`: a refresh generation won
/// twice, a reset code redeemed twice and six wrong passwords checked within 100 ms are
/// each reported (exit 1); the same files with one winner each and five checked pass.
#[test]
fn check_reports_double_winners_and_a_lockout_that_let_too_many_through() {
    use signet_chaos::history::{save, Op, Outcome};
    use signet_chaos::lockout::{Answer, Guess};
    use signet_chaos::once::{PasswordProbe, Redemption};
    use signet_chaos::rotation::{Presentation, Redeemed};
    fn op<I, O>(client: u32, input: I, ms: u64, outcome: Outcome<O>) -> Op<I, O> {
        Op {
            client,
            input,
            invoke_ns: ms * 1_000_000,
            complete_ns: Some((ms + 20) * 1_000_000),
            outcome,
        }
    }
    let judge = |broken: bool| {
        let dir = tempfile::tempdir().unwrap();
        let present = |client, generation| Presentation {
            family: "f".into(),
            generation,
            gateway: format!("gateway-{}", client + 1),
        };
        let loser = if broken {
            Redeemed::Rotated
        } else {
            Redeemed::Revoked
        };
        let refresh = [
            op(0, present(0, 0), 0, Outcome::Ok(Redeemed::Rotated)),
            op(1, present(1, 0), 0, Outcome::Ok(loser)),
        ];
        save(
            &refresh,
            &mut std::fs::File::create(dir.path().join("refresh.jsonl")).unwrap(),
        )
        .unwrap();
        let redeem = |candidate| Redemption {
            user: "u".into(),
            candidate,
            gateway: "gateway-1".into(),
        };
        let second = if broken {
            Outcome::Ok(())
        } else {
            Outcome::Failed
        };
        let codes = [
            op(0, redeem(0), 0, Outcome::Ok(())),
            op(1, redeem(1), 0, second),
        ];
        save(
            &codes,
            &mut std::fs::File::create(dir.path().join("codes.jsonl")).unwrap(),
        )
        .unwrap();
        let checked = if broken { 6 } else { 5 };
        let guesses: Vec<_> = (0..8)
            .map(|k| {
                let answer = if k < checked {
                    Answer::Incorrect
                } else {
                    Answer::Locked
                };
                let guess = Guess {
                    user: "v".into(),
                    right: false,
                    gateway: "gateway-1".into(),
                };
                op(k, guess, 10 * u64::from(k), Outcome::Ok(answer))
            })
            .collect();
        save(
            &guesses,
            &mut std::fs::File::create(dir.path().join("lockout.jsonl")).unwrap(),
        )
        .unwrap();
        let probe = |candidate: Option<u32>| PasswordProbe {
            user: "u".into(),
            candidate,
            signs_in: Some(candidate == Some(0)),
        };
        let fin = serde_json::json!({
            "users": {}, "identities": {}, "identities_listed": 0,
            "password_probes": [probe(None), probe(Some(0)), probe(Some(1))],
        });
        std::fs::write(dir.path().join("final.json"), fin.to_string()).unwrap();
        let out = Command::new(bin())
            .args(["chaos", "check", "--json", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        (out.status.code(), report)
    };

    let (code, r) = judge(true);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["anomalies"], 3, "{r:#}");
    let w = &r["workloads"];
    assert_eq!(w["refresh"]["check"]["double_winners"][0][1]["client"], 1);
    assert_eq!(
        w["codes"]["check"]["double_winners"]["u"],
        serde_json::json!([0, 1])
    );
    let breach = &w["lockout"]["check"]["too_many_checked"][0];
    assert_eq!(
        (breach["user"].as_str(), breach["checked"].as_u64()),
        (Some("v"), Some(6))
    );
    assert_eq!(w["lockout"]["policy"]["threshold"], 5);

    let (code, r) = judge(false);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["anomalies"], 0);
    assert_eq!(r["workloads"]["codes"]["check"]["won"], 1);
}
