//! Command-line arguments of `signet admin import-jobs …` and `signet admin import-users`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `--pool` and `--job-id`: one import job.
#[derive(Args, Debug)]
pub struct JobSel {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// Import job id (`import-…`).
    #[arg(long)]
    pub job_id: String,
}

/// Where and how to upload a CSV file.
#[derive(Args, Debug)]
pub struct UploadFile {
    /// The CSV file (its header from `import-jobs csv-header`; quote PHC strings, they hold
    /// commas).
    #[arg(long)]
    pub csv: PathBuf,
    /// Send the upload to this base URL (scheme://host[:port]) instead of the gateway's
    /// public URL in the pre-signed URL, e.g. when the public URL is not reachable from here.
    #[arg(long)]
    pub upload_base: Option<String>,
}

/// `signet admin import-jobs …`
#[derive(Subcommand, Debug)]
pub enum ImportJobsCommand {
    /// The columns the pool's CSV files may have (Cognito's, plus signet:password_hash).
    CsvHeader {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Create an import job; prints it with its pre-signed upload URL (valid 15 minutes).
    Create {
        /// User pool id.
        #[arg(long)]
        pool: String,
        /// Name of the job.
        #[arg(long, default_value = "import")]
        name: String,
    },
    /// Upload a CSV file to a job's pre-signed URL (HTTP PUT); prints the rows read, staged
    /// and rejected.
    Upload {
        #[command(flatten)]
        job: JobSel,
        #[command(flatten)]
        file: UploadFile,
    },
    /// Start inserting the uploaded users (also resumes a job whose gateway died).
    Start(JobSel),
    /// Show a job and its progress.
    Describe(JobSel),
    /// List the import jobs of a pool.
    List {
        /// User pool id.
        #[arg(long)]
        pool: String,
    },
    /// Stop a job (a running one stops at its next chunk of users).
    Stop(JobSel),
}

/// `signet admin import-users`: create, upload, start (and follow) in one go.
#[derive(Args, Debug)]
pub struct ImportUsersArgs {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    #[command(flatten)]
    pub file: UploadFile,
    /// Name of the job.
    #[arg(long, default_value = "import")]
    pub name: String,
    /// Follow the job until it ends (progress on stderr), then print it; exits non-zero
    /// unless it Succeeded.
    #[arg(long)]
    pub wait: bool,
}

/// `signet admin export-users`.
#[derive(Args, Debug)]
pub struct ExportUsersArgs {
    /// User pool id.
    #[arg(long)]
    pub pool: String,
    /// The CSV file to write (made with mode 0600; not overwritten). Its progress is kept
    /// beside it in FILE.next until the export ends.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write each user's argon2 password hash, so that the users sign in with their
    /// passwords after an import into another Signet. The file is then a secret.
    #[arg(long)]
    pub include_password_hashes: bool,
    /// Continue an interrupted export of the same pool into the same file.
    #[arg(long)]
    pub resume: bool,
    /// Users per call (1-1000).
    #[arg(long, default_value_t = 500)]
    pub page_size: u32,
}
