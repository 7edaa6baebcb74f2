//! The one error table: for every [`AppError`], Cognito's exception name, the gRPC code and
//! the HTTP status of Signet's own JSON endpoints (user import, discovery). The OAuth
//! endpoints answer in RFC 6749's vocabulary ([`OAuthError`]); how an `AppError` reaching
//! them looks is decided here too, and how an OAuth refusal looks to a gRPC caller.
//! `tests.rs` renders the whole table against a checked-in copy, so a change to any answer
//! shows up in review.

use super::{safe_message, AppError, OAuthError, ERROR_DOMAIN};
use http::StatusCode;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    /// Cognito's exception name (what AWS SDKs match on).
    pub name: &'static str,
    /// The gRPC status code.
    pub grpc: Code,
    /// The HTTP status on Signet's JSON endpoints.
    pub http: StatusCode,
}

const fn row(name: &'static str, grpc: Code, http: u16) -> Row {
    let http = match StatusCode::from_u16(http) {
        Ok(s) => s,
        Err(_) => panic!("a valid HTTP status"),
    };
    Row { name, grpc, http }
}

impl AppError {
    /// The row of this error.
    pub(crate) fn row(&self) -> Row {
        use AppError as E;
        use Code as C;
        match self {
            E::NotAuthorized(_) => row("NotAuthorizedException", C::Unauthenticated, 401),
            E::UsernameExists => row("UsernameExistsException", C::AlreadyExists, 409),
            E::AliasExists(_) => row("AliasExistsException", C::AlreadyExists, 409),
            E::CodeMismatch => row("CodeMismatchException", C::InvalidArgument, 400),
            E::ExpiredCode => row("ExpiredCodeException", C::InvalidArgument, 400),
            E::InvalidPassword(_) => row("InvalidPasswordException", C::InvalidArgument, 400),
            E::InvalidParameter(_) => row("InvalidParameterException", C::InvalidArgument, 400),
            E::UserNotConfirmed => row("UserNotConfirmedException", C::FailedPrecondition, 400),
            E::UserNotFound => row("UserNotFoundException", C::NotFound, 404),
            E::PasswordResetRequired => {
                row("PasswordResetRequiredException", C::FailedPrecondition, 400)
            }
            E::LimitExceeded(_) => row("LimitExceededException", C::ResourceExhausted, 429),
            E::TooManyRequests(_) => row("TooManyRequestsException", C::ResourceExhausted, 429),
            E::ResourceNotFound(_) => row("ResourceNotFoundException", C::NotFound, 404),
            E::GroupExists => row("GroupExistsException", C::AlreadyExists, 409),
            E::InvalidState(_) => row("InvalidParameterException", C::FailedPrecondition, 409),
            E::Unavailable(_) => row("ServiceUnavailableException", C::Unavailable, 503),
            E::Internal(_) => row("InternalErrorException", C::Internal, 500),
            E::Conflict(_) => row("ResourceConflictException", C::AlreadyExists, 409),
            E::InvalidIdentityToken(_) => {
                row("InvalidIdentityTokenException", C::Unauthenticated, 401)
            }
            E::ExpiredToken(_) => row("ExpiredTokenException", C::Unauthenticated, 401),
            E::AccessDenied(_) => row("AccessDeniedException", C::PermissionDenied, 403),
            E::MalformedPolicy(_) => {
                row("MalformedPolicyDocumentException", C::InvalidArgument, 400)
            }
            E::PackedPolicyTooLarge(_) => {
                row("PackedPolicyTooLargeException", C::InvalidArgument, 400)
            }
            E::InvalidIdentityPoolConfiguration(_) => row(
                "InvalidIdentityPoolConfigurationException",
                C::FailedPrecondition,
                400,
            ),
            E::ExternalService(_) => row("ExternalServiceException", C::Unavailable, 502),
            E::EntityAlreadyExists(_) => row("EntityAlreadyExistsException", C::AlreadyExists, 409),
            E::SoftwareTokenMfaNotFound(_) => row(
                "SoftwareTokenMFANotFoundException",
                C::FailedPrecondition,
                400,
            ),
            E::EnableSoftwareTokenMfa(_) => {
                row("EnableSoftwareTokenMFAException", C::InvalidArgument, 400)
            }
            E::NoSuchEntity(_) => row("NoSuchEntityException", C::NotFound, 404),
            E::DeleteConflict(_) => row("DeleteConflictException", C::FailedPrecondition, 409),
            E::HookFailed(_) => row("UnexpectedLambdaException", C::Unavailable, 502),
            E::Timeout(_) => row("RequestTimeoutException", C::DeadlineExceeded, 503),
            E::TooLarge(_) => row("LimitExceededException", C::ResourceExhausted, 413),
            E::UserLambdaValidation(_) => {
                row("UserLambdaValidationException", C::InvalidArgument, 400)
            }
            E::DuplicateProvider(_) => row("DuplicateProviderException", C::AlreadyExists, 400),
            E::InvalidLambdaResponse(_) => {
                row("InvalidLambdaResponseException", C::Unavailable, 502)
            }
        }
    }

