//! STS over AWS's query protocol: `POST /` with a form (`Action=…&Version=2011-06-15&…`),
//! answered in XML, as `sts.amazonaws.com` answers. AssumeRoleWithWebIdentity is unsigned
//! (the web identity token is the credential), so the AWS SDKs' web identity credential
//! provider (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ENDPOINT_URL_STS`) obtains
//! Signet credentials unchanged; GetCallerIdentity is signed with those credentials (AWS
//! Signature Version 4, `x-amz-security-token`) and checked by the same code as
//! VerifyRequestSignature.

use crate::api::grpc::identity::StsApi;
use crate::aws::SignedRequest;
use crate::Gateway;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use signet_proto::v1 as pb;
use signet_proto::v1::sts_server::Sts;
use std::collections::HashMap;
use std::sync::Arc;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

/// An STS error: `Sender` faults are the caller's.
fn error(code: &str, message: &str, status: StatusCode) -> Response {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code>\
             <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            esc(code),
            esc(message),
            crate::ids::uuid()
        ),
    )
}

/// A gRPC refusal in STS's words (its codes drop "Exception" for these two).
fn refused(s: &tonic::Status) -> Response {
    let name = crate::error::exception_name(s).unwrap_or_else(|| "InternalFailure".into());
    let code = match name.as_str() {
        "InvalidIdentityTokenException" => "InvalidIdentityToken",
        "NotAuthorizedException" | "AccessDeniedException" => "AccessDenied",
        other => other,
    };
    let status = if code == "InternalErrorException" || code == "InternalFailure" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    error(code, s.message(), status)
}

fn ok(action: &str, result: String) -> Response {
    xml(
        StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            crate::ids::uuid()
        ),
    )
}

fn credentials_xml(c: &pb::CredentialsType) -> String {
    let expiration = time::OffsetDateTime::from_unix_timestamp((c.expiration / 1000) as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    format!(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>",
        esc(&c.access_key_id),
        esc(&c.secret_key),
        esc(&c.session_token)
    )
}

/// `DurationSeconds` as given (absent: 0, the default); anything but a whole number is
/// AWS's `ValidationError`, never read as the default.
fn duration<T: std::str::FromStr + Default>(
    form: &HashMap<String, String>,
) -> Result<T, Box<Response>> {
    match form.get("DurationSeconds").map(|v| v.trim()) {
        None | Some("") => Ok(T::default()),
        Some(v) => v.parse().map_err(|_| {
            Box::new(error(
                "ValidationError",
                &format!("DurationSeconds must be a whole number of seconds, not {v:?}"),
                StatusCode::BAD_REQUEST,
            ))
        }),
    }
}

/// Answer the form `body` (`Action=…`).
pub(super) async fn call(gw: &Arc<Gateway>, req: &SignedRequest<'_>) -> Response {
    let form: HashMap<String, String> =
        url::form_urlencoded::parse(req.body).into_owned().collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let api = StsApi { gw: gw.clone() };
    match get("Action").as_str() {
        "AssumeRoleWithWebIdentity" => {
            let duration_seconds = match duration(&form) {
                Ok(d) => d,
                Err(r) => return *r,
            };
            let r = pb::AssumeRoleWithWebIdentityRequest {
                role_arn: get("RoleArn"),
                role_session_name: get("RoleSessionName"),
                // The SDKs send the token file's bytes as they are; a file written by
                // `echo` or `jq -r` ends in a newline, which is no part of a JWT.
                web_identity_token: get("WebIdentityToken").trim().to_string(),
                duration_seconds,
                policy: get("Policy"),
            };
            match api
                .assume_role_with_web_identity(super::json::grpc_request(req, r))
                .await
            {
                Ok(a) => {
                    let a = a.into_inner();
                    let user = a.assumed_role_user.unwrap_or_default();
                    ok(
                        "AssumeRoleWithWebIdentity",
                        format!(
                            "{}<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\
                             <AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId>\
                             </AssumedRoleUser><Provider>{}</Provider><Audience>{}</Audience>",
                            credentials_xml(&a.credentials.unwrap_or_default()),
                            esc(&a.subject_from_web_identity_token),
                            esc(&user.arn),
                            esc(&user.assumed_role_id),
                            esc(&a.provider),
                            esc(&a.audience)
                        ),
                    )
                }
                Err(s) => refused(&s),
            }
        }
        "GetCallerIdentity" => caller_identity(gw, &api, req).await,
        "AssumeRole" => assume_role(gw, req, &form).await,
        "" => error(
            "MissingAction",
            "The request names no Action.",
            StatusCode::BAD_REQUEST,
        ),
        other => error(
            "InvalidAction",
            &format!("{other} is not an STS action Signet offers."),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// The session token of the temporary credentials that signed this request (AWS
/// Signature Version 4 for service `sts`, checked as VerifyRequestSignature checks), or the
/// answer refusing it.
fn signing_session(gw: &Gateway, req: &SignedRequest<'_>) -> Result<String, Box<Response>> {
    let check = gw
        .sts
        .verify_request_signature(&req.signable(), Some(gw.aws.signing_name("sts")), None)
        .map_err(|e| Box::new(refused(&tonic::Status::from(e))))?;
    if !check.valid {
        return Err(Box::new(error(
            "InvalidClientTokenId",
            &check.reason,
            StatusCode::FORBIDDEN,
        )));
    }
    Ok(req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default())
}

/// AssumeRole: role chaining for the holder of the credentials that signed the request
/// (see `sts::chain` for IAM's rules as Signet applies them). Over this protocol only: a
/// gRPC call carries no signature, and a session token alone is a bearer credential that
/// services see (Authorize), so it must not buy another role's credentials.
async fn assume_role(
    gw: &Gateway,
    req: &SignedRequest<'_>,
    form: &HashMap<String, String>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let token = match signing_session(gw, req) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let duration_seconds = match duration(form) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let input = crate::sts::AssumeRoleInput {
        role_arn: get("RoleArn"),
        role_session_name: get("RoleSessionName"),
        web_identity_token: String::new(),
        duration_seconds,
        policy: get("Policy"),
    };
    match gw.sts.assume_role(&token, input).await {
        Ok(a) => ok(
            "AssumeRole",
            format!(
                "{}<AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>",
                credentials_xml(&crate::api::grpc::identity::credentials_out(a.credentials)),
                esc(&a.assumed_role_arn),
                esc(&a.assumed_role_id),
            ),
        ),
        Err(e) => refused(&tonic::Status::from(e)),
    }
}

/// GetCallerIdentity: whose temporary credentials signed this request.
async fn caller_identity(gw: &Gateway, api: &StsApi, req: &SignedRequest<'_>) -> Response {
    let token = match signing_session(gw, req) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let r = pb::SessionTokenRequest {
        session_token: token,
    };
    match api
        .get_caller_identity(super::json::grpc_request(req, r))
        .await
    {
        Ok(c) => {
            let c = c.into_inner();
            ok(
                "GetCallerIdentity",
                format!(
                    "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
                    esc(&c.arn),
                    esc(&c.user_id),
                    esc(&c.account)
                ),
            )
        }
        Err(s) => refused(&s),
    }
}
