//! Reading, comparing and (only under `SIGNET_BLESS=1`) writing golden files.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var_os("SIGNET_BLESS").is_some_and(|v| v == "1")
}

/// Compare `actual` with the golden file `rel`, or write it when blessing.
pub fn check_text(rel: &str, actual: &str) {
    let path = dir().join(rel);
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}); a new variant needs one: \
             SIGNET_BLESS=1 cargo test -p signet-core --test log_format",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the golden file: the log format changed.\n--- golden\n{expected}\n--- now\n{actual}",
        path.display()
    );
}

/// Pretty JSON of `v`, with a final newline. Pretty and compact output (what the log
/// writes) come from the same token stream, so equal pretty text means equal log bytes.
pub fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

/// `value` serialises to the golden file `rel`, and the file deserialises back to `value`.
pub fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(rel: &str, value: &T) {
    check_text(rel, &pretty(value));
    let text = std::fs::read_to_string(dir().join(rel)).unwrap();
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("golden file {rel} no longer deserialises: {e}"));
    assert_eq!(
        &back, value,
        "golden file {rel} reads back as another value"
    );
}

/// Compare a plain JSON value with the golden file `rel`.
pub fn check_value(rel: &str, value: &Value) {
    check_text(rel, &pretty(value));
}

/// The value of the tag field `field` in `v`'s JSON.
pub fn tag<T: Serialize>(v: &T, field: &str) -> String {
    match serde_json::to_value(v).unwrap().get(field) {
        Some(Value::String(s)) => s.clone(),
        other => panic!("no string tag {field}: {other:?}"),
    }
}

/// Every tag serde accepts for `T`, read from the error it gives for an unknown one.
pub fn all_tags<T: DeserializeOwned + Debug>(field: &str) -> BTreeSet<String> {
    let bogus = serde_json::json!({ field: "__no_such_variant__" });
    let err = serde_json::from_value::<T>(bogus).expect_err("bogus tag accepted");
    let msg = err.to_string();
    let (_, expected) = msg
        .split_once(", expected ")
        .unwrap_or_else(|| panic!("unexpected serde error: {msg}"));
    let tags: BTreeSet<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!tags.is_empty(), "no variants found in: {msg}");
    tags
}

/// The samples' tags are exactly the tags serde knows, each once.
pub fn assert_covers<T: DeserializeOwned + Debug>(field: &str, sample_tags: &[String]) {
    let known = all_tags::<T>(field);
    let sampled: BTreeSet<String> = sample_tags.iter().cloned().collect();
    assert_eq!(
        sampled.len(),
        sample_tags.len(),
        "a variant is sampled twice"
    );
    let missing: Vec<&String> = known.difference(&sampled).collect();
    assert!(missing.is_empty(), "variants without a sample: {missing:?}");
    let unknown: Vec<&String> = sampled.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "samples of unknown variants: {unknown:?}"
    );
}

/// Every `*.json` file in `sub` is one of `stems`: a golden without its variant means a
/// variant was removed or renamed, and the logs holding it would no longer replay.
pub fn no_stray_stems(sub: &str, stems: &[String]) {
    let stems: BTreeSet<&str> = stems.iter().map(String::as_str).collect();
    for entry in std::fs::read_dir(dir().join(sub)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        assert!(
            stems.contains(stem),
            "golden {sub}/{name} has no variant any more: old logs would not replay"
        );
    }
}

/// [`no_stray_stems`] for samples named by their tag `field`.
pub fn no_stray_files<T: Serialize>(sub: &str, samples: &[T], field: &str) {
    let stems: Vec<String> = samples.iter().map(|s| tag(s, field)).collect();
    no_stray_stems(sub, &stems);
}

/// For each sample (by tag), the top-level fields that may be left out and the value each
/// then reads as. Only tags with such fields are listed.
pub fn omittable_fields<T: Serialize + DeserializeOwned>(samples: &[T], field: &str) -> Value {
    let mut out = Map::new();
    for s in samples {
        let full = serde_json::to_value(s).unwrap();
        let obj = full.as_object().unwrap();
        let mut defaults = Map::new();
        for key in obj.keys().filter(|k| *k != field) {
            let mut less = obj.clone();
            less.remove(key);
            if let Ok(v) = serde_json::from_value::<T>(Value::Object(less)) {
                let read = serde_json::to_value(&v).unwrap();
                defaults.insert(key.clone(), read[key.as_str()].clone());
            }
        }
        if !defaults.is_empty() {
            out.insert(tag(s, field), Value::Object(defaults));
        }
    }
    Value::Object(out)
}
