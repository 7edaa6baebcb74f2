//! The upload of a user import's CSV file: `PUT {public_url}/{pool}/import/{job}?expires=…
//! &signature=…` (the job's pre-signed URL) on any gateway. The body is streamed into a
//! CSV reader on a blocking thread, each row validated like AdminCreateUser, and the valid
//! users staged in chunks through the log; nothing is inserted before the job starts.
//!
//! Answers: 200 `{rows, staged, rejected}`; 403 for a bad or expired URL; 404 for an
//! unknown job; 409 for a job that is not Created or already has an upload; 413 for a
//! body or row count over the limits; 400 for a header the pool does not accept.

use crate::imports::upload::{parse, Batch, BodyReader, ParseLimits, Piece};
use crate::{AppError, Gateway};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde::Deserialize;
use signet_core::{Command, ImportJob, StageImportChunk, StopImportJob, UserPool};
use std::sync::Arc;
use tokio::sync::mpsc;

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new().route(
        "/{pool_id}/import/{job_id}",
        // The body is streamed with our own limit, not buffered under axum's 2 MB one.
        put(upload).layer(DefaultBodyLimit::disable()),
    )
}

#[derive(Debug, Deserialize)]
struct UrlParams {
    expires: Option<String>,
    signature: Option<String>,
}

/// What an upload did.
#[derive(Debug, Default, Clone, Copy)]
struct Summary {
    rows: u64,
    staged: u64,
    rejected: u64,
}

async fn upload(
    State(gw): State<Arc<Gateway>>,
    Path((pool_id, job_id)): Path<(String, String)>,
    Query(params): Query<UrlParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(gw, &pool_id, &job_id, params, &headers, body).await {
        Ok(s) => (
            StatusCode::OK,
            Json(serde_json::json!({"rows": s.rows, "staged": s.staged, "rejected": s.rejected})),
        )
            .into_response(),
        Err(e) => (e.http_status(), Json(e.http_body())).into_response(),
    }
}

async fn receive(
    gw: Arc<Gateway>,
    pool_id: &str,
    job_id: &str,
    params: UrlParams,
    headers: &HeaderMap,
    body: Body,
) -> Result<Summary, AppError> {
    let expires = params.expires.and_then(|e| e.parse::<u64>().ok());
    gw.imports
        .check_upload_url(pool_id, job_id, expires, params.signature.as_deref())?;
    let (pool, job) = gw.imports.begin_upload(pool_id, job_id).await?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > gw.cfg.import_max_bytes) {
        return Err(too_large(&gw));
    }
    // A task of its own: a client that goes away mid-upload does not cancel it half-way;
    // the body then breaks off and the task cleans up.
    tokio::spawn(process(gw, pool, job, body))
        .await
        .map_err(|e| AppError::Internal(format!("upload task: {e}")))?
}

fn too_large(gw: &Gateway) -> AppError {
    AppError::TooLarge(format!(
        "The CSV file is larger than {} bytes.",
        gw.cfg.import_max_bytes
    ))
}

/// Pump the body to the parser and stage the batches it sends back, concurrently. If the
/// upload fails after staging began, the job is stopped (dropping what was staged): a half
/// upload must never be started, and the job takes no second upload.
async fn process(
    gw: Arc<Gateway>,
    pool: Arc<UserPool>,
    job: ImportJob,
    body: Body,
) -> Result<Summary, AppError> {
    let (body_tx, body_rx) = mpsc::channel(16);
    let (batch_tx, batch_rx) = mpsc::channel(2);
    let limits = ParseLimits {
        max_rows: gw.cfg.import_max_rows,
        chunk_rows: gw.cfg.import_chunk_rows,
        now_ms: gw.now_ms(),
    };
    let parser = {
        tokio::task::spawn_blocking(move || {
            parse(&limits, &pool, BodyReader::new(body_rx), batch_tx)
        })
    };
    let upload_id = signet_crypto::random_hex_id();
    let ((pumped, (staged_chunks, staged)), parsed) = (
        tokio::join!(
            pump(body, body_tx, gw.cfg.import_max_bytes),
            stage(&gw, &job, &upload_id, batch_rx)
        ),
        parser.await,
    );
    // The first cause wins: a broken body explains the parser's error, a refused chunk
    // explains why the parser could not hand over its batches.
    let result = match (pumped, staged, parsed) {
        (Err(BodyError::TooLarge), _, _) => Err(too_large(&gw)),
        (Err(BodyError::Broken), _, _) => Err(AppError::invalid("The upload broke off.")),
        (Ok(()), Err(e), _) => Err(e),
        (Ok(()), Ok(_), Err(e)) => Err(AppError::Internal(format!("upload parser: {e}"))),
        (Ok(()), Ok(_), Ok(Err(e))) => Err(e),
        (Ok(()), Ok(mut summary), Ok(Ok(rows))) => {
            summary.rows = rows;
            Ok(summary)
        }
    };
    if result.is_err() && staged_chunks > 0 {
        let stop = Command::StopImportJob(StopImportJob {
            pool_id: job.pool_id.clone(),
            job_id: job.job_id.clone(),
            at_ms: gw.now_ms(),
        });
        if let Err(e) = gw.store.write(stop).await {
            tracing::warn!(job_id = %job.job_id, "stopping a broken upload's job: {e}");
        }
    }
    result
}

/// Stage each batch as the next chunk. Returns how many were staged, and the totals or the
/// first failure (after which the receiver is dropped, which stops the parser).
async fn stage(
    gw: &Gateway,
    job: &ImportJob,
    upload_id: &str,
    mut batches: mpsc::Receiver<Batch>,
) -> (u32, Result<Summary, AppError>) {
    let mut seq = 0u32;
    let mut summary = Summary::default();
    while let Some(b) = batches.recv().await {
        let (staged, rejected) = (b.rows.len() as u64, b.rejected_rows);
        let cmd = Command::StageImportChunk(StageImportChunk {
            pool_id: job.pool_id.clone(),
            job_id: job.job_id.clone(),
            upload_id: upload_id.into(),
            seq,
            last: b.last,
            rows: b.rows,
            rejected_rows: b.rejected_rows,
            rejected: b.rejected,
        });
        if let Err(e) = gw.store.write(cmd).await {
            return (seq, Err(e));
        }
        seq += 1;
        summary.staged += staged;
        summary.rejected += rejected;
    }
    (seq, Ok(summary))
}

/// Why the body could not be read to its end.
#[derive(Debug, Clone, Copy)]
enum BodyError {
    TooLarge,
    Broken,
}

/// Feed the body to the parser, at most `max` bytes. Stops quietly if the parser stops.
async fn pump(mut body: Body, tx: mpsc::Sender<Piece>, max: u64) -> Result<(), BodyError> {
    let mut total = 0u64;
    loop {
        match body.frame().await {
            None => {
                let _ = tx.send(Piece::End).await;
                return Ok(());
            }
            Some(Err(_)) => {
                let _ = tx.send(Piece::Failed).await;
                return Err(BodyError::Broken);
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                total += data.len() as u64;
                if total > max {
                    let _ = tx.send(Piece::Failed).await;
                    return Err(BodyError::TooLarge);
                }
                if tx.send(Piece::Data(data)).await.is_err() {
                    return Ok(()); // the parser stopped; its answer says why
                }
            }
        }
    }
}
