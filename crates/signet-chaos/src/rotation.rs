//! Refresh-token rotation with reuse detection — every presentation of a refresh token of
//! one family (one sign-in), as the clients saw it.
//!
//! What the store promises (`AdvanceRefreshFamily` in signet-core's `apply/codes.rs`, one
//! compare-and-set per presentation): a family holds a generation and a revoked flag;
//! presenting the current generation of a family that is not revoked advances it by one
//! (the caller gets the next token); presenting any other generation revokes the family;
//! a revoked family refuses every presentation. From the outside that gives:
//!
//! * **one winner per generation**: at most one presentation of a (family, generation) is
//!   answered with new tokens;
//! * **revocation sticks**: once a presentation of a family was answered "revoked", no
//!   presentation of that family invoked afterwards — the winner's new token included — is
//!   answered with new tokens;
//! * **revocation only on reuse**: the first revocation of a family needs a generation that
//!   was presented twice, one of them having advanced it (answered with new tokens, or
//!   unknown: it may have advanced it). A family revoked without that lost its legitimate
//!   holder's session, or a refusal that said "no effect" had one.
//!
//! An unknown outcome may have advanced the family (or revoked it) at any time after its
//! invocation, so it is never counted as a winner and it explains a revocation.

use crate::history::{Op, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One presentation of a refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presentation {
    /// The family (the sign-in the token descends from), as the client names it.
    pub family: String,
    /// Rotations of the family before this token: 0 for the sign-in's own token.
    pub generation: u32,
    /// The gateway asked (`gateway-N`).
    pub gateway: String,
}

/// A decided answer to a presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Redeemed {
    /// New tokens: the family advanced to the next generation.
    Rotated,
    /// Refused as revoked (reuse detected now or before).
    Revoked,
}

/// A presentation and how it ended; a refusal for any other reason (bad request, shed
/// before any work) is `Failed`.
pub type RefreshEntry = Op<Presentation, Redeemed>;

/// A presentation the checker points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cited {
    /// The family.
    pub family: String,
    /// The generation presented.
    pub generation: u32,
    /// The client that presented it.
    pub client: u32,
    /// The gateway asked.
    pub gateway: String,
    /// Invocation, milliseconds from the run's start.
    pub invoked_ms: u64,
    /// Completion (none when unknown).
    pub completed_ms: Option<u64>,
}

impl Cited {
    fn of(op: &RefreshEntry) -> Cited {
        Cited {
            family: op.input.family.clone(),
            generation: op.input.generation,
            client: op.client,
            gateway: op.input.gateway.clone(),
            invoked_ms: op.invoke_ns / 1_000_000,
            completed_ms: op.complete_ns.map(|t| t / 1_000_000),
        }
    }
}

/// What the presentations showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// Families (sign-ins) presented.
    pub families: usize,
    /// Presentations answered with new tokens.
    pub rotated: usize,
    /// Presentations answered "revoked".
    pub revoked: usize,
    /// (family, generation) pairs presented more than once: the races and retries.
    pub reused_generations: usize,
    /// Of those, ones where a winner and a "revoked" loser were both decided.
    pub decided_reuses: usize,
    /// Families with a "revoked" answer.
    pub revoked_families: usize,
    /// Generations answered with new tokens more than once: every winner.
    pub double_winners: Vec<Vec<Cited>>,
    /// Presentations answered with new tokens although invoked after a "revoked" answer
    /// of their family had completed: (the revoked answer, the accepted presentation).
    pub accepted_after_revocation: Vec<(Cited, Cited)>,
    /// Families answered "revoked" though no generation of theirs was presented twice
    /// with one that may have advanced it: their first "revoked" answer.
    pub revoked_without_reuse: Vec<Cited>,
}

impl RotationReport {
    /// How many anomalies: each double winner, accepted presentation after revocation and
    /// unexplained revocation.
    pub fn anomalies(&self) -> usize {
        self.double_winners.len()
            + self.accepted_after_revocation.len()
            + self.revoked_without_reuse.len()
    }
}

