//! The error that sets the process's exit status.

/// A failure that ends the process with its own exit status (e.g. 3 for a denial of
/// `sts authorize --fail-on-deny`) instead of 1.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}
