//! Encoding of records stored in the state machine: one version byte, then the body.
//! The version byte lets a newer binary read data written by an older one.
//!
//! * `1`: the record as JSON.
//! * `2`: the same JSON compressed by zstd with a fixed dictionary of typical records
//!   (`dictionary_v2.txt`): field names and the constant parts of a record (a PHC hash's
//!   parameters, `"CONFIRMED"`, …) become references into the dictionary, so a user record
//!   shrinks about threefold. Written whenever it is smaller than version 1 (tiny records,
//!   such as counters, stay JSON).
//!
//! The dictionary is part of the format: records written with it must decode forever, so
//! it never changes (a test pins its SHA-256). A better dictionary is a new version byte.

use crate::{KvError, Table};
use serde::{de::DeserializeOwned, Serialize};
use std::cell::RefCell;
use zstd::zstd_safe;

/// Version of a record that is plain JSON.
pub const RECORD_FORMAT_VERSION: u8 = 1;
/// Version of a record that is JSON compressed with [`DICTIONARY_V2`].
pub const RECORD_FORMAT_ZSTD_DICT: u8 = 2;

/// The zstd dictionary of version 2 (raw content: zstd matches records against it).
pub const DICTIONARY_V2: &[u8] = include_bytes!("dictionary_v2.txt");

/// zstd level of version-2 records: -1 (a fast level) encodes a user record in about 2.2 µs
/// to 135 bytes; level 3 took 3.9 µs for 129 (measured with a prepared dictionary).
const LEVEL: i32 = -1;

/// Largest decoded record accepted (a corrupt frame header must not allocate more).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// The dictionary, prepared once for compressing and for decompressing.
static CDICT: std::sync::LazyLock<zstd_safe::CDict<'static>> =
    std::sync::LazyLock::new(|| zstd_safe::create_cdict(DICTIONARY_V2, LEVEL));
static DDICT: std::sync::LazyLock<zstd_safe::DDict<'static>> =
    std::sync::LazyLock::new(|| zstd_safe::create_ddict(DICTIONARY_V2));

thread_local! {
    static CCTX: RefCell<zstd_safe::CCtx<'static>> = RefCell::new(zstd_safe::create_cctx());
    static DCTX: RefCell<zstd_safe::DCtx<'static>> = RefCell::new(zstd_safe::create_dctx());
}

/// The decoded size a version-2 body's frame header states, if it is one we accept (zstd's
/// "unknown" and "error" sizes are near `u64::MAX`, so they are refused with the rest).
fn frame_size(body: &[u8]) -> Option<u64> {
    let size = zstd_safe::get_frame_content_size(body);
    (size <= MAX_RECORD_BYTES).then_some(size)
}

/// Encode a record for storage.
pub fn encode_record<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain data types to JSON cannot fail (no maps with non-string keys).
    let json = serde_json::to_vec(value).expect("record types serialise to JSON");
    // zstd writes from the buffer's start, so the body is compressed apart and then put
    // behind the version byte.
    let mut body = Vec::with_capacity(zstd_safe::compress_bound(json.len()));
    let body = CCTX
        .with(|c| {
            c.borrow_mut()
                .compress_using_cdict(&mut body, &json, &CDICT)
        })
        .ok()
        .map(|_| body);
    match body {
        Some(body) if body.len() < json.len() => {
            let mut out = Vec::with_capacity(body.len() + 1);
            out.push(RECORD_FORMAT_ZSTD_DICT);
            out.extend_from_slice(&body);
            out
        }
        _ => {
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(RECORD_FORMAT_VERSION);
            out.extend_from_slice(&json);
            out
        }
    }
}

/// The JSON of a stored record, whatever its version; why not for a version this binary
/// does not know or a body that does not decompress.
pub fn record_json(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT_VERSION, body)) => Ok(std::borrow::Cow::Borrowed(body)),
        Some((&RECORD_FORMAT_ZSTD_DICT, body)) => {
            let size = frame_size(body).ok_or_else(|| {
                format!(
                    "record of unknown or excessive size ({})",
                    zstd_safe::get_frame_content_size(body)
                )
            })?;
            let mut out = Vec::with_capacity(size as usize);
            DCTX.with(|d| {
                d.borrow_mut()
                    .decompress_using_ddict(&mut out, body, &DDICT)
            })
            .map_err(|code| {
                format!(
                    "record does not decompress: {}",
                    zstd_safe::get_error_name(code)
                )
            })?;
            if out.len() as u64 != size {
                return Err("record shorter than its frame says".into());
            }
            Ok(std::borrow::Cow::Owned(out))
        }
        Some((v, _)) => Err(format!("unknown record version {v}")),
        None => Err("empty record".into()),
    }
}

/// The size of a stored record's JSON, which is what a reply carrying it costs (version 2
/// says it in its frame header; an unreadable header counts as the stored bytes).
pub fn record_json_len(bytes: &[u8]) -> usize {
    match bytes.split_first() {
        Some((&RECORD_FORMAT_ZSTD_DICT, body)) => {
            frame_size(body).map_or(body.len(), |size| size as usize)
        }
        Some((_, body)) => body.len(),
        None => 0,
    }
}

/// Decode a record read from `table`.
pub fn decode_record<T: DeserializeOwned>(table: Table, bytes: &[u8]) -> Result<T, KvError> {
    let corrupt = |reason: String| KvError::Corrupt {
        table: table.name(),
        reason,
    };
    let json = record_json(bytes).map_err(corrupt)?;
    serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests;
