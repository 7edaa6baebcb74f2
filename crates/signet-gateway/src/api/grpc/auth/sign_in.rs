//! `signet.v1.UserPoolAuth`, sign-in: InitiateAuth, RespondToAuthChallenge, and machine tokens.

use super::opt;
use crate::api::grpc::convert as cv;
use crate::api::grpc::convert::metadata;
use crate::hooks::with_client_metadata;
use crate::names::{Challenge, InitiateFlow};
use crate::oauth::ClientAuth;
use crate::{AppError, Gateway, RateClass};
use signet_proto::v1 as pb;
use std::collections::BTreeMap;
use tonic::Status;

pub(super) async fn issue_client_token(
    gw: &Gateway,
    r: pb::IssueClientTokenRequest,
) -> Result<pb::IssueClientTokenResponse, Status> {
    super::budget(gw, RateClass::Token, &r.client_id)?;
    let auth = ClientAuth {
        client_id: r.client_id,
        secret: Some(r.client_secret),
    };
    let scope = Some(r.scope.as_str()).filter(|s| !s.is_empty());
    let t = gw
        .oauth
        .client_credentials(&r.user_pool_id, &auth, scope)
        .await
        .map_err(AppError::from)?;
    Ok(pb::IssueClientTokenResponse {
        access_token: t.access_token,
        token_type: "Bearer".into(),
        expires_in: t.expires_in,
        scope: t.scope.unwrap_or_default(),
    })
}

pub(super) async fn initiate_auth(
    gw: &Gateway,
    r: pb::InitiateAuthRequest,
) -> Result<pb::AuthResponse, Status> {
    super::budget(gw, RateClass::SignIn, &r.client_id)?;
    let params: BTreeMap<String, String> = r.auth_parameters.into_iter().collect();
    let flow = InitiateFlow::parse(&r.auth_flow)?;
    let call = gw.auth.initiate_auth(&r.client_id, flow, &params, false);
    let o = with_client_metadata(metadata(&r.client_metadata), true, Box::pin(call)).await?;
    cv::auth(o)
}

pub(super) async fn respond_to_auth_challenge(
    gw: &Gateway,
    r: pb::RespondToAuthChallengeRequest,
) -> Result<pb::AuthResponse, Status> {
    super::budget(gw, RateClass::SignIn, &r.client_id)?;
    let challenge = Challenge::parse(&r.challenge_name)?;
    let responses: BTreeMap<String, String> = r.challenge_responses.into_iter().collect();
    let call = gw
        .auth
        .respond_to_challenge(&r.client_id, challenge, &r.session, &responses);
    let o = with_client_metadata(metadata(&r.client_metadata), false, Box::pin(call)).await?;
    cv::auth(o)
}

pub(super) async fn get_tokens_from_refresh_token(
    gw: &Gateway,
    r: pb::GetTokensFromRefreshTokenRequest,
) -> Result<pb::AuthResponse, Status> {
    super::budget(gw, RateClass::Token, &r.client_id)?;
    let t = gw
        .auth
        .get_tokens_from_refresh_token(&r.client_id, &r.refresh_token, opt(&r.client_secret))
        .await?;
    cv::auth(crate::auth::AuthOutcome::Tokens(t))
}
