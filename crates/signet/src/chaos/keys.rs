//! No stale key decision: the stores retire a signing key when its gateway stops renewing
//! its lease (`signet_store::housekeeping`). A leader that was frozen or cut off returns
//! with a stale view of the leases, and one that decided on it would retire the keys of
//! gateways that never stopped renewing. In a local run (short leases, so the keys of
//! killed gateways do retire within the run) every retirement is checked after healing: a
//! retired key whose gateway process was alive — it signed a token with one of its
//! process's keys, and the nemesis hit that gateway neither then nor until the retirement —
//! is an anomaly, unless the stores took no write for long enough that a live gateway's
//! lease could lapse for real (then the check says it was excused).
//!
//! Key drops are covered by the token check (every token verifies until its `exp`), stale
//! reads by the registers' linearizability.

use super::nemesis::Injected;
use super::tokens::{self, TokenEntry};
use super::{channel, Endpoints};
use crate::cli::chaos::Fault;
use crate::rpc::status_error;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use signet_chaos::history::Outcome;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A retired key, as the stores list it after healing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetiredKey {
    pub kid: String,
    /// The gateway instance (one process) that held it.
    pub owner: String,
    /// When it was retired, Unix ms.
    pub retired_at_ms: u64,
}

/// What the check needs, saved with the final state (`chaos check` judges it again).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeysFinal {
    /// The run's start (0 in the histories), Unix ms.
    pub started_unix_ms: u64,
    /// The gateways' key lease, ms.
    pub key_lease_ms: u64,
    /// Every signing key by kid → owner (published, retired or revoked).
    pub owners: BTreeMap<String, String>,
    /// The retired ones.
    pub retired: Vec<RetiredKey>,
    /// Faults that stopped a gateway's renewals.
    pub gateway_faults: Vec<GatewayFault>,
}

/// A fault on a gateway.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GatewayFault {
    /// `gateway-N`.
    pub gateway: String,
    /// When it began, ms from the run's start.
    pub at_ms: u64,
    /// Whether the gateway came back as a new process (a new key owner).
    pub restarts: bool,
}

/// A retirement of a live gateway's key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaleRetirement {
    pub kid: String,
    pub owner: String,
    /// The gateway the owner process served as.
    pub gateway: String,
    /// The first token one of the owner's keys signed, and the retirement, ms from the
    /// run's start.
    pub first_token_ms: u64,
    pub retired_ms: i64,
}

/// Read the keys after healing (through the first gateway) and note the gateway faults.
pub async fn observe(
    e: &Endpoints,
    start: Instant,
    key_lease: Duration,
    faults: &[Injected],
) -> anyhow::Result<KeysFinal> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let keys = UserPoolAdminClient::new(channel(e, 0).await?)
        .list_signing_keys(pb::Empty {})
        .await
        .map_err(status_error)
        .context("ListSigningKeys")?
        .into_inner()
        .keys;
    Ok(KeysFinal {
        started_unix_ms: now.saturating_sub(start.elapsed().as_millis() as u64),
        key_lease_ms: key_lease.as_millis() as u64,
        owners: keys
            .iter()
            .map(|k| (k.kid.clone(), k.owner.clone()))
            .collect(),
        retired: keys
            .iter()
            .filter(|k| k.state == "retired")
            .map(|k| RetiredKey {
                kid: k.kid.clone(),
                owner: k.owner.clone(),
                retired_at_ms: k.retired_at as u64,
            })
            .collect(),
        gateway_faults: faults
            .iter()
            .filter_map(|f| {
                let restarts = match f.fault {
                    Fault::KillGateway | Fault::SkewGateway => true,
                    Fault::PauseGateway => false,
                    _ => return None,
                };
                Some(GatewayFault {
                    gateway: gateway_of(&f.target),
                    at_ms: f.at_ns / 1_000_000,
                    restarts,
                })
            })
            .collect(),
    })
}

