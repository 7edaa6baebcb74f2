//! `signet.v1.UserPoolAdmin`, groups and memberships.

use super::in_pool;
use crate::api::grpc::convert as cv;
use crate::users::groups::GroupInput;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn create_group(
    gw: &Gateway,
    r: pb::CreateGroupRequest,
) -> Result<pb::GroupResponse, Status> {
    group_out(gw.groups.create_group(group_in(r)).await?)
}

pub(super) async fn get_group(gw: &Gateway, r: pb::GroupRef) -> Result<pb::GroupResponse, Status> {
    group_out(gw.groups.get_group(&r.user_pool_id, &r.group_name).await?)
}

pub(super) async fn update_group(
    gw: &Gateway,
    r: pb::CreateGroupRequest,
) -> Result<pb::GroupResponse, Status> {
    group_out(gw.groups.update_group(group_in(r)).await?)
}

pub(super) async fn delete_group(gw: &Gateway, r: pb::GroupRef) -> Result<pb::Empty, Status> {
    gw.groups
        .delete_group(&r.user_pool_id, &r.group_name)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_groups(
    gw: &Gateway,
    r: pb::ListInPoolRequest,
) -> Result<pb::ListGroupsResponse, Status> {
    let (pool_id, after, limit) = in_pool(&r);
    let (groups, next) = gw.groups.list_groups(pool_id, after, limit).await?;
    Ok(pb::ListGroupsResponse {
        groups: groups.iter().map(cv::group).collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn admin_add_user_to_group(
    gw: &Gateway,
    r: pb::UserGroupRef,
) -> Result<pb::Empty, Status> {
    gw.groups
        .set_membership(&r.user_pool_id, &r.username, &r.group_name, true)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_remove_user_from_group(
    gw: &Gateway,
    r: pb::UserGroupRef,
) -> Result<pb::Empty, Status> {
    gw.groups
        .set_membership(&r.user_pool_id, &r.username, &r.group_name, false)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_list_groups_for_user(
    gw: &Gateway,
    r: pb::UserRef,
) -> Result<pb::ListGroupsResponse, Status> {
    let groups = gw
        .groups
        .groups_for_user(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::ListGroupsResponse {
        groups: groups.iter().map(cv::group).collect(),
        next_token: String::new(),
    })
}

pub(super) async fn list_users_in_group(
    gw: &Gateway,
    r: pb::ListUsersInGroupRequest,
) -> Result<pb::ListUsersResponse, Status> {
    let (users, next) = gw
        .groups
        .users_in_group(
            &r.user_pool_id,
            &r.group_name,
            cv::token(&r.next_token),
            r.limit as usize,
        )
        .await?;
    Ok(pb::ListUsersResponse {
        users: users.iter().map(cv::user).collect(),
        pagination_token: next.unwrap_or_default(),
    })
}

fn group_in(r: pb::CreateGroupRequest) -> GroupInput {
    GroupInput {
        role_arn: (!r.role_arn.is_empty()).then_some(r.role_arn),
        pool_id: r.user_pool_id,
        name: r.group_name,
        description: r.description,
        precedence: r.precedence,
    }
}

fn group_out(g: signet_core::Group) -> Result<pb::GroupResponse, Status> {
    Ok(pb::GroupResponse {
        group: Some(cv::group(&g)),
    })
}
