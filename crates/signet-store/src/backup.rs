//! Backups and restores of the whole store.
//!
//! A backup is a snapshot file (the format of `snapshot.rs`: header, meta, rows, SHA-256
//! trailer) taken by the leader once it covers every write acknowledged before the call,
//! and streamed from an open file handle: the leader keeps taking writes, a newer snapshot
//! replacing the file does not change the one being sent, and neither side holds the
//! state in memory.
//!
//! A restore (`signet store --restore FILE --init`) starts a **new** cluster from a backup:
//! the node gets a fresh data dir (and so a fresh incarnation), the backup becomes its
//! snapshot, and one membership entry — this node alone, in a term above the backup's —
//! goes right after it, with the vote raised to that term, as the offline recovery in
//! `recovery.rs` does. The old cluster's members address this node by its old incarnation
//! and are refused; the new cluster grows by Join. A `restored.json` marker makes the same
//! command harmless when it runs again (a pod restarted with the same arguments).

use crate::identity::NodeIdentity;
use crate::log_store::LogStore;
use crate::snapshot;
use crate::state_machine::StateMachineStore;
use crate::types::{Entry, LogId, NodeId, SignetNode, TypeConfig};
use crate::StoreError;
use openraft::{CommittedLeaderId, EntryPayload, Membership, Vote};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

const MARKER: &str = "restored.json";

/// What a backup file holds, once its checksum and framing are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInfo {
    /// Log index of the last write the backup holds.
    pub index: u64,
    /// Term of that write.
    pub term: u64,
    /// The snapshot's id in the cluster it came from.
    pub snapshot_id: String,
    /// Voters of the cluster it came from.
    pub voters: Vec<NodeId>,
    /// Rows of state (users, clients, pools, keys, …).
    pub rows: u64,
    /// The file's size.
    pub bytes: u64,
    /// SHA-256 of the file's body (its trailer), hex.
    pub sha256: String,
}

fn bad(msg: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("backup: {msg}"))
}

/// Check a backup (or snapshot) file without loading it: its checksum, header, meta and
/// the framing of every row, reading it once in bounded memory.
pub fn inspect(path: &Path) -> io::Result<BackupInfo> {
    let c = snapshot::check(path)?;
    let last = c
        .meta
        .last_log_id
        .ok_or_else(|| bad("it holds no state (taken before the cluster's first write)"))?;
    Ok(BackupInfo {
        index: last.index,
        term: last.leader_id.term,
        snapshot_id: c.meta.snapshot_id.clone(),
        voters: c.meta.last_membership.membership().voter_ids().collect(),
        rows: c.rows,
        bytes: c.bytes,
        sha256: hex::encode(c.sha256),
    })
}

/// What `restored.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    /// SHA-256 trailer of the backup restored, hex.
    backup_sha256: String,
    /// Its last log id's index; the membership entry written after it.
    backup_index: u64,
    membership_index: u64,
}

/// A restore to finish once the log and state machine are open.
pub(crate) struct PendingRestore {
    info: BackupInfo,
}

/// First half of a restore, before the data dir's node identity, log and state machine are
/// opened. `Ok(None)`: this dir was already restored from this same backup; start as usual.
pub(crate) fn prepare(
    data_dir: &Path,
    backup: &Path,
) -> Result<Option<PendingRestore>, StoreError> {
    let read = |e: io::Error| StoreError::DataDir(format!("{}: {e}", backup.display()));
    let info = inspect(backup).map_err(read)?;
    match fs::read(data_dir.join(MARKER)) {
        Ok(b) => {
            let m: Marker = serde_json::from_slice(&b)
                .map_err(|e| StoreError::DataDir(format!("{MARKER}: {e}")))?;
            if m.backup_sha256 != info.sha256 {
                return Err(StoreError::DataDir(format!(
                    "{} was restored from another backup (index {}); restore into an empty \
                     data dir",
                    data_dir.display(),
                    m.backup_index
                )));
            }
            tracing::info!(
                backup_index = m.backup_index,
                "data dir already restored from this backup; starting as usual"
            );
            return Ok(None);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(format!("read {MARKER}"), e)),
    }
    let occupied = ["node.json", "raft-log", "sm", "snapshots"]
        .iter()
        .any(|name| data_dir.join(name).exists());
    if occupied {
        return Err(StoreError::DataDir(format!(
            "{} holds a store's data (or a restore into it did not finish): a restore \
             starts from an empty data dir",
            data_dir.display()
        )));
    }
    let snapshots = data_dir.join("snapshots");
    crate::durable::create_dirs(&snapshots).map_err(|e| StoreError::io("snapshot dir", e))?;
    crate::durable::copy_file(backup, &snapshot::current_path(&snapshots))
        .map_err(|e| StoreError::io("copy the backup into the data dir", e))?;
    tracing::warn!(
        index = info.index,
        rows = info.rows,
        "restoring a backup: this node starts a new cluster"
    );
    Ok(Some(PendingRestore { info }))
}

