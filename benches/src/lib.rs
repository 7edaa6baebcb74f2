//! Benchmarks live in `benches/benches/*.rs`; see `benches/README.md`.
#![forbid(unsafe_code)]
