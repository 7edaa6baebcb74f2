//! `signet.v1.UserPoolAdmin`, signing keys (list, rotate, revoke) and admin access keys
//! (create, list, activate or deactivate, delete).

use crate::api::grpc::convert as cv;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn list_signing_keys(
    gw: &Gateway,
    _: pb::Empty,
) -> Result<pb::ListSigningKeysResponse, Status> {
    let keys = gw.key_admin.list().await?;
    Ok(pb::ListSigningKeysResponse {
        keys: keys.iter().map(cv::signing_key).collect(),
    })
}

pub(super) async fn rotate_signing_keys(gw: &Gateway, _: pb::Empty) -> Result<pb::Empty, Status> {
    gw.key_admin.rotate().await?;
    Ok(pb::Empty {})
}

pub(super) async fn revoke_signing_key(gw: &Gateway, r: pb::KidRef) -> Result<pb::Empty, Status> {
    gw.key_admin.revoke(&r.kid).await?;
    Ok(pb::Empty {})
}

fn admin_key(k: &signet_core::AdminAccessKey) -> pb::AdminAccessKeyType {
    pb::AdminAccessKeyType {
        access_key_id: k.access_key_id.clone(),
        description: k.description.clone(),
        active: k.active,
        create_date: k.created_at_ms as i64,
    }
}

pub(super) async fn create_admin_access_key(
    gw: &Gateway,
    r: pb::CreateAdminAccessKeyRequest,
) -> Result<pb::AdminAccessKeyResponse, Status> {
    let made = gw.aws.create_key(&r.description).await?;
    Ok(pb::AdminAccessKeyResponse {
        admin_access_key: Some(admin_key(&made.key)),
        secret_access_key: made.secret_access_key,
    })
}

pub(super) async fn list_admin_access_keys(
    gw: &Gateway,
    r: pb::ListRequest,
) -> Result<pb::ListAdminAccessKeysResponse, Status> {
    let (keys, next) = gw
        .aws
        .list_keys(cv::token(&r.next_token), r.max_results as usize)
        .await?;
    Ok(pb::ListAdminAccessKeysResponse {
        admin_access_keys: keys.iter().map(admin_key).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn update_admin_access_key(
    gw: &Gateway,
    r: pb::UpdateAdminAccessKeyRequest,
) -> Result<pb::AdminAccessKeyResponse, Status> {
    let key = gw.aws.set_key_active(&r.access_key_id, r.active).await?;
    Ok(pb::AdminAccessKeyResponse {
        admin_access_key: Some(admin_key(&key)),
        secret_access_key: String::new(),
    })
}

pub(super) async fn delete_admin_access_key(
    gw: &Gateway,
    r: pb::AdminAccessKeyRef,
) -> Result<pb::Empty, Status> {
    gw.aws.delete_key(&r.access_key_id).await?;
    Ok(pb::Empty {})
}
