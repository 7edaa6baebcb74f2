//! Snapshot files: a consistent copy of every state-machine row plus the Raft metadata,
//! written durably (temp file, fsync, rename, fsync dir) and checked by SHA-256.
//!
//! Layout: `SIGNETSN` | format u32 | meta length u32 | meta (JSON SnapshotMeta) | rows |
//! SHA-256 of all previous bytes of the file. Rows are (key length u32, key, value length
//! u32, value)*: as they are in format 1, one zstd stream of them in format 2 (written
//! since issue 19: JSON rows shrink about fivefold, and so do what a joining node receives
//! and what a backup keeps). Both formats are read.
//!
//! Everything here streams: a snapshot is written row by row into a file, sent and received
//! in chunks of that file, checked and installed by reading it once. No step holds the
//! state in memory, so a node's memory while it builds, sends or installs a snapshot does
//! not grow with the number of users (issue 19: a joining node peaked at 5.3 GB at 1 M).

use crate::types::SnapshotMeta;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SIGNETSN";
/// Rows as they are.
const FORMAT_PLAIN: u32 = 1;
/// Rows in one zstd stream (what is written).
const FORMAT_ZSTD: u32 = 2;
/// zstd level of the rows: the fastest, most of the gain on JSON rows.
const ZSTD_LEVEL: i32 = 1;
/// Bytes of the trailer (SHA-256).
pub(crate) const TRAILER: u64 = 32;
/// Buffer of the snapshot files' readers and writers.
const BUFFER: usize = 1 << 20;

/// A writer that hashes what passes through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a snapshot's bytes to `W` as rows arrive (compressed, format 2), hashing the
/// file's bytes on the way.
pub(crate) struct Encoder<W: Write> {
    rows: zstd::stream::write::Encoder<'static, HashingWriter<W>>,
}

impl<W: Write> Encoder<W> {
    pub(crate) fn new(meta: &SnapshotMeta, out: W) -> io::Result<Encoder<W>> {
        let meta_json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        let mut out = HashingWriter {
            inner: out,
            hash: Sha256::new(),
        };
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_ZSTD.to_be_bytes())?;
        out.write_all(&(meta_json.len() as u32).to_be_bytes())?;
        out.write_all(&meta_json)?;
        Ok(Encoder {
            rows: zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?,
        })
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.rows.write_all(b)
    }

    pub(crate) fn row(&mut self, k: &[u8], v: &[u8]) -> io::Result<()> {
        self.put(&(k.len() as u32).to_be_bytes())?;
        self.put(k)?;
        self.put(&(v.len() as u32).to_be_bytes())?;
        self.put(v)
    }

    /// End the rows and append the checksum; the writer back.
    pub(crate) fn finish(self) -> io::Result<W> {
        let HashingWriter { mut inner, hash } = self.rows.finish()?;
        inner.write_all(&hash.finalize())?;
        Ok(inner)
    }
}

/// A snapshot file being written: rows go to `<dir>/<name>.tmp` through a buffer.
pub(crate) type FileEncoder = Encoder<io::BufWriter<fs::File>>;

/// Start writing a snapshot into a new temporary file `path`.
pub(crate) fn create(path: &Path, meta: &SnapshotMeta) -> io::Result<FileEncoder> {
    let f = fs::File::create(path)?;
    Encoder::new(meta, io::BufWriter::with_capacity(BUFFER, f))
}

/// Finish a snapshot file: checksum, flush, fsync.
pub(crate) fn finish_file(enc: FileEncoder) -> io::Result<()> {
    let f = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

#[cfg(test)]
pub(crate) fn encode(meta: &SnapshotMeta, rows: &[signet_core::Row]) -> Vec<u8> {
    let mut e = Encoder::new(meta, Vec::new()).unwrap();
    for (k, v) in rows {
        e.row(k, v).unwrap();
    }
    e.finish().unwrap()
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("snapshot: {msg}"))
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).map_err(truncated)?;
    Ok(u32::from_be_bytes(b))
}

