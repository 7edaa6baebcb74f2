//! `signet.v1.UserPoolAuth`: the public flows.

mod self_service;
mod sign_in;
mod sign_up;

use crate::Gateway;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_auth_server::UserPoolAuth;
use std::sync::Arc;

pub(crate) struct AuthApi {
    pub(crate) gw: Arc<Gateway>,
}

/// Spend one call of `client_id`'s budget for `class` (the per-address budget is spent
/// in the tower stack, see `serving`).
fn budget(gw: &Gateway, class: crate::RateClass, client_id: &str) -> Result<(), tonic::Status> {
    gw.rates
        .client(class, client_id)
        .map_err(crate::api::serving::rate_limited)
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

rpc_table! {
    UserPoolAuth for AuthApi {
        issue_client_token(pb::IssueClientTokenRequest) -> pb::IssueClientTokenResponse => sign_in::issue_client_token;
        sign_up(pb::SignUpRequest) -> pb::SignUpResponse => sign_up::sign_up;
        confirm_sign_up(pb::ConfirmSignUpRequest) -> pb::AuthEmpty => sign_up::confirm_sign_up;
        resend_confirmation_code(pb::ClientUserRequest) -> pb::CodeDeliveryResponse => sign_up::resend_confirmation_code;
        initiate_auth(pb::InitiateAuthRequest) -> pb::AuthResponse => sign_in::initiate_auth;
        respond_to_auth_challenge(pb::RespondToAuthChallengeRequest) -> pb::AuthResponse => sign_in::respond_to_auth_challenge;
        forgot_password(pb::ClientUserRequest) -> pb::CodeDeliveryResponse => sign_up::forgot_password;
        confirm_forgot_password(pb::ConfirmForgotPasswordRequest) -> pb::AuthEmpty => sign_up::confirm_forgot_password;
        change_password(pb::ChangePasswordRequest) -> pb::AuthEmpty => self_service::change_password;
        get_user(pb::AccessTokenRequest) -> pb::GetUserResponse => self_service::get_user;
        update_user_attributes(pb::UpdateUserAttributesRequest) -> pb::UpdateUserAttributesResponse => self_service::update_user_attributes;
        delete_user_attributes(pb::DeleteUserAttributesRequest) -> pb::AuthEmpty => self_service::delete_user_attributes;
        get_user_attribute_verification_code(pb::AttributeVerificationRequest) -> pb::CodeDeliveryResponse => self_service::get_user_attribute_verification_code;
        verify_user_attribute(pb::VerifyUserAttributeRequest) -> pb::AuthEmpty => self_service::verify_user_attribute;
        delete_user(pb::AccessTokenRequest) -> pb::AuthEmpty => self_service::delete_user;
        global_sign_out(pb::AccessTokenRequest) -> pb::AuthEmpty => self_service::global_sign_out;
        revoke_token(pb::RevokeTokenRequest) -> pb::AuthEmpty => self_service::revoke_token;
        associate_software_token(pb::AssociateSoftwareTokenRequest) -> pb::AssociateSoftwareTokenResponse => self_service::associate_software_token;
        verify_software_token(pb::VerifySoftwareTokenRequest) -> pb::VerifySoftwareTokenResponse => self_service::verify_software_token;
        set_user_mfa_preference(pb::SetUserMfaPreferenceRequest) -> pb::AuthEmpty => self_service::set_user_mfa_preference;
        confirm_device(pb::ConfirmDeviceRequest) -> pb::ConfirmDeviceResponse => self_service::confirm_device;
        get_device(pb::DeviceRequest) -> pb::DeviceResponse => self_service::get_device;
        list_devices(pb::ListDevicesRequest) -> pb::ListDevicesResponse => self_service::list_devices;
        forget_device(pb::DeviceRequest) -> pb::AuthEmpty => self_service::forget_device;
        update_device_status(pb::UpdateDeviceStatusRequest) -> pb::AuthEmpty => self_service::update_device_status;
        get_tokens_from_refresh_token(pb::GetTokensFromRefreshTokenRequest) -> pb::AuthResponse => sign_in::get_tokens_from_refresh_token;
    }
}
