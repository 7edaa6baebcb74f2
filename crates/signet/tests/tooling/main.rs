//! Around the binary rather than through a server's API: `signet bench` (the load
//! generator) against `signet dev`, and the layering of the binary's own modules.
//!
//! One test binary per topic (crates/signet/tests/<topic>/main.rs): the shared helpers and
//! every heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod bench_cli;
mod module_graph;