impl PendingRestore {
    /// Second half: the state machine (opened on the backup, which it restored as its
    /// snapshot) must be at the backup's index; make this node the only voter after it.
    pub(crate) fn finish(
        self,
        data_dir: &Path,
        identity: &NodeIdentity,
        log: &LogStore,
        sm: &StateMachineStore,
        me: &SignetNode,
    ) -> Result<(), StoreError> {
        let node_id = identity.node_id;
        let applied = sm
            .last_applied()
            .map_err(|e| StoreError::DataDir(e.to_string()))?
            .ok_or_else(|| StoreError::DataDir("the restored state has no index".into()))?;
        if applied.index != self.info.index {
            return Err(StoreError::DataDir(format!(
                "the restored state is at index {}, the backup at {}",
                applied.index, self.info.index
            )));
        }
        let term = applied.leader_id.term + 1;
        let log_id = LogId::new(CommittedLeaderId::new(term, node_id), applied.index + 1);
        let entry = Entry {
            log_id,
            payload: EntryPayload::<TypeConfig>::Membership(Membership::new(
                vec![BTreeSet::from([node_id])],
                BTreeMap::from([(node_id, me.clone())]),
            )),
        };
        let write = || -> io::Result<()> {
            log.purge_recovery(&applied)?;
            log.append_recovery(Vote::new(term, node_id), &entry)
        };
        write().map_err(|e| StoreError::io("write the restore's membership entry", e))?;
        let marker = Marker {
            backup_sha256: self.info.sha256.clone(),
            backup_index: self.info.index,
            membership_index: log_id.index,
        };
        let body = serde_json::to_vec_pretty(&marker).expect("marker serialises");
        crate::durable::replace_file(&data_dir.join(MARKER), &body, None)
            .map_err(|e| StoreError::io(format!("write {MARKER}"), e))?;
        tracing::warn!(
            node_id,
            backup_index = self.info.index,
            membership_log_id = %log_id,
            "restored; this node leads a new cluster alone until members join"
        );
        Ok(())
    }
}

/// The (index, term, size) of the snapshot file `file`, from its header, for the first
/// chunk of a backup (the receiver checks the whole file); `file` is left at its start.
pub(crate) fn header(file: &fs::File) -> io::Result<(u64, u64, u64)> {
    let bytes = file.metadata()?.len();
    let meta = snapshot::meta_of_file(file)?;
    let last = meta.last_log_id.unwrap_or_default();
    Ok((last.index, last.leader_id.term, bytes))
}

/// Send `file` from its start in chunks of `chunk` bytes until it ends or `send` says stop.
pub(crate) fn stream_file(
    mut file: fs::File,
    chunk: usize,
    mut send: impl FnMut(Vec<u8>) -> bool,
) -> io::Result<()> {
    loop {
        let mut buf = vec![0u8; chunk];
        let mut filled = 0;
        while filled < chunk {
            match file.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(());
        }
        buf.truncate(filled);
        if !send(buf) {
            return Ok(());
        }
    }
}

/// Write a backup being received: to `path.partial`, then checked, synced and renamed to
/// `path` (refused if `path` exists). A failed or interrupted download leaves no `path`.
pub struct BackupWriter {
    path: std::path::PathBuf,
    partial: std::path::PathBuf,
    /// None once finished.
    file: Option<io::BufWriter<fs::File>>,
}

impl BackupWriter {
    /// Start writing a backup that will be named `path`.
    pub fn create(path: &Path) -> io::Result<BackupWriter> {
        if path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists; a backup never overwrites one", path.display()),
            ));
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let file = fs::File::create(&partial)?;
        Ok(BackupWriter {
            path: path.to_path_buf(),
            partial,
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Append received bytes.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data),
            None => Err(io::Error::other("backup already finished")),
        }
    }

    /// Sync, check the whole file, and give it its name.
    pub fn finish(mut self) -> io::Result<BackupInfo> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("backup already finished"))?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        // A damaged download is removed (by drop) rather than named.
        let info = inspect(&self.partial)?;
        fs::rename(&self.partial, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::durable::sync_dir(dir)?;
        }
        Ok(info)
    }
}

impl Drop for BackupWriter {
    fn drop(&mut self) {
        // Gone already once finished (renamed); otherwise an unfinished download.
        let _ = fs::remove_file(&self.partial);
    }
}

/// Download a backup from the leader of the cluster `client` reaches into `out` (see
/// [`BackupWriter`]: nothing is named `out` unless the whole file arrived and checks).
pub async fn download(
    client: &signet_store_client::StoreClient,
    out: &Path,
) -> io::Result<BackupInfo> {
    let mut file = BackupWriter::create(out)?;
    let mut stream = client.backup().await.map_err(io::Error::other)?;
    let mut announced = None;
    let mut received = 0u64;
    while let Some(chunk) = stream
        .message()
        .await
        .map_err(|s| io::Error::other(format!("backup stream: {}", s.message())))?
    {
        if announced.is_none() {
            announced = Some(chunk.total_bytes);
            tracing::info!(
                index = chunk.index,
                bytes = chunk.total_bytes,
                "backup: receiving"
            );
        }
        received += chunk.data.len() as u64;
        file.write(&chunk.data)?;
    }
    if announced != Some(received) {
        return Err(io::Error::other(format!(
            "the backup stream ended after {received} of {announced:?} bytes"
        )));
    }
    tokio::task::spawn_blocking(move || file.finish())
        .await
        .map_err(io::Error::other)?
}
