//! Snapshot files: a consistent copy of every state-machine row plus the Raft metadata,
//! written durably (temp file, fsync, rename, fsync dir) and checked by SHA-256 on read.
//!
//! Layout: `SIGNETSN` | format u32 | meta length u32 | meta (JSON SnapshotMeta) |
//! rows: (key length u32, key, value length u32, value)* | SHA-256 of all previous bytes.

use crate::types::SnapshotMeta;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SIGNETSN";
const FORMAT: u32 = 1;

/// Writes a snapshot's bytes as rows arrive, so a large state is copied once (into this
/// buffer) rather than into a list of rows and then into the encoding.
pub(crate) struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new(meta: &SnapshotMeta) -> Encoder {
        let meta_json = serde_json::to_vec(meta).expect("snapshot meta serialises");
        let mut out = Vec::with_capacity(16 + meta_json.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_be_bytes());
        out.extend_from_slice(&(meta_json.len() as u32).to_be_bytes());
        out.extend_from_slice(&meta_json);
        Encoder { out }
    }

    pub(crate) fn row(&mut self, k: &[u8], v: &[u8]) {
        self.out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        self.out.extend_from_slice(k);
        self.out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        self.out.extend_from_slice(v);
    }

    /// The bytes, with their checksum appended (hashing takes a while for a large state:
    /// do it off the state-machine task).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let sum = Sha256::digest(&self.out);
        self.out.extend_from_slice(&sum);
        self.out
    }
}

#[cfg(test)]
pub(crate) fn encode(meta: &SnapshotMeta, rows: &[signet_core::Row]) -> Vec<u8> {
    let mut e = Encoder::new(meta);
    for (k, v) in rows {
        e.row(k, v);
    }
    e.finish()
}

/// Bytes before the meta (magic, format, meta length), and of the trailer.
pub(crate) fn header_bounds() -> (u64, u64) {
    (16, 32)
}

/// Check a snapshot's magic and format version.
pub(crate) fn check_header(magic: &[u8], format: u32) -> io::Result<()> {
    if magic != MAGIC {
        return Err(bad("not a signet snapshot"));
    }
    if format != FORMAT {
        return Err(bad(&format!("unknown format {format}")));
    }
    Ok(())
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("snapshot: {msg}"))
}

/// A checked snapshot: its meta, and its rows read in place (nothing is copied, so
/// installing a large snapshot needs no second copy of it in memory).
#[derive(Debug)]
pub(crate) struct SnapshotImage<'a> {
    pub(crate) meta: SnapshotMeta,
    rows: &'a [u8],
}

/// Check `data` (checksum, header, and the framing of every row) and read its meta.
/// Nothing is installed from a snapshot that fails here.
pub(crate) fn decode(data: &[u8]) -> io::Result<SnapshotImage<'_>> {
    if data.len() < 16 + 32 {
        return Err(bad("too short"));
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(bad("checksum mismatch"));
    }
    let mut pos = 8;
    let format = take_u32(body, &mut pos)?;
    check_header(&body[..8], format as u32)?;
    let meta_len = take_u32(body, &mut pos)?;
    let meta_bytes = body
        .get(pos..pos + meta_len)
        .ok_or_else(|| bad("truncated"))?;
    let meta: SnapshotMeta = serde_json::from_slice(meta_bytes).map_err(|e| bad(&e.to_string()))?;
    pos += meta_len;
    let img = SnapshotImage {
        meta,
        rows: &body[pos..],
    };
    for row in img.rows() {
        row?;
    }
    Ok(img)
}

fn take_u32(body: &[u8], pos: &mut usize) -> io::Result<usize> {
    let b = body.get(*pos..*pos + 4).ok_or_else(|| bad("truncated"))?;
    *pos += 4;
    Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
}

impl<'a> SnapshotImage<'a> {
    /// Every row, in order, as (key, value) slices of the snapshot's bytes.
    pub(crate) fn rows(&self) -> impl Iterator<Item = io::Result<(&'a [u8], &'a [u8])>> + 'a {
        let body = self.rows;
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= body.len() {
                return None;
            }
            let mut field = || -> io::Result<&'a [u8]> {
                let len = take_u32(body, &mut pos)?;
                let f = body.get(pos..pos + len).ok_or_else(|| bad("truncated"))?;
                pos += len;
                Ok(f)
            };
            let row = field().and_then(|k| Ok((k, field()?)));
            if row.is_err() {
                // Stop after the first framing error.
                pos = body.len();
            }
            Some(row)
        })
    }
}

/// The directory holding the current snapshot file.
pub(crate) struct SnapshotDir {
    dir: PathBuf,
    fence: SnapshotFence,
}

/// How far the durable snapshot file reaches, shared with the log store, which never
/// purges the log past it. openraft 0.9 purges a follower's log as soon as it starts
/// installing a snapshot from the leader, before the state machine has saved it: a crash
/// in between left the node with neither the entries nor a snapshot of them (the strict
/// disk found this: the node could not start again). With the fence, that purge waits
/// until the snapshot is on disk.
#[derive(Clone, Debug)]
pub struct SnapshotFence(tokio::sync::watch::Sender<u64>);

/// Longest a purge waits for the snapshot that covers it.
const PURGE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

