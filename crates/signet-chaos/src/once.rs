//! One-time codes, spent at most once — password-reset codes raced by several clients,
//! each setting a password of its own with the same code (ConfirmForgotPassword).
//!
//! The store spends a code in one compare-and-set (`RedeemCode`): the first valid
//! redemption sets its password and destroys the code, every later one finds no code. So:
//!
//! * **at most one winner per code**: at most one redemption of a code is acknowledged;
//! * **the winner's password is the password**: after healing, a sign-in with the winner's
//!   password succeeds and one with any other candidate, or the password from before the
//!   reset, fails;
//! * **with no winner**, the password that works is the one from before the reset or the
//!   candidate of a redemption whose outcome is unknown (it may have happened) — never the
//!   candidate of a refused one — and exactly one password works.
//!
//! Each code belongs to one user made for it, so the user names the code.

use crate::history::{Op, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One redemption: a client presenting `user`'s code with a new password of its own,
/// candidate number `candidate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// The user whose code it is.
    pub user: String,
    /// Which racer's password.
    pub candidate: u32,
    /// The gateway asked (`gateway-N`).
    pub gateway: String,
}

/// A redemption and how it ended.
pub type RedeemEntry = Op<Redemption, ()>;

/// A password tried after healing: the password from before the reset (`candidate`
/// `None`) or candidate `n`'s; `signs_in` is `None` when no decided answer came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordProbe {
    /// The user.
    pub user: String,
    /// Whose password: `None` for the one from before the reset.
    pub candidate: Option<u32>,
    /// Whether it signed in (`None`: undecided).
    pub signs_in: Option<bool>,
}

/// A user whose password after healing is not what the redemptions allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrongPassword {
    /// The user.
    pub user: String,
    /// The passwords that may work (`original`, `candidate-N`).
    pub allowed: Vec<String>,
    /// The passwords that worked.
    pub working: Vec<String>,
}

/// What the redemptions and the sign-ins after healing showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OnceReport {
    /// Codes (users) redeemed.
    pub codes: usize,
    /// Codes with exactly one acknowledged redemption.
    pub won: usize,
    /// Codes with no acknowledged redemption but an unknown one.
    pub undecided: usize,
    /// Codes with every redemption refused.
    pub refused: usize,
    /// Codes redeemed more than once: the winning candidates.
    pub double_winners: BTreeMap<String, Vec<u32>>,
    /// Users whose working password is not the one the redemptions allow.
    pub wrong_password: Vec<WrongPassword>,
    /// Users whose password could not be judged (a sign-in after healing undecided, or
    /// not tried).
    pub unjudged: Vec<String>,
}

impl OnceReport {
    /// How many anomalies: each double winner and each wrong password.
    pub fn anomalies(&self) -> usize {
        self.double_winners.len() + self.wrong_password.len()
    }
}

fn name(candidate: Option<u32>) -> String {
    match candidate {
        None => "original".into(),
        Some(n) => format!("candidate-{n}"),
    }
}

