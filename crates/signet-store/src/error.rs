use thiserror::Error;

/// Failures starting or running a store node.
#[derive(Debug, Error)]
pub enum StoreError {
    /// File-system or socket failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// sled failed.
    #[error("state machine storage: {0}")]
    Sled(#[from] sled::Error),
    /// The data dir belongs to another node or is unreadable.
    #[error("data dir: {0}")]
    DataDir(String),
    /// openraft refused to start or a Raft operation failed.
    #[error("raft: {0}")]
    Raft(String),
    /// A membership operation was refused.
    #[error("membership: {0}")]
    Membership(String),
}

impl StoreError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}
