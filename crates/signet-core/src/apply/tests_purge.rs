//! Unit tests of purging expired refresh families and revoked access tokens.

use super::*;
use crate::purge::PURGE_LEEWAY_MS;
use crate::purge::{scan_expired, PurgeCursor, MAX_PURGE_BATCH, MAX_TOKEN_LIFETIME_MS};
use crate::{query, KvRead, MemKv, Query, QueryResult, RefreshFamily, RequestId};

const DAY: u64 = 86_400_000;
/// "Now" of the tests: far enough from 0 that every expiry below is positive.
const NOW: u64 = 100 * DAY;

struct F {
    kv: MemKv,
    n: u32,
}

impl F {
    fn new() -> F {
        F {
            kv: MemKv::new(),
            n: 0,
        }
    }

    fn run(&mut self, c: Command) -> Outcome {
        self.n += 1;
        let mut rid = [0u8; 16];
        rid[..4].copy_from_slice(&self.n.to_be_bytes());
        rid[4] = 0x9E;
        apply(&mut self.kv, &Request::new(RequestId(rid), c)).unwrap()
    }

    fn revoke_family(&mut self, id: &str, expires_at_ms: u64) {
        let c = Command::RevokeRefreshFamily(RevokeRefreshFamily {
            family_id: id.into(),
            expires_at_ms,
        });
        assert_eq!(self.run(c), Outcome::Applied);
    }

    fn rotate_family(&mut self, id: &str, expires_at_ms: u64) {
        let c = Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
            family_id: id.into(),
            presented_generation: 0,
            expires_at_ms,
            at_ms: 0,
            grace_ms: 0,
        });
        assert_eq!(self.run(c), Outcome::Applied);
    }

    fn revoke_token(&mut self, jti: &str, expires_at_ms: u64) {
        let c = Command::RevokeAccessToken(RevokeAccessToken {
            jti: jti.into(),
            expires_at_ms,
        });
        assert_eq!(self.run(c), Outcome::Applied);
    }

    fn purge(&mut self, now_ms: u64, families: &[&str], jtis: &[&str]) {
        let c = Command::PurgeExpired(PurgeExpired {
            now_ms,
            families: families.iter().map(|s| s.to_string()).collect(),
            revoked_tokens: jtis.iter().map(|s| s.to_string()).collect(),
            revocations: vec![],
        });
        assert_eq!(self.run(c), Outcome::Applied);
    }

    fn family(&self, id: &str) -> Option<RefreshFamily> {
        match query(
            &self.kv,
            &Query::GetRefreshFamily {
                family_id: id.into(),
            },
        )
        .unwrap()
        {
            QueryResult::RefreshFamily(f) => f,
            other => panic!("{other:?}"),
        }
    }

    fn revoked(&self, jti: &str) -> bool {
        match query(
            &self.kv,
            &Query::RevokedTokens {
                jtis: vec![jti.into()],
            },
        )
        .unwrap()
        {
            QueryResult::Revoked(r) => r[0],
            other => panic!("{other:?}"),
        }
    }
}

