//! Cluster-wide lockout — password guesses for a few users fired concurrently through
//! several gateways.
//!
//! The rule (signet-core's `RecordSignInFailure`, DESIGN §8): every guess first reserves a
//! failure through the log, stamped with the proposing gateway's clock; a reservation
//! during a lockout is refused unchecked ("Password attempts exceeded"); the `k`-th
//! counted failure with `k >= threshold` locks the user until its stamp plus
//! `min(max, base · 2^(k − threshold))`; only once the reservation is applied does argon2
//! check the password ("Incorrect username or password" when wrong); a right password then
//! clears the count. So, from the outside:
//!
//! * **window**: `threshold + m` wrong guesses answered "incorrect" (each was checked) with
//!   no reset among them span at least `base · (2^0 + … + 2^(m−1))` (capped per step at
//!   `max`) from the first one's invocation to the last one's completion: in log order,
//!   the guesses counted `threshold … threshold + m − 1` each locked the next one out
//!   that long, and each stamp lies within its call;
//! * **locked means locked**: the right password is refused while a lockout holds. After
//!   a reset, `n >= threshold` wrong guesses answered "incorrect", all invoked after the
//!   reset completed and completed before the right password was tried, hold the lock
//!   until at least `max(first invocation + lock(n), threshold-th invocation + base)` —
//!   the last of them in the log was counted `n` or more, and those counted `threshold` or
//!   more include the one invoked latest but `threshold − 1`;
//! * a wrong password never signs in, and the right one is never answered "incorrect".
//!
//! Unknown outcomes, and refusals for other reasons, are never counted as checked: the
//! bounds above are upper bounds on checked guesses, and counting a guess that may not
//! have been checked could only invent anomalies; leaving out a guess that was counted
//! only makes the lower bound on the lockout smaller. A right-password guess that was not
//! refused as locked (signed in, unknown, or refused for another reason after its
//! reservation) may have cleared the count at any time during its call (unknown: at any
//! time after its invocation), so no window may span it and no lower bound reaches across
//! it. The stamps are the gateways' wall clocks, read against the checker's clock with
//! `slack_ms` of tolerance (one machine here; a gateway skewed further than that is a
//! fault the store refuses, not one this check judges).

use crate::history::{Op, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One sign-in attempt: `user`'s right password, or a wrong one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guess {
    /// The user guessed for.
    pub user: String,
    /// Whether the password was the right one.
    pub right: bool,
    /// The gateway asked (`gateway-N`).
    pub gateway: String,
}

/// A decided answer to a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// "Incorrect username or password": the password was checked and is wrong.
    Incorrect,
    /// "Password attempts exceeded": refused unchecked during a lockout.
    Locked,
    /// Tokens: the password was checked and is right.
    SignedIn,
}

/// A guess and how it ended.
pub type GuessEntry = Op<Guess, Answer>;

/// The lockout policy the gateways apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Failed guesses before the first lockout.
    pub threshold: u32,
    /// First lockout, ms; doubled per further failure.
    pub base_ms: u64,
    /// Longest lockout, ms.
    pub max_ms: u64,
    /// Clock tolerance between the gateways' stamps and the recorded times, ms.
    pub slack_ms: u64,
}

impl Policy {
    /// The lockout the `k`-th counted failure starts (`k >= threshold`).
    fn lock_ms(&self, k: usize) -> u64 {
        let doublings = (k.saturating_sub(self.threshold as usize)).min(30) as u32;
        self.base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_ms)
    }
}

/// A breach of the rules, with the calls involved (ms from the run's start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    /// The user.
    pub user: String,
    /// Wrong guesses answered "incorrect" involved.
    pub checked: usize,
    /// The first call's invocation.
    pub from_ms: u64,
    /// The last call's completion.
    pub to_ms: u64,
    /// How long the rule needs between `from_ms` and `to_ms`.
    pub needed_ms: u64,
}

/// What the guesses showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockoutReport {
    /// Users guessed for.
    pub users: usize,
    /// Wrong passwords answered "incorrect" (checked).
    pub incorrect: usize,
    /// Guesses refused as locked out.
    pub locked: usize,
    /// Right passwords that signed in.
    pub signed_in: usize,
    /// Right passwords refused as locked.
    pub right_refused_while_locked: usize,
    /// The most wrong guesses answered "incorrect" for one user.
    pub most_checked: usize,
    /// More wrong guesses checked than the window allows (one per user).
    pub too_many_checked: Vec<Breach>,
    /// The right password accepted while a lockout held.
    pub signed_in_while_locked: Vec<Breach>,
    /// A wrong password that signed in, or a right one answered "incorrect".
    pub misjudged: Vec<String>,
}

