use super::*;

fn op(
    client: u32,
    input: RegisterOp,
    invoke: u64,
    complete: Option<u64>,
    outcome: Outcome<RegisterOut>,
) -> RegisterEntry {
    Op {
        client,
        input,
        invoke_ns: invoke,
        complete_ns: complete,
        outcome,
    }
}

/// An acknowledged write of `value`, invoked and completed at the given times.
fn wrote(client: u32, key: &str, value: i64, invoke: u64, complete: u64) -> RegisterEntry {
    let outcome = Outcome::Ok(RegisterOut::Written);
    op(client, write(key, value), invoke, Some(complete), outcome)
}

/// An acknowledged read that returned `seen`.
fn saw(client: u32, key: &str, seen: Option<i64>, invoke: u64, complete: u64) -> RegisterEntry {
    let outcome = Outcome::Ok(RegisterOut::Read(seen));
    op(client, read(key), invoke, Some(complete), outcome)
}

fn read(key: &str) -> RegisterOp {
    RegisterOp::Read { key: key.into() }
}

fn write(key: &str, value: i64) -> RegisterOp {
    RegisterOp::Write {
        key: key.into(),
        value,
    }
}

fn cas(key: &str, expect: i64, new: i64) -> RegisterOp {
    RegisterOp::Cas {
        key: key.into(),
        expect,
        new,
    }
}

fn verdict(history: &[RegisterEntry]) -> Verdict {
    let mut v = check(history, 1_000_000);
    assert_eq!(v.len(), 1, "one key: {v:?}");
    v.pop_first().unwrap().1
}

#[test]
fn a_sequential_history_is_linearizable() {
    let h = [
        wrote(1, "k", 1, 0, 10),
        saw(1, "k", Some(1), 20, 30),
        op(
            2,
            cas("k", 1, 2),
            40,
            Some(50),
            Outcome::Ok(RegisterOut::Swapped(true)),
        ),
        op(
            2,
            cas("k", 1, 3),
            60,
            Some(70),
            Outcome::Ok(RegisterOut::Swapped(false)),
        ),
        saw(1, "k", Some(2), 80, 90),
    ];
    assert_eq!(verdict(&h), Verdict::Linearizable);
}

#[test]
fn a_read_overlapping_a_write_may_see_either_value() {
    for seen in [None, Some(1)] {
        let h = [wrote(1, "k", 1, 0, 100), saw(2, "k", seen, 10, 20)];
        assert_eq!(verdict(&h), Verdict::Linearizable, "read {seen:?}");
    }
}

#[test]
fn a_stale_read_after_an_acknowledged_write_is_caught() {
    let h = [wrote(1, "k", 1, 0, 10), saw(2, "k", None, 20, 30)];
    match verdict(&h) {
        Verdict::NotLinearizable { placed, blocking } => {
            assert_eq!(blocking, 1, "the read cannot be placed");
            assert_eq!(placed, vec![0], "the write was");
        }
        v => panic!("expected a violation, got {v:?}"),
    }
}

#[test]
fn an_unknown_write_may_happen_late_or_never_but_not_both() {
    let unknown = op(1, write("k", 2), 0, None, Outcome::Unknown);
    let read_at = |t: u64, v: Option<i64>| {
        op(
            2,
            read("k"),
            t,
            Some(t + 5),
            Outcome::Ok(RegisterOut::Read(v)),
        )
    };
    // Never happened; happened later than the invocation: both fine.
    assert_eq!(
        verdict(&[unknown.clone(), read_at(100, None)]),
        Verdict::Linearizable
    );
    assert_eq!(
        verdict(&[unknown.clone(), read_at(100, None), read_at(200, Some(2))]),
        Verdict::Linearizable
    );
    // Seen, then unseen again: no single instant explains it.
    assert!(matches!(
        verdict(&[unknown, read_at(100, Some(2)), read_at(200, None)]),
        Verdict::NotLinearizable { .. }
    ));
}

#[test]
fn a_failed_write_must_never_be_seen() {
    let h = [
        op(1, write("k", 5), 0, Some(10), Outcome::Failed),
        saw(2, "k", Some(5), 20, 30),
    ];
    assert!(matches!(
        verdict(&h),
        Verdict::NotLinearizable { blocking: 1, .. }
    ));
}

