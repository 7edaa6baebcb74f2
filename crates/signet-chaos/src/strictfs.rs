//! A disk that loses what was not synced: run a process with [`Disk::env`] and, after it is
//! killed, [`Disk::power_loss`] puts every file under the disk's root back the way it was
//! at its last `fsync`/`fdatasync`, and every directory the way it was at its last
//! directory fsync. That is the strictest thing a POSIX system may do after a power cut,
//! so a store that survives it keeps an acknowledged write however the kernel had ordered
//! its page cache (LazyFS and pebble's strict in-memory FS test databases the same way).
//!
//! Killing a process alone loses nothing: the kernel's page cache still holds every write
//! it made, synced or not. The loss is made by `strictfs.c` (beside this crate's sources),
//! an `LD_PRELOAD` library built here with the system C compiler: before each write,
//! truncation, create, rename or unlink under the root it journals what the operation
//! replaces, and after each successful sync it journals that the file or directory is
//! synced. [`Disk::power_loss`] reads the journal newest first and undoes every change no
//! later sync covers. The same library injects disk faults ([`DiskFaults`]): slow writes
//! and syncs, a full disk, failing syncs.
//!
//! What it does not model: a write torn inside one call, writes through `mmap`, raw
//! syscalls that bypass libc (the store makes none), and files outside the root.

use std::collections::HashSet;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The library's C source.
pub const SOURCE: &str = include_str!("../strictfs/strictfs.c");

/// Compile the library into `dir` with `$CC` (default `cc`); its path.
pub fn build(dir: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let src = dir.join("strictfs.c");
    let lib = dir.join("libsignet-strictfs.so");
    fs::write(&src, SOURCE)?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = std::process::Command::new(&cc)
        .args([
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Wno-format-truncation",
            "-o",
        ])
        .arg(&lib)
        .arg(&src)
        .args(["-ldl", "-lpthread"])
        .output()
        .map_err(|e| io::Error::other(format!("running {cc} to build strictfs: {e}")))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{cc} could not build strictfs:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(lib)
}

/// Disk faults, switched on and off while the process runs (read by the library at most
/// every 100 ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskFaults {
    /// Sleep this long before every write.
    pub write_delay_ms: u32,
    /// Sleep this long before every fsync/fdatasync.
    pub sync_delay_ms: u32,
    /// Writes that would grow a file fail with ENOSPC.
    pub full: bool,
    /// fsync/fdatasync fail with EIO (and sync nothing).
    pub sync_fails: bool,
}

/// One process's disk: the directory it writes under, and where the journal goes (on the
/// same file system, outside the root: the journal keeps files reachable by hard links).
#[derive(Debug, Clone)]
pub struct Disk {
    /// The directory whose files lose unsynced writes (the process's data dir).
    pub root: PathBuf,
    /// The undo journal and the hard links it keeps.
    pub journal: PathBuf,
    lib: PathBuf,
}

/// What a simulated power loss undid.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Undone {
    /// Writes and truncations of files, rolled back to the file's last sync.
    pub writes: usize,
    /// Bytes those writes had written (or a truncation had cut).
    pub bytes: u64,
    /// Files and directories whose creation no directory sync covered, removed.
    pub created: usize,
    /// Renames and unlinks no directory sync covered, reversed.
    pub renamed_or_unlinked: usize,
}

impl Undone {
    /// Every change undone.
    pub fn total(&self) -> usize {
        self.writes + self.created + self.renamed_or_unlinked
    }
}

enum Record {
    Write {
        ino: u64,
        off: u64,
        size: u64,
        old: Vec<u8>,
        added: u64,
    },
    Synced(u64),
    DirSynced(PathBuf),
    Created(PathBuf),
    MadeDir(PathBuf),
    Renamed {
        from: PathBuf,
        to: PathBuf,
        replaced: Option<String>,
    },
    Unlinked {
        path: PathBuf,
        kept: String,
    },
}

impl Disk {
    /// A disk for files under `root`, journalling into `journal` (both made if missing).
    pub fn new(lib: &Path, root: &Path, journal: &Path) -> io::Result<Disk> {
        fs::create_dir_all(root)?;
        fs::create_dir_all(journal)?;
        Ok(Disk {
            root: root.to_path_buf(),
            journal: journal.to_path_buf(),
            lib: lib.to_path_buf(),
        })
    }

    fn control(&self) -> PathBuf {
        self.journal.with_extension("faults")
    }

