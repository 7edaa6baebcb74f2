//! The Signet gateway: stateless front end of the store cluster. It terminates the public
//! APIs (gRPC `signet.v1` and HTTP for JWKS/discovery/health), does the CPU work (argon2,
//! signing, validation) and keeps only caches and its own in-memory signing keys.
#![forbid(unsafe_code)]

mod api;
mod app;
mod cache;
mod clock;
mod config;
mod error;
mod hooks;
mod keys;
mod metrics;
pub mod names;
mod notifier;
mod outbound;
mod quorum;
mod roles;

mod store;
mod tokens;
pub mod usecases;
mod validate;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{GatewayConfig, NotifierConfig, ServingLimits};
pub use error::{exception_name, AppError, ERROR_DOMAIN};
pub use notifier::Delivery;
pub use outbound::{check_outbound_url, signature, OutboundUrlError, SIGNATURE_HEADER};
pub use tokens::USER_ADMIN_SCOPE;
pub use usecases::secret_hash;

pub use app::{start, Gateway, GatewayHandle};