fn truncated(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => bad("truncated"),
        _ => e,
    }
}

/// A snapshot file's header.
struct Header {
    meta: SnapshotMeta,
    /// Bytes of the header.
    len: u64,
    /// Whether the rows are one zstd stream.
    compressed: bool,
}

/// Read a snapshot's header and meta from `r`.
fn read_header(r: &mut impl Read) -> io::Result<Header> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(truncated)?;
    if &magic != MAGIC {
        return Err(bad("not a signet snapshot"));
    }
    let format = read_u32(r)?;
    let compressed = match format {
        FORMAT_PLAIN => false,
        FORMAT_ZSTD => true,
        _ => return Err(bad(&format!("unknown format {format}"))),
    };
    let meta_len = read_u32(r)?;
    let mut meta = Vec::new();
    r.take(u64::from(meta_len)).read_to_end(&mut meta)?;
    if meta.len() != meta_len as usize {
        return Err(bad("truncated"));
    }
    let meta = serde_json::from_slice(&meta).map_err(|e| bad(&e.to_string()))?;
    Ok(Header {
        meta,
        len: 16 + u64::from(meta_len),
        compressed,
    })
}

/// The rows section of a file whose header `h` was just read from `r`, `body` bytes
/// before the trailer: a plain reader of exactly the rows' bytes, or the decompressing one.
fn rows_reader<'a, R: io::BufRead + Send + 'a>(
    r: R,
    h: &Header,
    body: u64,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    let left = body.checked_sub(h.len).ok_or_else(|| bad("truncated"))?;
    let section = r.take(left);
    Ok(if h.compressed {
        Box::new(zstd::stream::read::Decoder::with_buffer(section)?)
    } else {
        Box::new(section)
    })
}

/// A snapshot file's rows, read one at a time.
pub(crate) struct Rows<R> {
    r: R,
    done: bool,
}

/// The next row's first length, or None at the end of the rows.
fn row_start(r: &mut impl Read) -> io::Result<Option<u64>> {
    let mut b = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut b[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(bad("truncated")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(truncated(e)),
        }
    }
    Ok(Some(u64::from(u32::from_be_bytes(b))))
}

/// `len` bytes of `r`, read as they arrive (a corrupt length never allocates ahead).
fn field_of(r: &mut impl Read, len: u64) -> io::Result<Vec<u8>> {
    let mut f = Vec::new();
    r.take(len).read_to_end(&mut f)?;
    if f.len() as u64 != len {
        return Err(bad("truncated"));
    }
    Ok(f)
}

impl<R: Read> Rows<R> {
    fn next_row(&mut self) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let Some(klen) = row_start(&mut self.r)? else {
            return Ok(None);
        };
        let k = field_of(&mut self.r, klen)?;
        let vlen = u64::from(read_u32(&mut self.r)?);
        let v = field_of(&mut self.r, vlen)?;
        Ok(Some((k, v)))
    }
}

impl<R: Read> Iterator for Rows<R> {
    type Item = io::Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let row = self.next_row().transpose();
        if !matches!(row, Some(Ok(_))) {
            // Stop at the end and after the first error.
            self.done = true;
        }
        row
    }
}

/// Open the snapshot file `path` for reading its rows in order (the checksum is not
/// checked here: [`check`] does, before anything is installed from a file).
pub(crate) fn open(path: &Path) -> io::Result<(SnapshotMeta, Rows<impl Read + Send>)> {
    let f = fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut r = io::BufReader::with_capacity(BUFFER, f);
    let h = read_header(&mut r)?;
    let body = len.checked_sub(TRAILER).ok_or_else(|| bad("truncated"))?;
    let rows = rows_reader(r, &h, body)?;
    Ok((
        h.meta,
        Rows {
            r: rows,
            done: false,
        },
    ))
}