    /// Cognito's exception name.
    pub fn name(&self) -> &'static str {
        self.row().name
    }

    /// The gRPC status code.
    pub fn code(&self) -> Code {
        self.row().grpc
    }

    /// The HTTP status on Signet's JSON endpoints.
    pub fn http_status(&self) -> StatusCode {
        self.row().http
    }

    /// The JSON body of Signet's own HTTP endpoints: `{"error": name, "message": …}`.
    pub fn http_body(&self) -> serde_json::Value {
        serde_json::json!({"error": self.name(), "message": safe_message(&self.to_string())})
    }
}

impl From<AppError> for Status {
    fn from(e: AppError) -> Status {
        let metadata =
            std::collections::HashMap::from([("exception".to_string(), e.name().to_string())]);
        let details = ErrorDetails::with_error_info(e.name(), ERROR_DOMAIN, metadata);
        Status::with_error_details(e.code(), safe_message(&e.to_string()), details)
    }
}

impl OAuthError {
    /// RFC 6749's `error` code and the HTTP status of the answer. An `AppError` reaching
    /// an OAuth endpoint unconverted is classified here: a refusal of what the caller
    /// presented (not authorized, no such pool, client or user) is `invalid_grant`, a bad
    /// parameter `invalid_request`, both 400 — never a 500 for the caller's mistake; 503
    /// `temporarily_unavailable` when the server cannot serve now, 429 when overloaded,
    /// else 500 `server_error`.
    pub fn answer(&self) -> (&'static str, StatusCode) {
        use OAuthError as O;
        match self {
            O::InvalidRequest(_) => ("invalid_request", StatusCode::BAD_REQUEST),
            O::InvalidClient(_) => ("invalid_client", StatusCode::UNAUTHORIZED),
            O::InvalidGrant(_) => ("invalid_grant", StatusCode::BAD_REQUEST),
            O::UnauthorizedClient(_) => ("unauthorized_client", StatusCode::BAD_REQUEST),
            O::UnsupportedGrantType(_) => ("unsupported_grant_type", StatusCode::BAD_REQUEST),
            O::InvalidScope(_) => ("invalid_scope", StatusCode::BAD_REQUEST),
            O::InvalidToken(_) => ("invalid_token", StatusCode::UNAUTHORIZED),
            O::Server(AppError::Unavailable(_) | AppError::Timeout(_)) => {
                ("temporarily_unavailable", StatusCode::SERVICE_UNAVAILABLE)
            }
            O::Server(AppError::TooManyRequests(_)) => {
                ("server_error", StatusCode::TOO_MANY_REQUESTS)
            }
            O::Server(
                AppError::NotAuthorized(_)
                | AppError::ResourceNotFound(_)
                | AppError::UserNotFound
                | AppError::ExpiredToken(_),
            ) => ("invalid_grant", StatusCode::BAD_REQUEST),
            O::Server(AppError::InvalidParameter(_)) => {
                ("invalid_request", StatusCode::BAD_REQUEST)
            }
            O::Server(_) => ("server_error", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The `error` code.
    pub fn code(&self) -> &'static str {
        self.answer().0
    }

    /// The JSON body (RFC 6749 §5.2).
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": self.code(),
            "error_description": safe_message(&self.description()),
        })
    }
}

/// How an OAuth refusal looks to a gRPC caller (IssueClientToken): a bad scope is a bad
/// parameter, every other refusal of the client is NotAuthorized.
impl From<OAuthError> for AppError {
    fn from(e: OAuthError) -> AppError {
        match e {
            OAuthError::Server(e) => e,
            OAuthError::InvalidScope(m) => AppError::InvalidParameter(m),
            other => AppError::NotAuthorized(other.description()),
        }
    }
}
