//! User pools through the gateways' public and admin APIs: the sign-up journey, races,
//! admin flows, one-time codes, client attribute lists, the RPCs without another test, and
//! bulk user imports.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../review_support/mod.rs"]
mod review_support;
#[path = "../support/mod.rs"]
mod support;

mod aws_json;
mod client_attributes;
mod codes;
mod custom_attributes;
mod export_users;
mod import_jobs;
mod remembered_devices;
mod srp_sign_in;
mod untested_rpcs;
mod user_admin_flows;
mod user_pools_journey;
mod user_pools_races;
