//! Crash points at every persistence step, for crash-consistency tests: the process dies
//! (SIGABRT, no destructor, no flush) at the named step, the way a power cut or an OOM kill
//! would catch it there. Armed only by the `SIGNET_FAILPOINTS` environment variable, read
//! once at the first check, e.g. `SIGNET_FAILPOINTS=log-append:3,vote-save` (die at the
//! third log append, or the first vote save, whichever comes first). Unset, each check is
//! one load of an empty list. The names are [`ALL`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The variable that arms failpoints.
pub const ENV: &str = "SIGNET_FAILPOINTS";

/// Every failpoint, in the order data goes to disk.
pub const ALL: [&str; 9] = [
    // Entries written to the WAL, before the fdatasync that makes them durable.
    "log-append",
    // The WAL synced, before openraft hears the entries are durable.
    "log-synced",
    // A vote written, before it is synced.
    "vote-save",
    // Conflicting entries truncated, before the truncation is synced.
    "log-truncate",
    // Entries applied to the state machine, before openraft hears the outcome.
    "apply",
    // A snapshot's temporary file written and synced, before it replaces the current one.
    "snapshot-build",
    // A snapshot received from the leader (openraft has asked for the log it covers to be
    // purged), before it is saved.
    "snapshot-received",
    // A received snapshot's file written and synced, before it replaces the current one;
    // and again once the install is marked durably and the old rows cleared.
    "snapshot-install",
    // Log entries purged, before the purge is synced.
    "log-purge",
];

static ARMED: OnceLock<Vec<(String, AtomicU64)>> = OnceLock::new();

/// `name[:n]` entries, comma-separated; `n` (the hit that crashes) is 1 if not given.
pub fn parse(spec: &str) -> Result<Vec<(String, u64)>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (name, n) = match item.split_once(':') {
                Some((name, n)) => (
                    name,
                    n.parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("{ENV}: {item:?}: the count must be 1 or more"))?,
                ),
                None => (item, 1),
            };
            if !ALL.contains(&name) {
                return Err(format!(
                    "{ENV}: unknown failpoint {name:?} (known: {})",
                    ALL.join(", ")
                ));
            }
            Ok((name.to_string(), n))
        })
        .collect()
}

fn armed() -> &'static [(String, AtomicU64)] {
    ARMED.get_or_init(|| {
        let Ok(spec) = std::env::var(ENV) else {
            return Vec::new();
        };
        match parse(&spec) {
            Ok(points) => points
                .into_iter()
                .map(|(name, n)| (name, AtomicU64::new(n)))
                .collect(),
            Err(e) => {
                // A test that arms a point it misspelt must not pass by never crashing.
                eprintln!("{e}");
                std::process::abort();
            }
        }
    })
}

/// Read `SIGNET_FAILPOINTS` now, so a bad value stops the process at start, not at the
/// first hit).
pub fn validate() {
    let _ = armed();
}

/// Die here if `name` is armed and this is the hit it waits for.
pub fn hit(name: &'static str) {
    debug_assert!(ALL.contains(&name), "unknown failpoint {name}");
    for (point, left) in armed() {
        if point == name && left.fetch_sub(1, Ordering::SeqCst) == 1 {
            eprintln!("failpoint {name}: crashing here");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_parsed_and_mistakes_refused() {
        assert_eq!(
            parse("log-append:3, vote-save").unwrap(),
            vec![("log-append".to_string(), 3), ("vote-save".to_string(), 1)]
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert!(parse("log-apend")
            .unwrap_err()
            .contains("unknown failpoint"));
        assert!(parse("apply:0").unwrap_err().contains("1 or more"));
        assert!(parse("apply:x").unwrap_err().contains("1 or more"));
    }
}
