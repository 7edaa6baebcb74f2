//! Create-if-absent maps — GetId's identity per login: every acknowledged answer for one
//! key names the same value, and the final state holds one value per key asked for.

use crate::history::{Op, Outcome};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A get-or-create of `key`, answered with its value.
pub type GetOrCreateEntry = Op<String, String>;

/// What the answers and one final reading showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UniqueReport {
    /// Keys asked for.
    pub keys: usize,
    /// Acknowledged answers.
    pub acknowledged: usize,
    /// Keys answered with more than one value: the values.
    pub conflicting: BTreeMap<String, Vec<String>>,
    /// Values acknowledged but absent from the final state.
    pub lost: Vec<String>,
    /// Keys the final state holds more than one value for.
    pub duplicated: BTreeMap<String, Vec<String>>,
    /// Final entries for keys nobody asked for.
    pub unexpected: Vec<String>,
}

impl UniqueReport {
    /// Whether every guarantee held.
    pub fn is_ok(&self) -> bool {
        self.conflicting.is_empty()
            && self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.unexpected.is_empty()
    }
}

/// Judge the answers `ops` against a final reading (`present`: (key, value) pairs).
pub fn check(ops: &[GetOrCreateEntry], present: &[(String, String)]) -> UniqueReport {
    let mut answers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut asked: BTreeSet<&str> = BTreeSet::new();
    let mut report = UniqueReport::default();
    for op in ops {
        asked.insert(&op.input);
        if let Outcome::Ok(v) = &op.outcome {
            report.acknowledged += 1;
            answers.entry(&op.input).or_default().insert(v);
        }
    }
    report.keys = asked.len();
    let mut held: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (k, v) in present {
        held.entry(k).or_default().insert(v);
        if !asked.contains(k.as_str()) {
            report.unexpected.push(k.clone());
        }
    }
    for (k, vs) in &answers {
        if vs.len() > 1 {
            report
                .conflicting
                .insert(k.to_string(), vs.iter().map(|v| v.to_string()).collect());
        }
        for v in vs {
            if !held.get(k).is_some_and(|h| h.contains(v)) {
                report.lost.push(v.to_string());
            }
        }
    }
    for (k, vs) in held {
        if vs.len() > 1 {
            report
                .duplicated
                .insert(k.to_string(), vs.iter().map(|v| v.to_string()).collect());
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(key: &str, outcome: Outcome<String>) -> GetOrCreateEntry {
        Op {
            client: 1,
            input: key.into(),
            invoke_ns: 0,
            complete_ns: Some(1),
            outcome,
        }
    }

    fn ok(v: &str) -> Outcome<String> {
        Outcome::Ok(v.into())
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn one_value_per_key_is_ok() {
        let ops = [
            get("a", ok("1")),
            get("a", ok("1")),
            get("b", Outcome::Unknown),
            get("c", Outcome::Failed),
        ];
        let r = check(&ops, &pairs(&[("a", "1"), ("b", "2")]));
        assert!(r.is_ok(), "{r:?}");
        assert_eq!((r.keys, r.acknowledged), (3, 2));
    }

    #[test]
    fn every_kind_of_anomaly_is_reported() {
        let ops = [
            get("a", ok("1")),
            get("a", ok("2")),
            get("b", ok("3")),
            get("c", Outcome::Unknown),
        ];
        let r = check(
            &ops,
            &pairs(&[("a", "1"), ("a", "2"), ("c", "4"), ("c", "5"), ("z", "9")]),
        );
        assert_eq!(r.conflicting["a"], ["1", "2"]);
        assert_eq!(r.lost, ["3"]);
        assert_eq!(r.duplicated.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(r.unexpected, ["z"]);
        assert!(!r.is_ok());
    }
}
