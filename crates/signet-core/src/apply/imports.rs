//! Bulk user import jobs: staging validated users in chunks, then inserting them one chunk
//! per log entry through the same path as CreateUser.

use super::{get, put, reject, users, valid_parts};
use crate::kv::compound;
use crate::{
    CoreError, ImportChunk, ImportJob, ImportRow, ImportStatus, KvTxn, Outcome, Rejection,
    RowError, Table,
};

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
fn load(
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

fn save(txn: &mut impl KvTxn, job: &ImportJob) -> Result<(), CoreError> {
    put(
        txn,
        Table::ImportJobs,
        &compound(&job.pool_id, &job.job_id),
        job,
    )
}

/// Delete the chunks not yet applied; they will never be.
fn drop_chunks(txn: &mut impl KvTxn, job: &ImportJob) -> Result<(), CoreError> {
    for seq in job.next_chunk..job.chunks_staged {
        txn.delete(Table::ImportChunks, &chunk_key(&job.job_id, seq))?;
    }
    Ok(())
}

/// Move the job to a final status now, dropping what is still staged.
fn finish(
    txn: &mut impl KvTxn,
    job: &mut ImportJob,
    status: ImportStatus,
    at_ms: u64,
    message: String,
) -> Result<(), CoreError> {
    drop_chunks(txn, job)?;
    job.status = status;
    job.completed_at_ms = at_ms;
    job.completion_message = message;
    job.lease_until_ms = 0;
    save(txn, job)
}

/// The completion message: the counts, and the first few problems.
fn summary(job: &ImportJob, what: &str) -> String {
    let mut m = format!(
        "{what}: {} imported, {} skipped, {} failed.",
        job.imported, job.skipped, job.failed
    );
    if !job.errors.is_empty() {
        let first: Vec<String> = job
            .errors
            .iter()
            .take(5)
            .map(|e| format!("line {}: {}", e.line, e.reason))
            .collect();
        m.push_str(&format!(" First problems: {}.", first.join("; ")));
    }
    m
}

pub(super) fn create_job(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job: &ImportJob,
) -> Result<Outcome, CoreError> {
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

/// Inputs of [`stage_chunk`], as carried by the command.
pub(super) struct Stage<'a> {
    pub upload_id: &'a str,
    pub seq: u32,
    pub last: bool,
    pub rows: &'a [ImportRow],
    pub rejected_rows: u64,
    pub rejected: &'a [RowError],
}

pub(super) fn stage_chunk(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job_id: &str,
    s: Stage<'_>,
) -> Result<Outcome, CoreError> {
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
        Some(u) if u == s.upload_id && s.seq < job.chunks_staged => return Ok(Outcome::Applied),
        Some(u) if u != s.upload_id => return reject(Rejection::ImportUploadConflict),
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
    job.upload_id = Some(s.upload_id.to_string());
    job.chunks_staged += 1;
    job.rows_staged += s.rows.len() as u64;
    job.failed += s.rejected_rows;
    for e in s.rejected {
        job.note(e.clone());
    }
    job.upload_complete = s.last;
    save(txn, &job)?;
    Ok(Outcome::Applied)
}

pub(super) fn start_job(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job_id: &str,
    runner: &str,
    at_ms: u64,
    lease_until_ms: u64,
) -> Result<Outcome, CoreError> {
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

pub(super) fn apply_chunk(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job_id: &str,
    runner: &str,
    seq: u32,
    at_ms: u64,
    lease_until_ms: u64,
) -> Result<Outcome, CoreError> {
    let key = compound(pool_id, job_id);
    let Some(mut job) = get::<ImportJob>(txn, Table::ImportJobs, &key)? else {
        return reject(Rejection::ImportJobNotFound);
    };
    if job.runner != runner {
        return reject(Rejection::ImportLeaseHeld);
    }
    match job.status {
        ImportStatus::InProgress => {}
        ImportStatus::Stopping => {
            let message = summary(&job, "Stopped");
            finish(txn, &mut job, ImportStatus::Stopped, at_ms, message)?;
            return Ok(Outcome::Applied);
        }
        status => return reject(Rejection::ImportJobState { job_status: status }),
    }
    if txn.get(Table::Pools, pool_id.as_bytes())?.is_none() {
        // The pool was deleted under the job: free the staged users now, since nothing
        // will reach them again.
        let message = summary(&job, "The user pool was deleted");
        finish(txn, &mut job, ImportStatus::Failed, at_ms, message)?;
        return reject(Rejection::PoolNotFound);
    }
    if seq < job.next_chunk {
        return Ok(Outcome::Applied); // applied before; its answer was lost
    }
    if seq > job.next_chunk {
        return reject(Rejection::ImportOutOfOrder {
            expected: job.next_chunk,
        });
    }
    let ck = chunk_key(job_id, seq);
    let chunk = get::<ImportChunk>(txn, Table::ImportChunks, &ck)?.unwrap_or_default();
    for row in &chunk.rows {
        let skip = |reason: String| RowError {
            line: row.line,
            reason,
        };
        match users::create_user(txn, pool_id, &row.user)? {
            Outcome::Applied => job.imported += 1,
            Outcome::Rejected(Rejection::UsernameExists) => {
                job.skipped += 1;
                job.note(skip("skipped: the username already exists".into()));
            }
            Outcome::Rejected(Rejection::AliasExists { attribute }) => {
                job.skipped += 1;
                job.note(skip(format!(
                    "skipped: another user already has this {attribute}"
                )));
            }
            Outcome::Rejected(other) => {
                job.failed += 1;
                job.note(skip(format!("refused: {other:?}")));
            }
        }
    }
    txn.delete(Table::ImportChunks, &ck)?;
    job.next_chunk += 1;
    job.lease_until_ms = lease_until_ms;
    if job.next_chunk >= job.chunks_staged {
        let message = summary(&job, "Import complete");
        finish(txn, &mut job, ImportStatus::Succeeded, at_ms, message)?;
    } else {
        save(txn, &job)?;
    }
    Ok(Outcome::Applied)
}

pub(super) fn stop_job(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job_id: &str,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let mut job = match load(txn, pool_id, job_id)? {
        Ok(j) => j,
        Err(r) => return reject(r),
    };
    let runner_alive = job.lease_until_ms > at_ms;
    match job.status {
        ImportStatus::Created => {
            let message = summary(&job, "Stopped before it started");
            finish(txn, &mut job, ImportStatus::Stopped, at_ms, message)?;
        }
        // Nobody is left to notice the request at a chunk boundary: stop here.
        ImportStatus::InProgress | ImportStatus::Stopping if !runner_alive => {
            let message = summary(&job, "Stopped");
            finish(txn, &mut job, ImportStatus::Stopped, at_ms, message)?;
        }
        ImportStatus::InProgress => {
            job.status = ImportStatus::Stopping;
            save(txn, &job)?;
        }
        ImportStatus::Stopping => {}
        status => return reject(Rejection::ImportJobState { job_status: status }),
    }
    Ok(Outcome::Applied)
}

pub(super) fn fail_job(
    txn: &mut impl KvTxn,
    pool_id: &str,
    job_id: &str,
    runner: &str,
    at_ms: u64,
    message: &str,
) -> Result<Outcome, CoreError> {
    let mut job = match load(txn, pool_id, job_id)? {
        Ok(j) => j,
        Err(r) => return reject(r),
    };
    if !matches!(
        job.status,
        ImportStatus::InProgress | ImportStatus::Stopping
    ) {
        return reject(Rejection::ImportJobState {
            job_status: job.status,
        });
    }
    if job.runner != runner {
        return reject(Rejection::ImportLeaseHeld);
    }
    let message = format!("{message} ({})", summary(&job, "Failed"));
    finish(txn, &mut job, ImportStatus::Failed, at_ms, message)?;
    Ok(Outcome::Applied)
}
