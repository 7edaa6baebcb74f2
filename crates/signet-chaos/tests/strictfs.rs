//! The strict disk against a process nobody here wrote (CPython's `os` calls go straight to
//! libc): what it synced survives a power loss, nothing else does; disk faults reach it.

use signet_chaos::strictfs::{self, Disk, DiskFaults};
use std::fs;
use std::path::Path;
use std::process::Command;

fn python(disk: &Disk, script: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(&disk.root)
        .envs(disk.env())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn disk(tmp: &Path) -> Disk {
    let lib = strictfs::build(&tmp.join("lib")).expect("build strictfs");
    Disk::new(&lib, &tmp.join("root"), &tmp.join("journal")).expect("disk")
}

const PRELUDE: &str = r#"
import os
def put(name, data, sync=True, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(name, flags, 0o644)
    os.write(fd, data)
    if sync:
        os.fsync(fd)
    os.close(fd)
def sync_dir(name='.'):
    fd = os.open(name, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
"#;

#[test]
fn a_power_loss_keeps_exactly_what_was_synced() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = disk(tmp.path());
    // Before the "crash": a synced base state.
    python(
        &disk,
        &format!(
            "{PRELUDE}
put('a', b'synced')
put('c', b'old c')
put('d', b'doomed')
os.mkdir('sub')
put('sub/e', b'in a dir')
sync_dir('sub')
sync_dir()
"
        ),
    );
    // Everything synced: a power loss now undoes nothing.
    assert_eq!(disk.power_loss().unwrap().total(), 0);
    let read = |p: &str| {
        fs::read(disk.root.join(p))
            .ok()
            .map(|b| String::from_utf8(b).unwrap())
    };
    assert_eq!(read("a").as_deref(), Some("synced"));
    // The process changes all of it and syncs only some.
    python(
        &disk,
        &format!(
            "{PRELUDE}
fd = os.open('a', os.O_WRONLY | os.O_APPEND)
os.write(fd, b' and lost')
os.close(fd)
fd = os.open('a', os.O_WRONLY)
os.pwrite(fd, b'SY', 0)
os.close(fd)
put('b', b'new file, data synced, directory not')
put('c.tmp', b'new c')
os.rename('c.tmp', 'c')
os.unlink('d')
put('sub/e', b'rewritten and synced')
os.mkdir('unsynced-dir')
put('unsynced-dir/f', b'gone with its dir')
"
        ),
    );
    assert_eq!(
        read("a").as_deref(),
        Some("SYnced and lost"),
        "the page cache has it all"
    );
    let undone = disk.power_loss().unwrap();
    assert_eq!(read("a").as_deref(), Some("synced"));
    assert_eq!(read("b"), None, "its name was never synced");
    assert_eq!(
        read("c").as_deref(),
        Some("old c"),
        "the rename was never synced"
    );
    assert_eq!(read("c.tmp"), None, "its name was never synced either");
    assert_eq!(
        read("d").as_deref(),
        Some("doomed"),
        "the unlink was never synced"
    );
    assert_eq!(read("sub/e").as_deref(), Some("rewritten and synced"));
    assert!(!disk.root.join("unsynced-dir").exists());
    assert_eq!(undone.writes, 2, "{undone:?}");
    assert_eq!(undone.bytes, 9 + 2, "{undone:?}");
    // b, c.tmp, unsynced-dir and its file f, and the rename and the unlink.
    assert_eq!(undone.created, 4, "{undone:?}");
    assert_eq!(undone.renamed_or_unlinked, 2, "{undone:?}");
    // The journal starts over: a second power loss has nothing to undo.
    assert_eq!(disk.power_loss().unwrap().total(), 0);
}

#[test]
fn disk_faults_reach_the_process() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = disk(tmp.path());
    let probe = format!(
        "{PRELUDE}
import errno, time
put('f', b'x')
fd = os.open('f', os.O_WRONLY | os.O_APPEND)
try:
    os.write(fd, b'more'); print('write ok')
except OSError as e:
    print('write', errno.errorcode[e.errno])
try:
    os.fsync(fd); print('sync ok')
except OSError as e:
    print('sync', errno.errorcode[e.errno])
t = time.monotonic()
os.pwrite(fd, b'y', 0)
print('slow' if time.monotonic() - t > 0.4 else 'fast')
"
    );
    assert_eq!(python(&disk, &probe), "write ok\nsync ok\nfast\n");
    disk.set_faults(DiskFaults {
        full: true,
        sync_fails: true,
        write_delay_ms: 800,
        ..Default::default()
    })
    .unwrap();
    // `f` exists now: a write inside it is allowed on a full disk, an append is not.
    let probe = probe.replace("put('f', b'x')", "pass");
    assert_eq!(python(&disk, &probe), "write ENOSPC\nsync EIO\nslow\n");
    disk.set_faults(DiskFaults::default()).unwrap();
    assert_eq!(python(&disk, &probe), "write ok\nsync ok\nfast\n");
}
