//! The state machine: signet-core's deterministic apply over sled, with snapshots.
//!
//! sled's own flush is not a durable fsync, and nothing here relies on it: the log is the
//! source of truth. A batch of entries is written as one set together with the last-applied
//! log id, all-or-nothing for readers and across a crash (`write_set`), so after a crash
//! sled holds some consistent prefix of the applied log; openraft re-applies the rest from
//! the durable log. If sled fell behind the log's purge point, or a snapshot install was
//! interrupted, the latest snapshot file (written with fsync before any purge) is restored
//! first.

use crate::feed::{Change, ChangeFeed};
use crate::sled_kv::{decode_write_set, encode_write_set, full_key, SledRead, StagedTxn, WriteSet};
use crate::snapshot::{self, SnapshotDir};
use crate::types::{
    io_err, Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig,
};
use crate::StoreError;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder};
use sha2::{Digest, Sha256};
use signet_core::{
    CoreError, KvError, KvRead as _, KvTxn as _, Outcome, Query, QueryResult, Table,
};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

const KEY_LAST_APPLIED: &[u8] = b"sm.last_applied";
const KEY_MEMBERSHIP: &[u8] = b"sm.membership";
/// The redo tree's one key: the write set being written (see `write_set`).
const REDO_KEY: &[u8] = b"set";

struct Inner {
    tree: sled::Tree,
    /// The latest write set, whole, written before its rows (see `write_set`).
    redo: sled::Tree,
    /// Held for reading by every read of `tree` outside the state-machine task, and for
    /// writing while a write set's rows go in: a reader never sees part of a set.
    rows: RwLock<()>,
    /// Set, under `rows` held for writing, while a snapshot replaces every row: readers
    /// are refused meanwhile instead of answering from a half-installed state.
    restoring: AtomicBool,
    db: sled::Db,
    snapshots: SnapshotDir,
    feed: ChangeFeed,
    snapshot_seq: AtomicU64,
    /// Set when a state-machine write failed (apply, snapshot build or install): the node
    /// must stop (see `StoreNode::failed`). openraft 0.9 logs a failed snapshot build and
    /// carries on without its state-machine worker, leaving a node that neither applies
    /// nor steps aside.
    failure: tokio::sync::watch::Sender<Option<String>>,
}

/// The sled-backed state machine of one node. Cheap to clone.
#[derive(Clone)]
pub struct StateMachineStore {
    inner: Arc<Inner>,
}

fn sm_err(verb: ErrorVerb, e: impl std::error::Error + 'static) -> StorageError {
    io_err(ErrorSubject::StateMachine, verb, e)
}

impl StateMachineStore {
    /// Resolves with the reason once a state-machine write has failed.
    pub(crate) async fn failed(&self) -> String {
        let mut rx = self.inner.failure.subscribe();
        let why = match rx.wait_for(Option::is_some).await {
            Ok(why) => why.clone().unwrap_or_default(),
            Err(_) => "the state machine closed".into(),
        };
        why
    }

    /// Pass `r` through, remembering a failure (the node then stops).
    fn watched<T>(&self, r: Result<T, StorageError>) -> Result<T, StorageError> {
        if let Err(e) = &r {
            self.inner.failure.send_replace(Some(e.to_string()));
        }
        r
    }

    /// How many handles share the open state machine (its sled lock is released when the
    /// last one is dropped).
    pub(crate) fn holders(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Size in bytes and write time of the latest snapshot file, if any.
    pub fn snapshot_file(&self) -> Option<(u64, std::time::SystemTime)> {
        self.inner.snapshots.stat()
    }

    /// Open the state machine under `dir` with the default page cache
    /// ([`crate::node::DEFAULT_SM_CACHE_BYTES`]).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, crate::node::DEFAULT_SM_CACHE_BYTES, None)
    }