impl LockoutReport {
    /// How many anomalies.
    pub fn anomalies(&self) -> usize {
        self.too_many_checked.len() + self.signed_in_while_locked.len() + self.misjudged.len()
    }
}

const MS: u64 = 1_000_000;

/// Judge every guess against `policy`.
pub fn check(ops: &[GuessEntry], policy: &Policy) -> LockoutReport {
    let mut r = LockoutReport::default();
    let mut by_user: BTreeMap<&str, Vec<&GuessEntry>> = BTreeMap::new();
    for op in ops {
        by_user.entry(&op.input.user).or_default().push(op);
    }
    r.users = by_user.len();
    let t = policy.threshold.max(1) as usize;
    let slack = policy.slack_ms * MS;
    for (user, guesses) in by_user {
        let answered = |o: &GuessEntry, a: Answer| o.outcome == Outcome::Ok(a);
        for o in &guesses {
            match (&o.outcome, o.input.right) {
                (Outcome::Ok(Answer::Incorrect), false) => r.incorrect += 1,
                (Outcome::Ok(Answer::Locked), right) => {
                    r.locked += 1;
                    r.right_refused_while_locked += usize::from(right);
                }
                (Outcome::Ok(Answer::SignedIn), true) => r.signed_in += 1,
                (Outcome::Ok(a), right) => r.misjudged.push(format!(
                    "{user}: {} password answered {a:?} at {} ms",
                    if right { "the right" } else { "a wrong" },
                    o.invoke_ns / MS
                )),
                _ => {}
            }
        }
        // When a right password may have cleared the count: its call, or from its
        // invocation on when it has no answer.
        let resets: Vec<(u64, u64)> = guesses
            .iter()
            .filter(|o| o.input.right && !answered(o, Answer::Locked))
            .map(|o| (o.invoke_ns, o.complete_ns.unwrap_or(u64::MAX)))
            .collect();
        let resets_within = |from: u64, to: u64| resets.iter().any(|&(a, b)| a <= to && b >= from);
        let mut checked: Vec<(u64, u64)> = guesses
            .iter()
            .filter(|o| !o.input.right && answered(o, Answer::Incorrect))
            .filter_map(|o| Some((o.invoke_ns, o.complete_ns?)))
            .collect();
        checked.sort();
        r.most_checked = r.most_checked.max(checked.len());
        // Window: for each first guess, the guesses invoked after it that completed
        // soonest make the tightest set of each size.
        'window: for (i, &(first, done)) in checked.iter().enumerate() {
            let mut later: Vec<u64> = checked[i + 1..].iter().map(|&(_, c)| c).collect();
            later.sort_unstable();
            let mut needed = 0;
            for m in 1..=later.len().saturating_sub(t - 1) {
                needed += policy.lock_ms(t + m - 1) * MS;
                let last = later[t + m - 2].max(done);
                if last.saturating_sub(first) + slack < needed && !resets_within(first, last) {
                    r.too_many_checked.push(Breach {
                        user: user.to_string(),
                        checked: t + m,
                        from_ms: first / MS,
                        to_ms: last / MS,
                        needed_ms: needed / MS,
                    });
                    break 'window;
                }
            }
        }
        // Locked means locked: each right password that signed in, against the wrong
        // guesses between the last reset before it and its invocation.
        for p in guesses.iter().filter(|o| answered(o, Answer::SignedIn)) {
            let (start, end) = (p.invoke_ns, p.complete_ns.unwrap_or(u64::MAX));
            let earlier: Vec<&(u64, u64)> = resets
                .iter()
                .filter(|&&(a, b)| (a, b) != (start, end) && a < end)
                .collect();
            if earlier.iter().any(|&&(_, b)| b >= start) {
                continue; // A reset may have come just before it.
            }
            let after = earlier.iter().map(|&&(_, b)| b).max();
            let mut d: Vec<u64> = checked
                .iter()
                .filter(|&&(a, c)| after.is_none_or(|b| a > b) && c < start)
                .map(|&(a, _)| a)
                .collect();
            if d.len() < t {
                continue;
            }
            d.sort_unstable();
            let until = (d[0] + policy.lock_ms(d.len()) * MS).max(d[t - 1] + policy.base_ms * MS);
            if end + slack < until {
                r.signed_in_while_locked.push(Breach {
                    user: user.to_string(),
                    checked: d.len(),
                    from_ms: d[0] / MS,
                    to_ms: end / MS,
                    needed_ms: (until - d[0]) / MS,
                });
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::{Incorrect, Locked, SignedIn};

    const POLICY: Policy = Policy {
        threshold: 3,
        base_ms: 1000,
        max_ms: 60_000,
        slack_ms: 50,
    };

    fn guess(
        right: bool,
        (invoke, complete): (u64, Option<u64>),
        o: Outcome<Answer>,
    ) -> GuessEntry {
        Op {
            client: 1,
            input: Guess {
                user: "u".into(),
                right,
                gateway: "gateway-1".into(),
            },
            invoke_ns: invoke * MS,
            complete_ns: complete.map(|c| c * MS),
            outcome: o,
        }
    }

    fn wrong(invoke: u64, complete: u64, a: Answer) -> GuessEntry {
        guess(false, (invoke, Some(complete)), Outcome::Ok(a))
    }

    /// A burst of wrong guesses: three checked, the rest locked out; the right password
    /// refused at once, a fourth guess checked after the first lockout, the right one
    /// accepted once the doubled lockout passed.
    fn clean() -> Vec<GuessEntry> {
        vec![
            wrong(0, 40, Incorrect),
            wrong(1, 45, Incorrect),
            wrong(2, 50, Incorrect),
            wrong(3, 60, Locked),
            guess(false, (4, None), Outcome::Unknown),
            guess(true, (100, Some(130)), Outcome::Ok(Locked)),
            wrong(1100, 1140, Incorrect),
            guess(true, (2000, Some(2040)), Outcome::Ok(Locked)),
            guess(true, (3200, Some(3240)), Outcome::Ok(SignedIn)),
            // After the reset, a new count.
            wrong(3300, 3340, Incorrect),
            wrong(3301, 3341, Incorrect),
        ]
    }

    #[test]
    fn a_burst_that_the_lockout_held_is_clean() {
        let r = check(&clean(), &POLICY);
        assert_eq!(r.anomalies(), 0, "{r:#?}");
        assert_eq!((r.incorrect, r.locked, r.signed_in), (6, 3, 1));
        assert_eq!((r.right_refused_while_locked, r.most_checked), (2, 6));
    }

    #[test]
    fn a_fourth_checked_guess_within_the_window_is_reported() {
        let mut ops = clean();
        ops[3].outcome = Outcome::Ok(Incorrect);
        let r = check(&ops, &POLICY);
        assert_eq!(r.too_many_checked.len(), 1, "{r:#?}");
        let b = &r.too_many_checked[0];
        assert_eq!(
            (b.checked, b.from_ms, b.to_ms, b.needed_ms),
            (4, 0, 60, 1000)
        );
        // And five checked hold the lock to at least 4 s: the right password at 3.2 s was
        // accepted too early.
        assert_eq!(r.signed_in_while_locked.len(), 1, "{r:#?}");
        assert_eq!(r.anomalies(), 2);
    }

    #[test]
    fn the_doubled_lockout_is_enforced_too() {
        // The fifth checked guess came 1.1 s after the fourth: the fourth locked for 2 s.
        let mut ops = clean();
        ops.push(wrong(2200, 2240, Incorrect));
        let r = check(&ops, &POLICY);
        assert_eq!(r.too_many_checked.len(), 1, "{r:#?}");
        assert_eq!(r.too_many_checked[0].checked, 5);
        assert_eq!(r.too_many_checked[0].needed_ms, 3000);
    }

    #[test]
    fn the_right_password_accepted_while_locked_is_reported() {
        let mut ops = clean();
        ops.insert(7, guess(true, (1500, Some(1540)), Outcome::Ok(SignedIn)));
        let r = check(&ops, &POLICY);
        // Four checked from 0 ms: locked until at least 2 s (0 + 1 s · 2).
        assert_eq!(r.signed_in_while_locked.len(), 1, "{r:#?}");
        let b = &r.signed_in_while_locked[0];
        assert_eq!((b.checked, b.from_ms, b.to_ms), (4, 0, 1540));
        assert_eq!(b.needed_ms, 2000);
        assert_eq!(r.anomalies(), 1);
        // A right password with no answer before it may have cleared the count.
        ops.insert(7, guess(true, (1400, None), Outcome::Unknown));
        assert_eq!(check(&ops, &POLICY).signed_in_while_locked.len(), 0);
    }

    #[test]
    fn misjudged_passwords_are_reported() {
        let mut ops = clean();
        ops[0].outcome = Outcome::Ok(SignedIn);
        ops[8].outcome = Outcome::Ok(Incorrect);
        let r = check(&ops, &POLICY);
        assert_eq!(r.misjudged.len(), 2, "{r:#?}");
        assert!(r.misjudged[0].contains("a wrong password answered SignedIn"));
    }
}
