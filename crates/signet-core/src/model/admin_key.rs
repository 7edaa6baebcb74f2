use serde::{Deserialize, Serialize};

/// An admin access key: what signs administrative calls with AWS Signature Version 4 (the
/// AWS SDKs' and CLI's own signing), so AWS tooling can administer Signet unchanged. The
/// secret is sealed with the cluster's server key by the gateway that made it before it is
/// proposed: never in the log, a snapshot or a backup in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAccessKey {
    /// The access key id (`SAK…`), public: it names the key in each signature.
    pub access_key_id: String,
    /// The secret access key, sealed.
    pub sealed_secret: String,
    /// What the key is for (free text, for the operator).
    pub description: String,
    /// Inactive keys sign nothing (a rotation: the new key goes in, the old one is
    /// deactivated, then deleted).
    pub active: bool,
    /// When it was made, Unix ms.
    pub created_at_ms: u64,
}
