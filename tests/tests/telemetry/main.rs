//! Trace context across gateway and store. This test installs the process-wide tracing
//! subscriber (an OpenTelemetry layer with an in-memory exporter) and counts the spans it
//! collects, so it has a binary of its own: any other test in the same process would add
//! spans, or would have installed a subscriber first.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod trace_context;