/// Families whose refresh tokens expired longer ago than an access token can live, plus
/// the leeway, go; everything that could still be presented stays.
#[test]
fn expired_records_go_and_live_or_recent_ones_stay() {
    let mut f = F::new();
    let horizon = MAX_TOKEN_LIFETIME_MS + PURGE_LEEWAY_MS;
    // Revoked long ago: every token of it is dead.
    f.revoke_family("old-revoked", NOW - horizon);
    // Rotating, expired long ago.
    f.rotate_family("old-rotating", NOW - horizon - DAY);
    // Revoked, refresh tokens expired an hour ago, but an access token a last refresh
    // issued may live another 23 hours: it must stay revoked.
    f.revoke_family("recent-revoked", NOW - 3_600_000);
    // Revoked and its refresh tokens still valid.
    f.revoke_family("live-revoked", NOW + 30 * DAY);
    f.rotate_family("live-rotating", NOW + DAY);
    // Access tokens: expired beyond the leeway, within it, still valid.
    f.revoke_token("jti-old", NOW - PURGE_LEEWAY_MS);
    f.revoke_token("jti-skew", NOW - PURGE_LEEWAY_MS + 1);
    f.revoke_token("jti-live", NOW + 60_000);

    let all_families = [
        "old-revoked",
        "old-rotating",
        "recent-revoked",
        "live-revoked",
        "live-rotating",
        "never-existed",
    ];
    f.purge(
        NOW,
        &all_families,
        &["jti-old", "jti-skew", "jti-live", "nope"],
    );

    assert_eq!(f.family("old-revoked"), None);
    assert_eq!(f.family("old-rotating"), None);
    assert!(f.family("recent-revoked").unwrap().revoked);
    assert!(f.family("live-revoked").unwrap().revoked);
    assert_eq!(f.family("live-rotating").unwrap().generation, 1);
    assert!(!f.revoked("jti-old"));
    assert!(f.revoked("jti-skew"));
    assert!(f.revoked("jti-live"));
    assert_eq!(f.family("never-existed"), None, "a purge creates nothing");

    // Later, the rest expires and goes too; a repeated or late purge changes nothing more.
    let later = NOW + 30 * DAY + horizon;
    f.purge(later, &all_families, &["jti-skew", "jti-live"]);
    f.purge(NOW, &all_families, &["jti-skew"]);
    let left: Vec<_> =
        f.kv.rows()
            .filter(|((t, _), _)| matches!(t, Table::RefreshFamilies | Table::RevokedTokens))
            .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The leader proposes from a scan; if the family is revoked again with a later expiry
/// before the purge applies, apply's own check keeps it.
#[test]
fn apply_checks_again_what_the_scan_found() {
    let mut f = F::new();
    f.revoke_family("fam", 1);
    let mut cursor = PurgeCursor::default();
    let found = scan_expired(&f.kv, Table::RefreshFamilies, &mut cursor, 100, NOW).unwrap();
    assert_eq!(found.expired, vec!["fam".to_string()]);
    // A revocation carrying a refresh expiry in the future lands first.
    f.revoke_family("fam", NOW + DAY);
    f.purge(NOW, &["fam"], &[]);
    assert!(f.family("fam").unwrap().revoked);
}

/// A deposed leader's clock is in the command: an old `now_ms` purges nothing new.
#[test]
fn the_time_of_the_command_decides_not_the_time_of_apply() {
    let mut f = F::new();
    f.revoke_token("jti", NOW);
    f.purge(NOW, &[], &["jti"]);
    assert!(f.revoked("jti"));
    f.purge(NOW + PURGE_LEEWAY_MS, &[], &["jti"]);
    assert!(!f.revoked("jti"));
}

/// The scan reads a bounded number of rows per call, resumes after them, wraps around at
/// the end, and never returns more than a batch.
#[test]
fn the_scan_sweeps_the_table_in_bounded_steps() {
    let mut f = F::new();
    for i in 0..25u32 {
        // Even ones expired, odd ones live.
        let exp = if i.is_multiple_of(2) { 1 } else { NOW + DAY };
        f.revoke_token(&format!("jti-{i:03}"), exp);
    }
    let mut cursor = PurgeCursor::default();
    let mut found = Vec::new();
    let mut rounds = 0;
    loop {
        let s = scan_expired(&f.kv, Table::RevokedTokens, &mut cursor, 10, NOW).unwrap();
        assert!(s.scanned <= 10);
        found.extend(s.expired);
        rounds += 1;
        if cursor.after.is_none() {
            break;
        }
    }
    assert_eq!(rounds, 3);
    assert_eq!(found.len(), 13);
    assert!(found.iter().all(|j| {
        let i: u32 = j.trim_start_matches("jti-").parse().unwrap();
        i.is_multiple_of(2)
    }));
    // Next call starts over.
    let again = scan_expired(&f.kv, Table::RevokedTokens, &mut cursor, 10, NOW).unwrap();
    assert_eq!(again.expired.first().map(String::as_str), Some("jti-000"));
}

/// One command deletes at most a batch per table; the scan hands out a batch and resumes
/// after its last key.
#[test]
fn batches_are_bounded() {
    let mut kv = MemKv::new();
    let n = MAX_PURGE_BATCH + 5;
    for i in 0..n {
        let k = format!("j{i:05}");
        KvTxn::put(
            &mut kv,
            Table::RevokedTokens,
            k.as_bytes(),
            encode_record(&1u64),
        )
        .unwrap();
    }
    let mut cursor = PurgeCursor::default();
    let s = scan_expired(&kv, Table::RevokedTokens, &mut cursor, n * 2, NOW).unwrap();
    assert_eq!(s.expired.len(), MAX_PURGE_BATCH);
    let rest = scan_expired(&kv, Table::RevokedTokens, &mut cursor, n * 2, NOW).unwrap();
    assert_eq!(rest.expired.len(), 5);

    let all: Vec<String> = (0..n).map(|i| format!("j{i:05}")).collect();
    let req = Request::new(
        RequestId([0xAB; 16]),
        Command::PurgeExpired(PurgeExpired {
            now_ms: NOW,
            families: vec![],
            revoked_tokens: all,
            revocations: vec![],
        }),
    );
    assert_eq!(apply(&mut kv, &req).unwrap(), Outcome::Applied);
    let left = kv
        .scan(Table::RevokedTokens, b"", None, usize::MAX)
        .unwrap();
    assert_eq!(left.len(), 5, "only the first batch is looked at");
}
