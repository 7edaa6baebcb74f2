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
}

impl Aws {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        clock: SharedClock,
        sealer: Sealer,
        region: Option<String>,
    ) -> Aws {
        Aws {
            store,
            clock,
            sealer,
            region,
        }
    }
}