    /// Open the state machine under `dir`, its page cache bounded by `cache_bytes`,
    /// restoring the latest snapshot when sled is behind it or an install was interrupted.
    /// `compression` (a zstd level, 1–22) applies to a new state machine only: sled fixes
    /// it when it creates its files, so an existing one keeps what it was made with.
    pub fn open_with(
        dir: &Path,
        cache_bytes: u64,
        compression: Option<i32>,
    ) -> Result<Self, StoreError> {
        let sm_dir = dir.join("sm");
        crate::durable::create_dirs(&sm_dir).map_err(|e| StoreError::io("state machine dir", e))?;
        let made_with =
            sled_compression_of(&sm_dir).map_err(|e| StoreError::io("state machine config", e))?;
        let compress = match made_with {
            Some(existing) => {
                if existing != compression.is_some() {
                    tracing::warn!(
                        compressed = existing,
                        "the state machine keeps the compression it was created with"
                    );
                }
                existing
            }
            None => compression.is_some(),
        };
        let db = sled::Config::new()
            .path(&sm_dir)
            .cache_capacity(cache_bytes)
            .use_compression(compress)
            .compression_factor(compression.unwrap_or(1).clamp(1, 22))
            .open()?;
        // sled creates its files without syncing them or their directory. Its `conf` says
        // whether the pages are compressed: lost to a power loss, it would be written again
        // from the flags of the next start, which may differ.
        std::fs::File::open(sm_dir.join("conf"))
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::io("state machine config", e))?;
        crate::durable::sync_dir(&sm_dir).map_err(|e| StoreError::io("state machine dir", e))?;
        let tree = db.open_tree("state")?;
        let redo = db.open_tree("redo")?;
        let snapshots = SnapshotDir::open(&dir.join("snapshots"))
            .map_err(|e| StoreError::io("snapshot dir", e))?;
        let sm = StateMachineStore {
            inner: Arc::new(Inner {
                tree,
                redo,
                rows: RwLock::new(()),
                restoring: AtomicBool::new(false),
                db,
                snapshots,
                feed: ChangeFeed::new(),
                snapshot_seq: AtomicU64::new(0),
                failure: tokio::sync::watch::channel(None).0,
            }),
        };
        sm.finish_interrupted_set()
            .map_err(|e| StoreError::io("finish the state machine's last write", e))?;
        let current = sm.inner.snapshots.current();
        if current.exists() {
            // The header only: the whole file is checked when it is installed or sent.
            let meta =
                snapshot::meta_of(&current).map_err(|e| StoreError::io("read snapshot", e))?;
            sm.inner
                .snapshots
                .fence()
                .advance(meta.last_log_id.map(|l| l.index));
            let applied = sm
                .last_applied()
                .map_err(|e| StoreError::DataDir(e.to_string()))?;
            let behind = applied.map(|a| a.index) < meta.last_log_id.map(|l| l.index);
            if behind || sm.inner.snapshots.install_pending() {
                tracing::warn!(
                    applied = ?applied,
                    snapshot = ?meta.last_log_id,
                    "state machine is behind its snapshot; restoring the snapshot"
                );
                snapshot::check(&current).map_err(|e| StoreError::io("check snapshot", e))?;
                sm.restore(&current)
                    .map_err(|e| StoreError::io("restore snapshot", e))?;
            }
        }
        sm.ensure_search_index()
            .map_err(|e| StoreError::io("build the user search index", e))?;
        Ok(sm)
    }

    /// Build the ListUsers search index if this state predates it (an upgraded store, or a
    /// snapshot from an older member). Idempotent and deterministic: every member that
    /// runs it on the same rows writes the same rows.
    fn ensure_search_index(&self) -> std::io::Result<()> {
        let read = SledRead(&self.inner.tree);
        if signet_core::search::is_backfilled(&read).map_err(std::io::Error::other)? {
            return Ok(());
        }
        let users = read
            .scan(Table::Users, b"", None, usize::MAX)
            .map_err(std::io::Error::other)?;
        tracing::info!(users = users.len(), "building the user search index");
        // Bounded transactions: sled keeps a transaction's writes in memory.
        for part in users.chunks(2_000) {
            self.search_txn(|txn| signet_core::search::backfill(txn, part).map(|_| ()))?;
        }
        self.search_txn(|txn| signet_core::search::mark_backfilled(txn))?;
        self.inner.db.flush().map_err(std::io::Error::other)?;
        Ok(())
    }

    fn search_txn(
        &self,
        f: impl Fn(&mut StagedTxn<'_>) -> Result<(), CoreError>,
    ) -> std::io::Result<()> {
        let mut txn = StagedTxn::new(&self.inner.tree);
        f(&mut txn).map_err(std::io::Error::other)?;
        self.write_set(&txn.writes).map_err(std::io::Error::other)
    }

    /// Write a staged set all-or-nothing, for readers and across a crash, without a sled
    /// transaction. A sled transaction (or batch) makes sled write two IO buffers out from
    /// its thread pool, each with a `sync_file_range`, every time; at one apply per log
    /// sync that was a sixth of a rotating refresh's CPU (`benches/profiles/`). Instead:
    /// * the whole set goes first into the redo tree as one value, then its rows into the
    ///   state tree, as plain writes that sled buffers. sled recovers a prefix of its log
    ///   (one log for both trees) and a value whole or not at all, so after a crash either
    ///   the set's redo value is missing and so are its rows, or it is there and `open`
    ///   writes the set again (the latest set: nothing written after it survived, so
    ///   writing it again only completes it);
    /// * the rows go in under `rows` held for writing; readers hold it for reading.
    fn write_set(&self, writes: &WriteSet) -> sled::Result<()> {
        self.inner.redo.insert(REDO_KEY, encode_write_set(writes))?;
        let _writing = self
            .inner
            .rows
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        put_rows(&self.inner.tree, writes)
    }

    /// Complete the write set a crash cut short. The redo tree holds the latest set after
    /// every write, not only after a crash, so this runs at every start: writing a set that
    /// was already whole again changes nothing, and it is cheaper than a second sled write
    /// per apply to mark each set done.
    fn finish_interrupted_set(&self) -> std::io::Result<()> {
        let Some(set) = self
            .inner
            .redo
            .get(REDO_KEY)
            .map_err(std::io::Error::other)?
        else {
            return Ok(());
        };
        let writes = decode_write_set(&set).map_err(std::io::Error::other)?;
        tracing::debug!(
            rows = writes.len(),
            "writing the state machine's last write set again (a no-op unless a crash cut it short)"
        );
        put_rows(&self.inner.tree, &writes).map_err(std::io::Error::other)?;
        self.inner
            .redo
            .remove(REDO_KEY)
            .map_err(std::io::Error::other)?;
        self.inner.db.flush().map_err(std::io::Error::other)?;
        Ok(())
    }

    /// Shared access to the rows (see `Inner::rows`), refused while a snapshot replaces
    /// them (see `restore`).
    fn reading(&self) -> Result<RwLockReadGuard<'_, ()>, KvError> {
        let guard = self
            .inner
            .rows
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if self.inner.restoring.load(Ordering::Acquire) {
            return Err(KvError::Unavailable(
                "this store member is installing a snapshot".into(),
            ));
        }
        Ok(guard)
    }

    /// Mark the rows as being replaced (or no longer), with `rows` held for writing: a
    /// reader either finished before or sees the mark.
    fn set_restoring(&self, on: bool) {
        let _writing = self
            .inner
            .rows
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.restoring.store(on, Ordering::Release);
    }

    fn meta_get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, KvError> {
        match self
            .inner
            .tree
            .get(full_key(Table::Meta, key))
            .map_err(|e| KvError::Storage(e.to_string()))?
        {
            Some(v) => Ok(Some(signet_core::decode_record(Table::Meta, &v)?)),
            None => Ok(None),
        }
    }

    /// Id of the last entry applied to sled.
    pub fn last_applied(&self) -> Result<Option<LogId>, KvError> {
        self.meta_get(KEY_LAST_APPLIED)
    }

    /// The membership last applied (or restored from a snapshot).
    pub(crate) fn applied_membership(&self) -> Result<StoredMembership, KvError> {
        Ok(self.meta_get(KEY_MEMBERSHIP)?.unwrap_or_default())
    }

    /// Answer a query from this member's applied state.
    pub fn query(&self, q: &Query) -> Result<QueryResult, KvError> {
        let _reading = self.reading()?;
        signet_core::query(&SledRead(&self.inner.tree), q)
    }

    /// Keys of `table` purgeable at `now_ms`, from a bounded scan resuming at `cursor`
    /// (see `signet_core::purge`).
    pub(crate) fn scan_expired(
        &self,
        table: Table,
        cursor: &mut signet_core::purge::PurgeCursor,
        rows: usize,
        now_ms: u64,
    ) -> Result<signet_core::purge::PurgeScan, CoreError> {
        let _reading = self.reading()?;
        signet_core::purge::scan_expired(&SledRead(&self.inner.tree), table, cursor, rows, now_ms)
    }

    /// Every stored row (table prefix byte + key, value), for tests that check what is kept
    /// at rest. Test-only (`test-util`): nothing in production needs a dump of the whole
    /// store.
    #[cfg(any(test, feature = "test-util"))]
    pub fn rows(&self) -> Result<Vec<signet_core::Row>, KvError> {
        let _reading = self.reading()?;
        self.inner
            .tree
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| KvError::Storage(e.to_string()))
            })
            .collect()
    }

    /// SHA-256 over every row, with the last applied index: members that applied the same
    /// log have the same digest.
    pub fn digest(&self) -> Result<(u64, String), KvError> {
        let _reading = self.reading()?;
        let mut h = Sha256::new();
        for item in self.inner.tree.iter() {
            let (k, v) = item.map_err(|e| KvError::Storage(e.to_string()))?;
            h.update((k.len() as u64).to_be_bytes());
            h.update(&k);
            h.update((v.len() as u64).to_be_bytes());
            h.update(&v);
        }
        let idx = self.last_applied()?.map(|l| l.index).unwrap_or(0);
        Ok((idx, hex::encode(h.finalize())))
    }

    /// The current snapshot file, open for reading (a backup streams it).
    pub(crate) fn open_snapshot(&self) -> std::io::Result<std::fs::File> {
        self.inner.snapshots.open_current()
    }

    /// How far the saved snapshot reaches; the log store must not purge past it.
    pub fn snapshot_fence(&self) -> crate::SnapshotFence {
        self.inner.snapshots.fence().clone()
    }

    pub(crate) fn subscribe(
        &self,
        from: u64,
    ) -> (Vec<Change>, tokio::sync::broadcast::Receiver<Change>) {
        self.inner.feed.subscribe(from)
    }

    /// Replace all rows with those of the (checked) snapshot file at `path`, durably marked
    /// so a crash midway is redone. Rows stream from the file into bounded sled batches:
    /// the state is never held in memory.
    fn restore(&self, path: &Path) -> std::io::Result<()> {
        // sled holds memory in proportion to a batch's size well past its application: at
        // 300,000 users, batches of 10,000 rows took the restoring node to 1.44 GB RSS,
        // batches of 500 to 338 MB, and were faster (tests/restore_memory.rs keeps it so).
        const BATCH_ROWS: usize = 500;
        let (meta, rows) = snapshot::open(path)?;
        let s = &self.inner.snapshots;
        s.begin_install()?;
        // The last write set is complete (or the snapshot replaces it): written again over
        // the snapshot's rows at the next start, it would undo them.
        self.inner
            .redo
            .remove(REDO_KEY)
            .map_err(std::io::Error::other)?;
        // Readers are refused from here until every row is in: a member answering a read
        // meanwhile would answer from a state that never existed. Left set if the install
        // fails: the node stops then (`watched`), and its rows are half replaced.
        self.set_restoring(true);
        let tree = &self.inner.tree;
        tree.clear().map_err(std::io::Error::other)?;
        crate::failpoints::hit("snapshot-install");
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for row in rows {
            let (k, v) = row?;
            batch.insert(k, v);
            in_batch += 1;
            if in_batch == BATCH_ROWS {
                tree.apply_batch(std::mem::take(&mut batch))
                    .map_err(std::io::Error::other)?;
                in_batch = 0;
            }
        }
        batch.insert(
            full_key(Table::Meta, KEY_LAST_APPLIED),
            signet_core::encode_record(&meta.last_log_id),
        );
        batch.insert(
            full_key(Table::Meta, KEY_MEMBERSHIP),
            signet_core::encode_record(&meta.last_membership),
        );
        tree.apply_batch(batch).map_err(std::io::Error::other)?;
        self.inner.db.flush().map_err(std::io::Error::other)?;
        s.end_install()?;
        self.set_restoring(false);
        self.inner.feed.publish(Change {
            index: meta.last_log_id.map(|l| l.index).unwrap_or(0),
            keys: vec![],
            reset: true,
        });
        Ok(())
    }

    fn apply_batch(
        &self,
        entries: &[Entry],
    ) -> Result<(Vec<Vec<Outcome>>, Vec<Change>), StorageError> {
        let Some(last) = entries.last() else {
            return Ok((vec![], vec![]));
        };
        let write_err = |e: &dyn std::fmt::Display| {
            sm_err(ErrorVerb::Write, std::io::Error::other(e.to_string()))
        };
        let mut txn = StagedTxn::new(&self.inner.tree);
        let mut outcomes = Vec::with_capacity(entries.len());
        let mut changes = Vec::with_capacity(entries.len());
        for e in entries {
            let outcome = match &e.payload {
                EntryPayload::Blank => vec![],
                EntryPayload::Normal(batch) => batch
                    .0
                    .iter()
                    .map(|req| signet_core::apply(&mut txn, req))
                    .collect::<Result<Vec<Outcome>, CoreError>>()
                    .map_err(|e| write_err(&e))?,
                EntryPayload::Membership(m) => {
                    let stored = StoredMembership::new(Some(e.log_id), m.clone());
                    txn.put(
                        Table::Meta,
                        KEY_MEMBERSHIP,
                        signet_core::encode_record(&stored),
                    )
                    .map_err(|e| write_err(&e))?;
                    vec![]
                }
            };
            outcomes.push(outcome);
            changes.push(Change {
                index: e.log_id.index,
                keys: std::mem::take(&mut txn.changed),
                reset: false,
            });
        }
        txn.put(
            Table::Meta,
            KEY_LAST_APPLIED,
            signet_core::encode_record(&Some(last.log_id)),
        )
        .map_err(|e| write_err(&e))?;
        self.write_set(&txn.writes).map_err(|e| write_err(&e))?;
        Ok((outcomes, changes))
    }
}

