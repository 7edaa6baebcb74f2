//! `signet.v1.IdentityAdmin`, roles and their inline policies.

use crate::api::grpc::convert as cv;
use crate::Gateway;
use signet_core::Role;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn create_role(
    gw: &Gateway,
    r: pb::CreateRoleRequest,
) -> Result<pb::RoleType, Status> {
    let role = gw
        .roles
        .create_role(
            &r.role_name,
            &r.assume_role_policy_document,
            &r.description,
            r.max_session_duration,
        )
        .await?;
    Ok(role_out(&role))
}

pub(super) async fn get_role(gw: &Gateway, r: pb::RoleRef) -> Result<pb::RoleType, Status> {
    let role = gw.roles.get_role(&r.role_name).await?;
    Ok(role_out(&role))
}

pub(super) async fn update_role(
    gw: &Gateway,
    r: pb::UpdateRoleRequest,
) -> Result<pb::RoleType, Status> {
    let role = gw
        .roles
        .update_role(
            &r.role_name,
            r.description,
            r.assume_role_policy_document,
            r.max_session_duration,
        )
        .await?;
    Ok(role_out(&role))
}

pub(super) async fn delete_role(gw: &Gateway, r: pb::RoleRef) -> Result<pb::Empty, Status> {
    gw.roles.delete_role(&r.role_name).await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_roles(
    gw: &Gateway,
    r: pb::ListRequest,
) -> Result<pb::ListRolesResponse, Status> {
    let (roles, next) = gw
        .roles
        .list_roles(r.max_results as usize, cv::token(&r.next_token))
        .await?;
    Ok(pb::ListRolesResponse {
        roles: roles.iter().map(role_out).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn put_role_policy(
    gw: &Gateway,
    r: pb::RolePolicyType,
) -> Result<pb::Empty, Status> {
    gw.roles
        .put_role_policy(&r.role_name, &r.policy_name, &r.policy_document)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn get_role_policy(
    gw: &Gateway,
    r: pb::RolePolicyRef,
) -> Result<pb::RolePolicyType, Status> {
    let policy_document = gw
        .roles
        .get_role_policy(&r.role_name, &r.policy_name)
        .await?;
    Ok(pb::RolePolicyType {
        role_name: r.role_name,
        policy_name: r.policy_name,
        policy_document,
    })
}

pub(super) async fn delete_role_policy(
    gw: &Gateway,
    r: pb::RolePolicyRef,
) -> Result<pb::Empty, Status> {
    gw.roles
        .delete_role_policy(&r.role_name, &r.policy_name)
        .await?;
    Ok(pb::Empty {})
}

fn role_out(r: &Role) -> pb::RoleType {
    pb::RoleType {
        role_name: r.name.clone(),
        arn: r.arn.clone(),
        role_id: r.role_id.clone(),
        description: r.description.clone(),
        assume_role_policy_document: r.trust_policy.clone(),
        max_session_duration: r.max_session_s,
        policy_names: r.policies.keys().cloned().collect(),
        create_date: r.created_at_ms,
    }
}
