//! The task that runs a started import on the gateway that started it: one
//! ApplyImportChunk write per staged chunk, in order, each renewing the gateway's lease on
//! the job. It ends when the job is final, when another gateway holds the job, or when
//! this gateway stops (the lease then lapses and a later start elsewhere resumes it).

use super::Imports;
use signet_core::{
    ApplyImportChunk, Command, FailImportJob, ImportJob, ImportStatus, Outcome, Rejection,
    RequestId,
};
use std::time::Duration;

/// Attempts at one write before the job is declared Failed. The store client already
/// retries each attempt across members for its own deadline; these cover longer outages.
const ATTEMPTS: u32 = 6;
/// First pause between attempts; doubled each time (0.5 + 1 + 2 + 4 + 8 s).
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What became of one write after its retries.
enum Sent {
    Done(Outcome),
    /// Every attempt failed; the last error.
    GaveUp(String),
    /// The gateway is stopping.
    Stopped,
}

/// Run the job on this gateway, unless it already runs it.
pub(crate) fn spawn(gw: &Imports, pool_id: &str, job_id: &str) {
    let fresh = gw
        .running
        .lock()
        .expect("import set lock")
        .insert(job_id.to_string());
    if fresh {
        let running = Running {
            gw: gw.clone(),
            job_id: job_id.to_string(),
        };
        let pool_id = pool_id.to_string();
        tokio::spawn(async move {
            run(&running.gw, &pool_id, &running.job_id).await;
            drop(running);
        });
    }
}

/// Takes the job off this gateway's running set when the runner ends, however it ends.
struct Running {
    gw: Imports,
    job_id: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut set) = self.gw.running.lock() {
            set.remove(&self.job_id);
        }
    }
}

/// Run the job `pool_id`/`job_id` until it is final or no longer ours.
async fn run(gw: &Imports, pool_id: &str, job_id: &str) {
    let me = gw.settings.instance.clone();
    loop {
        let job = match read_job(gw, pool_id, job_id).await {
            Some(j) => j,
            None => return,
        };
        if job.runner != me
            || !matches!(
                job.status,
                ImportStatus::InProgress | ImportStatus::Stopping
            )
        {
            return;
        }
        let now = gw.clock.now_ms();
        let cmd = Command::ApplyImportChunk(ApplyImportChunk {
            pool_id: pool_id.to_string(),
            job_id: job_id.to_string(),
            runner: me.clone(),
            seq: job.next_chunk,
            at_ms: now,
            lease_until_ms: now + gw.settings.lease.as_millis() as u64,
        });
        match send(gw, cmd).await {
            Sent::Done(Outcome::Applied) => {}
            // Someone else holds the job now, or it ended (stopped, pool deleted): not ours
            // to continue.
            Sent::Done(Outcome::Rejected(
                Rejection::ImportLeaseHeld
                | Rejection::ImportJobState { .. }
                | Rejection::ImportJobNotFound
                | Rejection::PoolNotFound,
            )) => return,
            Sent::Done(Outcome::Rejected(r)) => {
                fail(gw, pool_id, job_id, &format!("Chunk refused: {r:?}")).await;
                return;
            }
            Sent::GaveUp(e) => {
                fail(
                    gw,
                    pool_id,
                    job_id,
                    &format!("The store did not accept chunk {}: {e}", job.next_chunk),
                )
                .await;
                return;
            }
            Sent::Stopped => return,
        }
    }
}

/// Propose `cmd` under one request id until it is answered, with backoff: a retry after an
/// unknown fate applies at most once.
async fn send(gw: &Imports, cmd: Command) -> Sent {
    let rid = RequestId(signet_crypto::random_bytes::<16>());
    let mut stop = gw.stopping.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return Sent::Stopped,
            }
            backoff *= 2;
        }
        if *stop.borrow() {
            return Sent::Stopped;
        }
        match gw.store.write_with_id(rid, cmd.clone()).await {
            Ok(w) => return Sent::Done(w.outcome),
            Err(e) => {
                tracing::warn!(attempt, "import write failed: {e}");
                last = e.to_string();
            }
        }
    }
    Sent::GaveUp(last)
}

/// The job as the store has it now; `None` when it is gone or the store stays unreachable
/// (the lease then lapses and the job can be resumed).
async fn read_job(gw: &Imports, pool_id: &str, job_id: &str) -> Option<ImportJob> {
    let mut stop = gw.stopping.clone();
    let mut backoff = FIRST_BACKOFF;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return None,
            }
            backoff *= 2;
        }
        match gw.describe_import_job(pool_id, job_id).await {
            Ok(j) => return Some(j),
            Err(crate::AppError::ResourceNotFound(_)) => return None,
            Err(e) => tracing::warn!(attempt, "reading import job {job_id}: {e}"),
        }
    }
    None
}

/// Mark the job Failed (best effort: if even this cannot be written, the lease lapses and
/// the job stays resumable).
async fn fail(gw: &Imports, pool_id: &str, job_id: &str, message: &str) {
    tracing::error!(job_id, "import job failed: {message}");
    let cmd = Command::FailImportJob(FailImportJob {
        pool_id: pool_id.into(),
        job_id: job_id.into(),
        runner: gw.settings.instance.clone(),
        at_ms: gw.clock.now_ms(),
        message: message.into(),
    });
    if let Sent::GaveUp(e) = send(gw, cmd).await {
        tracing::error!(job_id, "cannot mark the import job failed: {e}");
    }
}