/// Write `writes`' rows into `tree` (plain writes: see `StateMachineStore::write_set`).
fn put_rows(tree: &sled::Tree, writes: &WriteSet) -> sled::Result<()> {
    for (k, v) in writes {
        match v {
            Some(v) => tree.insert(k.as_slice(), v.as_slice())?,
            None => tree.remove(k.as_slice())?,
        };
    }
    Ok(())
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self
            .last_applied()
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let membership = self
            .meta_get::<StoredMembership>(KEY_MEMBERSHIP)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
            .unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Vec<Outcome>>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let (outcomes, changes) = self.watched(self.apply_batch(&entries))?;
        crate::failpoints::hit("apply");
        for c in changes {
            self.inner.feed.publish(c);
        }
        Ok(outcomes)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        // Encode the rows here: this runs on the state-machine task, between applies, so
        // the copy is a consistent cut. It is one flat buffer (no per-row allocation);
        // the builder then checksums and writes it off this task.
        let (applied, membership) = match self.applied_state().await {
            Ok(s) => s,
            Err(e) => {
                return SnapshotBuilder {
                    sm: self.clone(),
                    cut: Err(e),
                }
            }
        };
        let seq = self.inner.snapshot_seq.fetch_add(1, Ordering::Relaxed);
        let snapshot_id = format!(
            "{}-{}-{seq}",
            applied.map(|l| l.leader_id.term).unwrap_or(0),
            applied.map(|l| l.index).unwrap_or(0)
        );
        let meta = SnapshotMeta {
            last_log_id: applied,
            last_membership: membership,
            snapshot_id,
        };
        // Rows go straight into a file: the cut is consistent (no apply runs meanwhile)
        // and takes no memory beyond the writer's buffer.
        let path = self.inner.snapshots.building(seq);
        let cut = (|| -> std::io::Result<snapshot::FileEncoder> {
            let mut enc = snapshot::create(&path, &meta)?;
            for row in self.inner.tree.iter() {
                let (k, v) = row.map_err(std::io::Error::other)?;
                enc.row(&k, &v)?;
            }
            Ok(enc)
        })()
        .map_err(|e| sm_err(ErrorVerb::Read, e));
        SnapshotBuilder {
            sm: self.clone(),
            cut: cut.map(|enc| (meta, std::sync::Mutex::new(enc), path)),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        let path = self.inner.snapshots.receiving();
        let f = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .map_err(|e| io_err(ErrorSubject::Snapshot(None), ErrorVerb::Write, e))?;
        Ok(Box::new(f))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        let snap_err = |e| {
            io_err(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Write,
                e,
            )
        };
        let synced = snapshot.sync_all().await;
        if let Err(e) = synced {
            return self.watched(Err(snap_err(e)));
        }
        let given = snapshot.into_std().await;
        let expected = meta.last_log_id;
        let sm = self.clone();
        // Checking and installing a large snapshot takes seconds: off the async task.
        let installed = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let dir = &sm.inner.snapshots;
            let received = dir.receiving();
            // The file is the one begin_receiving_snapshot made, unless openraft hands over
            // another snapshot's data (its storage suite does): then it is copied there.
            if !snapshot::same_file(&given, &received) {
                snapshot::copy_into(given, &received)?;
            }
            let checked = snapshot::check(&received)?;
            if checked.meta.last_log_id != expected {
                return Err(std::io::Error::other(
                    "snapshot body does not match its meta",
                ));
            }
            crate::failpoints::hit("snapshot-received");
            let last = expected.map(|l| l.index);
            dir.adopt(&received, last, "snapshot-install")?;
            sm.restore(&dir.current())?;
            sm.ensure_search_index()
        })
        .await
        .map_err(|e| snap_err(std::io::Error::other(e)))
        .and_then(|r| r.map_err(snap_err));
        self.watched(installed)
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let read_err = |e| io_err(ErrorSubject::Snapshot(None), ErrorVerb::Read, e);
        let path = self.inner.snapshots.current();
        // Opened first: the handle keeps reading this file if a newer one replaces it.
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read_err(e)),
        };
        let std_file = file.try_clone().await.map_err(read_err)?.into_std().await;
        // A clone shares the handle's offset: the header is read through it, and the
        // handle left at the start.
        let meta = tokio::task::spawn_blocking(move || snapshot::meta_of_file(&std_file))
            .await
            .map_err(|e| read_err(std::io::Error::other(e)))?
            .map_err(read_err)?;
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(file),
        }))
    }
}

