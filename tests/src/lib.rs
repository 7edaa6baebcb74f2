//! Cluster and black-box tests for Signet live in `tests/tests/<topic>/`, one test binary per
//! topic (see `tests/tests/cluster/main.rs`); this library is empty.
#![forbid(unsafe_code)]
