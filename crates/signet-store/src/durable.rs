//! Files and directories that survive a power loss. A file's fsync makes its bytes durable,
//! not its name: a new file, a rename and a new directory are durable only once the
//! directory holding them is synced too. `signet-chaos`'s strict disk drops whatever was
//! not, which is how the crash-consistency suite found the data dir's subdirectories
//! (the Raft log's among them) never made durable after their first start.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// fsync a directory: the names in it (new files, renames, removals) become durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// `create_dir_all` whose result survives a power loss: every directory it makes is
/// synced into its parent. Syncs `dir` itself too, for the files its user then creates
/// without syncing it (sled's, for one).
pub(crate) fn create_dirs(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dirs(parent)?;
        }
        match fs::create_dir(dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    sync_dir(dir)
}

/// Replace `path` with `data` atomically and durably: temp file, fsync, rename, fsync the
/// directory. `failpoint`, if any, is checked between the temp file's sync and the rename.
pub(crate) fn replace_file(
    path: &Path,
    data: &[u8],
    failpoint: Option<&'static str>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a file path has a parent"))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = Path::new(&tmp);
    {
        let mut f = fs::File::create(tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    if let Some(name) = failpoint {
        crate::failpoints::hit(name);
    }
    fs::rename(tmp, path)?;
    sync_dir(dir)
}

/// Copy `from` to `to` durably: into a temp file beside `to`, fsync, rename, fsync the
/// directory (no half-copied `to` survives a crash).
pub(crate) fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    let dir = to
        .parent()
        .ok_or_else(|| io::Error::other("a file path has a parent"))?;
    let mut tmp = to.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = Path::new(&tmp);
    {
        let mut src = fs::File::open(from)?;
        let mut f = fs::File::create(tmp)?;
        io::copy(&mut src, &mut f)?;
        f.sync_all()?;
    }
    fs::rename(tmp, to)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_files_are_made_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        create_dirs(&deep).unwrap();
        assert!(deep.is_dir());
        create_dirs(&deep).unwrap();
        let f = deep.join("f.json");
        replace_file(&f, b"one", None).unwrap();
        replace_file(&f, b"two", None).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert!(!deep.join("f.json.tmp").exists());
    }
}
