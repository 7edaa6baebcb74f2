//! What the operator commands print: pretty JSON on stdout.

use anyhow::Context;

/// Print pretty JSON to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(v: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r.context("writing to stdout")?),
    }
}
