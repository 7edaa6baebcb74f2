//! Diagnostic compare-and-set registers: named `i64` cells that `signet chaos` drives to
//! test the raw linearizability of the replicated log, with no identity logic in between.
//!
//! They hold nothing of the identity service and nothing secret. Like every command they are
//! written only through the Store API, which under mutual TLS admits gateways and operators
//! alone (`signet-store`'s `access.rs`); no public API reaches them.

use super::{get, put, reject, Apply};
use crate::{CoreError, KvTxn, Outcome, Rejection, Table};
use serde::{Deserialize, Serialize};

/// Longest register name, in bytes.
pub const MAX_REGISTER_NAME: usize = 64;

/// Whether `name` may name a register: 1 to [`MAX_REGISTER_NAME`] bytes of
/// `[A-Za-z0-9._:-]` (printable, no separator, nothing to escape in logs or keys).
pub fn valid_register_name(name: &str) -> bool {
    (1..=MAX_REGISTER_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Set a diagnostic register, unconditionally or only from an expected value.
///
/// A diagnostic register used by `signet chaos` to test the raw linearizability of the log
/// (reads are [`crate::Query::GetRegister`]). Only gateways and operators may write the
/// Store API under mutual TLS (`signet-store`'s `access.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasRegister {
    /// The register: 1 to 64 bytes of `[A-Za-z0-9._:-]` (else rejected as
    /// [`Rejection::InvalidKey`]).
    pub name: String,
    /// `None`: write unconditionally. `Some(e)`: write only if the register holds `e`
    /// now; otherwise (another value, or never written) the command is rejected with
    /// [`Rejection::PreconditionFailed`] and the register keeps its value.
    pub expect: Option<i64>,
    /// The value to set.
    pub value: i64,
}

impl Apply for CasRegister {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_register_name(&self.name) {
            return reject(Rejection::InvalidKey);
        }
        let key = self.name.as_bytes();
        if let Some(expect) = self.expect {
            let now = get::<i64>(txn, Table::Registers, key)?;
            if now != Some(expect) {
                return reject(Rejection::PreconditionFailed);
            }
        }
        put(txn, Table::Registers, key, &self.value)?;
        Ok(Outcome::Applied)
    }
}
