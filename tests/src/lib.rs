//! Cluster and black-box tests for Signet live in `tests/tests/*.rs`; this library is empty.
#![forbid(unsafe_code)]