impl Default for SnapshotFence {
    fn default() -> Self {
        SnapshotFence(tokio::sync::watch::channel(0).0)
    }
}

impl SnapshotFence {
    /// A durable snapshot now covers the log up to `last` (inclusive).
    pub(crate) fn advance(&self, last: Option<u64>) {
        if let Some(i) = last {
            self.0.send_if_modified(|reach| {
                let moved = i + 1 > *reach;
                if moved {
                    *reach = i + 1;
                }
                moved
            });
        }
    }

    /// Wait until a durable snapshot covers `index`; an error after [`PURGE_WAIT`] (the
    /// snapshot never came: the node stops and restarts from what is on disk).
    pub(crate) async fn covers(&self, index: u64) -> io::Result<()> {
        let mut rx = self.0.subscribe();
        let covered = tokio::time::timeout(PURGE_WAIT, rx.wait_for(|reach| *reach > index))
            .await
            .is_ok_and(|r| r.is_ok());
        match covered {
            true => Ok(()),
            false => Err(io::Error::other(format!(
                "log purge up to {index} is not covered by a saved snapshot (it reaches {}) \
                 after {PURGE_WAIT:?}",
                (*self.0.borrow()).saturating_sub(1)
            ))),
        }
    }
}

const CURRENT: &str = "current.snap";

/// The current snapshot's file in the snapshot directory `dir`.
pub(crate) fn current_path(dir: &Path) -> PathBuf {
    dir.join(CURRENT)
}
const INSTALLING: &str = "installing";

impl SnapshotDir {
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        crate::durable::create_dirs(dir)?;
        Ok(SnapshotDir {
            dir: dir.to_path_buf(),
            fence: SnapshotFence::default(),
        })
    }

    /// Durably replace the current snapshot with `data`, which covers the log up to
    /// `last`; `failpoint` is checked before it replaces the old one.
    pub(crate) fn save(
        &self,
        data: &[u8],
        last: Option<u64>,
        failpoint: &'static str,
    ) -> io::Result<()> {
        crate::durable::replace_file(&self.dir.join(CURRENT), data, Some(failpoint))?;
        self.fence.advance(last);
        Ok(())
    }

    /// The fence this directory moves as snapshots are saved.
    pub(crate) fn fence(&self) -> &SnapshotFence {
        &self.fence
    }

    /// Size in bytes and write time of the current snapshot file, if any.
    pub(crate) fn stat(&self) -> Option<(u64, std::time::SystemTime)> {
        let m = fs::metadata(self.dir.join(CURRENT)).ok()?;
        Some((m.len(), m.modified().ok()?))
    }

    /// The current snapshot's file, open for reading: a snapshot saved after this keeps
    /// its own inode, so the handle reads one consistent snapshot to its end.
    pub(crate) fn open_current(&self) -> io::Result<fs::File> {
        fs::File::open(self.dir.join(CURRENT))
    }

    /// The current snapshot's bytes, if any.
    pub(crate) fn load(&self) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.dir.join(CURRENT)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Mark that the state machine is being replaced by the current snapshot; if the
    /// process dies before [`Self::end_install`], the next start installs it again.
    pub(crate) fn begin_install(&self) -> io::Result<()> {
        fs::File::create(self.dir.join(INSTALLING))?.sync_all()?;
        crate::durable::sync_dir(&self.dir)
    }

    pub(crate) fn end_install(&self) -> io::Result<()> {
        fs::remove_file(self.dir.join(INSTALLING))?;
        crate::durable::sync_dir(&self.dir)
    }

    pub(crate) fn install_pending(&self) -> bool {
        self.dir.join(INSTALLING).exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SnapshotMeta {
        SnapshotMeta {
            snapshot_id: "1-7-0".into(),
            ..Default::default()
        }
    }

    fn rows() -> Vec<signet_core::Row> {
        (0..1000u32)
            .map(|i| (i.to_be_bytes().to_vec(), vec![i as u8; (i % 7) as usize]))
            .collect()
    }

    #[test]
    fn rows_come_back_in_place_and_in_order() {
        let data = encode(&meta(), &rows());
        let img = decode(&data).unwrap();
        assert_eq!(img.meta.snapshot_id, "1-7-0");
        let back: Vec<(Vec<u8>, Vec<u8>)> = img
            .rows()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(back, rows());
        // An empty state is a valid snapshot too.
        assert_eq!(decode(&encode(&meta(), &[])).unwrap().rows().count(), 0);
    }

    #[test]
    fn damaged_snapshots_are_refused_before_anything_is_read() {
        let data = encode(&meta(), &rows());
        let mut flipped = data.clone();
        flipped[100] ^= 1;
        assert!(decode(&flipped)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
        assert!(decode(&data[..data.len() - 1]).is_err());
        // A row whose length runs past the end, under a valid checksum: refused whole, so
        // an install never starts from a snapshot it cannot finish.
        let mut e = Encoder::new(&meta());
        e.row(b"k", b"v");
        let mut body = e.out;
        body.extend_from_slice(&100u32.to_be_bytes());
        body.extend_from_slice(b"short");
        let sum = Sha256::digest(&body);
        body.extend_from_slice(&sum);
        assert!(decode(&body).unwrap_err().to_string().contains("truncated"));
    }
}
