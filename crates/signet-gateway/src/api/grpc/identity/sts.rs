//! `signet.v1.Sts`: AssumeRoleWithWebIdentity, GetCallerIdentity, Authorize, VerifyRequestSignature.

use super::credentials_out;
use crate::sts::AssumeRoleInput;
use crate::Gateway;
use signet_proto::v1 as pb;
use signet_verify::sigv4::SignableRequest;
use tonic::Status;

pub(super) async fn assume_role_with_web_identity(
    gw: &Gateway,
    r: pb::AssumeRoleWithWebIdentityRequest,
) -> Result<pb::AssumeRoleWithWebIdentityResponse, Status> {
    let out = gw
        .sts
        .assume_role_with_web_identity(AssumeRoleInput {
            role_arn: r.role_arn,
            role_session_name: r.role_session_name,
            web_identity_token: r.web_identity_token,
            duration_seconds: u64::from(r.duration_seconds),
            policy: r.policy,
        })
        .await?;
    Ok(pb::AssumeRoleWithWebIdentityResponse {
        credentials: Some(credentials_out(out.credentials)),
        subject_from_web_identity_token: out.subject,
        assumed_role_user: Some(pb::AssumedRoleUserType {
            assumed_role_id: out.assumed_role_id,
            arn: out.assumed_role_arn,
        }),
        provider: out.provider,
        audience: out.audience,
    })
}

pub(super) async fn get_caller_identity(
    gw: &Gateway,
    r: pb::SessionTokenRequest,
) -> Result<pb::GetCallerIdentityResponse, Status> {
    let (user_id, account, arn) = gw.sts.get_caller_identity(&r.session_token)?;
    Ok(pb::GetCallerIdentityResponse {
        user_id,
        account,
        arn,
    })
}

pub(super) async fn authorize(
    gw: &Gateway,
    r: pb::AuthorizeRequest,
) -> Result<pb::AuthorizeResponse, Status> {
    let context: Vec<(String, String)> = r.context.into_iter().collect();
    let akid = Some(r.access_key_id.as_str()).filter(|a| !a.is_empty());
    let out = gw
        .sts
        .authorize(&r.session_token, akid, &r.action, &r.resource, &context)?;
    let (policy_name, statement_index, sid) = match out.statement {
        Some((p, i, s)) => (p, i as u32, s.unwrap_or_default()),
        None => (String::new(), 0, String::new()),
    };
    Ok(pb::AuthorizeResponse {
        allowed: out.allowed,
        decision: out.decision.to_string(),
        policy_name,
        statement_index,
        sid,
        role_arn: out.role_arn,
        subject: out.subject,
    })
}

pub(super) async fn verify_request_signature(
    gw: &Gateway,
    r: pb::VerifyRequestSignatureRequest,
) -> Result<pb::VerifyRequestSignatureResponse, Status> {
    let headers: Vec<(String, String)> = r.headers.into_iter().map(|h| (h.name, h.value)).collect();
    let req = SignableRequest {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &headers,
        payload_sha256_hex: r.payload_sha256,
    };
    let non_empty = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    let (service, region) = (
        non_empty(&r.expected_service),
        non_empty(&r.expected_region),
    );
    let c = gw
        .sts
        .verify_request_signature(&req, service.as_deref(), region.as_deref())?;
    Ok(pb::VerifyRequestSignatureResponse {
        valid: c.valid,
        reason: c.reason,
        access_key_id: c.access_key_id,
        role_arn: c.role_arn,
        subject: c.subject,
        expiration: c.expiration_ms,
        service: c.service,
        region: c.region,
    })
}
