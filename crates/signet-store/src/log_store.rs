//! The Raft log and vote, on `raft-log`: a chunked write-ahead log with a checksum per
//! record, fdatasync'd by a flush worker that batches many appends into one sync (group
//! commit). openraft is told an append is saved only from the flush callback, i.e. after
//! the data is on disk; votes are saved synchronously for the same reason.

use crate::types::{io_err, Entry, LogId, NodeId, StorageError, TypeConfig};
use codeq::{Decode, Encode};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftLogReader, Vote};
use raft_log::api::raft_log_writer::RaftLogWriter;
use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Version byte in front of every log payload.
const PAYLOAD_FORMAT_VERSION: u8 = 1;

/// raft-log type parameters for Signet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WalTypes;

/// A log id as stored in the WAL. Field order gives the derived ordering used by raft-log
/// to reject reversals: (term, leader node, index), which matches openraft's ordering for
/// the ids that can appear in one log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalLogId {
    term: u64,
    node_id: u64,
    index: u64,
}

/// A vote as stored in the WAL; ordered like openraft's [`Vote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalVote(Vote<NodeId>);

/// Completion of a WAL flush: either openraft's append callback or a waiting caller.
pub enum FlushDone {
    /// openraft's "log appended and durable" notification, with when the flush was asked
    /// for and where its latency goes.
    Raft(
        LogFlushed<TypeConfig>,
        std::time::Instant,
        Arc<crate::metrics::Histogram>,
    ),
    /// A caller blocked on a synchronous save (vote).
    Waiter(std::sync::mpsc::SyncSender<io::Result<()>>),
}

impl raft_log::Callback for FlushDone {
    fn send(self, res: Result<(), io::Error>) {
        match self {
            FlushDone::Raft(cb, asked, latency) => {
                latency.observe(asked.elapsed());
                if res.is_ok() {
                    crate::failpoints::hit("log-synced");
                }
                cb.log_io_completed(res)
            }
            // raft-log's own Callback impl for SyncSender ignores a waiter that gave up.
            FlushDone::Waiter(tx) => raft_log::Callback::send(tx, res),
        }
    }
}

impl raft_log::Types for WalTypes {
    type LogId = WalLogId;
    type LogPayload = Vec<u8>;
    type Vote = WalVote;
    type Callback = FlushDone;
    type UserData = ();

    fn log_index(log_id: &WalLogId) -> u64 {
        log_id.index
    }

    fn payload_size(payload: &Vec<u8>) -> u64 {
        payload.len() as u64
    }
}

fn write_u64s<W: Write>(mut w: W, vals: &[u64]) -> io::Result<usize> {
    for v in vals {
        w.write_all(&v.to_be_bytes())?;
    }
    Ok(vals.len() * 8)
}

fn read_u64<R: Read>(r: &mut R) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

impl Encode for WalLogId {
    fn encode<W: Write>(&self, w: W) -> io::Result<usize> {
        write_u64s(w, &[self.term, self.node_id, self.index])
    }
}

impl Decode for WalLogId {
    fn decode<R: Read>(mut r: R) -> io::Result<Self> {
        Ok(WalLogId {
            term: read_u64(&mut r)?,
            node_id: read_u64(&mut r)?,
            index: read_u64(&mut r)?,
        })
    }
}

