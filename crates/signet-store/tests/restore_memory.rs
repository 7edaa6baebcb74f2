//! What installing a snapshot costs in memory: at most about the snapshot's size plus the
//! page cache, never a multiple of it. Batches of 10,000 rows took this 128 MiB snapshot
//! to 793 MiB (a joining node of a million-user cluster to 4.3 GB); batches of 500, to
//! 117 MiB. It is not a fixed bound yet: sled 0.34 keeps about the data written to it
//! resident whatever its cache capacity (flushing does not change it), so the bound is the
//! data's size until records are compact or the engine bounds it (issue 19). A test binary
//! of its own, because it reads the process's peak resident memory, which other tests in
//! the same process would raise.
//!
//! The snapshot file is written here by hand, from the format's description in
//! `src/snapshot.rs` (magic, format, meta, length-prefixed rows, SHA-256 trailer): a second
//! reading of that format, independent of the encoder.

use sha2::{Digest, Sha256};
use signet_store::{SignetNode, StateMachineStore};
use std::io::Write;

/// A field of /proc/self/status, MiB.
fn status_mb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("proc status");
    let kib: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("a kB field");
    kib / 1024
}

/// Write a snapshot of `rows` rows of `value_len` bytes at log index 7 into
/// `dir/snapshots/current.snap`; returns its size in MiB.
fn write_snapshot(dir: &std::path::Path, rows: u64, value_len: usize) -> u64 {
    let snapshots = dir.join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("mkdir");
    let meta = openraft::SnapshotMeta::<u64, SignetNode> {
        last_log_id: Some(openraft::LogId::new(
            openraft::CommittedLeaderId::new(1, 1),
            7,
        )),
        last_membership: Default::default(),
        snapshot_id: "memory".into(),
    };
    let meta = serde_json::to_vec(&meta).expect("meta");
    let path = snapshots.join("current.snap");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let mut hash = Sha256::new();
    let mut put = |b: &[u8]| {
        hash.update(b);
        out.write_all(b).expect("write");
    };
    put(b"SIGNETSN");
    put(&1u32.to_be_bytes());
    put(&(meta.len() as u32).to_be_bytes());
    put(&meta);
    let value = vec![b'v'; value_len];
    for i in 0..rows {
        // Keys spread like the real tables' (a table byte, then an id).
        let key = format!(
            "\u{5}pool-1/user-{:016x}",
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        put(&(key.len() as u32).to_be_bytes());
        put(key.as_bytes());
        put(&(value.len() as u32).to_be_bytes());
        put(&value);
    }
    let sum = hash.finalize();
    out.write_all(&sum).expect("trailer");
    out.into_inner().expect("flush").sync_all().expect("sync");
    std::fs::metadata(&path).expect("size").len() >> 20
}

#[test]
fn installing_a_snapshot_takes_no_more_memory_than_the_snapshot_and_the_cache() {
    const CACHE_MB: u64 = 16;
    let tmp = tempfile::tempdir().expect("tempdir");
    let size_mb = write_snapshot(tmp.path(), 250_000, 500);
    let before = status_mb("VmRSS:");
    // Opening a data dir whose state machine is behind its snapshot installs the snapshot.
    let sm = StateMachineStore::open_with(tmp.path(), CACHE_MB << 20, None).expect("open");
    let peak = status_mb("VmHWM:");
    assert_eq!(
        sm.last_applied().expect("applied").map(|l| l.index),
        Some(7),
        "the snapshot was installed"
    );
    let grew = peak.saturating_sub(before);
    eprintln!("snapshot {size_mb} MiB: RSS {before} MiB before, peak {peak} MiB");
    assert!(
        size_mb >= 120,
        "the snapshot is large enough to tell: {size_mb} MiB"
    );
    // The snapshot's size, the cache, and 64 MiB of buffers and sled's own structures.
    let bound = size_mb + CACHE_MB + 64;
    assert!(
        grew < bound,
        "installing a {size_mb} MiB snapshot with a {CACHE_MB} MiB cache grew the process by \
         {grew} MiB (bound {bound})"
    );
}
