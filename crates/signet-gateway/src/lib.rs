//! Signet gateway (public APIs). Built out by the user-pools issue.
#![forbid(unsafe_code)]
