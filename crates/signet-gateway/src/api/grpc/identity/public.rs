//! `signet.v1.Identity`: GetId, GetOpenIdToken, GetCredentialsForIdentity, UnlinkIdentity.

use super::{credentials_out, sorted};
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn get_id(gw: &Gateway, r: pb::GetIdRequest) -> Result<pb::GetIdResponse, Status> {
    let identity_id = gw
        .identities
        .get_id(&r.identity_pool_id, &sorted(r.logins))
        .await?;
    Ok(pb::GetIdResponse { identity_id })
}

pub(super) async fn get_open_id_token(
    gw: &Gateway,
    r: pb::GetOpenIdTokenRequest,
) -> Result<pb::OpenIdTokenResponse, Status> {
    let token = gw
        .identities
        .get_open_id_token(&r.identity_id, &sorted(r.logins))
        .await?;
    Ok(pb::OpenIdTokenResponse {
        identity_id: r.identity_id,
        token,
    })
}

pub(super) async fn get_credentials_for_identity(
    gw: &Gateway,
    r: pb::GetCredentialsForIdentityRequest,
) -> Result<pb::GetCredentialsForIdentityResponse, Status> {
    let custom = Some(r.custom_role_arn.as_str()).filter(|c| !c.is_empty());
    let creds = gw
        .identities
        .get_credentials_for_identity(&r.identity_id, &sorted(r.logins), custom)
        .await?;
    Ok(pb::GetCredentialsForIdentityResponse {
        identity_id: r.identity_id,
        credentials: Some(credentials_out(creds)),
    })
}

pub(super) async fn unlink_identity(
    gw: &Gateway,
    r: pb::UnlinkIdentityRequest,
) -> Result<pb::Empty, Status> {
    gw.identities
        .unlink_identity(&r.identity_id, &sorted(r.logins), &r.logins_to_remove)
        .await?;
    Ok(pb::Empty {})
}
