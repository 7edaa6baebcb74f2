//! AWS compatibility: the admin access keys that sign administrative calls with standard
//! AWS Signature Version 4 (`keys`), and the check of a request signed with one (`signed`).
//! The wire protocols themselves are adapters in `api/aws/`.

mod keys;
mod signed;

use crate::clock::SharedClock;
use crate::store::Store;
use signet_crypto::Sealer;

pub(crate) use signed::{Request as SignedRequest, Unsigned};

/// The AWS compatibility feature: it holds only the handles it uses, built by `app`.
#[derive(Clone)]
pub(crate) struct Aws {
    store: Store,
    clock: SharedClock,
    sealer: Sealer,
    /// The region signatures must be scoped to (`None`: any).
    region: Option<String>,
    /// Signing names other than AWS's own service names, by AWS's name.
    signing_names: std::collections::BTreeMap<String, String>,
}

impl Aws {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        clock: SharedClock,
        sealer: Sealer,
        region: Option<String>,
        signing_names: std::collections::BTreeMap<String, String>,
    ) -> Aws {
        Aws {
            store,
            clock,
            sealer,
            region,
            signing_names,
        }
    }

    /// The service name signatures for AWS's `service` must be scoped to: the configured
    /// one, else AWS's own.
    pub(crate) fn signing_name<'a>(&'a self, service: &'a str) -> &'a str {
        self.signing_names
            .get(service)
            .map_or(service, String::as_str)
    }
}
