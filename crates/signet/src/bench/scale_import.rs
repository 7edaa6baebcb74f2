//! The import half of `bench scale`: pools, a CSV of users who can sign in, and one
//! import job run to completion through the public import API.

use super::ops::http_client;
use super::scale::say;
use crate::rpc::{status_error, AdminChannel};
use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::time::{Duration, Instant};

/// Every imported user's password.
pub(super) const PASSWORD: &str = "Scale-bench-9a!";

/// A pool with a public client for password sign-in; returns (pool id, client id).
pub(super) async fn pool(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    name: &str,
) -> anyhow::Result<(String, String)> {
    let pool = admin
        .create_user_pool(pb::CreateUserPoolRequest {
            pool_name: name.into(),
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .user_pool
        .context("no pool")?;
    let client = admin
        .create_user_pool_client(pb::CreateUserPoolClientRequest {
            user_pool_id: pool.id.clone(),
            client_name: "scale".into(),
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
            ..Default::default()
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .user_pool_client
        .context("no client")?;
    Ok((pool.id, client.client_id))
}

pub(super) fn username(i: u64) -> String {
    format!("u{i:08}")
}

/// The CSV of `n` users, all with the same PHC hash of [`PASSWORD`] (one argon2 run for
/// the whole file; the bench only needs users who can sign in).
fn csv(header: &[String], n: u64, phc: &str) -> Bytes {
    let mut out = String::with_capacity(n as usize * (header.len() + 120));
    out.push_str(&header.join(","));
    out.push('\n');
    for i in 0..n {
        let name = username(i);
        let cells: Vec<String> = header
            .iter()
            .map(|h| match h.as_str() {
                "cognito:username" => name.clone(),
                "email" => format!("{name}@example.com"),
                "email_verified" => "true".into(),
                "cognito:mfa_enabled" => "false".into(),
                "phone_number_verified" => "false".into(),
                // The PHC string holds commas (m=…,t=…,p=…): quoted.
                "signet:password_hash" => format!("\"{phc}\""),
                _ => String::new(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Bytes::from(out)
}

/// Import `n` users into `pool`; returns (upload seconds, apply seconds, final job).
pub(super) async fn import(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
    n: u64,
    phc: &str,
) -> anyhow::Result<(f64, f64, pb::UserImportJobType)> {
    let header = admin
        .get_csv_header(pb::UserPoolRef {
            user_pool_id: pool_id.into(),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .csv_header;
    let body = csv(&header, n, phc);
    let job = admin
        .create_user_import_job(pb::CreateUserImportJobRequest {
            user_pool_id: pool_id.into(),
            job_name: format!("scale-{n}"),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .user_import_job
        .context("no job")?;
    say(&format!(
        "uploading {n} users ({:.1} MB of CSV)",
        body.len() as f64 / 1e6
    ));
    let t = Instant::now();
    let mut req = http::Request::new(Full::new(body));
    *req.method_mut() = http::Method::PUT;
    *req.uri_mut() = job.pre_signed_url.parse()?;
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv"),
    );
    let resp = http_client()
        .request(req)
        .await
        .context("uploading the CSV")?;
    let status = resp.status();
    let answer = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "upload refused: {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    let upload_s = t.elapsed().as_secs_f64();
    let job_ref = pb::UserImportJobRef {
        user_pool_id: pool_id.into(),
        job_id: job.job_id.clone(),
    };
    let t = Instant::now();
    admin
        .start_user_import_job(job_ref.clone())
        .await
        .map_err(status_error)?;
    let mut last_print = Instant::now();
    loop {
        let j = admin
            .describe_user_import_job(job_ref.clone())
            .await
            .map_err(status_error)?
            .into_inner()
            .user_import_job
            .context("no job")?;
        match j.status.as_str() {
            "Succeeded" if j.imported_users as u64 == n => {
                return Ok((upload_s, t.elapsed().as_secs_f64(), j))
            }
            "Succeeded" => bail!(
                "imported {} of {n} users (skipped {}, failed {}): {:?}",
                j.imported_users,
                j.skipped_users,
                j.failed_users,
                j.row_errors.iter().take(3).collect::<Vec<_>>()
            ),
            "Failed" | "Stopped" => bail!("import {}: {}", j.status, j.completion_message),
            _ => {}
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            say(&format!(
                "importing: {} of {n} ({:.0}/s)",
                j.imported_users + j.skipped_users,
                (j.imported_users + j.skipped_users) as f64 / t.elapsed().as_secs_f64()
            ));
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
