//! AWS's own wire protocols, as a thin front over the same use cases the gRPC APIs run: the
//! gateway's HTTP listener answers `POST /` by dispatching on `X-Amz-Target` (AWS JSON 1.1)
//! or, for STS, on the form's `Action` (the query protocol, answered in XML),
//! so `boto3.client("cognito-idp", endpoint_url=…)` and `aws --endpoint-url …` reach Signet
//! with nothing else configured. Each action calls the gRPC service's own method (its
//! handler, checks and audit); the messages are the gRPC ones, whose serde names are
//! Cognito's members (see signet-proto's build script).
//!
//! `json` reads a request and writes an answer as AWS JSON (no empty members; dates in
//! seconds) or AWS's error shape; `cognito_idp` answers
//! `AWSCognitoIdentityProviderService.<Action>`.

mod cognito_identity;
mod cognito_idp;
mod json;
mod shapes;
mod sts;

use crate::aws::SignedRequest;
use crate::Gateway;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use json::AwsError;
use std::sync::Arc;

/// `X-Amz-Target`'s prefix for Cognito user pools.
const COGNITO_IDP: &str = "AWSCognitoIdentityProviderService";
/// `X-Amz-Target`'s prefix for Cognito identity pools.
const COGNITO_IDENTITY: &str = "AWSCognitoIdentityService";

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new().route("/", post(dispatch))
}

/// `POST /`: the action named by `X-Amz-Target` (`Service.Action`).
async fn dispatch(
    State(gw): State<Arc<Gateway>>,
    uri: Uri,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let all_headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let req = SignedRequest {
        method: "POST",
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &all_headers,
        body: &body,
        remote: extensions
            .get::<axum::extract::ConnectInfo<crate::api::http::Remote>>()
            .map(|c| c.0 .0),
    };
    // The query protocol (STS): a form naming its Action.
    if target.is_empty() && form {
        return sts::call(&gw, &req).await;
    }
    if target.is_empty() {
        return AwsError::new(
            "UnknownOperationException",
            "No X-Amz-Target header names an action.",
        )
        .into_response();
    }
    if !json::is_json_request(&headers) {
        return AwsError::new(
            "SerializationException",
            "Content-Type must be application/x-amz-json-1.1.",
        )
        .into_response();
    }
    match target.split_once('.') {
        Some((COGNITO_IDP, action)) => cognito_idp::call(&gw, action, &req).await,
        Some((COGNITO_IDENTITY, action)) => cognito_identity::call(&gw, action, &req).await,
        _ => AwsError::unknown_operation(target).into_response(),
    }
}
