//! `signet.v1.IdentityAdmin`, identity pools and their roles.

use super::mapping::{mapping_in, mapping_out};
use crate::api::grpc::convert as cv;
use crate::identity::pools::IdentityPoolInput;
use crate::{AppError, Gateway};
use signet_core::PoolRoles;
use signet_core::{IdentityPool, LoginProvider};
use signet_proto::v1 as pb;
use std::collections::{BTreeMap, HashMap};
use tonic::Status;

pub(super) async fn create_identity_pool(
    gw: &Gateway,
    r: pb::IdentityPoolType,
) -> Result<pb::IdentityPoolType, Status> {
    let p = gw.identity_pools.create_identity_pool(pool_in(r)).await?;
    Ok(pool_out(&p))
}

pub(super) async fn describe_identity_pool(
    gw: &Gateway,
    r: pb::IdentityPoolRef,
) -> Result<pb::IdentityPoolType, Status> {
    let p = gw
        .identity_pools
        .describe_identity_pool(&r.identity_pool_id)
        .await?;
    Ok(pool_out(&p))
}

pub(super) async fn update_identity_pool(
    gw: &Gateway,
    r: pb::IdentityPoolType,
) -> Result<pb::IdentityPoolType, Status> {
    let id = r.identity_pool_id.clone();
    let p = gw
        .identity_pools
        .update_identity_pool(&id, pool_in(r))
        .await?;
    Ok(pool_out(&p))
}

pub(super) async fn delete_identity_pool(
    gw: &Gateway,
    r: pb::IdentityPoolRef,
) -> Result<pb::Empty, Status> {
    gw.identity_pools
        .delete_identity_pool(&r.identity_pool_id)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_identity_pools(
    gw: &Gateway,
    r: pb::ListRequest,
) -> Result<pb::ListIdentityPoolsResponse, Status> {
    let (pools, next) = gw
        .identity_pools
        .list_identity_pools(r.max_results as usize, cv::token(&r.next_token))
        .await?;
    Ok(pb::ListIdentityPoolsResponse {
        identity_pools: pools.iter().map(pool_out).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn set_identity_pool_roles(
    gw: &Gateway,
    r: pb::IdentityPoolRolesType,
) -> Result<pb::Empty, Status> {
    let mut roles = PoolRoles::default();
    for (k, v) in r.roles {
        match k.as_str() {
            "authenticated" => roles.authenticated = Some(v),
            "unauthenticated" => roles.unauthenticated = Some(v),
            other => {
                return Err(AppError::invalid(format!(
                    "roles keys are authenticated and unauthenticated, not {other:?}"
                ))
                .into())
            }
        }
    }
    let mut mappings = BTreeMap::new();
    for (provider, m) in r.role_mappings {
        let m = mapping_in(&provider, m)?;
        mappings.insert(provider, m);
    }
    gw.identity_pools
        .set_identity_pool_roles(&r.identity_pool_id, roles, mappings)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn get_identity_pool_roles(
    gw: &Gateway,
    r: pb::IdentityPoolRef,
) -> Result<pb::IdentityPoolRolesType, Status> {
    let p = gw
        .identity_pools
        .describe_identity_pool(&r.identity_pool_id)
        .await?;
    let mut roles = HashMap::new();
    if let Some(a) = &p.roles.authenticated {
        roles.insert("authenticated".to_string(), a.clone());
    }
    if let Some(u) = &p.roles.unauthenticated {
        roles.insert("unauthenticated".to_string(), u.clone());
    }
    Ok(pb::IdentityPoolRolesType {
        identity_pool_id: p.id.clone(),
        roles,
        role_mappings: p
            .role_mappings
            .iter()
            .map(|(k, m)| (k.clone(), mapping_out(m)))
            .collect(),
    })
}

fn pool_out(p: &IdentityPool) -> pb::IdentityPoolType {
    let mut cognito = Vec::new();
    let mut oidc = Vec::new();
    let mut social = HashMap::new();
    let mut endpoints = HashMap::new();
    for provider in &p.providers {
        match provider {
            LoginProvider::UserPool { client_ids, .. } => {
                for c in client_ids {
                    cognito.push(pb::CognitoIdentityProviderType {
                        provider_name: provider.name(),
                        client_id: c.clone(),
                    });
                }
            }
            LoginProvider::Oidc {
                issuer,
                jwks_url,
                client_ids,
            } => oidc.push(pb::OpenIdConnectProviderType {
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                client_ids: client_ids.clone(),
            }),
            LoginProvider::Social {
                provider,
                app_id,
                endpoint,
            } => {
                social.insert(provider.clone(), app_id.clone());
                if let Some(e) = endpoint {
                    endpoints.insert(provider.clone(), e.clone());
                }
            }
        }
    }
    pb::IdentityPoolType {
        identity_pool_id: p.id.clone(),
        identity_pool_name: p.name.clone(),
        allow_unauthenticated_identities: p.allow_unauthenticated,
        allow_classic_flow: p.allow_classic_flow,
        cognito_identity_providers: cognito,
        open_id_connect_providers: oidc,
        developer_provider_name: p.developer_provider.clone().unwrap_or_default(),
        creation_date: p.created_at_ms,
        last_modified_date: p.updated_at_ms,
        supported_login_providers: social,
        login_provider_endpoints: endpoints,
    }
}

fn pool_in(p: pb::IdentityPoolType) -> IdentityPoolInput {
    IdentityPoolInput {
        name: p.identity_pool_name,
        allow_unauthenticated: p.allow_unauthenticated_identities,
        allow_classic_flow: p.allow_classic_flow,
        user_pools: p
            .cognito_identity_providers
            .into_iter()
            .map(|c| (c.provider_name, c.client_id))
            .collect(),
        oidc: p
            .open_id_connect_providers
            .into_iter()
            .map(|o| (o.issuer, o.jwks_url, o.client_ids))
            .collect(),
        developer_provider: Some(p.developer_provider_name).filter(|d| !d.is_empty()),
        social: {
            let mut s: Vec<(String, String, Option<String>)> = p
                .supported_login_providers
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.clone(),
                        p.login_provider_endpoints.get(k).cloned(),
                    )
                })
                .collect();
            s.sort();
            s
        },
    }
}
