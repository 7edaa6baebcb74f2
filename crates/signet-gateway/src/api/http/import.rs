//! The upload of a user import's CSV file: `PUT {public_url}/{pool}/import/{job}?expires=…
//! &signature=…` (the job's pre-signed URL) on any gateway. The body is streamed into a
//! CSV reader on a blocking thread, each row validated like AdminCreateUser, and the valid
//! users staged in chunks through the log; nothing is inserted before the job starts.
//!
//! Answers: 200 `{rows, staged, rejected}`; 403 for a bad or expired URL; 404 for an
//! unknown job; 409 for a job that is not Created or already has an upload; 413 for a
//! body or row count over the limits; 400 for a header the pool does not accept.

use crate::imports::receive::UploadSummary;
use crate::{AppError, Gateway};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

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
) -> Result<UploadSummary, AppError> {
    let expires = params.expires.and_then(|e| e.parse::<u64>().ok());
    gw.imports
        .check_upload_url(pool_id, job_id, expires, params.signature.as_deref())?;
    let (pool, job) = gw.imports.begin_upload(pool_id, job_id).await?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > gw.cfg.import_max_bytes) {
        return Err(gw.imports.too_large());
    }
    // A task of its own: a client that goes away mid-upload does not cancel it half-way;
    // the body then breaks off and the task cleans up.
    let imports = gw.imports.clone();
    tokio::spawn(async move { imports.receive_upload(pool, job, body).await })
        .await
        .map_err(|e| AppError::Internal(format!("upload task: {e}")))?
}