/// Finishes (checksum, fsync) and adopts a snapshot cut written on the state-machine task.
pub struct SnapshotBuilder {
    sm: StateMachineStore,
    /// The encoder sits in a mutex only to make the builder `Sync` (zstd's context is not).
    cut: Result<
        (
            SnapshotMeta,
            std::sync::Mutex<snapshot::FileEncoder>,
            std::path::PathBuf,
        ),
        StorageError,
    >,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let taken = std::mem::replace(
            &mut self.cut,
            Err(sm_err(
                ErrorVerb::Read,
                std::io::Error::other("snapshot cut already used"),
            )),
        );
        let (meta, enc, path) = taken?;
        let sm = self.sm.clone();
        let last = meta.last_log_id.map(|l| l.index);
        let saving = sm.clone();
        let saved = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            snapshot::finish_file(
                enc.into_inner()
                    .map_err(|_| std::io::Error::other("a snapshot encoder was poisoned"))?,
            )?;
            // A newer snapshot installed meanwhile stays; this one is dropped.
            saving
                .inner
                .snapshots
                .adopt(&path, last, "snapshot-build")?;
            Ok(())
        })
        .await
        .map_err(|e| sm_err(ErrorVerb::Write, std::io::Error::other(e)))
        .and_then(|r| {
            r.map_err(|e| {
                io_err(
                    ErrorSubject::Snapshot(Some(meta.signature())),
                    ErrorVerb::Write,
                    e,
                )
            })
        });
        sm.watched(saved)?;
        let mut current = sm.clone();
        match current.get_current_snapshot().await? {
            Some(s) => Ok(s),
            None => sm.watched(Err(sm_err(
                ErrorVerb::Read,
                std::io::Error::other("the snapshot just saved is gone"),
            ))),
        }
    }
}

