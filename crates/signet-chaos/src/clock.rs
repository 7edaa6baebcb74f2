//! A process whose wall clock is off: the environment that preloads libfaketime (Debian's
//! `faketime` package). Only the wall clock moves; monotonic time is left alone, so timers,
//! timeouts and Raft's election clock behave.
//!
//! Two ways: [`skewed`] fixes the offset for the life of the process; [`adjustable`] reads
//! it from a file, so that [`set_offset`] can make a running process's clock jump (within
//! about two seconds: libfaketime reads the file again when its one-second cache runs out).

use std::path::Path;

/// Where Debian and others install the library.
const LIBFAKETIME: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

fn library() -> Result<&'static str, String> {
    LIBFAKETIME
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| "clock faults need libfaketime (Debian package faketime)".to_string())
}

/// The variables that run a process with its wall clock `offset_s` seconds ahead (negative:
/// behind); an error saying what to install when libfaketime is missing.
pub fn skewed(offset_s: i64) -> Result<Vec<(String, String)>, String> {
    Ok(vec![
        ("LD_PRELOAD".into(), library()?.into()),
        ("FAKETIME".into(), format!("{offset_s:+}s")),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
    ])
}

/// The variables that run a process whose clock offset is read from `file`, made here
/// with no offset if it does not exist yet.
pub fn adjustable(file: &Path) -> Result<Vec<(String, String)>, String> {
    let lib = library()?;
    if !file.exists() {
        set_offset(file, 0)?;
    }
    Ok(vec![
        ("LD_PRELOAD".into(), lib.into()),
        ("FAKETIME_TIMESTAMP_FILE".into(), file.display().to_string()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        // Read the file again at most once a second: every clock read would otherwise
        // open it (a store reads the clock often), and a jump may take that long anyway.
        ("FAKETIME_CACHE_DURATION".into(), "1".into()),
    ])
}

/// This process's wall clock, Unix ms.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Set the offset a process started with [`adjustable`]`(file)` reads.
pub fn set_offset(file: &Path, offset_s: i64) -> Result<(), String> {
    // Replaced whole (write then rename), so a reader never sees half a line.
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("{offset_s:+}s\n"))
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| format!("setting the clock offset in {}: {e}", file.display()))
}

/// `env` with `more` added; both may preload a library (`LD_PRELOAD`), and then both are,
/// `env`'s first.
pub fn merge_env(
    mut env: Vec<(String, String)>,
    more: Vec<(String, String)>,
) -> Vec<(String, String)> {
    for (k, v) in more {
        match env.iter_mut().find(|(key, _)| *key == k) {
            Some((_, old)) if k == "LD_PRELOAD" => *old = format!("{old}:{v}"),
            Some((_, old)) => *old = v,
            None => env.push((k, v)),
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_preloads_are_both_kept() {
        let a = vec![("LD_PRELOAD".to_string(), "/a.so".to_string())];
        let b = vec![
            ("LD_PRELOAD".to_string(), "/b.so".to_string()),
            ("X".to_string(), "1".to_string()),
        ];
        let m = merge_env(a, b);
        assert_eq!(m[0].1, "/a.so:/b.so");
        assert_eq!(m[1], ("X".to_string(), "1".to_string()));
    }
}
