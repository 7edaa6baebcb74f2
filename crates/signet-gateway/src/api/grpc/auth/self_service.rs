//! `signet.v1.UserPoolAuth`, the calls a user makes with their own access token.

use super::opt;
use crate::api::grpc::convert as cv;
use crate::auth::DeviceOwner;
use crate::Gateway;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn change_password(
    gw: &Gateway,
    r: pb::ChangePasswordRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service
        .change_password(&r.access_token, &r.previous_password, &r.proposed_password)
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn get_user(
    gw: &Gateway,
    r: pb::AccessTokenRequest,
) -> Result<pb::GetUserResponse, Status> {
    let u = gw.self_service.get_user(&r.access_token).await?;
    let user = cv::user(&u);
    Ok(pb::GetUserResponse {
        username: user.username,
        user_attributes: user.attributes,
        preferred_mfa_setting: user.preferred_mfa_setting,
        user_mfa_setting_list: user.user_mfa_setting_list,
    })
}

pub(super) async fn update_user_attributes(
    gw: &Gateway,
    r: pb::UpdateUserAttributesRequest,
) -> Result<pb::UpdateUserAttributesResponse, Status> {
    let d = gw
        .self_service
        .update_user_attributes(&r.access_token, &cv::attrs(&r.user_attributes))
        .await?;
    Ok(pb::UpdateUserAttributesResponse {
        code_delivery_details_list: d.iter().map(cv::delivery).collect(),
    })
}

pub(super) async fn delete_user_attributes(
    gw: &Gateway,
    r: pb::DeleteUserAttributesRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service
        .delete_user_attributes(&r.access_token, &r.user_attribute_names)
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn get_user_attribute_verification_code(
    gw: &Gateway,
    r: pb::AttributeVerificationRequest,
) -> Result<pb::CodeDeliveryResponse, Status> {
    let d = gw
        .self_service
        .attribute_verification_code(&r.access_token, &r.attribute_name)
        .await?;
    Ok(pb::CodeDeliveryResponse {
        code_delivery_details: Some(cv::delivery(&d)),
    })
}

pub(super) async fn verify_user_attribute(
    gw: &Gateway,
    r: pb::VerifyUserAttributeRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service
        .verify_user_attribute(&r.access_token, &r.attribute_name, &r.code)
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn delete_user(
    gw: &Gateway,
    r: pb::AccessTokenRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service.delete_self(&r.access_token).await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn global_sign_out(
    gw: &Gateway,
    r: pb::AccessTokenRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service.global_sign_out(&r.access_token).await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn revoke_token(
    gw: &Gateway,
    r: pb::RevokeTokenRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.self_service
        .revoke_token(&r.token, &r.client_id, opt(&r.client_secret))
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn associate_software_token(
    gw: &Gateway,
    r: pb::AssociateSoftwareTokenRequest,
) -> Result<pb::AssociateSoftwareTokenResponse, Status> {
    let (secret_code, session) = gw
        .auth
        .associate_software_token(opt(&r.access_token), opt(&r.session))
        .await?;
    Ok(pb::AssociateSoftwareTokenResponse {
        secret_code,
        session: session.unwrap_or_default(),
    })
}

pub(super) async fn verify_software_token(
    gw: &Gateway,
    r: pb::VerifySoftwareTokenRequest,
) -> Result<pb::VerifySoftwareTokenResponse, Status> {
    let session = gw
        .auth
        .verify_software_token(
            opt(&r.access_token),
            opt(&r.session),
            &r.user_code,
            &r.friendly_device_name,
        )
        .await?;
    Ok(pb::VerifySoftwareTokenResponse {
        status: "SUCCESS".into(),
        session: session.unwrap_or_default(),
    })
}

pub(super) async fn set_user_mfa_preference(
    gw: &Gateway,
    r: pb::SetUserMfaPreferenceRequest,
) -> Result<pb::AuthEmpty, Status> {
    let settings = cv::mfa_settings(
        r.software_token_mfa_settings,
        r.sms_mfa_settings,
        r.email_mfa_settings,
    );
    gw.auth
        .set_mfa_preference(&r.access_token, settings)
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn confirm_device(
    gw: &Gateway,
    r: pb::ConfirmDeviceRequest,
) -> Result<pb::ConfirmDeviceResponse, Status> {
    let secret = r
        .device_secret_verifier_config
        .as_ref()
        .map(|c| crate::auth::DeviceSecret {
            verifier: &c.password_verifier,
            salt: &c.salt,
        });
    let necessary = gw
        .auth
        .confirm_device(&r.access_token, &r.device_key, secret, &r.device_name)
        .await?;
    Ok(pb::ConfirmDeviceResponse {
        user_confirmation_necessary: necessary,
    })
}

pub(super) async fn get_device(
    gw: &Gateway,
    r: pb::DeviceRequest,
) -> Result<pb::DeviceResponse, Status> {
    let d = gw
        .auth
        .get_device(DeviceOwner::Token(&r.access_token), &r.device_key)
        .await?;
    Ok(pb::DeviceResponse {
        device: Some(cv::device(&d)),
    })
}

pub(super) async fn list_devices(
    gw: &Gateway,
    r: pb::ListDevicesRequest,
) -> Result<pb::ListDevicesResponse, Status> {
    let page = gw
        .auth
        .list_devices(
            DeviceOwner::Token(&r.access_token),
            r.limit,
            cv::token(&r.pagination_token),
        )
        .await?;
    Ok(cv::devices(page))
}

pub(super) async fn forget_device(
    gw: &Gateway,
    r: pb::DeviceRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.auth
        .forget_device(DeviceOwner::Token(&r.access_token), &r.device_key)
        .await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn update_device_status(
    gw: &Gateway,
    r: pb::UpdateDeviceStatusRequest,
) -> Result<pb::AuthEmpty, Status> {
    gw.auth
        .update_device_status(
            DeviceOwner::Token(&r.access_token),
            &r.device_key,
            &r.device_remembered_status,
        )
        .await?;
    Ok(pb::AuthEmpty {})
}