    /// The environment of a process whose writes under the root this disk watches.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("LD_PRELOAD", &self.lib),
            ("STRICTFS_ROOT", &self.root),
            ("STRICTFS_JOURNAL", &self.journal),
            ("STRICTFS_CONTROL", &self.control()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.display().to_string()))
        .collect()
    }

    /// Switch disk faults on or off (all off: `DiskFaults::default()`).
    pub fn set_faults(&self, f: DiskFaults) -> io::Result<()> {
        let tmp = self.control().with_extension("tmp");
        fs::write(
            &tmp,
            format!(
                "write_delay_ms={}\nsync_delay_ms={}\nenospc={}\nsync_eio={}\n",
                f.write_delay_ms,
                f.sync_delay_ms,
                u8::from(f.full),
                u8::from(f.sync_fails)
            ),
        )?;
        fs::rename(tmp, self.control())
    }

    /// After the process died: undo everything it wrote that no sync covered, and start a
    /// new journal. Call only when no process writes under the root.
    pub fn power_loss(&self) -> io::Result<Undone> {
        let records = match fs::File::open(self.journal.join("journal")) {
            Ok(f) => read_journal(f)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut synced: HashSet<u64> = HashSet::new();
        let mut synced_dirs: HashSet<PathBuf> = HashSet::new();
        let covered =
            |dirs: &HashSet<PathBuf>, p: &Path| p.parent().is_some_and(|d| dirs.contains(d));
        let mut undone = Undone::default();
        for r in records.into_iter().rev() {
            match r {
                Record::Synced(ino) => {
                    synced.insert(ino);
                }
                Record::DirSynced(d) => {
                    synced_dirs.insert(d);
                }
                Record::Write {
                    ino,
                    off,
                    size,
                    old,
                    added,
                } if !synced.contains(&ino) => {
                    let f = fs::OpenOptions::new()
                        .write(true)
                        .open(self.journal.join(format!("ino-{ino}")))?;
                    f.write_all_at(&old, off)?;
                    f.set_len(size)?;
                    undone.writes += 1;
                    // A truncation writes nothing; it cut what it saved.
                    undone.bytes += if added > 0 { added } else { old.len() as u64 };
                }
                Record::Created(p) if !covered(&synced_dirs, &p) => {
                    ignore_missing(fs::remove_file(&p))?;
                    undone.created += 1;
                }
                Record::MadeDir(p) if !covered(&synced_dirs, &p) => {
                    ignore_missing(fs::remove_dir_all(&p))?;
                    undone.created += 1;
                }
                Record::Renamed { from, to, replaced }
                    if !(covered(&synced_dirs, &from) && covered(&synced_dirs, &to)) =>
                {
                    ignore_missing(fs::rename(&to, &from))?;
                    if let Some(kept) = replaced {
                        fs::hard_link(self.journal.join(kept), &to)?;
                    }
                    undone.renamed_or_unlinked += 1;
                }
                Record::Unlinked { path, kept } if !covered(&synced_dirs, &path) => {
                    if !path.exists() {
                        fs::hard_link(self.journal.join(kept), &path)?;
                    }
                    undone.renamed_or_unlinked += 1;
                }
                _ => {}
            }
        }
        // A fresh journal for the next process.
        for e in fs::read_dir(&self.journal)? {
            fs::remove_file(e?.path())?;
        }
        Ok(undone)
    }
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// The journal's records, oldest first. A record cut short at the end (the process died
/// while journalling it, before the operation it describes) is dropped.
fn read_journal(f: fs::File) -> io::Result<Vec<Record>> {
    let mut r = BufReader::new(f);
    let mut out = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            return Ok(out);
        }
        let line = line.trim_end_matches('\n');
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let bad = || io::Error::other(format!("strictfs journal: bad record {line:?}"));
        let num = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok()).ok_or_else(bad);
        let mut words = rest.split(' ');
        let mut tabs = rest.split('\t');
        let record = match tag {
            "W" => {
                let ino = num(words.next())?;
                let off = num(words.next())?;
                let size = num(words.next())?;
                let n = num(words.next())?;
                let added = num(words.next())?;
                let mut old = vec![0; n as usize];
                if r.read_exact(&mut old).is_err() {
                    return Ok(out);
                }
                Record::Write {
                    ino,
                    off,
                    size,
                    old,
                    added,
                }
            }
            "S" => Record::Synced(num(words.next())?),
            "D" => Record::DirSynced(PathBuf::from(rest)),
            "C" => Record::Created(PathBuf::from(rest)),
            "M" => Record::MadeDir(PathBuf::from(rest)),
            "R" => {
                let from = tabs.next().ok_or_else(bad)?;
                let to = tabs.next().ok_or_else(bad)?;
                let replaced = tabs.next().ok_or_else(bad)?;
                Record::Renamed {
                    from: from.into(),
                    to: to.into(),
                    replaced: (replaced != "-").then(|| replaced.to_string()),
                }
            }
            "U" => {
                let path = tabs.next().ok_or_else(bad)?;
                let kept = tabs.next().ok_or_else(bad)?;
                Record::Unlinked {
                    path: path.into(),
                    kept: kept.to_string(),
                }
            }
            _ => return Err(bad()),
        };
        out.push(record);
    }
}
