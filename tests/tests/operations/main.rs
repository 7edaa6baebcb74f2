//! What operators run and look at: store and gateway health and readiness, metrics and
//! the dashboard, the serving stack's limits, gRPC reflection, the Helm chart and mutual TLS
//! of the internal planes.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod dashboard;
mod gateway_freshness;
mod gateway_readiness;
mod health;
mod helm_chart;
mod metrics;
mod mtls;
mod reflection;
mod serving_stack;
