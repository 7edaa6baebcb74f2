//! `signet.v1.UserPoolAdmin`, admin user management, admin sign-in and the dev outbox.

use crate::api::grpc::convert as cv;
use crate::api::grpc::convert::metadata;
use crate::auth::DeviceOwner;
use crate::hooks::with_client_metadata;
use crate::names::{Challenge, InitiateFlow, MessageAction};
use crate::users::AdminCreateUser;
use crate::Gateway;
use signet_proto::v1 as pb;
use std::collections::BTreeMap;
use tonic::Status;

pub(super) async fn admin_create_user(
    gw: &Gateway,
    r: pb::AdminCreateUserRequest,
) -> Result<pb::UserResponse, Status> {
    let u = gw
        .users
        .admin_create_user(
            &r.user_pool_id,
            AdminCreateUser {
                username: r.username.clone(),
                attributes: cv::attrs(&r.user_attributes),
                temporary_password: r.temporary_password.clone(),
                suppress: MessageAction::parse(&r.message_action)? == MessageAction::Suppress,
            },
        )
        .await?;
    Ok(pb::UserResponse {
        user: Some(cv::user(&u)),
    })
}

pub(super) async fn admin_get_user(
    gw: &Gateway,
    r: pb::UserRef,
) -> Result<pb::UserResponse, Status> {
    let u = gw
        .users
        .admin_get_user(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::UserResponse {
        user: Some(cv::user(&u)),
    })
}

