//! `signet admin import-jobs …` and `signet admin import-users`: bulk user import through
//! the gateway's import-job calls, the CSV file sent with an HTTP PUT to the job's
//! pre-signed URL (streamed from disk, never read whole into memory).

use super::Admin;
use crate::cli::import::{ExportUsersArgs, ImportJobsCommand, ImportUsersArgs, JobSel, UploadFile};
use crate::exit::Exit;
use crate::output::emit;
use crate::proto_json as pj;
use crate::rpc::{all_pages, answer, PAGE};
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Exit status of `import-users --wait` when the job ended other than Succeeded.
const NOT_SUCCEEDED: u8 = 4;

fn job_ref(j: JobSel) -> pb::UserImportJobRef {
    pb::UserImportJobRef {
        user_pool_id: j.pool,
        job_id: j.job_id,
    }
}

fn job_of(r: pb::UserImportJobResponse) -> anyhow::Result<pb::UserImportJobType> {
    r.user_import_job
        .context("the gateway answered without a job")
}

/// `signet admin import-jobs …`
pub async fn jobs(c: &mut Admin, command: ImportJobsCommand) -> anyhow::Result<Value> {
    Ok(match command {
        ImportJobsCommand::CsvHeader { pool } => {
            let r = answer(
                c.get_csv_header(pb::UserPoolRef { user_pool_id: pool })
                    .await,
            )?;
            json!({ "user_pool_id": r.user_pool_id, "csv_header": r.csv_header })
        }
        ImportJobsCommand::Create { pool, name } => {
            let j = create(c, pool, name).await?;
            json!({ "user_import_job": pj::import_job(&j) })
        }
        ImportJobsCommand::Upload { job, file } => {
            let j = job_of(answer(c.describe_user_import_job(job_ref(job)).await)?)?;
            upload(&j.pre_signed_url, &file).await?
        }
        ImportJobsCommand::Start(job) => {
            let j = job_of(answer(c.start_user_import_job(job_ref(job)).await)?)?;
            json!({ "user_import_job": pj::import_job(&j) })
        }
        ImportJobsCommand::Describe(job) => {
            let j = job_of(answer(c.describe_user_import_job(job_ref(job)).await)?)?;
            json!({ "user_import_job": pj::import_job(&j) })
        }
        ImportJobsCommand::Stop(job) => {
            let j = job_of(answer(c.stop_user_import_job(job_ref(job)).await)?)?;
            json!({ "user_import_job": pj::import_job(&j) })
        }
        ImportJobsCommand::List { pool } => {
            let all = all_pages(async |pagination_token| {
                let r = answer(
                    c.list_user_import_jobs(pb::ListUserImportJobsRequest {
                        user_pool_id: pool.clone(),
                        max_results: PAGE,
                        pagination_token,
                    })
                    .await,
                )?;
                Ok((
                    r.user_import_jobs.iter().map(pj::import_job).collect(),
                    r.pagination_token,
                ))
            })
            .await?;
            json!({ "user_import_jobs": all })
        }
    })
}

async fn create(
    c: &mut Admin,
    pool: String,
    name: String,
) -> anyhow::Result<pb::UserImportJobType> {
    job_of(answer(
        c.create_user_import_job(pb::CreateUserImportJobRequest {
            user_pool_id: pool,
            job_name: name,
        })
        .await,
    )?)
}

