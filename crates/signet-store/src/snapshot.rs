//! Snapshot files: a consistent copy of every state-machine row plus the Raft metadata,
//! written durably (temp file, fsync, rename, fsync dir) and checked by SHA-256 on read.
//!
//! Layout: `SIGNETSN` | format u32 | meta length u32 | meta (JSON SnapshotMeta) |
//! rows: (key length u32, key, value length u32, value)* | SHA-256 of all previous bytes.

use crate::types::SnapshotMeta;
use sha2::{Digest, Sha256};
use signet_core::Row;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SIGNETSN";
const FORMAT: u32 = 1;

/// A decoded snapshot.
pub(crate) struct SnapshotImage {
    pub(crate) meta: SnapshotMeta,
    pub(crate) rows: Vec<Row>,
}

pub(crate) fn encode(meta: &SnapshotMeta, rows: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let meta_json = serde_json::to_vec(meta).expect("snapshot meta serialises");
    let body: usize = rows.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let mut out = Vec::with_capacity(16 + meta_json.len() + body + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_be_bytes());
    out.extend_from_slice(&(meta_json.len() as u32).to_be_bytes());
    out.extend_from_slice(&meta_json);
    for (k, v) in rows {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("snapshot: {msg}"))
}

pub(crate) fn decode(data: &[u8]) -> io::Result<SnapshotImage> {
    if data.len() < 16 + 32 {
        return Err(bad("too short"));
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if Sha256::digest(body).as_slice() != sum {
        return Err(bad("checksum mismatch"));
    }
    if &body[..8] != MAGIC {
        return Err(bad("not a signet snapshot"));
    }
    let mut pos = 8;
    let take_u32 = |pos: &mut usize| -> io::Result<usize> {
        let b = body.get(*pos..*pos + 4).ok_or_else(|| bad("truncated"))?;
        *pos += 4;
        Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
    };
    let format = take_u32(&mut pos)?;
    if format as u32 != FORMAT {
        return Err(bad(&format!("unknown format {format}")));
    }
    let meta_len = take_u32(&mut pos)?;
    let meta_bytes = body
        .get(pos..pos + meta_len)
        .ok_or_else(|| bad("truncated"))?;
    let meta: SnapshotMeta = serde_json::from_slice(meta_bytes).map_err(|e| bad(&e.to_string()))?;
    pos += meta_len;
    let mut rows = Vec::new();
    while pos < body.len() {
        let kl = take_u32(&mut pos)?;
        let k = body
            .get(pos..pos + kl)
            .ok_or_else(|| bad("truncated"))?
            .to_vec();
        pos += kl;
        let vl = take_u32(&mut pos)?;
        let v = body
            .get(pos..pos + vl)
            .ok_or_else(|| bad("truncated"))?
            .to_vec();
        pos += vl;
        rows.push((k, v));
    }
    Ok(SnapshotImage { meta, rows })
}

/// The directory holding the current snapshot file.
pub(crate) struct SnapshotDir {
    dir: PathBuf,
}

const CURRENT: &str = "current.snap";
const INSTALLING: &str = "installing";

impl SnapshotDir {
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(SnapshotDir {
            dir: dir.to_path_buf(),
        })
    }

    /// Durably replace the current snapshot with `data`.
    pub(crate) fn save(&self, data: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join("current.snap.tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(CURRENT))?;
        self.sync_dir()
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
        self.sync_dir()
    }

    pub(crate) fn end_install(&self) -> io::Result<()> {
        fs::remove_file(self.dir.join(INSTALLING))?;
        self.sync_dir()
    }

    pub(crate) fn install_pending(&self) -> bool {
        self.dir.join(INSTALLING).exists()
    }

    fn sync_dir(&self) -> io::Result<()> {
        fs::File::open(&self.dir)?.sync_all()
    }
}
