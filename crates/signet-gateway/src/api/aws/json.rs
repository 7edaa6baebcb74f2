//! AWS JSON 1.1 on the wire: requests read into the gRPC messages (every member optional,
//! malformed JSON a `SerializationException`), answers written as Cognito writes them —
//! members without a value left out, dates in seconds since the epoch — and errors in AWS's
//! shape (`__type` and `message`, the exception also in `x-amzn-ErrorType`), which every AWS
//! SDK parses.

use crate::aws::SignedRequest;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

/// AWS JSON 1.1's content type.
pub(super) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Whether the request says it is AWS JSON (1.0 or 1.1; plain JSON is taken too).
pub(super) fn is_json_request(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case(CONTENT_TYPE)
        || media.eq_ignore_ascii_case("application/x-amz-json-1.0")
        || media.eq_ignore_ascii_case("application/json")
}

/// An error as AWS services answer it.
#[derive(Debug)]
pub(super) struct AwsError {
    /// The exception's name (what SDKs match on).
    pub name: String,
    pub message: String,
    pub status: StatusCode,
}

impl AwsError {
    /// A client error (400).
    pub(super) fn new(name: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            name: name.to_string(),
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    pub(super) fn unknown_operation(target: &str) -> AwsError {
        AwsError::new(
            "UnknownOperationException",
            format!("{target} is not an operation Signet offers."),
        )
    }

    /// A gRPC handler's refusal: its Cognito exception, 400 for the caller's errors (as
    /// Cognito answers them), 500/503 for the service's own.
    pub(super) fn from_status(s: &tonic::Status) -> AwsError {
        let name = crate::error::exception_name(s).unwrap_or_else(|| {
            match s.code() {
                tonic::Code::Unavailable => "ServiceUnavailableException",
                tonic::Code::ResourceExhausted => "TooManyRequestsException",
                _ => "InternalErrorException",
            }
            .to_string()
        });
        let status = match name.as_str() {
            "InternalErrorException" => StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceUnavailableException" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        AwsError {
            name,
            message: s.message().to_string(),
            status,
        }
    }

    pub(super) fn into_response(self) -> Response {
        let body = serde_json::json!({"__type": self.name, "message": self.message});
        let mut r = (self.status, body.to_string()).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(&self.name) {
            h.insert("x-amzn-errortype", v);
        }
        with_request_id(h);
        r
    }
}

fn with_request_id(h: &mut HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&crate::ids::uuid()) {
        h.insert("x-amzn-requestid", v);
    }
}

/// A change to a request's or an answer's JSON where Cognito's shape is not the gRPC
/// message's (see `shapes`).
pub(super) type Fix = fn(&mut Value);

/// Read `body` as `Req` (after `fix_in`), run `call`, answer in AWS's shape (after
/// `fix_out`).
pub(super) async fn run<Req, Resp, F, Fut>(
    from: &SignedRequest<'_>,
    fix_in: Option<Fix>,
    fix_out: Option<Fix>,
    call: F,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    match parse(from.body, fix_in) {
        Ok(value) => run_value(from, value, fix_out, call).await,
        Err(e) => e.into_response(),
    }
}

/// `run` for a request already read as JSON (and changed by its caller).
pub(super) async fn run_value<Req, Resp, F, Fut>(
    from: &SignedRequest<'_>,
    value: Value,
    fix_out: Option<Fix>,
    call: F,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let req = match read::<Req>(value) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match call(grpc_request(from, req)).await {
        Ok(r) => answer_with(&r.into_inner(), fix_out),
        Err(s) => AwsError::from_status(&s).into_response(),
    }
}

/// An admin action's check: `req` is signed by an active admin access key for `service`;
/// else AWS's answer refusing it.
pub(super) async fn admin_signature(
    gw: &crate::Gateway,
    req: &SignedRequest<'_>,
    service: &str,
) -> Result<(), Box<Response>> {
    use crate::aws::Unsigned;
    match gw.aws.signed_by(req, service).await {
        Ok(_) => Ok(()),
        Err(Unsigned::Refused { exception, message }) => {
            Err(Box::new(AwsError::new(exception, message).into_response()))
        }
        Err(Unsigned::Server(e)) => Err(Box::new(
            AwsError::from_status(&tonic::Status::from(e)).into_response(),
        )),
    }
}

