//! The crate's one error type.

/// Why TLS material or a connection cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The material is unusable (bad PEM, key not matching the certificate, …).
    #[error("{0}")]
    Invalid(String),
}