/// `signet admin import-users`: create, upload, start; with `--wait`, follow to the end.
pub async fn import_users(c: &mut Admin, a: ImportUsersArgs) -> anyhow::Result<Value> {
    let job = create(c, a.pool.clone(), a.name).await?;
    eprintln!("created import job {}", job.job_id);
    let uploaded = upload(&job.pre_signed_url, &a.file).await?;
    eprintln!(
        "uploaded: {} rows, {} staged, {} rejected",
        uploaded["rows"], uploaded["staged"], uploaded["rejected"]
    );
    let sel = || JobSel {
        pool: a.pool.clone(),
        job_id: job.job_id.clone(),
    };
    let mut j = job_of(answer(c.start_user_import_job(job_ref(sel())).await)?)?;
    if !a.wait {
        return Ok(json!({ "user_import_job": pj::import_job(&j) }));
    }
    while !matches!(j.status.as_str(), "Succeeded" | "Stopped" | "Failed") {
        eprintln!(
            "{}: {} of {} imported, {} skipped, {} failed",
            j.status, j.imported_users, j.staged_users, j.skipped_users, j.failed_users
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        j = job_of(answer(c.describe_user_import_job(job_ref(sel())).await)?)?;
    }
    let out = json!({ "user_import_job": pj::import_job(&j) });
    if j.status != "Succeeded" {
        emit(&out)?;
        return Err(Exit {
            code: NOT_SUCCEEDED,
            message: format!(
                "the import job ended {}: {}",
                j.status, j.completion_message
            ),
        }
        .into());
    }
    eprintln!(
        "{}: {} imported, {} skipped, {} failed",
        j.status, j.imported_users, j.skipped_users, j.failed_users
    );
    Ok(out)
}

/// The URL to PUT to: the pre-signed one, or its path and query under `base`.
fn target_url(pre_signed: &str, base: Option<&str>) -> anyhow::Result<String> {
    let Some(base) = base else {
        return Ok(pre_signed.to_string());
    };
    let uri: http::Uri = pre_signed
        .parse()
        .with_context(|| format!("bad pre-signed URL {pre_signed}"))?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

/// PUT the file to the job's URL, streamed in 64 KiB pieces; returns the gateway's answer.
async fn upload(pre_signed: &str, file: &UploadFile) -> anyhow::Result<Value> {
    let url = target_url(pre_signed, file.upload_base.as_deref())?;
    let f = tokio::fs::File::open(&file.csv)
        .await
        .with_context(|| format!("cannot open {}", file.csv.display()))?;
    let len = f.metadata().await?.len();
    let pieces = futures::stream::unfold(f, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(http_body::Frame::data(Bytes::from(buf))), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client = Client::builder(TokioExecutor::new()).build(https);
    let req = http::Request::put(&url)
        .header(http::header::CONTENT_TYPE, "text/csv")
        .header(http::header::CONTENT_LENGTH, len)
        .body(StreamBody::new(pieces).boxed_unsync())
        .with_context(|| format!("bad upload URL {url}"))?;
    let resp = client
        .request(req)
        .await
        .with_context(|| format!("uploading to {url}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .context("reading the upload's answer")?
        .to_bytes();
    let answer: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    if !status.is_success() {
        let name = answer["error"].as_str().unwrap_or("UploadFailed");
        let message = answer["message"].as_str().unwrap_or_default();
        anyhow::bail!("{name}: the upload was refused ({status}): {message}");
    }
    Ok(answer)
}

/// Where an export's progress is kept: FILE.next, holding the file's length after the last
/// page written and the token of the next page.
fn progress_path(out: &std::path::Path) -> std::path::PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".next");
    p.into()
}

/// Record progress atomically (a new file renamed over the old one).
fn save_progress(path: &std::path::Path, len: u64, token: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("next.tmp");
    std::fs::write(&tmp, format!("{len}\n{token}\n"))
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `signet admin export-users`: every page of the pool's export appended to the file,
/// synced, then the progress recorded; `--resume` cuts the file back to the last recorded
/// length (a page written but not recorded is written again, never twice).
pub async fn export_users(c: &mut Admin, a: ExportUsersArgs) -> anyhow::Result<Value> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let progress = progress_path(&a.out);
    let (mut file, mut len, mut token) = if a.resume {
        let text = std::fs::read_to_string(&progress).with_context(|| {
            format!(
                "nothing to resume: {} is missing (the export ended, or never began)",
                progress.display()
            )
        })?;
        let mut lines = text.lines();
        let len: u64 = lines
            .next()
            .and_then(|l| l.parse().ok())
            .with_context(|| format!("{} is not an export's progress", progress.display()))?;
        let token = lines.next().unwrap_or("").to_string();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&a.out)
            .with_context(|| format!("opening {}", a.out.display()))?;
        file.set_len(len)?;
        (file, len, token)
    } else {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&a.out)
            .with_context(|| {
                format!(
                    "creating {} (an existing file is not overwritten; --resume continues an interrupted export)",
                    a.out.display()
                )
            })?;
        save_progress(&progress, 0, "")?;
        (file, 0, String::new())
    };
    let mut file_end = std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0))?;
    debug_assert_eq!(file_end, len);
    let (mut users, mut skipped) = (0u64, 0u64);
    loop {
        let r = answer(
            c.export_users(pb::ExportUsersRequest {
                user_pool_id: a.pool.clone(),
                include_password_hashes: a.include_password_hashes,
                max_results: a.page_size,
                next_token: token.clone(),
            })
            .await,
        )?;
        file.write_all(r.csv.as_bytes())?;
        file.sync_data()?;
        file_end += r.csv.len() as u64;
        len = file_end;
        users += u64::from(r.users);
        skipped += u64::from(r.skipped_external);
        if r.next_token.is_empty() {
            std::fs::remove_file(&progress)
                .with_context(|| format!("removing {}", progress.display()))?;
            break;
        }
        save_progress(&progress, len, &r.next_token)?;
        token = r.next_token;
    }
    Ok(json!({
        "user_pool_id": a.pool,
        "file": a.out.display().to_string(),
        "users": users,
        "skipped_external": skipped,
        "password_hashes": a.include_password_hashes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_base_keeps_the_signed_path_and_query() {
        let url = "https://id.example.com/eu_1/import/import-x?expires=5&signature=ab";
        assert_eq!(target_url(url, None).unwrap(), url);
        assert_eq!(
            target_url(url, Some("http://127.0.0.1:7411/")).unwrap(),
            "http://127.0.0.1:7411/eu_1/import/import-x?expires=5&signature=ab"
        );
    }
}