/// Whether the sled database in `sm_dir` was created compressed; None when there is none
/// yet. sled writes its storage parameters as `name: value` lines to `conf`.
fn sled_compression_of(sm_dir: &Path) -> std::io::Result<Option<bool>> {
    let conf = match std::fs::read(sm_dir.join("conf")) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if conf.len() <= 8 {
        // What sled itself takes for no configuration (a file cut short before it synced).
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&conf);
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix("use_compression: "))
        .map(str::trim);
    match value {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        other => Err(std::io::Error::other(format!(
            "sled's conf names no use_compression ({other:?})"
        ))),
    }
}

#[cfg(test)]
mod compression_tests {
    use super::*;

    /// A state machine made compressed stays compressed when reopened without asking (sled
    /// refuses to open it otherwise), its rows read back; one made plain stays plain.
    #[test]
    fn the_compression_a_state_machine_was_made_with_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let row = vec![7u8; 4096];
        {
            let sm = StateMachineStore::open_with(tmp.path(), 8 << 20, Some(3)).unwrap();
            sm.inner.tree.insert(b"k", row.clone()).unwrap();
            sm.inner.db.flush().unwrap();
        }
        let sm_dir = tmp.path().join("sm");
        assert_eq!(sled_compression_of(&sm_dir).unwrap(), Some(true));
        {
            let sm = StateMachineStore::open_with(tmp.path(), 8 << 20, None).unwrap();
            assert_eq!(sm.inner.tree.get(b"k").unwrap().as_deref(), Some(&row[..]));
        }
        assert_eq!(sled_compression_of(&sm_dir).unwrap(), Some(true));

