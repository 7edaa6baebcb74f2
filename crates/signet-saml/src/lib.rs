//! SAML 2.0 for Signet as a service provider, SP-initiated Web Browser SSO: the AuthnRequest
//! sent by the HTTP-Redirect binding ([`request`]), and the Response that comes back by the
//! HTTP-POST binding checked ([`response`]): its signature ([`dsig`], over [`c14n`] of a
//! strict [`xml`] tree), issuer, destination, audience, recipient, times and the request it
//! answers. IdP metadata is read and ours written in [`metadata`].
//!
//! Pure functions over bytes and the caller's clock: fetching metadata, the replay cache
//! (an assertion is accepted once, cluster-wide, through the log) and the browser flow
//! belong to the gateway.

#![forbid(unsafe_code)]

pub mod c14n;
pub mod dsig;
pub mod metadata;
pub mod request;
pub mod response;
pub mod xml;

/// The SAML 2.0 protocol namespace.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace.
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// Why a SAML message or metadata document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    /// Not XML Signet accepts.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The metadata is not usable.
    #[error("IdP metadata: {0}")]
    Metadata(String),
    /// The signature does not hold.
    #[error("signature: {0}")]
    Signature(String),
    /// The message is not a valid answer to this request.
    #[error("{0}")]
    Invalid(String),
    /// The IdP answered with a failure status.
    #[error("the IdP answered {0}")]
    Status(String),
}

/// Escape text for an attribute value or element content.
pub(crate) fn escape(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A Unix time (seconds) as xs:dateTime in UTC.
pub(crate) fn instant(unix_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}
