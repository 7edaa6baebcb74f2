//! `signet.v1.UserPoolAdmin`, signing keys: list, rotate, revoke.

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