#[test]
fn two_winners_of_one_compare_and_set_are_caught() {
    let setup = wrote(0, "k", 0, 0, 1);
    let racer = |c: u32, new: i64, swapped: bool| {
        op(
            c,
            cas("k", 0, new),
            10,
            Some(20),
            Outcome::Ok(RegisterOut::Swapped(swapped)),
        )
    };
    assert_eq!(
        verdict(&[setup.clone(), racer(1, 1, true), racer(2, 2, false)]),
        Verdict::Linearizable
    );
    assert!(matches!(
        verdict(&[setup, racer(1, 1, true), racer(2, 2, true)]),
        Verdict::NotLinearizable { .. }
    ));
}

#[test]
fn keys_are_judged_apart_and_indices_point_into_the_whole_history() {
    let h = [
        wrote(1, "a", 1, 0, 10),
        wrote(2, "b", 1, 0, 10),
        saw(1, "a", Some(1), 20, 30),
        saw(2, "b", Some(7), 20, 30),
    ];
    let v = check(&h, 1_000);
    assert_eq!(v["a"], Verdict::Linearizable);
    assert_eq!(
        v["b"],
        Verdict::NotLinearizable {
            placed: vec![1],
            blocking: 3
        }
    );
}

#[test]
fn the_search_gives_up_at_its_budget() {
    let h: Vec<RegisterEntry> = (0..8)
        .map(|i| {
            op(
                i,
                write("k", i64::from(i)),
                0,
                Some(100),
                Outcome::Ok(RegisterOut::Written),
            )
        })
        .chain([saw(9, "k", Some(42), 200, 300)])
        .collect();
    assert_eq!(check(&h, 3)["k"], Verdict::GaveUp);
    assert!(matches!(
        check(&h, 1_000_000)["k"],
        Verdict::NotLinearizable { .. }
    ));
}

/// A tiny deterministic generator (xorshift), so the cross-check needs no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Linearizable by exhaustion: some subset of the unknown operations (with every definite
/// one), in some order that respects real time, replays under the register's rules.
fn brute_force(h: &[RegisterEntry]) -> bool {
    let live: Vec<usize> = (0..h.len())
        .filter(|&i| h[i].outcome != Outcome::Failed)
        .collect();
    let unknown: Vec<usize> = live
        .iter()
        .copied()
        .filter(|&i| h[i].outcome == Outcome::Unknown)
        .collect();
    (0..1u32 << unknown.len()).any(|mask| {
        let chosen: Vec<usize> = live
            .iter()
            .copied()
            .filter(|i| match unknown.iter().position(|u| u == i) {
                Some(b) => mask & (1 << b) != 0,
                None => true,
            })
            .collect();
        permutations(&chosen).into_iter().any(|order| {
            let respects_time = order.iter().enumerate().all(|(a, &x)| {
                order[a + 1..].iter().all(|&y| {
                    h[y].complete_ns.is_none_or(|c| c >= h[x].invoke_ns)
                        || h[y].outcome == Outcome::Unknown
                })
            });
            let mut state = None;
            respects_time
                && order.iter().all(|&i| {
                    let out = match &h[i].outcome {
                        Outcome::Ok(o) => Some(o),
                        _ => None,
                    };
                    match step(state, &h[i].input, out) {
                        Some(s) => {
                            state = s;
                            true
                        }
                        None => false,
                    }
                })
        })
    })
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.is_empty() {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for (i, &x) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, x);
            out.push(p);
        }
    }
    out
}

#[test]
fn the_search_agrees_with_exhaustion_on_small_random_histories() {
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let (mut yes, mut no) = (0, 0);
    for _ in 0..3000 {
        let n = 1 + rng.below(5) as usize;
        let h: Vec<RegisterEntry> = (0..n)
            .map(|c| {
                let invoke = rng.below(20);
                let complete = invoke + rng.below(10);
                let v = rng.below(3) as i64;
                let (input, out) = match rng.below(3) {
                    0 => (read("k"), RegisterOut::Read((v > 0).then_some(v))),
                    1 => (write("k", v), RegisterOut::Written),
                    _ => (
                        cas("k", v, rng.below(3) as i64),
                        RegisterOut::Swapped(rng.below(2) == 0),
                    ),
                };
                let (complete, outcome) = match rng.below(8) {
                    0 => (Some(complete), Outcome::Failed),
                    1 => (None, Outcome::Unknown),
                    _ => (Some(complete), Outcome::Ok(out)),
                };
                op(c as u32, input, invoke, complete, outcome)
            })
            .collect();
        let fast = check(&h, 1_000_000)
            .values()
            .all(|v| *v == Verdict::Linearizable);
        assert_eq!(fast, brute_force(&h), "disagreement on {h:#?}");
        if fast {
            yes += 1;
        } else {
            no += 1;
        }
    }
    // Both verdicts were exercised, many times.
    assert!(yes > 300 && no > 300, "linearizable {yes}, not {no}");
}