impl PartialOrd for WalVote {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

impl Encode for WalVote {
    fn encode<W: Write>(&self, w: W) -> io::Result<usize> {
        let v = &self.0;
        write_u64s(
            w,
            &[
                v.leader_id.term,
                v.leader_id.node_id,
                u64::from(v.committed),
            ],
        )
    }
}

impl Decode for WalVote {
    fn decode<R: Read>(mut r: R) -> io::Result<Self> {
        let term = read_u64(&mut r)?;
        let node_id = read_u64(&mut r)?;
        let committed = read_u64(&mut r)? != 0;
        let mut v = Vote::new(term, node_id);
        v.committed = committed;
        Ok(WalVote(v))
    }
}

impl From<&LogId> for WalLogId {
    fn from(l: &LogId) -> Self {
        WalLogId {
            term: l.leader_id.term,
            node_id: l.leader_id.node_id,
            index: l.index,
        }
    }
}

impl From<&WalLogId> for LogId {
    fn from(l: &WalLogId) -> Self {
        openraft::LogId::new(openraft::CommittedLeaderId::new(l.term, l.node_id), l.index)
    }
}

fn encode_payload(p: &EntryPayload<TypeConfig>) -> io::Result<Vec<u8>> {
    let mut out = vec![PAYLOAD_FORMAT_VERSION];
    serde_json::to_writer(&mut out, p).map_err(io::Error::other)?;
    Ok(out)
}

fn decode_payload(b: &[u8]) -> io::Result<EntryPayload<TypeConfig>> {
    match b.split_first() {
        Some((&PAYLOAD_FORMAT_VERSION, body)) => {
            serde_json::from_slice(body).map_err(io::Error::other)
        }
        Some((v, _)) => Err(io::Error::other(format!(
            "log entry format version {v} is newer than this binary understands"
        ))),
        None => Err(io::Error::other("empty log payload")),
    }
}

/// The durable Raft log of one node. Cheap to clone: clones share the log.
#[derive(Clone)]
pub struct LogStore {
    log: Arc<Mutex<raft_log::RaftLog<WalTypes>>>,
    /// Time from asking for an append's flush to its fdatasync completing.
    flush_latency: Arc<crate::metrics::Histogram>,
    /// Purges wait until a saved snapshot covers them (see [`crate::SnapshotFence`]);
    /// none: purges are not held back (a log on its own, in tests and tools).
    fence: Option<crate::SnapshotFence>,
}

/// How the log's files and memory are bounded.
///
/// raft-log deletes a chunk file only once every entry in it is purged and the chunk is
/// closed, and it closes a chunk only when it is full. With its defaults (1 GiB or a million
/// entries a chunk) a store's log never shrank: after a snapshot and a purge, the entries
/// sat in a chunk that was still open (526 MB of import chunks outlived their job this
/// way). Chunks of [`LogLimits::default`] close every 64 MiB or 65,536 entries, so a purge
/// gives disk back within one chunk. raft-log also keeps recent payloads in memory (1 GiB
/// by default); the cache is what a follower catching up reads before the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLimits {
    /// A chunk file is closed at this size, bytes.
    pub chunk_bytes: usize,
    /// ... or at this many records.
    pub chunk_records: usize,
    /// Payloads kept in memory, bytes.
    pub cache_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            chunk_bytes: 64 * 1024 * 1024,
            chunk_records: 65_536,
            cache_bytes: 128 * 1024 * 1024,
        }
    }
}

impl LogStore {
    /// How many handles share the open log (its directory lock is released when the last
    /// one is dropped).
    pub(crate) fn holders(&self) -> usize {
        Arc::strong_count(&self.log)
    }

    /// Open (or create) the log in `dir`, with the default [`LogLimits`].
    pub fn open(dir: &Path) -> io::Result<Self> {
        Self::open_with(dir, &LogLimits::default())
    }

    /// Open (or create) the log in `dir` with `limits`.
    pub fn open_with(dir: &Path, limits: &LogLimits) -> io::Result<Self> {
        crate::durable::create_dirs(dir)?;
        let dir = dir
            .to_str()
            .ok_or_else(|| io::Error::other("log dir path is not UTF-8"))?;
        let mut config = raft_log::Config::new(dir);
        config.wal.chunk_max_size = Some(limits.chunk_bytes);
        config.wal.chunk_max_records = Some(limits.chunk_records);
        config.log_cache_capacity = Some(limits.cache_bytes);
        // raft-log's flush worker waits up to 1 ms for more flush requests before syncing.
        // openraft 0.9's leader hands over one append at a time and waits for it, so that
        // wait never gathers anything on the leader and only adds 1 ms to every write
        // (measured: ~700 → ~3,000 writes/s). Batching happens above, in the proposer.
        config.wal.flush_batch_wait = Some(std::time::Duration::ZERO);
        let log = raft_log::RaftLog::open(Arc::new(config))?;
        Ok(LogStore {
            log: Arc::new(Mutex::new(log)),
            flush_latency: Arc::default(),
            fence: None,
        })
    }

