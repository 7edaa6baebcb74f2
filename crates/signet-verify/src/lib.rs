//! Token verification for relying services. Built out by the signing-keys issue.
#![forbid(unsafe_code)]