/// The gateway a fault's target names: `gateway-2` of `gateway-2 (clock +60 s)`.
fn gateway_of(target: &str) -> String {
    target
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Judge the retirements: the report's `keys` section and how many anomalies it found.
/// `acks` are (invoked, completed) ns of every acknowledged write, to find the longest
/// time no write went through.
pub fn check(issued: &[TokenEntry], acks: &[(u64, u64)], fin: &KeysFinal) -> (Value, usize) {
    // Each owner process: the gateway it served as and the first token it signed.
    let mut first: BTreeMap<&str, (String, u64)> = BTreeMap::new();
    for op in issued {
        let Outcome::Ok(token) = &op.outcome else {
            continue;
        };
        let Some(kid) = tokens::kid(token) else {
            continue;
        };
        let Some(owner) = fin.owners.get(&kid) else {
            continue;
        };
        let at = op.invoke_ns / 1_000_000;
        let e = first
            .entry(owner.as_str())
            .or_insert((op.input.clone(), at));
        e.1 = e.1.min(at);
    }
    let gap_ms = longest_gap_ms(acks);
    // A live gateway renews every third of its lease: a lease lapses for real only when no
    // write went through for two thirds of it.
    let excused = gap_ms * 3 >= fin.key_lease_ms * 2;
    let mut stale = Vec::new();
    let mut unattributed = 0;
    for k in &fin.retired {
        let Some((gateway, first_ms)) = first.get(k.owner.as_str()) else {
            unattributed += 1;
            continue;
        };
        let retired_ms = k.retired_at_ms as i64 - fin.started_unix_ms as i64;
        // The owner process was born at the last restart of its gateway before its first
        // token (a kill or a skewed restart starts a new process, a new owner). A fault on
        // that gateway after its birth and before the retirement may have stopped its
        // renewals; with none, the process renewed throughout.
        let of_gateway = || fin.gateway_faults.iter().filter(|f| &f.gateway == gateway);
        let born = of_gateway()
            .filter(|f| f.restarts && f.at_ms <= *first_ms)
            .map(|f| f.at_ms)
            .max();
        let hit =
            of_gateway().any(|f| born.is_none_or(|b| f.at_ms > b) && (f.at_ms as i64) < retired_ms);
        if !hit {
            stale.push(StaleRetirement {
                kid: k.kid.clone(),
                owner: k.owner.clone(),
                gateway: gateway.clone(),
                first_token_ms: *first_ms,
                retired_ms,
            });
        }
    }
    let anomalies = if excused { 0 } else { stale.len() };
    let report = json!({
        "retired": fin.retired.len(),
        "unattributed": unattributed,
        "key_lease_ms": fin.key_lease_ms,
        "longest_write_gap_ms": gap_ms,
        "excused": excused,
        "stale_retirements": stale,
    });
    (report, anomalies)
}

/// The longest time from one acknowledged write's completion to the next, ms.
fn longest_gap_ms(acks: &[(u64, u64)]) -> u64 {
    let mut done: Vec<u64> = acks.iter().map(|(_, c)| *c).collect();
    done.sort_unstable();
    done.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0) / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_chaos::history::Op;

    const MS: u64 = 1_000_000;
    const START: u64 = 1_800_000_000_000;

    fn token(kid: &str) -> String {
        use base64::Engine;
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        format!(
            "{}.{}.sig",
            b64(json!({"alg": "EdDSA", "kid": kid})),
            b64(json!({"jti": "j"}))
        )
    }

    fn issued(gateway: &str, kid: &str, at_ms: u64) -> TokenEntry {
        Op {
            client: 0,
            input: gateway.into(),
            invoke_ns: at_ms * MS,
            complete_ns: Some(at_ms * MS + MS),
            outcome: Outcome::Ok(token(kid)),
        }
    }

    /// Acknowledged writes every 100 ms for 60 s: no outage.
    fn steady() -> Vec<(u64, u64)> {
        (0..600)
            .map(|i| (i * 100 * MS, i * 100 * MS + MS))
            .collect()
    }

    fn fin(retired: &[(&str, &str, u64)], faults: &[(&str, u64, bool)]) -> KeysFinal {
        KeysFinal {
            started_unix_ms: START,
            key_lease_ms: 15_000,
            owners: [("k1", "p1"), ("k1b", "p1"), ("k2", "p2"), ("k3", "p3")]
                .iter()
                .map(|(k, o)| (k.to_string(), o.to_string()))
                .collect(),
            retired: retired
                .iter()
                .map(|(kid, owner, at)| RetiredKey {
                    kid: kid.to_string(),
                    owner: owner.to_string(),
                    retired_at_ms: START + at,
                })
                .collect(),
            gateway_faults: faults
                .iter()
                .map(|(g, at, restarts)| GatewayFault {
                    gateway: g.to_string(),
                    at_ms: *at,
                    restarts: *restarts,
                })
                .collect(),
        }
    }

    #[test]
    fn a_live_gateways_retired_key_is_reported_and_a_killed_ones_is_not() {
        let tokens = vec![
            issued("gateway-1", "k1", 1_000),
            issued("gateway-2", "k2", 1_000),
            // gateway-1 restarted as p3 after the kill at 10 s.
            issued("gateway-1", "k3", 12_000),
        ];
        // p1 (killed at 10 s) retired at 30 s: fine. p3 and p2 never hit after their
        // first token, retired anyway: stale. k1b is p1's other key, never in a token.
        let f = fin(
            &[
                ("k1", "p1", 30_000),
                ("k1b", "p1", 30_000),
                ("k2", "p2", 40_000),
                ("k3", "p3", 50_000),
            ],
            &[("gateway-1", 10_000, true)],
        );
        let (report, anomalies) = check(&tokens, &steady(), &f);
        assert_eq!(anomalies, 2, "{report}");
        let stale: Vec<&str> = report["stale_retirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kid"].as_str().unwrap())
            .collect();
        assert_eq!(stale, ["k2", "k3"]);
        assert_eq!(report["stale_retirements"][0]["gateway"], "gateway-2");
        assert_eq!(report["retired"], 4);
    }

    #[test]
    fn a_pause_before_a_process_first_signed_still_counts_and_a_restart_before_it_does_not() {
        // p2 paused at 500 ms (20 s), signed first at 21 s with its new key k2 after its
        // first keys were retired at 16 s: its pause explains that.
        let tokens = vec![issued("gateway-2", "k2", 21_000)];
        let f = fin(&[("k2", "p2", 16_000)], &[("gateway-2", 500, false)]);
        let (report, anomalies) = check(&tokens, &steady(), &f);
        assert_eq!(anomalies, 0, "{report}");
        // p3 was born at the restart at 10 s; that restart (and the pause before it) hit
        // the process before it, not p3.
        let tokens = vec![issued("gateway-1", "k3", 12_000)];
        let faults = [("gateway-1", 2_000, false), ("gateway-1", 10_000, true)];
        let (report, anomalies) = check(&tokens, &steady(), &fin(&[("k3", "p3", 40_000)], &faults));
        assert_eq!(anomalies, 1, "{report}");
    }

    #[test]
    fn an_outage_longer_than_the_lease_allows_excuses_the_retirement() {
        let tokens = vec![issued("gateway-2", "k2", 1_000)];
        let f = fin(&[("k2", "p2", 40_000)], &[]);
        // No write acknowledged from 20 s to 31 s: 11 s ≥ 2/3 of a 15 s lease.
        let acks = vec![(0, 20_000 * MS), (0, 31_000 * MS), (0, 45_000 * MS)];
        let (report, anomalies) = check(&tokens, &acks, &f);
        assert_eq!(anomalies, 0, "{report}");
        assert_eq!(report["excused"], true);
        assert_eq!(report["longest_write_gap_ms"], 14_000);
        assert_eq!(report["stale_retirements"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_skewed_restart_names_its_gateway() {
        assert_eq!(gateway_of("gateway-2 (clock +60 s)"), "gateway-2");
        assert_eq!(gateway_of("gateway-1"), "gateway-1");
    }

    #[test]
    fn a_key_no_token_names_is_counted_unattributed() {
        let f = fin(&[("k2", "p2", 40_000)], &[]);
        let (report, anomalies) = check(&[], &steady(), &f);
        assert_eq!((anomalies, report["unattributed"].as_u64()), (0, Some(1)));
    }
}
