//! Bulk user import jobs (Cognito's CreateUserImportJob & co.): a job is created with a
//! pre-signed upload URL, the CSV file is PUT there and staged in chunks (`api::http::import`),
//! and StartUserImportJob makes this gateway insert the chunks one log entry at a time
//! (`runner`).

pub(crate) mod csv;
mod export;
pub(crate) mod receive;
mod runner;
pub(crate) mod upload;

use self::csv as import_csv;
use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::ids;
use crate::store::Store;
use crate::urls::Urls;
use crate::AppError;
use signet_core::{
    Command, CreateImportJob, ImportJob, ImportStatus, Query, StartImportJob, StopImportJob,
};
use signet_crypto::KeyedHasher;
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use tokio::sync::watch;

/// How long a pre-signed upload URL works (Cognito's is 15 minutes).
const UPLOAD_URL_TTL_MS: u64 = 15 * 60 * 1000;

/// Purpose label of upload signatures under the server key.
const UPLOAD_PURPOSE: &str = "user-import-upload";

/// How this gateway runs imports (from its config).
#[derive(Clone, Debug)]
pub(crate) struct ImportSettings {
    /// This gateway's instance name: the runner a job's lease names.
    pub instance: String,
    /// How long a runner's lease on a job lasts without renewal.
    pub lease: std::time::Duration,
    /// Largest CSV file accepted, bytes.
    pub max_bytes: u64,
    /// Most data rows a file may hold.
    pub max_rows: u64,
    /// Rows per staged chunk.
    pub chunk_rows: usize,
}

/// The user imports feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Imports {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    keyed: KeyedHasher,
    urls: Urls,
    settings: ImportSettings,
    /// Import jobs this gateway is running (a repeated start does not run a job twice).
    running: Arc<Mutex<HashSet<String>>>,
    /// Becomes true when the gateway shuts down: runners end.
    stopping: watch::Receiver<bool>,
}

impl Imports {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        keyed: KeyedHasher,
        urls: Urls,
        settings: ImportSettings,
        stopping: watch::Receiver<bool>,
    ) -> Imports {
        Imports {
            store,
            dir,
            clock,
            keyed,
            urls,
            settings,
            running: Arc::default(),
            stopping,
        }
    }
}

impl Imports {
    /// GetCSVHeader: the columns the pool's import files may have.
    pub async fn csv_header(&self, pool_id: &str) -> Result<Vec<String>, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        Ok(import_csv::csv_header(&pool.config))
    }

    /// CreateUserImportJob.
    pub async fn create_import_job(
        &self,
        pool_id: &str,
        job_name: &str,
    ) -> Result<ImportJob, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        crate::validate::display_name("JobName", job_name, 1, 128)?;
        let now = self.clock.now_ms();
        // Whole seconds, so the URL (which carries seconds) is rebuilt identically later.
        let expires_ms = (now + UPLOAD_URL_TTL_MS) / 1000 * 1000;
        let job = ImportJob::new(ids::import_job_id(), &pool.id, job_name, now, expires_ms);
        self.store
            .write(Command::CreateImportJob(CreateImportJob {
                pool_id: pool.id.clone(),
                job: job.clone(),
            }))
            .await?;
        Ok(job)
    }

    /// DescribeUserImportJob.
    pub async fn describe_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<ImportJob, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetImportJob {
                    pool_id: pool_id.into(),
                    job_id: job_id.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| AppError::ResourceNotFound("Import job does not exist.".into()))
    }

    /// ListUserImportJobs.
    pub async fn list_import_jobs(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<ImportJob>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListImportJobs {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                },
                |j: &ImportJob| j.job_id.clone(),
            )
            .await
    }

    /// StartUserImportJob: claim the job and insert its chunks from this gateway. Also
    /// resumes a job whose gateway died, once that gateway's lease has lapsed.
    pub async fn start_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<ImportJob, AppError> {
        let now = self.clock.now_ms();
        self.store
            .write(Command::StartImportJob(StartImportJob {
                pool_id: pool_id.into(),
                job_id: job_id.into(),
                runner: self.settings.instance.clone(),
                at_ms: now,
                lease_until_ms: now + self.settings.lease.as_millis() as u64,
            }))
            .await?;
        runner::spawn(self, pool_id, job_id);
        self.describe_import_job(pool_id, job_id).await
    }

    /// StopUserImportJob.
    pub async fn stop_import_job(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<ImportJob, AppError> {
        self.store
            .write(Command::StopImportJob(StopImportJob {
                pool_id: pool_id.into(),
                job_id: job_id.into(),
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        self.describe_import_job(pool_id, job_id).await
    }

    fn upload_signature(&self, pool_id: &str, job_id: &str, expires_s: u64) -> String {
        let expires = expires_s.to_string();
        self.keyed.hash(
            UPLOAD_PURPOSE,
            &[pool_id.as_bytes(), job_id.as_bytes(), expires.as_bytes()],
        )
    }

    /// The job's upload URL: `{public_url}/{pool}/import/{job}?expires=…&signature=…`,
    /// signed with the server key so that any gateway of the cluster accepts it.
    pub fn pre_signed_url(&self, job: &ImportJob) -> String {
        let expires_s = job.upload_expires_at_ms / 1000;
        format!(
            "{}/{}/import/{}?expires={expires_s}&signature={}",
            self.urls.public_url(),
            job.pool_id,
            job.job_id,
            self.upload_signature(&job.pool_id, &job.job_id, expires_s)
        )
    }

    /// Check an upload's URL parameters: a valid signature (constant time) that has not
    /// expired. Anything else is AccessDenied.
    pub(crate) fn check_upload_url(
        &self,
        pool_id: &str,
        job_id: &str,
        expires_s: Option<u64>,
        signature: Option<&str>,
    ) -> Result<(), AppError> {
        let denied = || AppError::AccessDenied("The upload URL is invalid or has expired.".into());
        let (Some(expires_s), Some(signature)) = (expires_s, signature) else {
            return Err(denied());
        };
        let expected = self.upload_signature(pool_id, job_id, expires_s);
        if !signet_crypto::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(denied());
        }
        if self.clock.now_ms() / 1000 > expires_s {
            return Err(denied());
        }
        Ok(())
    }

    /// The pool and job an upload goes to, if it may still receive one.
    pub(crate) async fn begin_upload(
        &self,
        pool_id: &str,
        job_id: &str,
    ) -> Result<(Arc<signet_core::UserPool>, ImportJob), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let job = self.describe_import_job(pool_id, job_id).await?;
        if job.status != ImportStatus::Created {
            return Err(AppError::InvalidState(format!(
                "The import job is {}.",
                job.status.name()
            )));
        }
        if job.upload_id.is_some() {
            return Err(AppError::InvalidState(
                "A CSV file was already uploaded to this import job.".into(),
            ));
        }
        Ok((pool, job))
    }
}