/// The meta of the snapshot file `path`, from its header only.
pub(crate) fn meta_of(path: &Path) -> io::Result<SnapshotMeta> {
    meta_of_file(&fs::File::open(path)?)
}

/// The meta of the open snapshot file `f`, from its header; `f` is left at its start.
pub(crate) fn meta_of_file(mut f: &fs::File) -> io::Result<SnapshotMeta> {
    io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
    let meta = read_header(&mut io::BufReader::new(f)).map(|h| h.meta);
    io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
    meta
}

/// Whether the open file `f` is the file at `path`.
pub(crate) fn same_file(f: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Copy the open file `f`, from its start, into a new file at `path` (synced).
pub(crate) fn copy_into(mut f: fs::File, path: &Path) -> io::Result<()> {
    io::Seek::seek(&mut f, io::SeekFrom::Start(0))?;
    let mut out = fs::File::create(path)?;
    io::copy(&mut f, &mut out)?;
    out.sync_all()
}

/// What a whole check of a snapshot file found.
pub(crate) struct Checked {
    pub(crate) meta: SnapshotMeta,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) sha256: [u8; 32],
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Check the snapshot file `path` whole, reading it once in bounded memory: checksum,
/// header, meta and the framing of every row. Nothing is installed from a file that fails.
/// A damaged file is reported as a checksum mismatch even where its damage also breaks the
/// framing.
pub(crate) fn check(path: &Path) -> io::Result<Checked> {
    let f = fs::File::open(path)?;
    let bytes = f.metadata()?.len();
    if bytes < 16 + TRAILER {
        return Err(bad("too short"));
    }
    let body = bytes - TRAILER;
    let mut hashed = Hashing {
        inner: io::BufReader::with_capacity(BUFFER, f).take(body),
        hash: Sha256::new(),
    };
    // Every byte taken from `hashed` is hashed once, whether the frame reads it or the
    // copy below does.
    let parsed = frame(io::BufReader::new(&mut hashed), body);
    // Whatever the parse found, hash the rest of the body before judging.
    io::copy(&mut hashed, &mut io::sink())?;
    let Hashing { inner, hash } = hashed;
    let mut trailer = [0u8; 32];
    inner
        .into_inner()
        .read_exact(&mut trailer)
        .map_err(truncated)?;
    if hash.finalize().as_slice() != trailer {
        return Err(bad("checksum mismatch"));
    }
    let (meta, rows) = parsed?;
    Ok(Checked {
        meta,
        rows,
        bytes,
        sha256: trailer,
    })
}

/// Read the header and skip over every row of a snapshot body of `body` bytes; the meta
/// and the number of rows.
fn frame<R: io::BufRead + Send>(mut r: R, body: u64) -> io::Result<(SnapshotMeta, u64)> {
    let h = read_header(&mut r)?;
    let mut rows = rows_reader(r, &h, body)?;
    let mut n = 0;
    // Only the framing matters here: skip the bytes rather than keep them.
    while let Some(klen) = row_start(&mut rows)? {
        for len in [Some(klen), None] {
            let len = match len {
                Some(l) => l,
                None => u64::from(read_u32(&mut rows)?),
            };
            if io::copy(&mut (&mut rows).take(len), &mut io::sink())? != len {
                return Err(bad("truncated"));
            }
        }
        n += 1;
    }
    Ok((h.meta, n))
}

/// The directory holding the current snapshot file.
pub(crate) struct SnapshotDir {
    dir: PathBuf,
    fence: SnapshotFence,
    /// Held while a snapshot replaces the current one (a build finishing off the
    /// state-machine task may meet an install), so a newer one is never replaced by an
    /// older one.
    replacing: std::sync::Mutex<()>,
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
const RECEIVING: &str = "receiving.tmp";
const INSTALLING: &str = "installing";

/// The current snapshot's file in the snapshot directory `dir`.
pub(crate) fn current_path(dir: &Path) -> PathBuf {
    dir.join(CURRENT)
}

impl SnapshotDir {
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        crate::durable::create_dirs(dir)?;
        // Leftovers of builds and receptions a crash interrupted.
        for e in fs::read_dir(dir)?.flatten() {
            if e.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(SnapshotDir {
            dir: dir.to_path_buf(),
            fence: SnapshotFence::default(),
            replacing: std::sync::Mutex::new(()),
        })
    }

    /// The current snapshot file's path (it may not exist).
    pub(crate) fn current(&self) -> PathBuf {
        self.dir.join(CURRENT)
    }

    /// A new temporary file's path for a snapshot being built.
    pub(crate) fn building(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("building-{seq}.tmp"))
    }

    /// The file a snapshot streamed from the leader is written to.
    pub(crate) fn receiving(&self) -> PathBuf {
        self.dir.join(RECEIVING)
    }

    /// Durably make the finished (synced) snapshot file `tmp`, which covers the log up to
    /// `last`, the current one; `failpoint` is checked before it replaces the old one.
    /// Returns false, and deletes `tmp`, if the current one already reaches further.
    pub(crate) fn adopt(
        &self,
        tmp: &Path,
        last: Option<u64>,
        failpoint: &'static str,
    ) -> io::Result<bool> {
        let _one = self.replacing.lock().expect("snapshot dir lock");
        let reach = *self.fence.0.borrow();
        if last.map_or(0, |l| l + 1) < reach {
            fs::remove_file(tmp)?;
            return Ok(false);
        }
        crate::failpoints::hit(failpoint);
        fs::rename(tmp, self.dir.join(CURRENT))?;
        crate::durable::sync_dir(&self.dir)?;
        self.fence.advance(last);
        Ok(true)
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

    /// `data` as a file in `dir`.
    fn file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn rows_come_back_in_order_from_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = file(tmp.path(), "s", &encode(&meta(), &rows()));
        let c = check(&p).unwrap();
        assert_eq!((c.meta.snapshot_id.as_str(), c.rows), ("1-7-0", 1000));
        let (m, r) = open(&p).unwrap();
        assert_eq!(m.snapshot_id, "1-7-0");
        assert_eq!(meta_of(&p).unwrap().snapshot_id, "1-7-0");
        let back: Vec<(Vec<u8>, Vec<u8>)> = r.collect::<io::Result<_>>().unwrap();
        assert_eq!(back, rows());
        // An empty state is a valid snapshot too.
        let empty = file(tmp.path(), "e", &encode(&meta(), &[]));
        assert_eq!(check(&empty).unwrap().rows, 0);
        assert_eq!(open(&empty).unwrap().1.count(), 0);
    }

    /// A format-1 file (rows as they are), as nodes and backups made before format 2
    /// wrote them: built here byte by byte, read back, checked.
    fn plain_file(meta: &SnapshotMeta, rows: &[signet_core::Row]) -> Vec<u8> {
        let meta = serde_json::to_vec(meta).unwrap();
        let mut b = MAGIC.to_vec();
        b.extend(1u32.to_be_bytes());
        b.extend((meta.len() as u32).to_be_bytes());
        b.extend(&meta);
        for (k, v) in rows {
            b.extend((k.len() as u32).to_be_bytes());
            b.extend(k);
            b.extend((v.len() as u32).to_be_bytes());
            b.extend(v);
        }
        let sum = Sha256::digest(&b);
        b.extend(sum);
        b
    }

    #[test]
    fn format_1_snapshots_and_backups_still_read() {
        let tmp = tempfile::tempdir().unwrap();
        let p = file(tmp.path(), "old", &plain_file(&meta(), &rows()));
        let c = check(&p).unwrap();
        assert_eq!((c.meta.snapshot_id.as_str(), c.rows), ("1-7-0", 1000));
        let back: Vec<(Vec<u8>, Vec<u8>)> = open(&p).unwrap().1.collect::<io::Result<_>>().unwrap();
        assert_eq!(back, rows());
        let mut flipped = plain_file(&meta(), &rows());
        let at = flipped.len() - 40;
        flipped[at] ^= 1;
        assert!(check(&file(tmp.path(), "bad", &flipped)).is_err());
    }

    /// What is written now is format 2, its rows compressed: JSON-like rows shrink.
    #[test]
    fn rows_are_written_compressed() {
        let json: Vec<signet_core::Row> = (0..2000u32)
            .map(|i| {
                let v = format!(
                    "{{\"sub\":\"{i:08}\",\"username\":\"u{i:08}\",\"status\":\"CONFIRMED\",\"enabled\":true}}"
                );
                (format!("user\0u{i:08}").into_bytes(), v.into_bytes())
            })
            .collect();
        let new = encode(&meta(), &json);
        let old = plain_file(&meta(), &json);
        assert_eq!(u32::from_be_bytes(new[8..12].try_into().unwrap()), 2);
        assert!(new.len() * 3 < old.len(), "{} vs {}", new.len(), old.len());
        let tmp = tempfile::tempdir().unwrap();
        let p = file(tmp.path(), "new", &new);
        assert_eq!(check(&p).unwrap().rows, 2000);
        let back: Vec<(Vec<u8>, Vec<u8>)> = open(&p).unwrap().1.collect::<io::Result<_>>().unwrap();
        assert_eq!(back, json);
    }

    #[test]
    fn an_older_snapshot_never_replaces_a_newer_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::open(&tmp.path().join("snapshots")).unwrap();
        let at = |index: u64, name: &str| {
            let m = SnapshotMeta {
                last_log_id: Some(crate::types::LogId::new(
                    openraft::CommittedLeaderId::new(1, 1),
                    index,
                )),
                snapshot_id: name.into(),
                ..Default::default()
            };
            let p = dir.building(index);
            let mut e = create(&p, &m).unwrap();
            e.row(b"k", name.as_bytes()).unwrap();
            finish_file(e).unwrap();
            p
        };
        assert!(dir
            .adopt(&at(10, "ten"), Some(10), "snapshot-build")
            .unwrap());
        // A build cut at 5 finishing after an install of 10: dropped, file and all.
        let five = at(5, "five");
        assert!(!dir.adopt(&five, Some(5), "snapshot-build").unwrap());
        assert!(!five.exists());
        assert_eq!(meta_of(&dir.current()).unwrap().snapshot_id, "ten");
        assert!(dir
            .adopt(&at(12, "twelve"), Some(12), "snapshot-build")
            .unwrap());
        assert_eq!(check(&dir.current()).unwrap().meta.snapshot_id, "twelve");
        // A restart finds no leftovers of interrupted builds.
        std::fs::write(dir.building(99), b"half").unwrap();
        let dir = SnapshotDir::open(&tmp.path().join("snapshots")).unwrap();
        assert!(!dir.building(99).exists() && dir.current().exists());
    }

    #[test]
    fn damaged_snapshots_are_refused_before_anything_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let data = encode(&meta(), &rows());
        let mut flipped = data.clone();
        flipped[100] ^= 1;
        let e = check(&file(tmp.path(), "f", &flipped)).err().unwrap();
        assert!(e.to_string().contains("checksum"), "{e}");
        assert!(check(&file(tmp.path(), "t", &data[..data.len() - 1])).is_err());
        // A row whose length runs past the end, under a valid checksum: refused whole, so
        // an install never starts from a snapshot it cannot finish.
        let mut e = Encoder::new(&meta(), Vec::new()).unwrap();
        e.row(b"k", b"v").unwrap();
        e.put(&100u32.to_be_bytes()).unwrap();
        e.put(b"short").unwrap();
        let body = e.finish().unwrap();
        let e = check(&file(tmp.path(), "s", &body)).err().unwrap();
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}
