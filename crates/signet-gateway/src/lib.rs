//! The Signet gateway: stateless front end of the store cluster. It terminates the public
//! APIs (gRPC `signet.v1` and HTTP for JWKS/discovery/health), does the CPU work (argon2,
//! signing, validation) and keeps only caches and its own in-memory signing keys.
#![forbid(unsafe_code)]

// The composition root and the API adapters.
mod api;
mod app;
mod audit;
mod aws;

// Shared handles: what features are built from.
mod cache;
mod clock;
mod codes;
mod config;
mod consistency;
mod directory;
mod error;
mod hooks;
mod ids;
mod metrics;
pub mod names;
mod notifier;
mod outbound;
mod passwords;
mod quorum;
mod rates;
mod revocations;
mod secrets;
mod server;
mod store;
mod text;
mod tokens;
mod urls;
mod validate;

// Features: one folder each, a struct holding only the handles it uses.
mod auth;
pub mod authorizer;
mod federation;
mod hosted;
mod identity;
mod imports;
mod keys;
mod oauth;
mod pools;
mod roles;
mod signup;
mod sts;
mod users;

pub use audit::AuditStream;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Budget, GatewayConfig, NotifierConfig, RateClass, RateLimits, ServingLimits};
pub use error::{exception_name, AppError, ERROR_DOMAIN};
pub use notifier::Delivery;
pub use outbound::{
    check_outbound_url, pool_hook_key, signature, OutboundUrlError, SIGNATURE_HEADER,
};
pub use secrets::secret_hash;
pub use tokens::USER_ADMIN_SCOPE;

pub use app::Gateway;
pub use server::{start, start_groups, GatewayHandle};