/// `msg` as a gRPC request from the caller of `from` (its address reaches the audit trail
/// as it does for gRPC callers).
pub(super) fn grpc_request<T>(from: &SignedRequest<'_>, msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.extensions_mut().insert(signet_tls::ConnInfo {
        remote: from.remote,
        tls: false,
        peer: None,
    });
    r
}

/// The request's members as the gRPC message `T`.
#[cfg(test)]
pub(super) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    read(parse(body, None)?)
}

/// The request's JSON (an empty body is `{}`), changed by `fix`.
pub(super) fn parse(body: &[u8], fix: Option<Fix>) -> Result<Value, AwsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    let mut value: Value = serde_json::from_slice(body).map_err(bad)?;
    if let Some(fix) = fix {
        fix(&mut value);
    }
    Ok(value)
}

fn bad(e: serde_json::Error) -> AwsError {
    AwsError::new(
        "SerializationException",
        format!("The request is not the JSON this action takes: {e}"),
    )
}

/// `value` as the gRPC message `T`, strictly (see below).
pub(super) fn read<T: DeserializeOwned>(mut value: Value) -> Result<T, AwsError> {
    // A member the message does not have is refused, unless it is one Signet documents
    // as taken with no effect (then it is dropped and the rest read again; each top-level
    // member at most once, so this ends).
    let members = value.as_object().map_or(0, |m| m.len());
    for _ in 0..=members {
        match serde_json::from_value::<T>(value.clone()) {
            Ok(t) => return Ok(t),
            Err(e) => {
                let Some(member) = unknown_member(&e) else {
                    return Err(bad(e));
                };
                let dropped = value
                    .as_object_mut()
                    .filter(|m| m.get(&member).is_some_and(|v| no_effect(&member, v)))
                    .and_then(|m| m.remove(&member));
                if dropped.is_none() {
                    return Err(AwsError::new(
                        "InvalidParameterException",
                        format!(
                            "Signet does not support the member {member} here (or not with this value); \
                             see \"Coming from Cognito\" in Signet's README."
                        ),
                    ));
                }
            }
        }
    }
    Err(AwsError::new(
        "SerializationException",
        "The request is not the JSON this action takes.",
    ))
}

/// Which values of a member Signet takes with no effect.
type Takes = fn(&Value) -> bool;

/// Members Cognito takes that Signet accepts with no effect, where the message has no
/// such member: the value a member must have to be taken (`None`: any value). Analytics
/// and advanced-security context (Signet has neither), client metadata where no trigger
/// reads it, and settings whose value is what Signet always does.
const NO_EFFECT: [(&str, Option<Takes>); 11] = [
    // CreateUserImportJob requires it; Signet reports an import's rows itself
    // (DescribeUserImportJob), never to CloudWatch.
    ("CloudWatchLogsRoleArn", None),
    // A refresh token is not bound to a device (GetTokensFromRefreshToken).
    ("DeviceKey", None),
    // Signet has one account.
    ("AccountId", None),
    ("AnalyticsMetadata", None),
    ("UserContextData", None),
    ("ContextData", None),
    ("ClientMetadata", None),
    // Identities are never disabled in Signet.
    ("HideDisabled", None),
    // An alias already taken is refused (AliasExistsException), as Cognito does without it.
    ("ForceAliasCreation", Some(|v| v == &Value::Bool(false))),
    // Refresh tokens are always revocable.
    ("EnableTokenRevocation", Some(|v| v == &Value::Bool(true))),
    // A new pool's MFA is off until SetUserPoolMfaConfig turns it on.
    ("MfaConfiguration", Some(|v| v == "OFF")),
];

/// Whether `member` with `value` asks for nothing Signet does not do: a documented
/// member (above), or an empty value (`null`, `[]`, `{}`), which asks for nothing.
fn no_effect(member: &str, value: &Value) -> bool {
    let empty = match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    empty
        || NO_EFFECT
            .iter()
            .any(|(m, takes)| *m == member && takes.is_none_or(|t| t(value)))
}

