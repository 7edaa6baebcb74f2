//! `signet.v1.UserPoolAdmin`, user import jobs.

use crate::Gateway;
use signet_core::ImportJob;
use signet_proto::v1 as pb;
use tonic::Status;

/// A job as the API shows it, with its upload URL.
pub(super) fn job(gw: &Gateway, j: &ImportJob) -> pb::UserImportJobType {
    pb::UserImportJobType {
        job_name: j.job_name.clone(),
        job_id: j.job_id.clone(),
        user_pool_id: j.pool_id.clone(),
        pre_signed_url: gw.imports.pre_signed_url(j),
        creation_date: j.created_at_ms as i64,
        start_date: j.started_at_ms as i64,
        completion_date: j.completed_at_ms as i64,
        status: j.status.name().into(),
        imported_users: j.imported as i64,
        skipped_users: j.skipped as i64,
        failed_users: j.failed as i64,
        completion_message: j.completion_message.clone(),
        staged_users: j.rows_staged as i64,
        row_errors: j
            .errors
            .iter()
            .map(|e| pb::ImportRowErrorType {
                line: e.line,
                reason: e.reason.clone(),
            })
            .collect(),
    }
}

fn one(gw: &Gateway, j: &ImportJob) -> pb::UserImportJobResponse {
    pb::UserImportJobResponse {
        user_import_job: Some(job(gw, j)),
    }
}

pub(super) async fn csv_header(
    gw: &Gateway,
    r: pb::UserPoolRef,
) -> Result<pb::GetCsvHeaderResponse, Status> {
    let csv_header = gw.imports.csv_header(&r.user_pool_id).await?;
    Ok(pb::GetCsvHeaderResponse {
        user_pool_id: r.user_pool_id,
        csv_header,
    })
}

pub(super) async fn export(
    gw: &Gateway,
    r: pb::ExportUsersRequest,
) -> Result<pb::ExportUsersResponse, Status> {
    let after = Some(r.next_token).filter(|t| !t.is_empty());
    let page = gw
        .imports
        .export_users(
            &r.user_pool_id,
            r.include_password_hashes,
            r.max_results as usize,
            after,
        )
        .await?;
    Ok(pb::ExportUsersResponse {
        csv: page.csv,
        users: page.users,
        skipped_external: page.skipped_external,
        next_token: page.next.unwrap_or_default(),
    })
}

pub(super) async fn create(
    gw: &Gateway,
    r: pb::CreateUserImportJobRequest,
) -> Result<pb::UserImportJobResponse, Status> {
    let j = gw
        .imports
        .create_import_job(&r.user_pool_id, &r.job_name)
        .await?;
    Ok(one(gw, &j))
}

pub(super) async fn describe(
    gw: &Gateway,
    r: pb::UserImportJobRef,
) -> Result<pb::UserImportJobResponse, Status> {
    let j = gw
        .imports
        .describe_import_job(&r.user_pool_id, &r.job_id)
        .await?;
    Ok(one(gw, &j))
}

pub(super) async fn list(
    gw: &Gateway,
    r: pb::ListUserImportJobsRequest,
) -> Result<pb::ListUserImportJobsResponse, Status> {
    let (jobs, next) = gw
        .imports
        .list_import_jobs(
            &r.user_pool_id,
            crate::api::grpc::convert::token(&r.pagination_token),
            r.max_results as usize,
        )
        .await?;
    Ok(pb::ListUserImportJobsResponse {
        user_import_jobs: jobs.iter().map(|j| job(gw, j)).collect(),
        pagination_token: next.unwrap_or_default(),
    })
}

pub(super) async fn start(
    gw: &Gateway,
    r: pb::UserImportJobRef,
) -> Result<pb::UserImportJobResponse, Status> {
    let j = gw
        .imports
        .start_import_job(&r.user_pool_id, &r.job_id)
        .await?;
    Ok(one(gw, &j))
}

pub(super) async fn stop(
    gw: &Gateway,
    r: pb::UserImportJobRef,
) -> Result<pb::UserImportJobResponse, Status> {
    let j = gw
        .imports
        .stop_import_job(&r.user_pool_id, &r.job_id)
        .await?;
    Ok(one(gw, &j))
}
