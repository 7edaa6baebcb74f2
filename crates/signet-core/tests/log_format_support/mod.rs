//! Samples and golden-file plumbing of the `log_format` test.

pub mod commands;
mod commands_more;
pub mod golden;
pub mod outcomes;
pub mod replay;
