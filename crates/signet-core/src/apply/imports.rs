//! Bulk user import jobs, first half: creating a job, staging the validated users of its
//! upload in chunks, and starting it. The chunks are inserted in `import_runs.rs`.

use super::{get, put, reject, valid_parts, Apply};
use crate::kv::compound;
use crate::{
    CoreError, ImportChunk, ImportJob, ImportRow, ImportStatus, KvTxn, Outcome, Rejection,
    RowError, Table,
};
use serde::{Deserialize, Serialize};

/// Key of chunk `seq` of a job: job ids are unique across pools, and the big-endian number
/// keeps a job's chunks in order.
pub(crate) fn chunk_key(job_id: &str, seq: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(job_id.len() + 5);
    k.extend_from_slice(job_id.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The job, if its pool is live (a deleted pool's jobs are unreachable, like its users).
pub(super) fn load(
    txn: &impl KvTxn,
    pool_id: &str,
    job_id: &str,
) -> Result<Result<ImportJob, Rejection>, CoreError> {
    if txn.get(Table::Pools, pool_id.as_bytes())?.is_none() {
        return Ok(Err(Rejection::PoolNotFound));
    }
    match get::<ImportJob>(txn, Table::ImportJobs, &compound(pool_id, job_id))? {
        Some(job) => Ok(Ok(job)),
        None => Ok(Err(Rejection::ImportJobNotFound)),
    }
}

pub(super) fn save(txn: &mut impl KvTxn, job: &ImportJob) -> Result<(), CoreError> {
    put(
        txn,
        Table::ImportJobs,
        &compound(&job.pool_id, &job.job_id),
        job,
    )
}

/// Create a user import job (status Created) in an existing pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateImportJob {
    /// Pool id.
    pub pool_id: String,
    /// The new job.
    pub job: ImportJob,
}

impl Apply for CreateImportJob {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job) = (self.pool_id.as_str(), &self.job);
        if !valid_parts(&[pool_id, &job.job_id]) || job.pool_id != pool_id {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::Pools, pool_id.as_bytes())?.is_none() {
            return reject(Rejection::PoolNotFound);
        }
        let key = compound(pool_id, &job.job_id);
        if txn.get(Table::ImportJobs, &key)?.is_some() {
            return reject(Rejection::ImportJobExists);
        }
        put(txn, Table::ImportJobs, &key, job)?;
        Ok(Outcome::Applied)
    }
}

/// Stage the next chunk of an upload: validated users plus the count (and the first
/// reasons) of rows the gateway refused. Only while the job is Created; chunks come
/// in order, from one upload; a retried chunk is answered as applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageImportChunk {
    /// Pool id.
    pub pool_id: String,
    /// Job id.
    pub job_id: String,
    /// Random id of the upload staging the chunks (a second upload is refused).
    pub upload_id: String,
    /// Chunk number, from 0.
    pub seq: u32,
    /// This is the upload's last chunk.
    pub last: bool,
    /// Valid rows, ready to insert.
    pub rows: Vec<ImportRow>,
    /// Rows of this stretch of the file that the gateway refused.
    pub rejected_rows: u64,
    /// Reasons for (the first of) them.
    pub rejected: Vec<RowError>,
}

impl Apply for StageImportChunk {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job_id, s) = (self.pool_id.as_str(), self.job_id.as_str(), self);
        let mut job = match load(txn, pool_id, job_id)? {
            Ok(j) => j,
            Err(r) => return reject(r),
        };
        if job.status != ImportStatus::Created {
            return reject(Rejection::ImportJobState {
                job_status: job.status,
            });
        }
        match &job.upload_id {
            // A retry of a chunk this upload already staged (its first answer was lost).
            Some(u) if *u == s.upload_id && s.seq < job.chunks_staged => {
                return Ok(Outcome::Applied)
            }
            Some(u) if *u != s.upload_id => return reject(Rejection::ImportUploadConflict),
            _ => {}
        }
        if job.upload_complete {
            return reject(Rejection::ImportUploadConflict);
        }
        if s.seq != job.chunks_staged {
            return reject(Rejection::ImportOutOfOrder {
                expected: job.chunks_staged,
            });
        }
        let chunk = ImportChunk {
            rows: s.rows.to_vec(),
        };
        put(txn, Table::ImportChunks, &chunk_key(job_id, s.seq), &chunk)?;
        job.upload_id = Some(s.upload_id.clone());
        job.chunks_staged += 1;
        job.rows_staged += s.rows.len() as u64;
        job.failed += s.rejected_rows;
        for e in &s.rejected {
            job.note(e.clone());
        }
        job.upload_complete = s.last;
        save(txn, &job)?;
        Ok(Outcome::Applied)
    }
}

/// Start (Created → InProgress) or resume an import: `runner` holds it until
/// `lease_until_ms`. Resuming an InProgress job needs the previous lease to have lapsed
/// at `at_ms`, unless `runner` already holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartImportJob {
    /// Pool id.
    pub pool_id: String,
    /// Job id.
    pub job_id: String,
    /// Gateway instance that will apply the chunks.
    pub runner: String,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
    /// End of the runner's claim, Unix ms.
    pub lease_until_ms: u64,
}

impl Apply for StartImportJob {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job_id) = (self.pool_id.as_str(), self.job_id.as_str());
        let (runner, at_ms, lease_until_ms) =
            (self.runner.as_str(), self.at_ms, self.lease_until_ms);
        let mut job = match load(txn, pool_id, job_id)? {
            Ok(j) => j,
            Err(r) => return reject(r),
        };
        match job.status {
            ImportStatus::Created => {
                if !job.upload_complete {
                    return reject(Rejection::ImportNotUploaded);
                }
                job.status = ImportStatus::InProgress;
                job.started_at_ms = at_ms;
            }
            // Resume after the runner died (its lease lapsed), or a retry by the runner itself.
            ImportStatus::InProgress => {
                if job.runner != runner && job.lease_until_ms > at_ms {
                    return reject(Rejection::ImportLeaseHeld);
                }
            }
            status => return reject(Rejection::ImportJobState { job_status: status }),
        }
        job.runner = runner.to_string();
        job.lease_until_ms = lease_until_ms;
        save(txn, &job)?;
        Ok(Outcome::Applied)
    }
}
