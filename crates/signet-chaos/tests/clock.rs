//! The adjustable clock against a process nobody here wrote (CPython's `time.time()`): its
//! wall clock jumps when the offset file changes, and comes back.

use signet_chaos::clock;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Python prints its wall clock every 100 ms until it is `target_s` off ours (±60 s) or
/// 8 s have passed. Returns how long that took, if it happened.
const WATCH: &str = r#"
import select, sys, time
target, ours0, t0 = float(sys.argv[1]), float(sys.argv[2]), time.monotonic()
while time.monotonic() - t0 < 8:
    off = time.time() - (ours0 + time.monotonic() - t0)
    print("%.0f" % off, flush=True)
    if abs(off - target) < 60:
        break
    select.select([], [], [], 0.1)
"#;

/// After python's first line (its offset then), `then` runs.
fn watch(env: &[(String, String)], target_s: i64, then: impl FnOnce(i64)) -> Option<Duration> {
    let ours = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = Instant::now();
    let mut child = Command::new("python3")
        .args(["-c", WATCH, &target_s.to_string(), &ours.to_string()])
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let (mut last, mut then) = (None, Some(then));
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        last = line.ok().and_then(|l| l.parse::<i64>().ok());
        if let (Some(f), Some(first)) = (then.take(), last) {
            f(first);
        }
    }
    child.wait().unwrap();
    last.filter(|off| (off - target_s).abs() < 60)
        .map(|_| start.elapsed())
}

#[test]
fn an_adjustable_clock_jumps_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clock");
    let env = clock::adjustable(&file).expect("libfaketime (apt-get install faketime)");
    let two_days = 2 * 86_400;
    // One running process: it starts on time, then its clock jumps two days ahead.
    let took = watch(&env, two_days, |first| {
        assert!(first.abs() < 60, "starts with no offset: {first}");
        clock::set_offset(&file, two_days).unwrap();
    })
    .expect("the clock jumped two days");
    assert!(took < Duration::from_secs(4), "{took:?}");
    // Another starts where the file says, and jumps an hour behind.
    watch(&env, -3_600, |first| {
        assert!((first - two_days).abs() < 60, "{first}");
        clock::set_offset(&file, -3_600).unwrap();
    })
    .expect("an hour behind");
    // A fixed skew.
    assert!(watch(&clock::skewed(-120).unwrap(), -120, |_| ()).is_some());
}
