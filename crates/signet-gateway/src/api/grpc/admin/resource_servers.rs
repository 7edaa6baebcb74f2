//! `signet.v1.UserPoolAdmin`, resource servers and their scopes.

use super::in_pool;
use crate::oauth::resource_servers::ResourceServerInput;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn create_resource_server(
    gw: &Gateway,
    r: pb::ResourceServerType,
) -> Result<pb::ResourceServerType, Status> {
    let rs = gw
        .resource_servers
        .create_resource_server(&r.user_pool_id, resource_server_in(&r))
        .await?;
    Ok(resource_server_out(&rs))
}

pub(super) async fn describe_resource_server(
    gw: &Gateway,
    r: pb::ResourceServerRef,
) -> Result<pb::ResourceServerType, Status> {
    let rs = gw
        .resource_servers
        .describe_resource_server(&r.user_pool_id, &r.identifier)
        .await?;
    Ok(resource_server_out(&rs))
}

pub(super) async fn update_resource_server(
    gw: &Gateway,
    r: pb::ResourceServerType,
) -> Result<pb::ResourceServerType, Status> {
    let rs = gw
        .resource_servers
        .update_resource_server(&r.user_pool_id, resource_server_in(&r))
        .await?;
    Ok(resource_server_out(&rs))
}

pub(super) async fn delete_resource_server(
    gw: &Gateway,
    r: pb::ResourceServerRef,
) -> Result<pb::Empty, Status> {
    gw.resource_servers
        .delete_resource_server(&r.user_pool_id, &r.identifier)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_resource_servers(
    gw: &Gateway,
    r: pb::ListInPoolRequest,
) -> Result<pb::ListResourceServersResponse, Status> {
    let (pool_id, after, limit) = in_pool(&r);
    let (servers, next) = gw
        .resource_servers
        .list_resource_servers(pool_id, after, limit)
        .await?;
    Ok(pb::ListResourceServersResponse {
        resource_servers: servers.iter().map(resource_server_out).collect(),
        next_token: next.unwrap_or_default(),
    })
}

fn resource_server_in(r: &pb::ResourceServerType) -> ResourceServerInput {
    ResourceServerInput {
        identifier: r.identifier.clone(),
        name: r.name.clone(),
        scopes: r
            .scopes
            .iter()
            .map(|s| (s.scope_name.clone(), s.scope_description.clone()))
            .collect(),
    }
}

fn resource_server_out(r: &signet_core::ResourceServer) -> pb::ResourceServerType {
    pb::ResourceServerType {
        user_pool_id: r.pool_id.clone(),
        identifier: r.identifier.clone(),
        name: r.name.clone(),
        scopes: r
            .scopes
            .iter()
            .map(|s| pb::ResourceServerScopeType {
                scope_name: s.name.clone(),
                scope_description: s.description.clone(),
            })
            .collect(),
    }
}
