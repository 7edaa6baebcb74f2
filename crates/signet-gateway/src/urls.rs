//! The gateway's public URLs: where each kind of token it signs says it comes from.

use std::sync::Arc;

/// The provider name of Signet's own identity tokens in login maps and trust policies.
pub const IDENTITY_PROVIDER: &str = "signet-identity";

/// Issuer URLs under the configured public URL. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    public_url: Arc<str>,
}

impl Urls {
    /// From the configured public URL (no trailing slash).
    pub(crate) fn new(public_url: &str) -> Urls {
        Urls {
            public_url: public_url.trim_end_matches('/').into(),
        }
    }

    /// The base URL clients reach this service at.
    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The issuer of a user pool's tokens.
    pub(crate) fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.public_url)
    }

    /// The issuer of identity-pool OpenID tokens.
    pub(crate) fn identity_issuer(&self) -> String {
        format!("{}/identity", self.public_url)
    }

    /// The issuer of STS session tokens.
    pub(crate) fn sts_issuer(&self) -> String {
        format!("{}/sts", self.public_url)
    }
}

/// `uri` with `params` appended to its query (RFC 6749 §4.1.2: existing query kept).
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return uri.to_string(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}