        let plain = tempfile::tempdir().unwrap();
        drop(StateMachineStore::open_with(plain.path(), 8 << 20, None).unwrap());
        assert_eq!(
            sled_compression_of(&plain.path().join("sm")).unwrap(),
            Some(false)
        );
        drop(StateMachineStore::open_with(plain.path(), 8 << 20, Some(3)).unwrap());
        assert_eq!(
            sled_compression_of(&plain.path().join("sm")).unwrap(),
            Some(false)
        );
        assert_eq!(
            sled_compression_of(&tmp.path().join("nothing")).unwrap(),
            None
        );
    }
}

#[cfg(test)]
mod write_set_tests {
    use super::*;

    fn key(k: &[u8]) -> Vec<u8> {
        full_key(Table::Meta, k)
    }

    fn open(dir: &Path) -> StateMachineStore {
        StateMachineStore::open_with(dir, 8 << 20, None).unwrap()
    }

    fn value(sm: &StateMachineStore, k: &[u8]) -> Option<Vec<u8>> {
        sm.inner.tree.get(key(k)).unwrap().map(|v| v.to_vec())
    }

    /// A crash after a set's redo value but before all its rows: the next open writes the
    /// rest (the put that was missing and the removal), then forgets the redo value.
    #[test]
    fn a_set_cut_short_by_a_crash_is_completed_at_the_next_open() {
        let tmp = tempfile::tempdir().unwrap();
        let set: WriteSet = [
            (key(b"test.a"), Some(b"1".to_vec())),
            (key(b"test.b"), None),
            (key(b"test.c"), Some(b"3".to_vec())),
        ]
        .into_iter()
        .collect();
        {
            let sm = open(tmp.path());
            sm.inner
                .tree
                .insert(key(b"test.b"), b"old".to_vec())
                .unwrap();
            sm.inner
                .redo
                .insert(REDO_KEY, encode_write_set(&set))
                .unwrap();
            // Only the first row made it before the crash.
            sm.inner.tree.insert(key(b"test.a"), b"1".to_vec()).unwrap();
            sm.inner.db.flush().unwrap();
        }
        let sm = open(tmp.path());
        assert_eq!(value(&sm, b"test.a").as_deref(), Some(&b"1"[..]));
        assert_eq!(value(&sm, b"test.b"), None);
        assert_eq!(value(&sm, b"test.c").as_deref(), Some(&b"3"[..]));
        assert_eq!(sm.inner.redo.get(REDO_KEY).unwrap(), None);
    }

