//! `signet.v1.UserPoolAuth`: the public flows.

use super::convert as cv;
use crate::names::{Challenge, InitiateFlow};
use crate::oauth::ClientAuth;
use crate::{AppError, Gateway};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_auth_server::UserPoolAuth;
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub(crate) struct AuthApi {
    pub(crate) gw: Arc<Gateway>,
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[tonic::async_trait]
impl UserPoolAuth for AuthApi {
    async fn issue_client_token(
        &self,
        r: Request<pb::IssueClientTokenRequest>,
    ) -> Result<Response<pb::IssueClientTokenResponse>, Status> {
        let r = r.into_inner();
        let auth = ClientAuth {
            client_id: r.client_id,
            secret: Some(r.client_secret),
        };
        let scope = Some(r.scope.as_str()).filter(|s| !s.is_empty());
        let t = self
            .gw
            .oauth
            .client_credentials(&r.user_pool_id, &auth, scope)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::IssueClientTokenResponse {
            access_token: t.access_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
            scope: t.scope.unwrap_or_default(),
        }))
    }

    async fn sign_up(&self, r: Request<pb::SignUpRequest>) -> R<pb::SignUpResponse> {
        let r = r.into_inner();
        let res = self
            .gw
            .signup
            .sign_up(
                &r.client_id,
                opt(&r.secret_hash),
                &r.username,
                &r.password,
                &cv::attrs(&r.user_attributes),
            )
            .await?;
        ok(pb::SignUpResponse {
            user_confirmed: res.confirmed,
            user_sub: res.sub,
            code_delivery_details: res.delivery.as_ref().map(cv::delivery),
        })
    }

    async fn confirm_sign_up(&self, r: Request<pb::ConfirmSignUpRequest>) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .signup
            .confirm_sign_up(
                &r.client_id,
                opt(&r.secret_hash),
                &r.username,
                &r.confirmation_code,
            )
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn resend_confirmation_code(
        &self,
        r: Request<pb::ClientUserRequest>,
    ) -> R<pb::CodeDeliveryResponse> {
        let r = r.into_inner();
        let d = self
            .gw
            .signup
            .resend_confirmation_code(&r.client_id, opt(&r.secret_hash), &r.username)
            .await?;
        ok(pb::CodeDeliveryResponse {
            code_delivery_details: Some(cv::delivery(&d)),
        })
    }

    async fn initiate_auth(&self, r: Request<pb::InitiateAuthRequest>) -> R<pb::AuthResponse> {
        let r = r.into_inner();
        let params: BTreeMap<String, String> = r.auth_parameters.into_iter().collect();
        let o = self
            .gw
            .auth
            .initiate_auth(
                &r.client_id,
                InitiateFlow::parse(&r.auth_flow)?,
                &params,
                false,
            )
            .await?;
        ok(cv::auth(o))
    }

    async fn respond_to_auth_challenge(
        &self,
        r: Request<pb::RespondToAuthChallengeRequest>,
    ) -> R<pb::AuthResponse> {
        let r = r.into_inner();
        let challenge = Challenge::parse(&r.challenge_name)?;
        let responses: BTreeMap<String, String> = r.challenge_responses.into_iter().collect();
        let o = self
            .gw
            .auth
            .respond_to_challenge(&r.client_id, challenge, &r.session, &responses)
            .await?;
        ok(cv::auth(o))
    }

    async fn forgot_password(
        &self,
        r: Request<pb::ClientUserRequest>,
    ) -> R<pb::CodeDeliveryResponse> {
        let r = r.into_inner();
        let d = self
            .gw
            .signup
            .forgot_password(&r.client_id, opt(&r.secret_hash), &r.username)
            .await?;
        ok(pb::CodeDeliveryResponse {
            code_delivery_details: Some(cv::delivery(&d)),
        })
    }

    async fn confirm_forgot_password(
        &self,
        r: Request<pb::ConfirmForgotPasswordRequest>,
    ) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .signup
            .confirm_forgot_password(
                &r.client_id,
                opt(&r.secret_hash),
                &r.username,
                &r.confirmation_code,
                &r.password,
            )
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn change_password(&self, r: Request<pb::ChangePasswordRequest>) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .self_service
            .change_password(&r.access_token, &r.previous_password, &r.proposed_password)
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn get_user(&self, r: Request<pb::AccessTokenRequest>) -> R<pb::GetUserResponse> {
        let u = self
            .gw
            .self_service
            .get_user(&r.get_ref().access_token)
            .await?;
        let user = cv::user(&u);
        ok(pb::GetUserResponse {
            username: user.username,
            user_attributes: user.attributes,
        })
    }

    async fn update_user_attributes(
        &self,
        r: Request<pb::UpdateUserAttributesRequest>,
    ) -> R<pb::UpdateUserAttributesResponse> {
        let r = r.into_inner();
        let d = self
            .gw
            .self_service
            .update_user_attributes(&r.access_token, &cv::attrs(&r.user_attributes))
            .await?;
        ok(pb::UpdateUserAttributesResponse {
            code_delivery_details_list: d.iter().map(cv::delivery).collect(),
        })
    }

    async fn delete_user_attributes(
        &self,
        r: Request<pb::DeleteUserAttributesRequest>,
    ) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .self_service
            .delete_user_attributes(&r.access_token, &r.user_attribute_names)
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn get_user_attribute_verification_code(
        &self,
        r: Request<pb::AttributeVerificationRequest>,
    ) -> R<pb::CodeDeliveryResponse> {
        let r = r.into_inner();
        let d = self
            .gw
            .self_service
            .attribute_verification_code(&r.access_token, &r.attribute_name)
            .await?;
        ok(pb::CodeDeliveryResponse {
            code_delivery_details: Some(cv::delivery(&d)),
        })
    }

    async fn verify_user_attribute(
        &self,
        r: Request<pb::VerifyUserAttributeRequest>,
    ) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .self_service
            .verify_user_attribute(&r.access_token, &r.attribute_name, &r.code)
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn delete_user(&self, r: Request<pb::AccessTokenRequest>) -> R<pb::AuthEmpty> {
        self.gw
            .self_service
            .delete_self(&r.get_ref().access_token)
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn global_sign_out(&self, r: Request<pb::AccessTokenRequest>) -> R<pb::AuthEmpty> {
        self.gw
            .self_service
            .global_sign_out(&r.get_ref().access_token)
            .await?;
        ok(pb::AuthEmpty {})
    }

    async fn revoke_token(&self, r: Request<pb::RevokeTokenRequest>) -> R<pb::AuthEmpty> {
        let r = r.into_inner();
        self.gw
            .self_service
            .revoke_token(&r.token, &r.client_id, opt(&r.client_secret))
            .await?;
        ok(pb::AuthEmpty {})
    }
}
