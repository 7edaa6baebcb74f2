//! `AWSCognitoIdentityProviderService.<Action>`: Cognito user pools over AWS JSON 1.1. The
//! public actions (sign-up, sign-in, the signed-in user's own calls) need no signature, as
//! in Cognito: their credentials are in their members (client id and secret hash, tokens,
//! sessions). Each calls the `signet.v1.UserPoolAuth` method of the same name.

use super::json::{self, AwsError};
use crate::api::grpc::auth::AuthApi;
use crate::Gateway;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;
use signet_proto::v1::user_pool_auth_server::UserPoolAuth;
use std::future::Future;
use std::sync::Arc;

/// Read `body` as `Req`, run `call`, answer in AWS's shape.
async fn run<Req, Resp, F, Fut>(body: &[u8], call: F) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let req = match json::decode::<Req>(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match call(tonic::Request::new(req)).await {
        Ok(r) => json::answer(&r.into_inner()),
        Err(s) => AwsError::from_status(&s).into_response(),
    }
}

/// The public actions: (Cognito's name, the UserPoolAuth method).
macro_rules! public_actions {
    ($($name:literal => $method:ident),* $(,)?) => {
        async fn public(api: &AuthApi, action: &str, body: &[u8]) -> Option<Response> {
            Some(match action {
                $($name => run(body, |r| api.$method(r)).await,)*
                _ => return None,
            })
        }
    };
}

public_actions! {
    "SignUp" => sign_up,
    "ConfirmSignUp" => confirm_sign_up,
    "ResendConfirmationCode" => resend_confirmation_code,
    "InitiateAuth" => initiate_auth,
    "RespondToAuthChallenge" => respond_to_auth_challenge,
    "ForgotPassword" => forgot_password,
    "ConfirmForgotPassword" => confirm_forgot_password,
    "ChangePassword" => change_password,
    "GetUser" => get_user,
    "UpdateUserAttributes" => update_user_attributes,
    "DeleteUserAttributes" => delete_user_attributes,
    "GetUserAttributeVerificationCode" => get_user_attribute_verification_code,
    "VerifyUserAttribute" => verify_user_attribute,
    "DeleteUser" => delete_user,
    "GlobalSignOut" => global_sign_out,
    "RevokeToken" => revoke_token,
    "AssociateSoftwareToken" => associate_software_token,
    "VerifySoftwareToken" => verify_software_token,
    "SetUserMFAPreference" => set_user_mfa_preference,
    "ConfirmDevice" => confirm_device,
    "GetDevice" => get_device,
    "ListDevices" => list_devices,
    "ForgetDevice" => forget_device,
    "UpdateDeviceStatus" => update_device_status,
    "GetTokensFromRefreshToken" => get_tokens_from_refresh_token,
}

/// Answer `action`.
pub(super) async fn call(gw: &Arc<Gateway>, action: &str, body: &[u8]) -> Response {
    let api = AuthApi { gw: gw.clone() };
    match public(&api, action, body).await {
        Some(r) => r,
        None => {
            AwsError::unknown_operation(&format!("{}.{action}", super::COGNITO_IDP)).into_response()
        }
    }
}
