//! `signet.v1.UserPoolAuth`, sign-up, confirmation and password recovery.

use super::opt;
use crate::api::grpc::convert as cv;
use crate::api::grpc::convert::metadata;
use crate::hooks::with_client_metadata;
use crate::Gateway;
use crate::RateClass;
use signet_proto::v1 as pb;
use tonic::Status;

pub(super) async fn sign_up(
    gw: &Gateway,
    r: pb::SignUpRequest,
) -> Result<pb::SignUpResponse, Status> {
    super::budget(gw, RateClass::SignUp, &r.client_id)?;
    let res = gw
        .signup
        .sign_up(
            &r.client_id,
            opt(&r.secret_hash),
            &r.username,
            &r.password,
            &cv::attrs(&r.user_attributes),
            &crate::signup::TriggerInput {
                validation_data: cv::attrs(&r.validation_data).into_iter().collect(),
                client_metadata: r.client_metadata.into_iter().collect(),
            },
        )
        .await?;
    Ok(pb::SignUpResponse {
        user_confirmed: res.confirmed,
        user_sub: res.sub,
        code_delivery_details: res.delivery.as_ref().map(cv::delivery),
    })
}

pub(super) async fn confirm_sign_up(
    gw: &Gateway,
    r: pb::ConfirmSignUpRequest,
) -> Result<pb::AuthEmpty, Status> {
    super::budget(gw, RateClass::SignIn, &r.client_id)?;
    let call = gw.signup.confirm_sign_up(
        &r.client_id,
        opt(&r.secret_hash),
        &r.username,
        &r.confirmation_code,
    );
    with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    Ok(pb::AuthEmpty {})
}

pub(super) async fn resend_confirmation_code(
    gw: &Gateway,
    r: pb::ClientUserRequest,
) -> Result<pb::CodeDeliveryResponse, Status> {
    super::budget(gw, RateClass::Codes, &r.client_id)?;
    let call = gw
        .signup
        .resend_confirmation_code(&r.client_id, opt(&r.secret_hash), &r.username);
    let d = with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    Ok(pb::CodeDeliveryResponse {
        code_delivery_details: Some(cv::delivery(&d)),
    })
}

pub(super) async fn forgot_password(
    gw: &Gateway,
    r: pb::ClientUserRequest,
) -> Result<pb::CodeDeliveryResponse, Status> {
    super::budget(gw, RateClass::Codes, &r.client_id)?;
    let call = gw
        .signup
        .forgot_password(&r.client_id, opt(&r.secret_hash), &r.username);
    let d = with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    Ok(pb::CodeDeliveryResponse {
        code_delivery_details: Some(cv::delivery(&d)),
    })
}

pub(super) async fn confirm_forgot_password(
    gw: &Gateway,
    r: pb::ConfirmForgotPasswordRequest,
) -> Result<pb::AuthEmpty, Status> {
    super::budget(gw, RateClass::SignIn, &r.client_id)?;
    let call = gw.signup.confirm_forgot_password(
        &r.client_id,
        opt(&r.secret_hash),
        &r.username,
        &r.confirmation_code,
        &r.password,
    );
    with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    Ok(pb::AuthEmpty {})
}
