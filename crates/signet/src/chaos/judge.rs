//! Judging a run: every history against the final state, the report's `workloads`
//! section and the count of anomalies; and `signet chaos check`, which judges a saved run
//! again from its files.

use super::keys;
use super::observe::FinalState;
use super::tokens::{self, TokenEntry};
use super::{counts, save};
use crate::cli::chaos::CheckArgs;
use crate::exit::Exit;
use anyhow::Context;
use serde::Deserialize;
use serde_json::{json, Value};
use signet_chaos::history::{self, Op, Outcome};
use signet_chaos::linearizable::{self, RegisterEntry, RegisterOp, RegisterOut, Verdict};
use signet_chaos::lockout::{self, GuessEntry};
use signet_chaos::once::{self, RedeemEntry};
use signet_chaos::rotation::{self, RefreshEntry};
use signet_chaos::sets::{self, AddEntry};
use signet_chaos::unique::{self, GetOrCreateEntry};
use std::path::Path;

/// Every workload's history, each sorted by invocation; a workload that did not run has
/// an empty one.
#[derive(Debug, Default)]
pub struct Histories {
    pub adds: Vec<AddEntry>,
    pub gets: Vec<GetOrCreateEntry>,
    pub registers: Vec<RegisterEntry>,
    pub tokens: Vec<TokenEntry>,
    pub refresh: Vec<RefreshEntry>,
    pub codes: Vec<RedeemEntry>,
    pub guesses: Vec<GuessEntry>,
}

/// The file of each sign-in workload's history in a run's directory.
const REFRESH_FILE: &str = "refresh.jsonl";
const CODES_FILE: &str = "codes.jsonl";
const LOCKOUT_FILE: &str = "lockout.jsonl";

impl Histories {
    /// Save the sign-in workloads' histories that are not empty (the others are saved by
    /// the run as before).
    pub fn save_signins(&self, dir: &Path) -> anyhow::Result<()> {
        if !self.refresh.is_empty() {
            save(&self.refresh, &dir.join(REFRESH_FILE))?;
        }
        if !self.codes.is_empty() {
            save(&self.codes, &dir.join(CODES_FILE))?;
        }
        if !self.guesses.is_empty() {
            save(&self.guesses, &dir.join(LOCKOUT_FILE))?;
        }
        Ok(())
    }

    /// (invoked, completed) of every acknowledged write that must commit through the log:
    /// sign-ups and register writes and CAS (a GetId of a known login, a read, may not need
    /// the log). Outages are measured on these.
    pub fn write_acks(&self) -> Vec<(u64, u64)> {
        self.adds
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
            .filter_map(|o| Some((o.invoke_ns, o.complete_ns?)))
            .chain(
                self.registers
                    .iter()
                    .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
                    .filter(|o| !matches!(o.input, RegisterOp::Read { .. }))
                    .filter_map(|o| Some((o.invoke_ns, o.complete_ns?))),
            )
            .collect()
    }

    /// Every operation by outcome, all workloads together.
    pub fn total(&self, k: &str) -> u64 {
        [
            counts(&self.adds),
            counts(&self.gets),
            counts(&self.registers),
            counts(&self.tokens),
            counts(&self.refresh),
            counts(&self.codes),
            counts(&self.guesses),
        ]
        .iter()
        .map(|c| c[k].as_u64().unwrap_or(0))
        .sum()
    }
}

/// The sign-in workloads' checks (`refresh`, `codes`, `lockout` in the report) and their
/// anomalies; a workload with no history is left out.
fn judge_signins(
    h: &Histories,
    fin: &FinalState,
    checks: &mut serde_json::Map<String, Value>,
) -> usize {
    let mut anomalies = 0;
    if !h.refresh.is_empty() {
        let all: Vec<RefreshEntry> = h
            .refresh
            .iter()
            .chain(&fin.refresh_probes)
            .cloned()
            .collect();
        let r = rotation::check(&all);
        anomalies += r.anomalies();
        let probed = &fin.refresh_probes;
        let probes_refused = probed
            .iter()
            .filter(|o| o.outcome == Outcome::Ok(rotation::Redeemed::Revoked))
            .count();
        checks.insert(
            "refresh".into(),
            json!({
                "operations": counts(&h.refresh),
                "probes": counts(probed),
                "probes_refused_as_revoked": probes_refused,
                "anomalies": r.anomalies(),
                "check": r,
            }),
        );
    }
    if !h.codes.is_empty() {
        let r = once::check(&h.codes, &fin.password_probes);
        anomalies += r.anomalies();
        checks.insert(
            "codes".into(),
            json!({
                "operations": counts(&h.codes),
                "passwords_tried": fin.password_probes.len(),
                "anomalies": r.anomalies(),
                "check": r,
            }),
        );
    }
    if !h.guesses.is_empty() {
        let policy = fin.lockout_policy.unwrap_or_else(super::lockout::policy);
        let r = lockout::check(&h.guesses, &policy);
        anomalies += r.anomalies();
        checks.insert(
            "lockout".into(),
            json!({
                "operations": counts(&h.guesses),
                "policy": policy,
                "anomalies": r.anomalies(),
                "check": r,
            }),
        );
    }
    anomalies
}