/// The member serde found no field for (its message: "unknown field `X`, expected …").
fn unknown_member(e: &serde_json::Error) -> Option<String> {
    let msg = e.to_string();
    let rest = msg.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// A 200 answer carrying `v`'s members as AWS writes them (changed by `fix` where
/// Cognito's shape differs).
pub(super) fn answer_with(v: &impl Serialize, fix: Option<Fix>) -> Response {
    let mut value = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Some(fix) = fix {
        fix(&mut value);
    }
    aws_shape(&mut value);
    if !value.is_object() {
        value = Value::Object(Default::default());
    }
    let mut r = (StatusCode::OK, value.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    with_request_id(r.headers_mut());
    r
}

/// Members with no value (empty strings, absent messages, empty maps) left out, as
/// Cognito leaves them out — callers test for a member's presence, e.g. `ChallengeName` —
/// and dates (members named `…Date`, Unix milliseconds in the gRPC messages) in seconds.
pub(super) fn aws_shape(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, m| match m {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            });
            for (k, m) in map.iter_mut() {
                if k.ends_with("Date") {
                    if let Some(ms) = m.as_i64() {
                        *m = serde_json::json!(ms as f64 / 1000.0);
                        continue;
                    }
                }
                aws_shape(m);
            }
            // A member emptied by the cleaning above goes too.
            map.retain(|_, m| !matches!(m, Value::Object(o) if o.is_empty()));
        }
        Value::Array(items) => items.iter_mut().for_each(aws_shape),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_members_go_and_dates_are_seconds() {
        let mut v = json!({
            "ChallengeName": "", "Session": null, "ChallengeParameters": {},
            "AuthenticationResult": {"AccessToken": "a", "NewDeviceMetadata": null, "ExpiresIn": 3600},
            "UserConfirmed": false,
            "Devices": [{"DeviceKey": "k", "DeviceCreateDate": 1_700_000_000_500i64}],
            "Users": []
        });
        aws_shape(&mut v);
        assert_eq!(
            v,
            json!({
                "AuthenticationResult": {"AccessToken": "a", "ExpiresIn": 3600},
                "UserConfirmed": false,
                "Devices": [{"DeviceKey": "k", "DeviceCreateDate": 1_700_000_000.5}],
                "Users": []
            })
        );
    }

    #[test]
    fn grpc_messages_read_cognito_members() {
        let r: signet_proto::v1::InitiateAuthRequest = decode(
            br#"{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"c","AuthParameters":{"USERNAME":"u"},"AnalyticsMetadata":{}}"#,
        )
        .unwrap();
        assert_eq!(r.auth_flow, "USER_PASSWORD_AUTH");
        assert_eq!(r.auth_parameters["USERNAME"], "u");
        assert!(decode::<signet_proto::v1::InitiateAuthRequest>(b"{not json").is_err());
        assert!(decode::<signet_proto::v1::InitiateAuthRequest>(br#"{"ClientId": 5}"#).is_err());
    }

    #[test]
    fn members_not_understood_are_refused_unless_documented_as_without_effect() {
        type Req = signet_proto::v1::SignUpRequest;
        let refused = |body: &[u8]| decode::<Req>(body).unwrap_err();
        // A member Signet does not have: refused by name, never dropped.
        let e = refused(br#"{"ClientId":"c","Username":"u","Password":"p","Session":"s"}"#);
        assert_eq!(e.name, "InvalidParameterException");
        assert!(e.message.contains("member Session"), "{}", e.message);
        // Nested too.
        let e = refused(br#"{"UserAttributes":[{"Name":"email","Value":"e","Verified":true}]}"#);
        assert!(e.message.contains("member Verified"), "{}", e.message);
        // Documented as without effect: taken, the rest read.
        let r: Req = decode(
            br#"{"ClientId":"c","AnalyticsMetadata":{"AnalyticsEndpointId":"x"},"UserContextData":{"EncodedData":"d"}}"#,
        )
        .unwrap();
        assert_eq!(r.client_id, "c");
        // A member without effect only with Signet's own behaviour's value.
        let e = decode::<signet_proto::v1::ConfirmSignUpRequest>(
            br#"{"ClientId":"c","ForceAliasCreation":true}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("ForceAliasCreation"), "{}", e.message);
        let r: signet_proto::v1::ConfirmSignUpRequest =
            decode(br#"{"ClientId":"c","ForceAliasCreation":false}"#).unwrap();
        assert_eq!(r.client_id, "c");
        // A type error stays a SerializationException.
        assert_eq!(
            decode::<Req>(br#"{"ClientId": 5}"#).unwrap_err().name,
            "SerializationException"
        );
    }
}
