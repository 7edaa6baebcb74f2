//! Benchmarks live in `benches/benches/*.rs`; see `benches/README.md`.
#![forbid(unsafe_code)]

/// The command line that repeats a run of bench `bench`: the variables every bench reads
/// (`BENCH_SECS`, `BENCH_WARMUP_SECS`, `BENCH_ONLY`), then its own `more`, as `NAME=value`
/// where set, and `cargo bench -p signet-benches --bench {bench}`.
pub fn command_line(bench: &str, more: &[&str]) -> String {
    let mut env = String::new();
    for k in ["BENCH_SECS", "BENCH_WARMUP_SECS", "BENCH_ONLY"]
        .iter()
        .chain(more)
    {
        if let Ok(v) = std::env::var(k) {
            env.push_str(&format!("{k}={v} "));
        }
    }
    format!("{env}cargo bench -p signet-benches --bench {bench}")
}
