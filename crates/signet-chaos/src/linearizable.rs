//! Linearizability of compare-and-set registers, one independent register per key.
//!
//! The search is Wing and Gong's, with Lowe's memoisation (as Porcupine and Knossos do it):
//! walk the history's events in time order; at an invocation, try to let that operation
//! take effect now (the register's rules must allow what it returned); at a completion of
//! an operation not yet placed, undo the last placement and try the next candidate. A
//! (set of placed operations, register value) pair already explored is not explored again.
//! An `Unknown` operation completes at the end of time: it may take effect anywhere after
//! its invocation, or never. A `Failed` one never took effect and is left out.

use crate::history::{Op, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What a client asked of the register under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum RegisterOp {
    /// Read the value (`None` when never written).
    Read {
        /// The register.
        key: String,
    },
    /// Write a value.
    Write {
        /// The register.
        key: String,
        /// What to write.
        value: i64,
    },
    /// Set `new` if the value is `expect` (returns whether it did).
    Cas {
        /// The register.
        key: String,
        /// The value it must hold.
        expect: i64,
        /// The value to set.
        new: i64,
    },
}

impl RegisterOp {
    /// The register this operation is on.
    pub fn key(&self) -> &str {
        match self {
            RegisterOp::Read { key }
            | RegisterOp::Write { key, .. }
            | RegisterOp::Cas { key, .. } => key,
        }
    }
}

/// What a register operation returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOut {
    /// A read's value.
    Read(Option<i64>),
    /// A write is done.
    Written,
    /// Whether a compare-and-set swapped.
    Swapped(bool),
}

/// One register operation of a history.
pub type RegisterEntry = Op<RegisterOp, RegisterOut>;

/// The verdict on one key's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// One order explains everything.
    Linearizable,
    /// No order does. `placed` operations (indices into the checked history) could be put
    /// in order at best; `blocking` is the operation that could then not be placed before
    /// it completed.
    NotLinearizable {
        /// The longest order found, as indices into the history.
        placed: Vec<usize>,
        /// The operation that could not be placed after it.
        blocking: usize,
    },
    /// The search went over its budget of steps: no verdict.
    GaveUp,
}

