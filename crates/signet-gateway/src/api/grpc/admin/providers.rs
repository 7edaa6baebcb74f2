//! `signet.v1.UserPoolAdmin`, identity providers.

use super::in_pool;
use crate::federation::providers::without_secrets;
use crate::federation::{ProviderInput, ProviderUserRef};
use crate::Gateway;
use signet_core::IdentityProvider;
use signet_proto::v1 as pb;
use tonic::Status;

fn input(r: &pb::IdentityProviderType) -> ProviderInput {
    ProviderInput {
        name: r.provider_name.clone(),
        provider_type: r.provider_type.clone(),
        details: r.provider_details.clone().into_iter().collect(),
        attribute_mapping: r.attribute_mapping.clone().into_iter().collect(),
        identifiers: r.idp_identifiers.clone(),
    }
}

fn out(p: &IdentityProvider) -> pb::IdentityProviderType {
    let p = without_secrets(p);
    pb::IdentityProviderType {
        user_pool_id: p.pool_id.clone(),
        provider_name: p.name.clone(),
        provider_type: p.provider_type.name().into(),
        provider_details: p.details.clone().into_iter().collect(),
        attribute_mapping: p.attribute_mapping.clone().into_iter().collect(),
        idp_identifiers: p.identifiers.clone(),
        creation_date: p.created_at_ms as i64,
        last_modified_date: p.updated_at_ms as i64,
    }
}

pub(super) async fn create_identity_provider(
    gw: &Gateway,
    r: pb::IdentityProviderType,
) -> Result<pb::IdentityProviderType, Status> {
    let p = gw
        .federation
        .create_provider(&r.user_pool_id, input(&r))
        .await?;
    Ok(out(&p))
}

pub(super) async fn describe_identity_provider(
    gw: &Gateway,
    r: pb::IdentityProviderRef,
) -> Result<pb::IdentityProviderType, Status> {
    let p = gw
        .federation
        .describe_provider(&r.user_pool_id, &r.provider_name)
        .await?;
    Ok(out(&p))
}

pub(super) async fn update_identity_provider(
    gw: &Gateway,
    r: pb::IdentityProviderType,
) -> Result<pb::IdentityProviderType, Status> {
    let p = gw
        .federation
        .update_provider(&r.user_pool_id, input(&r))
        .await?;
    Ok(out(&p))
}

pub(super) async fn delete_identity_provider(
    gw: &Gateway,
    r: pb::IdentityProviderRef,
) -> Result<pb::Empty, Status> {
    gw.federation
        .delete_provider(&r.user_pool_id, &r.provider_name)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_identity_providers(
    gw: &Gateway,
    r: pb::ListInPoolRequest,
) -> Result<pb::ListIdentityProvidersResponse, Status> {
    let (pool_id, after, limit) = in_pool(&r);
    let (providers, next) = gw.federation.list_providers(pool_id, after, limit).await?;
    Ok(pb::ListIdentityProvidersResponse {
        providers: providers.iter().map(out).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn get_identity_provider_by_identifier(
    gw: &Gateway,
    r: pb::GetIdentityProviderByIdentifierRequest,
) -> Result<pb::IdentityProviderType, Status> {
    let p = gw
        .federation
        .provider_by_identifier(&r.user_pool_id, &r.idp_identifier)
        .await?;
    Ok(out(&p))
}

fn user_ref(r: Option<&pb::ProviderUserIdentifierType>) -> ProviderUserRef {
    r.map(|u| ProviderUserRef {
        provider: u.provider_name.clone(),
        attribute: u.provider_attribute_name.clone(),
        value: u.provider_attribute_value.clone(),
    })
    .unwrap_or_default()
}

pub(super) async fn admin_link_provider_for_user(
    gw: &Gateway,
    r: pb::AdminLinkProviderForUserRequest,
) -> Result<pb::Empty, Status> {
    gw.federation
        .link_provider_for_user(
            &r.user_pool_id,
            &user_ref(r.destination_user.as_ref()),
            &user_ref(r.source_user.as_ref()),
        )
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_disable_provider_for_user(
    gw: &Gateway,
    r: pb::AdminDisableProviderForUserRequest,
) -> Result<pb::Empty, Status> {
    gw.federation
        .disable_provider_for_user(&r.user_pool_id, &user_ref(r.user.as_ref()))
        .await?;
    Ok(pb::Empty {})
}