pub(super) async fn admin_list_user_auth_events(
    gw: &Gateway,
    r: pb::AdminListUserAuthEventsRequest,
) -> Result<pb::AdminListUserAuthEventsResponse, Status> {
    let next = (!r.next_token.is_empty()).then_some(r.next_token.as_str());
    let (events, next) = gw
        .users
        .admin_list_user_auth_events(&r.user_pool_id, &r.username, r.max_results as usize, next)
        .await?;
    Ok(pb::AdminListUserAuthEventsResponse {
        auth_events: events
            .iter()
            .map(|e| pb::AuthEventType {
                event_id: e.id.clone(),
                event_type: crate::audit::event_type(&e.action).to_string(),
                creation_date: e.at_ms as i64,
                event_response: e.outcome.clone(),
                action: e.action.clone(),
                exception: e.exception.clone(),
                challenge_name: e.challenge.clone(),
                ip_address: e.source_ip.clone(),
                client_id: e.client_id.clone(),
                actor: e.actor.clone(),
                target: e.target.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        next_token: next.unwrap_or_default(),
    })
}

pub(super) async fn admin_delete_user(gw: &Gateway, r: pb::UserRef) -> Result<pb::Empty, Status> {
    gw.users
        .admin_delete_user(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_disable_user(gw: &Gateway, r: pb::UserRef) -> Result<pb::Empty, Status> {
    gw.users
        .admin_set_enabled(&r.user_pool_id, &r.username, false)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_enable_user(gw: &Gateway, r: pb::UserRef) -> Result<pb::Empty, Status> {
    gw.users
        .admin_set_enabled(&r.user_pool_id, &r.username, true)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_set_user_password(
    gw: &Gateway,
    r: pb::AdminSetUserPasswordRequest,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_set_password(&r.user_pool_id, &r.username, &r.password, r.permanent)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_reset_user_password(
    gw: &Gateway,
    r: pb::UserRef,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_reset_password(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_update_user_attributes(
    gw: &Gateway,
    r: pb::AdminUpdateUserAttributesRequest,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_update_attributes(&r.user_pool_id, &r.username, &cv::attrs(&r.user_attributes))
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_delete_user_attributes(
    gw: &Gateway,
    r: pb::AdminDeleteUserAttributesRequest,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_delete_attributes(&r.user_pool_id, &r.username, &r.user_attribute_names)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_confirm_sign_up(
    gw: &Gateway,
    r: pb::UserRef,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_confirm_sign_up(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_users(
    gw: &Gateway,
    r: pb::ListUsersRequest,
) -> Result<pb::ListUsersResponse, Status> {
    let (users, next) = gw
        .users
        .list_users(
            &r.user_pool_id,
            &r.filter,
            r.limit as usize,
            cv::token(&r.pagination_token),
        )
        .await?;
    let mut users: Vec<pb::UserType> = users.iter().map(cv::user).collect();
    if !r.attributes_to_get.is_empty() {
        for u in &mut users {
            u.attributes
                .retain(|a| r.attributes_to_get.contains(&a.name));
        }
    }
    Ok(pb::ListUsersResponse {
        users,
        pagination_token: next.unwrap_or_default(),
    })
}

pub(super) async fn admin_initiate_auth(
    gw: &Gateway,
    r: pb::AdminInitiateAuthRequest,
) -> Result<pb::AuthResponse, Status> {
    let flow = InitiateFlow::parse(&r.auth_flow)?;
    let client = gw
        .clients
        .describe_client(&r.user_pool_id, &r.client_id)
        .await?;
    let params: BTreeMap<String, String> = r.auth_parameters.into_iter().collect();
    let call = gw
        .auth
        .initiate_auth(&client.client_id, flow, &params, true);
    let o = with_client_metadata(metadata(&r.client_metadata), true, Box::pin(call)).await?;
    cv::auth(o)
}

pub(super) async fn admin_respond_to_auth_challenge(
    gw: &Gateway,
    r: pb::AdminRespondToAuthChallengeRequest,
) -> Result<pb::AuthResponse, Status> {
    let challenge = Challenge::parse(&r.challenge_name)?;
    let client = gw
        .clients
        .describe_client(&r.user_pool_id, &r.client_id)
        .await?;
    let responses: BTreeMap<String, String> = r.challenge_responses.into_iter().collect();
    let call = gw
        .auth
        .respond_to_challenge(&client.client_id, challenge, &r.session, &responses);
    let o = with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    cv::auth(o)
}

pub(super) async fn admin_set_user_mfa_preference(
    gw: &Gateway,
    r: pb::AdminSetUserMfaPreferenceRequest,
) -> Result<pb::Empty, Status> {
    let settings = cv::mfa_settings(
        r.software_token_mfa_settings,
        r.sms_mfa_settings,
        r.email_mfa_settings,
    );
    gw.auth
        .admin_set_mfa_preference(&r.user_pool_id, &r.username, settings)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_user_global_sign_out(
    gw: &Gateway,
    r: pb::UserRef,
) -> Result<pb::Empty, Status> {
    gw.users
        .admin_global_sign_out(&r.user_pool_id, &r.username)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn list_outbox(
    gw: &Gateway,
    r: pb::UserPoolRef,
) -> Result<pb::ListOutboxResponse, Status> {
    let messages = gw.users.outbox(&r.user_pool_id).await?;
    Ok(pb::ListOutboxResponse {
        messages: messages
            .into_iter()
            .map(|m| pb::OutboxMessageType {
                username: m.username,
                purpose: m.purpose.key(),
                destination: m.destination,
                code: m.code,
                issued_at: m.issued_at_ms as i64,
            })
            .collect(),
    })
}

fn admin_owner<'a>(pool_id: &'a str, username: &'a str) -> DeviceOwner<'a> {
    DeviceOwner::Admin { pool_id, username }
}

pub(super) async fn admin_get_device(
    gw: &Gateway,
    r: pb::AdminDeviceRequest,
) -> Result<pb::DeviceResponse, Status> {
    let d = gw
        .auth
        .get_device(admin_owner(&r.user_pool_id, &r.username), &r.device_key)
        .await?;
    Ok(pb::DeviceResponse {
        device: Some(cv::device(&d)),
    })
}

pub(super) async fn admin_list_devices(
    gw: &Gateway,
    r: pb::AdminListDevicesRequest,
) -> Result<pb::ListDevicesResponse, Status> {
    let page = gw
        .auth
        .list_devices(
            admin_owner(&r.user_pool_id, &r.username),
            r.limit,
            cv::token(&r.pagination_token),
        )
        .await?;
    Ok(cv::devices(page))
}

pub(super) async fn admin_forget_device(
    gw: &Gateway,
    r: pb::AdminDeviceRequest,
) -> Result<pb::Empty, Status> {
    gw.auth
        .forget_device(admin_owner(&r.user_pool_id, &r.username), &r.device_key)
        .await?;
    Ok(pb::Empty {})
}

pub(super) async fn admin_update_device_status(
    gw: &Gateway,
    r: pb::AdminUpdateDeviceStatusRequest,
) -> Result<pb::Empty, Status> {
    gw.auth
        .update_device_status(
            admin_owner(&r.user_pool_id, &r.username),
            &r.device_key,
            &r.device_remembered_status,
        )
        .await?;
    Ok(pb::Empty {})
}
