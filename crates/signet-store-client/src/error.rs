use thiserror::Error;

/// Failures seen by users of [`crate::StoreClient`].
#[derive(Debug, Error, Clone)]
pub enum ClientError {
    /// No member answered in time (no leader, all unreachable).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store refused the request (bad input, refused membership change).
    #[error("store refused the request ({code:?}): {message}")]
    Refused {
        /// gRPC code.
        code: tonic::Code,
        /// Server message.
        message: String,
    },
    /// The answer could not be decoded.
    #[error("bad answer from store: {0}")]
    Decode(String),
}
