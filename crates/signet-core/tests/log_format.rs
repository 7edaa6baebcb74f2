//! The log format, pinned: every [`Command`] variant, the [`Request`] envelope and every
//! [`Outcome`] (stored in the dedup table) against JSON files checked in under
//! `tests/golden/`. Older logs must keep replaying, so a golden file never changes and
//! never goes away: a change to one is a format change and needs a version bump and a
//! migration (DESIGN §3), not a re-bless.
//!
//! `SIGNET_BLESS=1 cargo test -p signet-core --test log_format` writes the goldens of new
//! variants (and overwrites existing ones: review the diff). Without it the test only reads.
//!
//! Which variants exist is asked of serde itself (the "unknown variant" error lists every
//! tag), so a new variant without a sample and a golden file fails here.

mod log_format_support;

use log_format_support::{commands, golden, outcomes, replay};
use signet_core::{Command, Outcome, Rejection, Request, RequestId};

#[test]
fn every_command_variant_has_a_sample_and_a_golden() {
    let samples = commands::all();
    let tags: Vec<String> = samples.iter().map(|c| golden::tag(c, "type")).collect();
    for (c, tag) in samples.iter().zip(&tags) {
        assert_eq!(c.name(), tag, "Command::name() differs from the serde tag");
    }
    golden::assert_covers::<Command>("type", &tags);
}

#[test]
fn commands_match_their_goldens_and_round_trip() {
    let samples = commands::all();
    for c in &samples {
        let tag = golden::tag(c, "type");
        golden::check(&format!("commands/{tag}.json"), c);
    }
    golden::no_stray_files("commands", &samples, "type");
}

#[test]
fn commands_ignore_unknown_fields() {
    for c in commands::all() {
        let mut v = serde_json::to_value(&c).unwrap();
        v.as_object_mut()
            .unwrap()
            .insert("field_from_the_future".into(), serde_json::json!(1));
        let back: Command = serde_json::from_value(v).expect("unknown field refused");
        assert_eq!(back, c);
    }
}

/// Which fields an older log may lack, and what they read as: `#[serde(default)]` and
/// `Option` fields. Losing a default would make older logs unreadable.
#[test]
fn omittable_command_fields_match_their_golden() {
    let found = golden::omittable_fields(&commands::all(), "type");
    golden::check_value("command_defaults.json", &found);
}

#[test]
fn request_envelope_matches_its_golden() {
    let req = Request::new(RequestId(*b"golden-request!!"), commands::all().remove(0));
    golden::check("request.json", &req);
    // The log writes compact JSON: same tokens, no whitespace.
    let compact = serde_json::to_string(&req).unwrap();
    let back: Request = serde_json::from_str(&compact).unwrap();
    assert_eq!(back, req);
}

#[test]
fn every_outcome_has_a_sample_and_a_golden() {
    let samples = outcomes::all();
    let rejections: Vec<Rejection> = samples
        .iter()
        .filter_map(|o| match o {
            Outcome::Rejected(r) => Some(r.clone()),
            Outcome::Applied => None,
        })
        .collect();
    let reasons: Vec<String> = rejections
        .iter()
        .map(|r| golden::tag(r, "reason"))
        .collect();
    golden::assert_covers::<Rejection>("reason", &reasons);
    // Outcome itself: `applied` once, `rejected` once per reason.
    let statuses: std::collections::BTreeSet<String> =
        samples.iter().map(|o| golden::tag(o, "status")).collect();
    let statuses: Vec<String> = statuses.into_iter().collect();
    golden::assert_covers::<Outcome>("status", &statuses);
}

#[test]
fn outcomes_match_their_goldens_and_round_trip() {
    let samples = outcomes::all();
    for o in &samples {
        golden::check(&format!("outcomes/{}.json", outcomes::file_stem(o)), o);
        // As the dedup table stores it: a version byte, then the JSON (version 1) or the
        // JSON compressed (version 2), whichever is smaller.
        let stored = signet_core::encode_record(o);
        let json = serde_json::to_vec(o).unwrap();
        assert!([
            signet_core::RECORD_FORMAT_VERSION,
            signet_core::RECORD_FORMAT_ZSTD_DICT
        ]
        .contains(&stored[0]));
        assert!(stored.len() <= json.len() + 1);
        assert_eq!(
            signet_core::record_json(&stored).unwrap().as_ref(),
            json.as_slice()
        );
        let back: Outcome = signet_core::decode_record(signet_core::Table::Dedup, &stored).unwrap();
        assert_eq!(&back, o);
    }
    let stems: Vec<String> = samples.iter().map(outcomes::file_stem).collect();
    golden::no_stray_stems("outcomes", &stems);
}

/// Apply every sample in order to an empty state: the outcomes and the state left behind
/// are pinned too, so a refactor of apply that changes behaviour shows here.
#[test]
fn replaying_the_samples_gives_the_golden_state() {
    let text = replay::run(&replay::with_extras(commands::all()));
    golden::check_text("replay.txt", &text);
}
