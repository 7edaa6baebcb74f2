//! Sets that only grow — users signed up, identities created: after the faults heal, every
//! acknowledged add is present exactly once, no refused add is, and nothing appears that no
//! client asked for. Adds with an unknown outcome may be either way.

use crate::history::{Op, Outcome};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An add of `element` (its answer carries nothing).
pub type AddEntry = Op<String, ()>;

/// What one final reading of the set showed against the adds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetReport {
    /// Adds acknowledged.
    pub acknowledged: usize,
    /// Adds with an unknown outcome.
    pub unknown: usize,
    /// How many of those took effect.
    pub unknown_present: usize,
    /// Acknowledged but absent: lost writes.
    pub lost: Vec<String>,
    /// Present more than once.
    pub duplicated: Vec<String>,
    /// Refused, yet present.
    pub refused_but_present: Vec<String>,
    /// Present, but no client ever added it.
    pub unexpected: Vec<String>,
}

impl SetReport {
    /// Whether every guarantee held.
    pub fn is_ok(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.refused_but_present.is_empty()
            && self.unexpected.is_empty()
    }
}

/// Judge `adds` against one final reading of the set (`present`, as listed, duplicates
/// included).
pub fn check(adds: &[AddEntry], present: &[String]) -> SetReport {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in present {
        *count.entry(p).or_default() += 1;
    }
    let mut report = SetReport::default();
    let mut asked: BTreeSet<&str> = BTreeSet::new();
    let mut acknowledged: BTreeSet<&str> = BTreeSet::new();
    let mut unknown: BTreeSet<&str> = BTreeSet::new();
    for add in adds {
        let e = add.input.as_str();
        asked.insert(e);
        match add.outcome {
            Outcome::Ok(()) => {
                acknowledged.insert(e);
            }
            Outcome::Unknown => {
                unknown.insert(e);
            }
            Outcome::Failed => {}
        }
    }
    report.acknowledged = acknowledged.len();
    report.unknown = unknown.len();
    for add in adds {
        let e = add.input.as_str();
        let n = count.get(e).copied().unwrap_or(0);
        if add.outcome == Outcome::Failed
            && n > 0
            && !acknowledged.contains(e)
            && !unknown.contains(e)
            && !report.refused_but_present.iter().any(|r| r == e)
        {
            report.refused_but_present.push(e.to_string());
        }
    }
    report.lost = acknowledged
        .iter()
        .filter(|e| !count.contains_key(**e))
        .map(|e| e.to_string())
        .collect();
    report.unknown_present = unknown.iter().filter(|e| count.contains_key(**e)).count();
    for (e, n) in &count {
        if *n > 1 {
            report.duplicated.push(e.to_string());
        }
        if !asked.contains(e) {
            report.unexpected.push(e.to_string());
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(e: &str, outcome: Outcome<()>) -> AddEntry {
        Op {
            client: 1,
            input: e.into(),
            invoke_ns: 0,
            complete_ns: Some(1),
            outcome,
        }
    }

    #[test]
    fn every_kind_of_anomaly_is_reported() {
        let adds = [
            add("kept", Outcome::Ok(())),
            add("lost", Outcome::Ok(())),
            add("twice", Outcome::Ok(())),
            add("refused", Outcome::Failed),
            add("maybe-in", Outcome::Unknown),
            add("maybe-out", Outcome::Unknown),
        ];
        let present: Vec<String> = ["kept", "twice", "twice", "refused", "maybe-in", "ghost"]
            .map(String::from)
            .into();
        let r = check(&adds, &present);
        assert_eq!(r.acknowledged, 3);
        assert_eq!((r.unknown, r.unknown_present), (2, 1));
        assert_eq!(r.lost, ["lost"]);
        assert_eq!(r.duplicated, ["twice"]);
        assert_eq!(r.refused_but_present, ["refused"]);
        assert_eq!(r.unexpected, ["ghost"]);
        assert!(!r.is_ok());
    }

    #[test]
    fn a_clean_run_is_ok() {
        let adds = [add("a", Outcome::Ok(())), add("b", Outcome::Unknown)];
        let r = check(&adds, &["a".to_string()]);
        assert!(r.is_ok(), "{r:?}");
        // A refused add retried with success is not "refused but present".
        let adds = [add("a", Outcome::Failed), add("a", Outcome::Ok(()))];
        assert!(check(&adds, &["a".to_string()]).is_ok());
    }
}
