//! The bytes of one log entry's payload, pinned: the version byte, then openraft's
//! `EntryPayload::Normal` around a [`Batch`] of [`Request`]s. The commands themselves are
//! pinned variant by variant in signet-core's `log_format` test; this covers the wrapping.
//! `SIGNET_BLESS=1` rewrites the golden file (a change to it is a format change).

use super::{decode_payload, encode_payload, PAYLOAD_FORMAT_VERSION};
use crate::types::{Batch, TypeConfig};
use openraft::EntryPayload;
use signet_core::{Command, DeleteUser, Request, RequestId, RequestKeyRotation};
use std::path::PathBuf;

fn sample() -> EntryPayload<TypeConfig> {
    EntryPayload::Normal(Batch(vec![
        Request::new(
            RequestId(*b"golden-request-1"),
            Command::RequestKeyRotation(RequestKeyRotation {
                at_ms: 1_767_225_600_000,
            }),
        ),
        Request::new(
            RequestId(*b"golden-request-2"),
            Command::DeleteUser(DeleteUser {
                pool_id: "eu-west-1_G0ldenP00l".into(),
                username: "alice".into(),
                at_ms: 0,
            }),
        ),
    ]))
}

#[test]
fn log_payload_matches_its_golden() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/log_payload.json");
    let bytes = encode_payload(&sample()).unwrap();
    assert_eq!(bytes[0], PAYLOAD_FORMAT_VERSION);
    let mut body = bytes[1..].to_vec();
    body.push(b'\n');
    if std::env::var_os("SIGNET_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &body).unwrap();
    }
    let golden = std::fs::read(&path).expect("golden file (SIGNET_BLESS=1 writes it)");
    assert_eq!(
        String::from_utf8_lossy(&golden),
        String::from_utf8_lossy(&body),
        "the log entry payload format changed"
    );
    let mut stored = vec![PAYLOAD_FORMAT_VERSION];
    stored.extend_from_slice(golden.strip_suffix(b"\n").unwrap());
    let back = decode_payload(&stored).unwrap();
    assert_eq!(back, sample());
}