/// Judge the redemptions `ops` against the passwords tried after healing.
pub fn check(ops: &[RedeemEntry], probes: &[PasswordProbe]) -> OnceReport {
    let mut r = OnceReport::default();
    let mut by_user: BTreeMap<&str, Vec<&RedeemEntry>> = BTreeMap::new();
    for op in ops {
        by_user.entry(&op.input.user).or_default().push(op);
    }
    let mut tried: BTreeMap<&str, Vec<&PasswordProbe>> = BTreeMap::new();
    for p in probes {
        tried.entry(&p.user).or_default().push(p);
    }
    r.codes = by_user.len();
    for (user, redeemed) in by_user {
        let with = |f: fn(&Outcome<()>) -> bool| -> BTreeSet<Option<u32>> {
            redeemed
                .iter()
                .filter(|o| f(&o.outcome))
                .map(|o| Some(o.input.candidate))
                .collect()
        };
        let winners = with(|o| matches!(o, Outcome::Ok(())));
        let unknown = with(|o| matches!(o, Outcome::Unknown));
        let allowed: BTreeSet<Option<u32>> = match winners.len() {
            0 if unknown.is_empty() => {
                r.refused += 1;
                [None].into()
            }
            0 => {
                r.undecided += 1;
                unknown.iter().copied().chain([None]).collect()
            }
            1 => {
                r.won += 1;
                winners.clone()
            }
            _ => {
                let w = winners.iter().flatten().copied().collect();
                r.double_winners.insert(user.to_string(), w);
                // Either may have been applied last: the password is judged no further.
                continue;
            }
        };
        let probes = tried.get(user).map(Vec::as_slice).unwrap_or_default();
        let working: Vec<Option<u32>> = probes
            .iter()
            .filter(|p| p.signs_in == Some(true))
            .map(|p| p.candidate)
            .collect();
        let wrong = working.len() > 1 || working.iter().any(|c| !allowed.contains(c));
        let undecided = probes.iter().any(|p| p.signs_in.is_none());
        if wrong || (working.is_empty() && !undecided && !probes.is_empty()) {
            r.wrong_password.push(WrongPassword {
                user: user.to_string(),
                allowed: allowed.iter().map(|c| name(*c)).collect(),
                working: working.iter().map(|c| name(*c)).collect(),
            });
        } else if working.is_empty() || undecided {
            r.unjudged.push(user.to_string());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Failed, Ok as Acked, Unknown};

    fn redeem(user: &str, candidate: u32, outcome: Outcome<()>) -> RedeemEntry {
        Op {
            client: candidate,
            input: Redemption {
                user: user.into(),
                candidate,
                gateway: "gateway-1".into(),
            },
            invoke_ns: 0,
            complete_ns: (outcome != Unknown).then_some(10),
            outcome,
        }
    }

    fn probe(user: &str, candidate: Option<u32>, signs_in: Option<bool>) -> PasswordProbe {
        PasswordProbe {
            user: user.into(),
            candidate,
            signs_in,
        }
    }

    /// Per user, every password tried: only `works` signs in.
    fn probes(user: &str, candidates: u32, works: Option<u32>) -> Vec<PasswordProbe> {
        [None]
            .into_iter()
            .chain((0..candidates).map(Some))
            .map(|c| probe(user, c, Some(c == works)))
            .collect()
    }

    #[test]
    fn one_winner_whose_password_works_is_clean() {
        let ops = [
            redeem("a", 0, Failed),
            redeem("a", 1, Acked(())),
            redeem("a", 2, Unknown),
            redeem("b", 0, Unknown),
            redeem("b", 1, Failed),
            redeem("c", 0, Failed),
        ];
        let mut tried = probes("a", 3, Some(1));
        // No winner, an unknown one: its password or the old one.
        tried.extend(probes("b", 2, None));
        tried.extend(probes("c", 1, None));
        let r = check(&ops, &tried);
        assert_eq!(r.anomalies(), 0, "{r:#?}");
        assert_eq!((r.codes, r.won, r.undecided, r.refused), (3, 1, 1, 1));
        assert!(r.unjudged.is_empty());
        let mut tried = probes("a", 3, Some(1));
        tried.extend(probes("b", 2, Some(0)));
        assert_eq!(check(&ops, &tried).unjudged, ["c"]);
    }

    #[test]
    fn a_double_winner_and_a_wrong_password_are_reported() {
        let ops = [
            redeem("a", 0, Acked(())),
            redeem("a", 1, Acked(())),
            redeem("b", 0, Acked(())),
            redeem("b", 1, Failed),
            redeem("c", 0, Failed),
            redeem("c", 1, Unknown),
        ];
        let mut tried = probes("a", 2, Some(1));
        // The refused candidate's password works, not the winner's.
        tried.extend(probes("b", 2, Some(1)));
        // A refused candidate's password works.
        tried.extend(probes("c", 2, Some(0)));
        let r = check(&ops, &tried);
        assert_eq!(r.double_winners["a"], [0, 1]);
        assert_eq!(r.wrong_password.len(), 2, "{r:#?}");
        assert_eq!(r.wrong_password[0].user, "b");
        assert_eq!(r.wrong_password[0].allowed, ["candidate-0"]);
        assert_eq!(r.wrong_password[0].working, ["candidate-1"]);
        assert_eq!(r.wrong_password[1].allowed, ["original", "candidate-1"]);
        assert_eq!(r.anomalies(), 3);
        // No password works at all: the winner's was lost.
        let r = check(&ops[2..4], &probes("b", 2, Some(9)));
        assert_eq!(r.wrong_password[0].working, Vec::<String>::new());
    }
}