/// The next value of a register at `state` after `f`, if `out` (`None`: not known) is a
/// possible answer of `f` there.
fn step(state: Option<i64>, f: &RegisterOp, out: Option<&RegisterOut>) -> Option<Option<i64>> {
    match (f, out) {
        (RegisterOp::Read { .. }, None) => Some(state),
        (RegisterOp::Read { .. }, Some(RegisterOut::Read(v))) => (*v == state).then_some(state),
        (RegisterOp::Write { value, .. }, None | Some(RegisterOut::Written)) => Some(Some(*value)),
        (RegisterOp::Cas { expect, new, .. }, None) => Some(if state == Some(*expect) {
            Some(*new)
        } else {
            state
        }),
        (RegisterOp::Cas { expect, new, .. }, Some(RegisterOut::Swapped(swapped))) => {
            match (state == Some(*expect), swapped) {
                (true, true) => Some(Some(*new)),
                (false, false) => Some(state),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Check every key's history; `budget` bounds the search steps per key.
pub fn check(history: &[RegisterEntry], budget: u64) -> BTreeMap<String, Verdict> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        by_key.entry(op.input.key()).or_default().push(i);
    }
    by_key
        .into_iter()
        .map(|(key, idx)| {
            let ops: Vec<&RegisterEntry> = idx.iter().map(|&i| &history[i]).collect();
            let verdict = match check_one(&ops, budget) {
                Verdict::NotLinearizable { placed, blocking } => Verdict::NotLinearizable {
                    placed: placed.into_iter().map(|p| idx[p]).collect(),
                    blocking: idx[blocking],
                },
                v => v,
            };
            (key.to_string(), verdict)
        })
        .collect()
}

/// One event of the search's list: an operation's invocation or its completion.
#[derive(Clone, Copy)]
struct Event {
    op: usize,
    call: bool,
}

/// Check one register's operations (all on the same key).
fn check_one(ops: &[&RegisterEntry], budget: u64) -> Verdict {
    // Failed operations never happened; an unanswered read constrains nothing.
    let kept: Vec<usize> = (0..ops.len())
        .filter(|&i| match ops[i].outcome {
            Outcome::Failed => false,
            Outcome::Unknown => !matches!(ops[i].input, RegisterOp::Read { .. }),
            Outcome::Ok(_) => true,
        })
        .collect();
    let n = kept.len();
    let done = |k: usize| {
        ops[kept[k]]
            .complete_ns
            .filter(|_| ops[kept[k]].outcome != Outcome::Unknown)
    };
    let mut events: Vec<(u64, u8, Event)> = Vec::with_capacity(2 * n);
    for k in 0..n {
        events.push((ops[kept[k]].invoke_ns, 0, Event { op: k, call: true }));
        events.push((done(k).unwrap_or(u64::MAX), 1, Event { op: k, call: false }));
    }
    // Invocations before completions at the same instant: such operations overlap.
    events.sort_by_key(|&(t, kind, e)| (t, kind, e.op));
    let events: Vec<Event> = events.into_iter().map(|(_, _, e)| e).collect();
    // A doubly linked list over the events, with a head sentinel at index `len`.
    let head = events.len();
    let mut next: Vec<usize> = (1..=events.len()).chain([0]).collect();
    let mut prev: Vec<usize> = std::iter::once(head).chain(0..events.len()).collect();
    next[head] = if events.is_empty() { head } else { 0 };
    if let Some(last) = events.len().checked_sub(1) {
        next[last] = head;
        prev[head] = last;
    }
    let mut ret_of = vec![0; n];
    for (i, e) in events.iter().enumerate() {
        if !e.call {
            ret_of[e.op] = i;
        }
    }
    let lift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, e: usize| {
        let (p, q) = (prev[e], next[e]);
        next[p] = q;
        prev[q] = p;
    };
    let unlift = |next: &mut Vec<usize>, prev: &mut Vec<usize>, e: usize| {
        let (p, q) = (prev[e], next[e]);
        next[p] = e;
        prev[q] = e;
    };
    let words = n.div_ceil(64).max(1);
    let mut placed = vec![0u64; words];
    let mut seen: HashSet<(Vec<u64>, Option<i64>)> = HashSet::new();
    let mut stack: Vec<(usize, Option<i64>)> = Vec::new();
    let mut state: Option<i64> = None;
    let mut best: (Vec<usize>, usize) = (Vec::new(), 0);
    let mut steps = 0u64;
    let mut entry = next[head];
    loop {
        steps += 1;
        if steps > budget {
            return Verdict::GaveUp;
        }
        if entry == head {
            return Verdict::Linearizable;
        }
        let e = events[entry];
        let op = ops[kept[e.op]];
        if e.call {
            let out = match &op.outcome {
                Outcome::Ok(o) => Some(o),
                _ => None,
            };
            if let Some(new) = step(state, &op.input, out) {
                let mut bits = placed.clone();
                bits[e.op / 64] |= 1 << (e.op % 64);
                if seen.insert((bits.clone(), new)) {
                    stack.push((entry, state));
                    state = new;
                    placed = bits;
                    lift(&mut next, &mut prev, entry);
                    lift(&mut next, &mut prev, ret_of[e.op]);
                    entry = next[head];
                    continue;
                }
            }
            entry = next[entry];
        } else {
            // Only operations that may never have happened complete at the end of time:
            // every definite one is placed.
            if op.outcome == Outcome::Unknown {
                return Verdict::Linearizable;
            }
            if stack.len() >= best.0.len() {
                best = (
                    stack.iter().map(|&(c, _)| kept[events[c].op]).collect(),
                    kept[e.op],
                );
            }
            let Some((call, old)) = stack.pop() else {
                return Verdict::NotLinearizable {
                    placed: best.0,
                    blocking: best.1,
                };
            };
            let undone = events[call].op;
            placed[undone / 64] &= !(1 << (undone % 64));
            state = old;
            unlift(&mut next, &mut prev, ret_of[undone]);
            unlift(&mut next, &mut prev, call);
            entry = next[call];
        }
    }
}

#[cfg(test)]
mod tests;
