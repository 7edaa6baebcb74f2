//! Encoding of records stored in the state machine: one version byte, then JSON.
//! The version byte lets a newer binary read data written by an older one.

use crate::{KvError, Table};
use serde::{de::DeserializeOwned, Serialize};

/// Version written in front of every state-machine record.
pub const RECORD_FORMAT_VERSION: u8 = 1;

/// Encode a record for storage.
pub fn encode_record<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![RECORD_FORMAT_VERSION];
    // Serialising our own plain data types to JSON cannot fail (no maps with non-string keys).
    serde_json::to_writer(&mut out, value).expect("record types serialise to JSON");
    out
}

/// Decode a record read from `table`.
pub fn decode_record<T: DeserializeOwned>(table: Table, bytes: &[u8]) -> Result<T, KvError> {
    let corrupt = |reason: String| KvError::Corrupt {
        table: table.name(),
        reason,
    };
    match bytes.split_first() {
        Some((&1, body)) => serde_json::from_slice(body).map_err(|e| corrupt(e.to_string())),
        Some((v, _)) => Err(corrupt(format!("unknown record version {v}"))),
        None => Err(corrupt("empty record".into())),
    }
}
