//! Bulk user import jobs, second half: inserting the staged users one chunk per log entry
//! through the same path as CreateUser, and ending the job (stopped, failed, succeeded).

use super::groups::AddUserToGroup;
use super::imports::{chunk_key, load, save};
use super::{get, reject, users, Apply};
use crate::kv::compound;
use crate::{
    CoreError, Group, ImportChunk, ImportJob, ImportStatus, KvTxn, Outcome, Rejection, RowError,
    Table,
};
use serde::{Deserialize, Serialize};

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

/// Insert the users of chunk `seq` (the job's next one) as CreateUser would, skipping
/// those whose username or sign-in alias is taken; renew the runner's lease. A Stopping
/// job stops here instead; after the last chunk the job has Succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyImportChunk {
    /// Pool id.
    pub pool_id: String,
    /// Job id.
    pub job_id: String,
    /// The runner holding the job.
    pub runner: String,
    /// Chunk number.
    pub seq: u32,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
    /// New end of the runner's claim, Unix ms.
    pub lease_until_ms: u64,
}

impl Apply for ApplyImportChunk {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job_id) = (self.pool_id.as_str(), self.job_id.as_str());
        let (runner, seq) = (self.runner.as_str(), self.seq);
        let (at_ms, lease_until_ms) = (self.at_ms, self.lease_until_ms);
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
            // Every group first: a user is made with all its memberships or not at all.
            let mut missing = None;
            for g in &row.groups {
                if get::<Group>(txn, Table::Groups, &compound(pool_id, g))?.is_none() {
                    missing = Some(g.clone());
                    break;
                }
            }
            if let Some(g) = missing {
                job.failed += 1;
                job.note(skip(format!("refused: the group {g} does not exist")));
                continue;
            }
            match users::create_user(txn, pool_id, &row.user)? {
                Outcome::Applied => {
                    job.imported += 1;
                    for group in &row.groups {
                        let join = AddUserToGroup {
                            pool_id: pool_id.into(),
                            username: row.user.username.clone(),
                            group: group.clone(),
                        };
                        // The user was just made and the group checked in this
                        // transaction: the join cannot be refused.
                        let joined = join.apply(txn)?;
                        debug_assert_eq!(joined, Outcome::Applied);
                    }
                }
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
}

/// Stop an import: a Created job (or one whose runner's lease lapsed) stops at once and
/// its staged chunks are dropped; a running one becomes Stopping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopImportJob {
    /// Pool id.
    pub pool_id: String,
    /// Job id.
    pub job_id: String,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
}

impl Apply for StopImportJob {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job_id, at_ms) = (self.pool_id.as_str(), self.job_id.as_str(), self.at_ms);
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
}

/// The runner gives up on a job: Failed with `message`, staged chunks dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailImportJob {
    /// Pool id.
    pub pool_id: String,
    /// Job id.
    pub job_id: String,
    /// The runner holding the job.
    pub runner: String,
    /// The proposer's clock, Unix ms.
    pub at_ms: u64,
    /// Why.
    pub message: String,
}

impl Apply for FailImportJob {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (pool_id, job_id) = (self.pool_id.as_str(), self.job_id.as_str());
        let (runner, at_ms, message) = (self.runner.as_str(), self.at_ms, self.message.as_str());
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
}
