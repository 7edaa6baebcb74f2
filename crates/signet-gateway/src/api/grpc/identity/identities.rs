//! `signet.v1.IdentityAdmin`, identities and developer-authenticated OpenID tokens.

use super::sorted;
use crate::api::grpc::convert as cv;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn list_identities(
    gw: &Gateway,
    r: pb::ListIdentitiesRequest,
) -> Result<pb::ListIdentitiesResponse, Status> {
    let (ids, next) = gw
        .identity_pools
        .list_identities(
            &r.identity_pool_id,
            r.max_results as usize,
            cv::token(&r.next_token),
        )
        .await?;
    Ok(pb::ListIdentitiesResponse {
        identity_pool_id: r.identity_pool_id,
        identities: ids.iter().map(identity_out).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn describe_identity(
    gw: &Gateway,
    r: pb::IdentityRef,
) -> Result<pb::IdentityDescription, Status> {
    let i = gw.identity_pools.describe_identity(&r.identity_id).await?;
    Ok(identity_out(&i))
}

pub(super) async fn delete_identities(
    gw: &Gateway,
    r: pb::DeleteIdentitiesRequest,
) -> Result<pb::DeleteIdentitiesResponse, Status> {
    let missing = gw
        .identity_pools
        .delete_identities(&r.identity_ids_to_delete)
        .await?;
    Ok(pb::DeleteIdentitiesResponse {
        unprocessed_identity_ids: missing
            .into_iter()
            .map(|identity_id| pb::UnprocessedIdentityId {
                identity_id,
                error_code: "ResourceNotFound".into(),
            })
            .collect(),
    })
}

pub(super) async fn get_open_id_token_for_developer_identity(
    gw: &Gateway,
    r: pb::GetOpenIdTokenForDeveloperIdentityRequest,
) -> Result<pb::OpenIdTokenResponse, Status> {
    let identity = Some(r.identity_id.as_str()).filter(|i| !i.is_empty());
    let (identity_id, token) = gw
        .identities
        .get_open_id_token_for_developer_identity(
            &r.identity_pool_id,
            identity,
            &sorted(r.logins),
            r.token_duration,
        )
        .await?;
    Ok(pb::OpenIdTokenResponse { identity_id, token })
}

fn identity_out(i: &signet_core::Identity) -> pb::IdentityDescription {
    pb::IdentityDescription {
        identity_id: i.identity_id.clone(),
        logins: i.logins.keys().cloned().collect(),
        creation_date: i.created_at_ms,
        last_modified_date: i.updated_at_ms,
    }
}
