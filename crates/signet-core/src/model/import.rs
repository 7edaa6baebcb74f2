use super::User;
use serde::{Deserialize, Serialize};

/// Row problems an import job keeps (the counters keep counting past it): enough to fix a
/// file, bounded so that a file of garbage cannot grow the job record without limit.
pub const MAX_IMPORT_ERRORS: usize = 100;

/// Lifecycle of a user import job, with Cognito's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    /// Created; the CSV file may be uploaded.
    Created,
    /// A gateway is inserting the staged users, chunk by chunk.
    InProgress,
    /// Asked to stop; the runner stops at the next chunk boundary.
    Stopping,
    /// Stopped before the end; users inserted so far stay.
    Stopped,
    /// Every staged chunk was applied.
    Succeeded,
    /// The job could not go on (see its completion message).
    Failed,
}

impl ImportStatus {
    /// Cognito's name.
    pub fn name(self) -> &'static str {
        match self {
            ImportStatus::Created => "Created",
            ImportStatus::InProgress => "InProgress",
            ImportStatus::Stopping => "Stopping",
            ImportStatus::Stopped => "Stopped",
            ImportStatus::Succeeded => "Succeeded",
            ImportStatus::Failed => "Failed",
        }
    }

    /// No further transition leaves this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ImportStatus::Stopped | ImportStatus::Succeeded | ImportStatus::Failed
        )
    }
}

/// A CSV row that was refused (failed) or not inserted (skipped), by line number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line of the CSV file where the row starts.
    pub line: u64,
    /// What was wrong with it.
    pub reason: String,
}

/// A bulk user import (Cognito's UserImportJob) and its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    /// `import-` and 22 random alphanumerics, chosen by the proposer.
    pub job_id: String,
    /// Pool the users go to.
    pub pool_id: String,
    /// Name given at creation.
    pub job_name: String,
    /// Lifecycle state.
    pub status: ImportStatus,
    /// Creation time, Unix ms.
    pub created_at_ms: u64,
    /// When the job was first started, Unix ms (0: not yet).
    #[serde(default)]
    pub started_at_ms: u64,
    /// When the job reached a final status, Unix ms (0: not yet).
    #[serde(default)]
    pub completed_at_ms: u64,
    /// The upload URL handed out at creation stops working at this time, Unix ms.
    pub upload_expires_at_ms: u64,
    /// The upload that staged the chunks (a second upload is refused).
    #[serde(default)]
    pub upload_id: Option<String>,
    /// The upload's last chunk is staged: the job may start.
    #[serde(default)]
    pub upload_complete: bool,
    /// Valid rows staged for insertion.
    #[serde(default)]
    pub rows_staged: u64,
    /// Chunks staged (`0..chunks_staged`).
    #[serde(default)]
    pub chunks_staged: u32,
    /// The next chunk to apply; chunks before it are applied and deleted.
    #[serde(default)]
    pub next_chunk: u32,
    /// Users inserted.
    #[serde(default)]
    pub imported: u64,
    /// Users not inserted because their username or a sign-in alias was taken.
    #[serde(default)]
    pub skipped: u64,
    /// Rows refused (malformed or invalid).
    #[serde(default)]
    pub failed: u64,
    /// The first [`MAX_IMPORT_ERRORS`] failed or skipped rows, with the reason.
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// Summary once final.
    #[serde(default)]
    pub completion_message: String,
    /// Gateway instance running the job.
    #[serde(default)]
    pub runner: String,
    /// The runner's claim lapses at this time, Unix ms; each chunk it applies renews it.
    #[serde(default)]
    pub lease_until_ms: u64,
}

impl ImportJob {
    /// A new job awaiting its CSV file.
    pub fn new(
        job_id: impl Into<String>,
        pool_id: impl Into<String>,
        job_name: impl Into<String>,
        at_ms: u64,
        upload_expires_at_ms: u64,
    ) -> ImportJob {
        ImportJob {
            job_id: job_id.into(),
            pool_id: pool_id.into(),
            job_name: job_name.into(),
            status: ImportStatus::Created,
            created_at_ms: at_ms,
            started_at_ms: 0,
            completed_at_ms: 0,
            upload_expires_at_ms,
            upload_id: None,
            upload_complete: false,
            rows_staged: 0,
            chunks_staged: 0,
            next_chunk: 0,
            imported: 0,
            skipped: 0,
            failed: 0,
            errors: vec![],
            completion_message: String::new(),
            runner: String::new(),
            lease_until_ms: 0,
        }
    }

    /// Keep `e` if fewer than [`MAX_IMPORT_ERRORS`] are kept.
    pub fn note(&mut self, e: RowError) {
        if self.errors.len() < MAX_IMPORT_ERRORS {
            self.errors.push(e);
        }
    }
}

/// One validated CSV row, ready to insert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    /// 1-based line of the CSV file where the row starts.
    pub line: u64,
    /// The user, built and validated by the gateway exactly as AdminCreateUser builds one.
    pub user: User,
    /// Groups of the pool the user joins (each must exist when the row is applied, else
    /// the row fails and no user is made).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A staged slice of an import, applied as one log entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportChunk {
    /// Rows in file order.
    pub rows: Vec<ImportRow>,
}