    /// Never purge past what `fence` (the state machine's saved snapshot) covers.
    pub fn purge_behind(mut self, fence: crate::SnapshotFence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// Latency of durable appends (request to fdatasync done).
    pub fn flush_latency(&self) -> &crate::metrics::Histogram {
        &self.flush_latency
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, raft_log::RaftLog<WalTypes>> {
        // A poisoned lock means a panic while writing the log; the in-memory state may be
        // half-updated, so continuing would be wrong.
        self.log.lock().expect("raft log lock poisoned")
    }

    /// Index of the first entry still in the log (after purges), and the last one.
    pub fn bounds(&self) -> (Option<u64>, Option<u64>) {
        let log = self.lock();
        let st = log.log_state();
        (st.purged().map(|p| p.index), st.last().map(|l| l.index))
    }

    /// Flush pending records with fdatasync and wait for it.
    fn sync(&self) -> io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.lock().flush(true, Some(FlushDone::Waiter(tx)))?;
        rx.recv()
            .map_err(|_| io::Error::other("log flush worker stopped"))?
    }

    /// Vote, last purged id and last log id (the purged id when every entry is purged),
    /// for the offline recovery.
    pub(crate) fn state(&self) -> (Option<Vote<NodeId>>, Option<LogId>, Option<LogId>) {
        let log = self.lock();
        let st = log.log_state();
        let purged = st.purged().map(LogId::from);
        let last = st.last().map(LogId::from).or(purged);
        (st.vote().map(|v| v.0), purged, last)
    }

    /// The last log id this node knows to be committed.
    pub(crate) fn committed(&self) -> Option<LogId> {
        self.lock().log_state().committed().map(LogId::from)
    }

    /// Offline recovery: save `vote`, then append `entry` right after the last entry, and
    /// fdatasync both before returning. The vote goes first: an entry of a leader id above
    /// every vote this node has cast must never be durable without that vote.
    pub(crate) fn append_recovery(&self, vote: Vote<NodeId>, entry: &Entry) -> io::Result<()> {
        let payload = encode_payload(&entry.payload)?;
        {
            let mut log = self.lock();
            log.save_vote(WalVote(vote))?;
            log.append([(WalLogId::from(&entry.log_id), payload)])?;
        }
        self.sync()
    }

    /// Offline recovery: drop entries up to `upto` (already in the state machine).
    pub(crate) fn purge_recovery(&self, upto: &LogId) -> io::Result<()> {
        self.lock().purge(WalLogId::from(upto))?;
        self.sync()
    }

    pub(crate) fn read_range(&self, start: u64, end: u64) -> io::Result<Vec<Entry>> {
        let log = self.lock();
        log.read(start, end)
            .map(|r| {
                let (id, payload) = r?;
                Ok(Entry {
                    log_id: LogId::from(&id),
                    payload: decode_payload(&payload)?,
                })
            })
            .collect()
    }
}

fn range_to_bounds<RB: RangeBounds<u64>>(range: &RB) -> (u64, u64) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s + 1,
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e + 1,
        Bound::Excluded(&e) => e,
        Bound::Unbounded => u64::MAX,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (start, end) = range_to_bounds(&range);
        self.read_range(start, end)
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let log = self.lock();
        let st = log.log_state();
        let last_purged_log_id = st.purged().map(LogId::from);
        let last_log_id = st.last().map(LogId::from).or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        let res = (|| {
            self.lock().save_vote(WalVote(*vote))?;
            crate::failpoints::hit("vote-save");
            self.sync()
        })();
        res.map_err(|e| io_err(ErrorSubject::Vote, ErrorVerb::Write, e))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        Ok(self.lock().log_state().vote().map(|v| v.0))
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // The committed id only lets a restarted node re-apply sooner; it need not be synced,
        // it rides along with the next flush.
        if let Some(c) = committed {
            let mut log = self.lock();
            log.commit(WalLogId::from(&c))
                .and_then(|_| log.flush(false, None))
                .map_err(|e| io_err(ErrorSubject::Store, ErrorVerb::Write, e))?;
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.lock().log_state().committed().map(LogId::from))
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let encoded = entries
            .into_iter()
            .map(|e| Ok((WalLogId::from(&e.log_id), encode_payload(&e.payload)?)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
        let mut log = self.lock();
        let res = (|| {
            // Entries at or below the purge point are already part of the state machine's
            // snapshot: there is nothing to keep them for (openraft's storage suite appends
            // such entries after the log was purged to the state machine's last id).
            let purged = log.log_state().purged().map(|p| p.index);
            let encoded: Vec<_> = encoded
                .into_iter()
                .filter(|(id, _)| purged.is_none_or(|p| id.index > p))
                .collect();
            // Appending over existing entries replaces them, as openraft's contract says;
            // raft-log wants that spelled as a truncation first.
            if let (Some((first, _)), Some(last)) = (encoded.first(), log.log_state().last()) {
                if first.index <= last.index {
                    log.truncate(first.index)?;
                }
            }
            log.append(encoded)?;
            crate::failpoints::hit("log-append");
            log.flush(
                true,
                Some(FlushDone::Raft(
                    callback,
                    std::time::Instant::now(),
                    self.flush_latency.clone(),
                )),
            )
        })();
        res.map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?;
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let res = (|| {
            self.lock().truncate(log_id.index)?;
            crate::failpoints::hit("log-truncate");
            self.sync()
        })();
        res.map_err(|e| io_err(ErrorSubject::Log(log_id), ErrorVerb::Delete, e))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        if let Some(fence) = &self.fence {
            fence
                .covers(log_id.index)
                .await
                .map_err(|e| io_err(ErrorSubject::Log(log_id), ErrorVerb::Delete, e))?;
        }
        let mut log = self.lock();
        log.purge(WalLogId::from(&log_id))
            .and_then(|_| {
                crate::failpoints::hit("log-purge");
                log.flush(true, None)
            })
            .map_err(|e| io_err(ErrorSubject::Log(log_id), ErrorVerb::Delete, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod payload_golden;

#[cfg(test)]
mod space {
    use super::*;
    use openraft::{CommittedLeaderId, EntryPayload};

    fn files(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    /// A purge gives the disk back: once every entry of a closed chunk is purged, its file
    /// is deleted (with raft-log's default limits the log stayed in one open chunk and
    /// nothing was ever deleted).
    #[test]
    fn purged_chunks_are_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("raft-log");
        let limits = LogLimits {
            chunk_bytes: 64 * 1024,
            chunk_records: 16,
            cache_bytes: 1024 * 1024,
        };
        let log = LogStore::open_with(&dir, &limits).unwrap();
        let vote = Vote::new_committed(1, 1);
        let id = |i| LogId::new(CommittedLeaderId::new(1, 1), i);
        for i in 1..=300 {
            let entry = Entry {
                log_id: id(i),
                payload: EntryPayload::Blank,
            };
            log.append_recovery(vote, &entry).unwrap();
        }
        let before = files(&dir);
        assert!(
            before >= 15,
            "{before} chunk files for 300 entries of 16 per chunk"
        );
        log.purge_recovery(&id(290)).unwrap();
        // The removal is queued behind the purge's sync; one more sync has passed it.
        log.sync().unwrap();
        // What is left: the chunks holding entries 291-300 (two records each, with the
        // vote) and the open one.
        let after = files(&dir);
        assert!(
            after <= 4,
            "{after} files left of {before} after purging 290 of 300"
        );
        assert_eq!(log.bounds(), (Some(290), Some(300)));
        drop(log);
        // Reopened, the log still holds exactly the unpurged entries.
        let log = LogStore::open_with(&dir, &limits).unwrap();
        let kept = log.read_range(291, 301).unwrap();
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[0].log_id, id(291));
    }
}
