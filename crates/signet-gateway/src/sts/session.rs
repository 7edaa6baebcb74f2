//! What a service asks with credentials in hand: who is calling (GetCallerIdentity), may it
//! do this (Authorize), and did it sign this request (VerifyRequestSignature).

use super::{AuthorizeOutput, SignatureCheck, Sts, MAX_SIGNATURE_SKEW};
use crate::authorizer::{Opened, Sessions};
use crate::AppError;
use serde_json::{Map, Value};
use signet_core::Role;
use signet_verify::policy::Reason;
use signet_verify::session::{session_expected, Session};
use signet_verify::sigv4::{self, ParsedAuthorization, SignableRequest};
use signet_verify::VerifyError;
use std::time::Duration;

impl Sts {
    /// Verify a session token; returns its claims and contents.
    pub(crate) fn open_session(
        &self,
        session_token: &str,
    ) -> Result<(Map<String, Value>, Session), AppError> {
        let claims = self
            .tokens
            .verify_own(session_token, &session_expected(&self.urls.sts_issuer()))
            .map_err(|e| match e {
                VerifyError::Expired => AppError::ExpiredToken(
                    "The security token included in the request is expired".into(),
                ),
                other => AppError::NotAuthorized(format!(
                    "The security token included in the request is invalid: {other}"
                )),
            })?;
        let session = Session::from_claims(&claims).map_err(|e| {
            AppError::NotAuthorized(format!("The security token is not a session: {e}"))
        })?;
        Ok((claims, session))
    }

    /// GetCallerIdentity: (user id, account, ARN) of a session.
    pub fn get_caller_identity(
        &self,
        session_token: &str,
    ) -> Result<(String, String, String), AppError> {
        let (claims, s) = self.open_session(session_token)?;
        let role_id = claims.get("role_id").and_then(Value::as_str).unwrap_or("");
        let role_name = Role::name_in(&s.role_arn).unwrap_or_default();
        Ok((
            format!("{role_id}:{}", s.session_name),
            "signet".to_string(),
            format!(
                "arn:signet:sts:::assumed-role/{role_name}/{}",
                s.session_name
            ),
        ))
    }

    /// Authorize: may this session do `action` on `resource`?
    pub fn authorize(
        &self,
        session_token: &str,
        access_key_id: Option<&str>,
        action: &str,
        resource: &str,
        context: &[(String, String)],
    ) -> Result<AuthorizeOutput, AppError> {
        if action.is_empty() || resource.is_empty() {
            return Err(AppError::invalid("action and resource are required"));
        }
        let (_, s) = self.open_session(session_token)?;
        if access_key_id.is_some_and(|a| a != s.access_key_id) {
            return Err(AppError::NotAuthorized(
                "The access key id does not belong to this session token.".into(),
            ));
        }
        // Over the request size limits: the caller's mistake, answered as an invalid argument.
        let d = s
            .authorize(action, resource, context, self.clock.now_ms() / 1000)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        Ok(AuthorizeOutput {
            allowed: d.allowed,
            decision: match d.reason {
                Reason::Allowed => "Allow",
                Reason::ExplicitDeny => "ExplicitDeny",
                Reason::ImplicitDeny => "ImplicitDeny",
            },
            statement: d.decided_by.map(|r| (r.policy, r.index, r.sid)),
            role_arn: s.role_arn,
            subject: s.subject,
        })
    }

    /// The session of a request signed with temporary credentials (SIGNET4-HMAC-SHA256 or
    /// AWS4-HMAC-SHA256), or why it is refused: the one signature check, shared by
    /// VerifyRequestSignature and the edge authorizer.
    pub(crate) fn signed_session(
        &self,
        req: &SignableRequest<'_>,
    ) -> Result<(Opened, ParsedAuthorization), String> {
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let auth = header("authorization").ok_or("no authorization header")?;
        let parsed = sigv4::parse_authorization(auth).map_err(|e| e.to_string())?;
        // The token header of the scheme signed with: x-signet-security-token, or
        // x-amz-security-token for standard AWS Signature Version 4 (botocore, any AWS SDK).
        let token_header = parsed.scheme.token_header;
        let token = header(token_header).ok_or_else(|| {
            format!("no {token_header}: Signet issues temporary credentials only")
        })?;
        let opened = self.opened(token)?;
        if opened.session.access_key_id != parsed.access_key_id {
            return Err("the access key id does not belong to the security token".into());
        }
        let secret = self.secret_for(&parsed.access_key_id);
        sigv4::verify_with_secret(
            &secret,
            req,
            std::time::UNIX_EPOCH + Duration::from_millis(self.clock.now_ms()),
            MAX_SIGNATURE_SKEW,
        )
        .map_err(|e| e.to_string())?;
        Ok((opened, parsed))
    }

    fn opened(&self, token: &str) -> Result<Opened, String> {
        let (claims, session) = self.open_session(token).map_err(|e| e.to_string())?;
        Ok(Opened {
            claims,
            session,
            kid: signet_verify::token_kid(token),
        })
    }

    /// VerifyRequestSignature: check a SIGNET4-HMAC-SHA256 or standard AWS4-HMAC-SHA256
    /// signature made with temporary credentials. Bad signatures are an answer (`valid: false`), not an error.
    pub fn verify_request_signature(
        &self,
        req: &SignableRequest<'_>,
        expected_service: Option<&str>,
        expected_region: Option<&str>,
    ) -> Result<SignatureCheck, AppError> {
        let refuse = |reason: String| SignatureCheck {
            reason,
            ..SignatureCheck::default()
        };
        let (s, parsed) = match self.signed_session(req) {
            Ok((o, parsed)) => (o.session, parsed),
            Err(reason) => return Ok(refuse(reason)),
        };
        if expected_service.is_some_and(|x| x != parsed.service) {
            return Ok(refuse(format!(
                "the signature is scoped to service {}",
                parsed.service
            )));
        }
        if expected_region.is_some_and(|x| x != parsed.region) {
            return Ok(refuse(format!(
                "the signature is scoped to region {}",
                parsed.region
            )));
        }
        Ok(SignatureCheck {
            valid: true,
            reason: String::new(),
            access_key_id: s.access_key_id,
            role_arn: s.role_arn,
            subject: s.subject,
            expiration_ms: s.expires_at * 1000,
            service: parsed.service,
            region: parsed.region,
        })
    }
}

/// The edge authorizer's view of temporary credentials.
impl Sessions for Sts {
    fn issuer(&self) -> String {
        self.urls.sts_issuer()
    }

    fn open(&self, session_token: &str) -> Result<Opened, String> {
        self.opened(session_token)
    }

    fn signed(&self, req: &SignableRequest<'_>) -> Result<Opened, String> {
        self.signed_session(req).map(|(o, _)| o)
    }

    fn now_s(&self) -> u64 {
        self.clock.now_ms() / 1000
    }
}