/// Judge every presentation (the workload's and those made again after healing).
pub fn check(ops: &[RefreshEntry]) -> RotationReport {
    let mut r = RotationReport::default();
    let mut by_family: BTreeMap<&str, Vec<&RefreshEntry>> = BTreeMap::new();
    for op in ops {
        by_family.entry(&op.input.family).or_default().push(op);
    }
    r.families = by_family.len();
    for fam in by_family.values() {
        let answered = |o: &RefreshEntry, a: Redeemed| o.outcome == Outcome::Ok(a);
        r.rotated += fam
            .iter()
            .filter(|o| answered(o, Redeemed::Rotated))
            .count();
        let revoked: Vec<&&RefreshEntry> = fam
            .iter()
            .filter(|o| answered(o, Redeemed::Revoked))
            .collect();
        r.revoked += revoked.len();
        let mut by_gen: BTreeMap<u32, Vec<&RefreshEntry>> = BTreeMap::new();
        for op in fam {
            by_gen.entry(op.input.generation).or_default().push(op);
        }
        // A generation presented twice, one of the presentations possibly having advanced
        // the family: the later one (in the log) revokes it.
        let mut explained = false;
        for same in by_gen.values().filter(|s| s.len() > 1) {
            r.reused_generations += 1;
            let winners: Vec<&&RefreshEntry> = same
                .iter()
                .filter(|o| answered(o, Redeemed::Rotated))
                .collect();
            let may_have_advanced = same
                .iter()
                .any(|o| matches!(o.outcome, Outcome::Ok(Redeemed::Rotated) | Outcome::Unknown));
            explained |= may_have_advanced;
            if winners.len() == 1 && same.iter().any(|o| answered(o, Redeemed::Revoked)) {
                r.decided_reuses += 1;
            }
            if winners.len() > 1 {
                r.double_winners
                    .push(winners.iter().map(|o| Cited::of(o)).collect());
            }
        }
        let Some(first) = revoked.iter().min_by_key(|o| o.complete_ns) else {
            continue;
        };
        r.revoked_families += 1;
        if !explained {
            r.revoked_without_reuse.push(Cited::of(first));
        }
        // Revocation sticks: whatever is invoked after a "revoked" answer came back is
        // refused. One pair per accepted presentation, against the earliest revocation.
        let revoked_at = first.complete_ns.unwrap_or(u64::MAX);
        let mut cited = BTreeSet::new();
        for op in fam.iter().filter(|o| answered(o, Redeemed::Rotated)) {
            if op.invoke_ns > revoked_at && cited.insert(op.invoke_ns) {
                r.accepted_after_revocation
                    .push((Cited::of(first), Cited::of(op)));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(
        family: &str,
        generation: u32,
        client: u32,
        (invoke, complete): (u64, Option<u64>),
        outcome: Outcome<Redeemed>,
    ) -> RefreshEntry {
        Op {
            client,
            input: Presentation {
                family: family.into(),
                generation,
                gateway: format!("gateway-{}", client % 2 + 1),
            },
            invoke_ns: invoke * 1_000_000,
            complete_ns: complete.map(|c| c * 1_000_000),
            outcome,
        }
    }
    use Outcome::{Failed, Ok as Answered, Unknown};
    use Redeemed::{Revoked, Rotated};

    /// A family rotated twice alone, then raced at generation 2: one winner, the loser
    /// revoked, the winner's new token refused afterwards; another family's unknown
    /// presentation retried and refused as reuse.
    fn clean() -> Vec<RefreshEntry> {
        vec![
            present("f1", 0, 1, (0, Some(5)), Answered(Rotated)),
            present("f1", 1, 2, (6, Some(9)), Answered(Rotated)),
            present("f1", 2, 1, (10, Some(15)), Answered(Rotated)),
            present("f1", 2, 2, (10, Some(16)), Answered(Revoked)),
            present("f1", 3, 1, (20, Some(22)), Answered(Revoked)),
            present("f2", 0, 3, (0, None), Unknown),
            present("f2", 0, 3, (30, Some(31)), Answered(Revoked)),
            present("f3", 0, 4, (0, Some(1)), Failed),
            present("f3", 0, 4, (2, Some(3)), Answered(Rotated)),
        ]
    }

    #[test]
    fn one_winner_and_a_revocation_that_sticks_is_clean() {
        let r = check(&clean());
        assert_eq!(r.anomalies(), 0, "{r:#?}");
        assert_eq!((r.families, r.rotated, r.revoked), (3, 4, 3));
        assert_eq!((r.reused_generations, r.decided_reuses), (3, 1));
        assert_eq!(r.revoked_families, 2);
    }

    #[test]
    fn a_double_winner_is_reported() {
        let mut ops = clean();
        ops[3].outcome = Answered(Rotated);
        let r = check(&ops);
        assert_eq!(r.double_winners.len(), 1, "{r:#?}");
        let w = &r.double_winners[0];
        assert_eq!((w[0].generation, w[0].client, w[1].client), (2, 1, 2));
        // Its family is still revoked by the later presentation: nothing else wrong.
        assert_eq!(r.anomalies(), 1, "{r:#?}");
    }

    #[test]
    fn a_lost_revocation_is_reported() {
        let mut ops = clean();
        // The winner's new token accepted after the loser was told "revoked".
        ops[4].outcome = Answered(Rotated);
        let r = check(&ops);
        assert_eq!(r.accepted_after_revocation.len(), 1, "{r:#?}");
        let (revoked, accepted) = &r.accepted_after_revocation[0];
        assert_eq!((revoked.generation, revoked.completed_ms), (2, Some(16)));
        assert_eq!((accepted.generation, accepted.invoked_ms), (3, 20));
        assert_eq!(r.anomalies(), 1);
        // Invoked before the revocation was answered, it may have come first: no anomaly.
        ops[4].invoke_ns = 14_000_000;
        assert_eq!(check(&ops).anomalies(), 0);
    }

    #[test]
    fn a_revocation_without_reuse_is_reported() {
        // f3's first presentation was refused with no effect: its retry is no reuse.
        let mut ops = clean();
        ops[8].outcome = Answered(Revoked);
        let r = check(&ops);
        assert_eq!(r.revoked_without_reuse.len(), 1, "{r:#?}");
        assert_eq!(r.revoked_without_reuse[0].family, "f3");
        assert_eq!(r.anomalies(), 1);
    }
}
