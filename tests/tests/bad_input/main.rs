//! Malformed, oversized and hostile input on every public surface: fields, paging, and
//! the wire.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod bad_input_paging;
mod bad_input_wire;
