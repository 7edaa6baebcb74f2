//! `AWSCognitoIdentityService.<Action>`: identity pools over AWS JSON 1.1 — the public
//! trade of logins for an identity id, an OpenID token and credentials, unsigned as in
//! Cognito (the logins are the credentials). Each calls the `signet.v1.Identity` method of
//! the same name.

use super::json::{run, AwsError};
use super::shapes;
use crate::api::grpc::identity::IdentityApi;
use crate::aws::SignedRequest;
use crate::Gateway;
use axum::response::Response;
use signet_proto::v1::identity_server::Identity;
use std::sync::Arc;

/// Answer `action`.
pub(super) async fn call(gw: &Arc<Gateway>, action: &str, req: &SignedRequest<'_>) -> Response {
    let api = IdentityApi { gw: gw.clone() };
    match action {
        "GetId" => run(req, None, None, |r| api.get_id(r)).await,
        "GetOpenIdToken" => run(req, None, None, |r| api.get_open_id_token(r)).await,
        "GetCredentialsForIdentity" => {
            let out = Some(shapes::credentials_out as super::json::Fix);
            run(req, None, out, |r| api.get_credentials_for_identity(r)).await
        }
        "UnlinkIdentity" => run(req, None, None, |r| api.unlink_identity(r)).await,
        _ => AwsError::unknown_operation(&format!("{}.{action}", super::COGNITO_IDENTITY))
            .into_response(),
    }
}
