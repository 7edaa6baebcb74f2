use thiserror::Error;

/// A failure of the storage underneath the state machine. Business rejections are never
/// errors: they are [`crate::Outcome::Rejected`] values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KvError {
    /// The storage engine failed (I/O, corruption detected by the engine).
    #[error("storage: {0}")]
    Storage(String),
    /// A stored record could not be decoded.
    #[error("corrupt record in {table}: {reason}")]
    Corrupt {
        /// Table holding the record.
        table: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The rows cannot be read now (a member replacing them with a snapshot); another
    /// member, or this one a moment later, can answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Errors of the core crate that are not storage failures.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// Encoding or decoding a log entry or wire payload failed.
    #[error("codec: {0}")]
    Codec(String),
    /// A record or entry was written by a newer format than this binary understands.
    #[error("unsupported format version {found} (this binary reads up to {supported})")]
    UnsupportedVersion {
        /// Version found in the data.
        found: u32,
        /// Highest version this binary reads.
        supported: u32,
    },
    /// Storage failed underneath.
    #[error(transparent)]
    Kv(#[from] KvError),
}