    /// A restored snapshot replaces the state: the set written before it is not written
    /// again over the snapshot's rows at the next start.
    #[tokio::test]
    async fn a_restored_snapshot_is_not_undone_by_the_last_set() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let mut sm = open(tmp.path());
            let applied = Some(LogId::new(openraft::CommittedLeaderId::new(1, 1), 5));
            let before: WriteSet = [
                (key(b"test.a"), Some(b"snapshot".to_vec())),
                (
                    key(KEY_LAST_APPLIED),
                    Some(signet_core::encode_record(&applied)),
                ),
            ]
            .into_iter()
            .collect();
            sm.write_set(&before).unwrap();
            let mut builder = sm.get_snapshot_builder().await;
            builder.build_snapshot().await.unwrap();
            let after: WriteSet = [(key(b"test.a"), Some(b"later".to_vec()))]
                .into_iter()
                .collect();
            sm.write_set(&after).unwrap();
            assert_eq!(value(&sm, b"test.a").as_deref(), Some(&b"later"[..]));
            sm.restore(&sm.inner.snapshots.current()).unwrap();
            assert_eq!(value(&sm, b"test.a").as_deref(), Some(&b"snapshot"[..]));
        }
        let sm = open(tmp.path());
        assert_eq!(value(&sm, b"test.a").as_deref(), Some(&b"snapshot"[..]));
    }

    /// Readers never see part of a set: every set writes the same number to two rows, and
    /// a reader looping meanwhile always finds them equal. The writer goes on until the
    /// reader has read 50 times during its sets (at least 3,000 sets, at most 30 s).
    #[test]
    fn a_reader_never_sees_part_of_a_set() {
        let tmp = tempfile::tempdir().unwrap();
        let sm = open(tmp.path());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let reader = {
            let (sm, stop, reads) = (sm.clone(), stop.clone(), reads.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let rows = sm.rows().unwrap();
                    let get = |k: &[u8]| {
                        rows.iter()
                            .find(|(rk, _)| rk == &key(k))
                            .map(|r| r.1.clone())
                    };
                    assert_eq!(get(b"test.x"), get(b"test.y"), "a set seen half written");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut sets = 0u32;
        while (sets < 3_000 || reads.load(Ordering::Relaxed) < 50)
            && std::time::Instant::now() < deadline
        {
            let v = sets.to_be_bytes().to_vec();
            let set: WriteSet = [(key(b"test.x"), Some(v.clone())), (key(b"test.y"), Some(v))]
                .into_iter()
                .collect();
            sm.write_set(&set).unwrap();
            sets += 1;
        }
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        assert!(
            reads.load(Ordering::Relaxed) >= 50,
            "the reader never ran alongside the writer"
        );
        assert_eq!(
            value(&sm, b"test.x"),
            Some((sets - 1).to_be_bytes().to_vec())
        );
    }

    /// A reader beside a snapshot install is refused or sees a whole state (the one before
    /// or the snapshot's), never the cleared tree half refilled. The install repeats until
    /// the reader has been refused 5 times (it ran during one), at most 30 s.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_beside_a_snapshot_install_never_sees_it_half_done() {
        const ROWS: u32 = 5_000;
        let tmp = tempfile::tempdir().unwrap();
        let mut sm = open(tmp.path());
        let all = |v: &[u8]| -> WriteSet {
            (0..ROWS)
                .map(|i| (key(format!("test.{i:05}").as_bytes()), Some(v.to_vec())))
                .collect()
        };
        sm.write_set(&all(b"snapshot")).unwrap();
        sm.get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refused = Arc::new(AtomicU64::new(0));
        let reader = {
            let (sm, stop, refused) = (sm.clone(), stop.clone(), refused.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let rows = match sm.rows() {
                        Ok(rows) => rows,
                        Err(KvError::Unavailable(_)) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        Err(e) => panic!("{e}"),
                    };
                    let ours: Vec<_> = rows
                        .iter()
                        .filter(|(k, _)| k.starts_with(&key(b"test.")))
                        .map(|(_, v)| v.as_slice())
                        .collect();
                    assert_eq!(ours.len(), ROWS as usize, "a half-installed snapshot read");
                    assert!(
                        ours.iter().all(|v| *v == ours[0]),
                        "a state mixing the snapshot and what it replaced read"
                    );
                }
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut installs = 0;
        while refused.load(Ordering::Relaxed) < 5 && std::time::Instant::now() < deadline {
            sm.write_set(&all(b"later")).unwrap();
            sm.restore(&sm.inner.snapshots.current()).unwrap();
            installs += 1;
        }
        stop.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        assert!(
            refused.load(Ordering::Relaxed) >= 5,
            "the reader never ran during an install ({installs} installs)"
        );
        assert_eq!(value(&sm, b"test.00000").as_deref(), Some(&b"snapshot"[..]));
        assert!(
            sm.query(&Query::ListSigningKeys).is_ok(),
            "readers are let in again"
        );
    }

    #[test]
    fn write_sets_round_trip_and_malformed_ones_are_refused() {
        let set: WriteSet = [
            (vec![1, 2], Some(vec![])),
            (vec![3], None),
            (vec![], Some(vec![9; 300])),
        ]
        .into_iter()
        .collect();
        let enc = encode_write_set(&set);
        assert_eq!(decode_write_set(&enc).unwrap(), set);
        assert!(decode_write_set(&enc[..enc.len() - 1]).is_err());
        let mut other_version = enc.clone();
        other_version[0] = 2;
        assert!(decode_write_set(&other_version).is_err());
        assert!(decode_write_set(&[]).is_err());
    }
}
