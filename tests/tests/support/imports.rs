//! Helpers for user import tests: jobs, uploads through the pre-signed URL, waiting for a
//! job to finish.

use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, wait_for_async, TEST_PUBLIC_URL};
use std::time::Duration;

/// The columns most tests upload.
pub const HEADER: &str = "cognito:username,email,email_verified,cognito:mfa_enabled";

/// CreateUserImportJob on `gw`.
pub async fn create_job(gw: &GatewayHandle, pool_id: &str) -> pb::UserImportJobType {
    admin_client(gw)
        .await
        .create_user_import_job(admin(pb::CreateUserImportJobRequest {
            user_pool_id: pool_id.into(),
            job_name: "test import".into(),
        }))
        .await
        .expect("create import job")
        .into_inner()
        .user_import_job
        .expect("job")
}

/// The path and query of a pre-signed URL (tests reach the gateway by address; the URL
/// names the public URL).
pub fn path_of(url: &str) -> String {
    url.strip_prefix(TEST_PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not under {TEST_PUBLIC_URL}"))
        .to_string()
}

/// PUT `csv` to a URL path on `gw`'s HTTP port: (status, JSON body).
pub async fn upload_to(gw: &GatewayHandle, path: &str, csv: &str) -> (u16, serde_json::Value) {
    let (status, body) =
        super::http::put(&gw.http_addr().to_string(), path, csv.as_bytes(), None).await;
    let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (status, json)
}

/// PUT `csv` to the job's pre-signed URL on `gw`.
pub async fn upload(
    gw: &GatewayHandle,
    job: &pb::UserImportJobType,
    csv: &str,
) -> (u16, serde_json::Value) {
    upload_to(gw, &path_of(&job.pre_signed_url), csv).await
}

fn job_ref(pool_id: &str, job_id: &str) -> pb::UserImportJobRef {
    pb::UserImportJobRef {
        user_pool_id: pool_id.into(),
        job_id: job_id.into(),
    }
}

/// DescribeUserImportJob on `gw`.
pub async fn describe(gw: &GatewayHandle, pool_id: &str, job_id: &str) -> pb::UserImportJobType {
    admin_client(gw)
        .await
        .describe_user_import_job(admin(job_ref(pool_id, job_id)))
        .await
        .expect("describe import job")
        .into_inner()
        .user_import_job
        .expect("job")
}

/// StartUserImportJob on `gw`.
pub async fn start(
    gw: &GatewayHandle,
    pool_id: &str,
    job_id: &str,
) -> Result<pb::UserImportJobType, tonic::Status> {
    admin_client(gw)
        .await
        .start_user_import_job(admin(job_ref(pool_id, job_id)))
        .await
        .map(|r| r.into_inner().user_import_job.expect("job"))
}

/// StopUserImportJob on `gw`.
pub async fn stop(
    gw: &GatewayHandle,
    pool_id: &str,
    job_id: &str,
) -> Result<pb::UserImportJobType, tonic::Status> {
    admin_client(gw)
        .await
        .stop_user_import_job(admin(job_ref(pool_id, job_id)))
        .await
        .map(|r| r.into_inner().user_import_job.expect("job"))
}

/// Poll DescribeUserImportJob on `gw` until the job is Succeeded, Stopped or Failed.
pub async fn wait_final(gw: &GatewayHandle, pool_id: &str, job_id: &str) -> pb::UserImportJobType {
    wait_for_async(
        "the import job to finish",
        Duration::from_secs(120),
        || async {
            let j = describe(gw, pool_id, job_id).await;
            matches!(j.status.as_str(), "Succeeded" | "Stopped" | "Failed").then_some(j)
        },
    )
    .await
}

/// Every user of a pool, through ListUsers pages.
pub async fn all_users(gw: &GatewayHandle, pool_id: &str) -> Vec<pb::UserType> {
    let mut a = admin_client(gw).await;
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = a
            .list_users(admin(pb::ListUsersRequest {
                user_pool_id: pool_id.into(),
                limit: 60,
                pagination_token: token,
                ..Default::default()
            }))
            .await
            .expect("list users")
            .into_inner();
        out.extend(page.users);
        if page.pagination_token.is_empty() {
            return out;
        }
        token = page.pagination_token;
    }
}
