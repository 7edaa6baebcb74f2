//! Federated sign-in: a pool's identity providers (`providers`), the OpenID Connect
//! round trip to one of them from the hosted pages (`oidc`), and the pool's user that a
//! provider's subject becomes (`users`).
//!
//! The browser leaves for the provider with a sealed `state` (the authorization request it
//! came with, the nonce and PKCE verifier of the upstream request, and a hash of its own
//! CSRF cookie) and comes back to `{issuer}/oauth2/idpresponse`: only the browser that
//! left, within ten minutes, with an ID token signed by the provider's keys, for this
//! client, carrying this nonce, signs anyone in.

mod links;
mod oidc;
pub(crate) mod providers;
mod saml;
mod users;

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::outbound::{ExternalKeys, OutboundClient};
use crate::store::Store;
use crate::urls::Urls;
use signet_crypto::Sealer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use links::ProviderUserRef;
pub(crate) use oidc::FlowState;
pub use providers::ProviderInput;

/// The federation feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Federation {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    sealer: Sealer,
    urls: Urls,
    keys: ExternalKeys,
    http: OutboundClient,
    allow_loopback_http: bool,
    hooks: crate::hooks::Hooks,
    /// Providers' discovery documents, by issuer, with when they were fetched.
    discovered: Arc<Mutex<HashMap<String, (std::time::Instant, oidc::Endpoints)>>>,
}

impl Federation {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        sealer: Sealer,
        urls: Urls,
        keys: ExternalKeys,
        allow_loopback_http: bool,
        hooks: crate::hooks::Hooks,
    ) -> Federation {
        Federation {
            store,
            dir,
            clock,
            sealer,
            urls,
            keys,
            http: crate::outbound::client(),
            allow_loopback_http,
            hooks,
            discovered: Arc::default(),
        }
    }
}