/// Judge the histories against the final state: the checks per workload, and how many
/// anomalies they found.
pub fn judge(h: &Histories, fin: &FinalState) -> (Value, usize) {
    let (adds, gets, registers, issued) = (&h.adds, &h.gets, &h.registers, &h.tokens);
    let mut anomalies = 0;
    let mut sign_ups = serde_json::Map::new();
    for (g, present) in &fin.users {
        let r = sets::check(adds, present);
        anomalies +=
            r.lost.len() + r.duplicated.len() + r.refused_but_present.len() + r.unexpected.len();
        sign_ups.insert(g.clone(), json!(r));
    }
    let mut identity_checks = serde_json::Map::new();
    for (g, present) in &fin.identities {
        let r = unique::check(gets, present);
        anomalies += usize::from(!r.is_ok());
        identity_checks.insert(g.clone(), json!(r));
    }
    // Every login asked for has exactly one identity: no more identities than logins.
    let logins: std::collections::BTreeSet<&String> = gets.iter().map(|o| &o.input).collect();
    let extra_identities = fin.identities_listed.saturating_sub(logins.len());
    anomalies += extra_identities;
    let verdicts = linearizable::check(registers, REGISTER_BUDGET);
    let not_linearizable = verdicts
        .values()
        .filter(|v| matches!(v, Verdict::NotLinearizable { .. }))
        .count();
    let gave_up = verdicts
        .values()
        .filter(|v| matches!(v, Verdict::GaveUp))
        .count();
    anomalies += not_linearizable;
    let of_kind = |kind: fn(&RegisterOp) -> bool| -> Vec<RegisterEntry> {
        registers
            .iter()
            .filter(|o| kind(&o.input))
            .cloned()
            .collect()
    };
    let swapped = registers
        .iter()
        .filter(|o| o.outcome == Outcome::Ok(RegisterOut::Swapped(true)))
        .count();
    let (token_checks, token_anomalies) =
        tokens::check(issued, &fin.tokens.clone().unwrap_or_default());
    anomalies += token_anomalies;
    let key_checks = fin.keys.as_ref().map(|k| {
        let (report, found) = keys::check(issued, &h.write_acks(), k);
        anomalies += found;
        report
    });
    let mut checks = json!({
        "sign_ups": {"operations": counts(adds), "checks": sign_ups},
        "identities": {
            "operations": counts(gets),
            "checks": identity_checks,
            "extra_identities": extra_identities,
        },
        "registers": {
            "operations": counts(registers),
            "reads": counts(&of_kind(|i| matches!(i, RegisterOp::Read { .. }))),
            "writes": counts(&of_kind(|i| matches!(i, RegisterOp::Write { .. }))),
            "cas": counts(&of_kind(|i| matches!(i, RegisterOp::Cas { .. }))),
            "cas_swapped": swapped,
            "not_linearizable": not_linearizable,
            "gave_up": gave_up,
            "verdicts": verdicts,
        },
        "tokens": token_checks,
    });
    if let (Some(map), Some(k)) = (checks.as_object_mut(), key_checks) {
        map.insert("keys".into(), k);
    }
    if let Some(map) = checks.as_object_mut() {
        anomalies += judge_signins(h, fin, map);
    }
    (checks, anomalies)
}

/// Search steps allowed per register key before the checker gives up on it.
const REGISTER_BUDGET: u64 = 10_000_000;

/// `signet chaos check`: judge a saved run again.
pub async fn check_saved(a: CheckArgs) -> anyhow::Result<()> {
    let load = |name: &str| -> anyhow::Result<Option<std::fs::File>> {
        match std::fs::File::open(a.dir.join(name)) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {name}")),
        }
    };
    fn read<I, O>(f: Option<std::fs::File>, name: &str) -> anyhow::Result<Vec<Op<I, O>>>
    where
        I: for<'de> Deserialize<'de>,
        O: for<'de> Deserialize<'de>,
    {
        match f {
            Some(f) => {
                history::load(std::io::BufReader::new(f)).with_context(|| format!("reading {name}"))
            }
            None => Ok(Vec::new()),
        }
    }
    let h = Histories {
        adds: read(load("history.jsonl")?, "history.jsonl")?,
        gets: read(load("identities.jsonl")?, "identities.jsonl")?,
        registers: read(load("registers.jsonl")?, "registers.jsonl")?,
        tokens: read(load("tokens.jsonl")?, "tokens.jsonl")?,
        refresh: read(load(REFRESH_FILE)?, REFRESH_FILE)?,
        codes: read(load(CODES_FILE)?, CODES_FILE)?,
        guesses: read(load(LOCKOUT_FILE)?, LOCKOUT_FILE)?,
    };
    let fin: FinalState = match load("final.json")? {
        Some(f) => serde_json::from_reader(f).context("reading final.json")?,
        None => FinalState::default(),
    };
    let (checks, anomalies) = judge(&h, &fin);
    let report = json!({"workloads": checks, "anomalies": anomalies, "dir": a.dir});
    if a.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if anomalies == 0 {
        Ok(())
    } else {
        Err(Exit {
            code: 1,
            message: format!("{anomalies} anomalies in {}", a.dir.display()),
        }
        .into())
    }
}
