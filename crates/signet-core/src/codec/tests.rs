use super::*;
use crate::{User, UserStatus};
use sha2::{Digest, Sha256};

/// A user as a sign-up or an import makes them.
fn user(i: u32) -> User {
    let sub = format!("{i:08x}-5f0e-4c1a-9a7b-3e2d1c0b{i:04x}");
    let mut u = User::new(
        sub.clone(),
        format!("user{i}"),
        UserStatus::Confirmed,
        1_796_000_000_000 + u64::from(i),
    );
    u.password_hash = Some(format!(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{i:05}$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo{i:012}"
    ));
    u.attributes = [
        ("email".to_string(), format!("user{i}@example.com")),
        ("email_verified".to_string(), "true".to_string()),
        ("sub".to_string(), sub),
    ]
    .into_iter()
    .collect();
    u
}

/// The dictionary is part of format 2: changing it would make every version-2 record
/// written so far unreadable. A new dictionary needs a new version byte.
#[test]
fn the_version_2_dictionary_never_changes() {
    let sum = Sha256::digest(DICTIONARY_V2);
    let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5fda69deeb448be6c3d936a301a181eaa40c0909f23849e42410341f80bc283d"
    );
}

#[test]
fn a_user_is_stored_compressed_and_reads_back() {
    let u = user(7);
    let json = serde_json::to_vec(&u).unwrap();
    let stored = encode_record(&u);
    assert_eq!(stored[0], RECORD_FORMAT_ZSTD_DICT);
    assert!(
        stored.len() * 2 < json.len(),
        "{} bytes stored for {} of JSON",
        stored.len(),
        json.len()
    );
    let back: User = decode_record(Table::Users, &stored).unwrap();
    assert_eq!(back, u);
}

/// Records written before version 2 (JSON behind a 1) still read, and tiny records, for
/// which compression would not pay, are still written that way.
#[test]
fn version_1_records_still_read_and_tiny_ones_are_still_written() {
    let u = user(3);
    let mut old = vec![1u8];
    old.extend(serde_json::to_vec(&u).unwrap());
    assert_eq!(decode_record::<User>(Table::Users, &old).unwrap(), u);
    let n = encode_record(&42u64);
    assert_eq!(n, b"\x0142");
    assert_eq!(decode_record::<u64>(Table::Meta, &n).unwrap(), 42);
}

/// A version-2 record made once (from `user(1)`), kept as bytes: what this binary wrote
/// must decode in every later one.
#[test]
fn a_golden_version_2_record_decodes() {
    let golden: &[u8] = &GOLDEN;
    assert_eq!(
        decode_record::<User>(Table::Users, golden).unwrap(),
        user(1)
    );
    // 480 bytes of JSON.
    assert_eq!(serde_json::to_vec(&user(1)).unwrap().len(), 480);
}

const GOLDEN: [u8; 130] = [
    2, 40, 181, 47, 253, 96, 224, 0, 189, 3, 0, 244, 3, 49, 45, 53, 102, 48, 101, 45, 52, 99, 49,
    97, 45, 57, 97, 55, 98, 45, 51, 101, 50, 100, 49, 99, 48, 98, 48, 48, 48, 49, 99, 50, 70, 115,
    100, 72, 78, 104, 98, 72, 81, 49, 36, 97, 71, 70, 122, 97, 71, 104, 104, 99, 50, 104, 111, 89,
    88, 78, 111, 55, 57, 54, 49, 125, 19, 0, 65, 113, 0, 252, 5, 196, 200, 105, 153, 0, 155, 101,
    160, 129, 112, 193, 188, 96, 144, 26, 1, 130, 64, 14, 164, 204, 193, 212, 188, 192, 12, 134,
    214, 7, 115, 203, 11, 45, 150, 160, 154, 77, 139, 125, 179, 5, 2, 217, 141, 187, 5, 4,
];

#[test]
fn damaged_records_are_corrupt_not_panics() {
    let stored = encode_record(&user(9));
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![3, 1, 2],
        vec![2],
        stored[..stored.len() / 2].to_vec(),
        {
            let mut s = stored.clone();
            let at = s.len() - 3;
            s[at] ^= 0x55;
            s
        },
        // A frame header claiming an enormous content size.
        vec![
            2, 0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
    ];
    for c in cases {
        let r = decode_record::<User>(Table::Users, &c);
        assert!(
            matches!(r, Err(KvError::Corrupt { .. })),
            "{c:?} gave {r:?}"
        );
    }
}

/// What a record costs in a reply is its JSON, not what it takes on disk.
#[test]
fn a_records_reply_size_is_its_json() {
    let u = user(4);
    let json = serde_json::to_vec(&u).unwrap().len();
    let stored = encode_record(&u);
    assert_eq!(stored[0], RECORD_FORMAT_ZSTD_DICT);
    assert_eq!(record_json_len(&stored), json);
    let mut v1 = vec![1u8];
    v1.extend(serde_json::to_vec(&u).unwrap());
    assert_eq!(record_json_len(&v1), json);
    assert_eq!(record_json_len(&[]), 0);
}
