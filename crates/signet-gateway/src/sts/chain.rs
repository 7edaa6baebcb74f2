//! AssumeRole: role chaining between services. A caller holding Signet temporary
//! credentials (and proving it with a signature over the request, checked before this is
//! called) trades them for credentials of another role, with IAM's rules:
//!
//! * the caller's own permissions (its role's policies and session policy) must allow
//!   `sts:AssumeRole` on the target role — Signet requires this in every case, as IAM does
//!   across accounts (Signet has one account, and no identity-policy-free shortcut);
//! * the target role's trust policy must allow `sts:AssumeRole` for the caller, named as
//!   principal `{"AWS": …}` by its role ARN (`arn:signet:iam:::role/<name>`, any session of
//!   it) or its session ARN (`arn:signet:sts:::assumed-role/<role>/<session>`); a `Deny`
//!   naming either wins;
//! * a chained session lasts at most one hour (900 s to 3600 s, and not past the target
//!   role's maximum), whatever the role allows — and, stricter than IAM, never past the
//!   caller's own session, so chaining cannot stretch credentials (of a user since
//!   disabled, say) beyond the expiry they were issued with;
//! * the new session keeps who the caller's session was for (subject, provider, audience,
//!   `amr`, identity pool), so the chain stays traceable to the original login.

use super::{assumed_role_arn, AssumeRoleInput, AssumeRoleOutput, SessionSpec, Sts};
use crate::AppError;
use signet_core::Role;
use signet_verify::policy::{evaluate, Context, Principal, Reason, Request};

/// The action AssumeRole is asked as, of the caller's policies and the role's trust.
pub const CHAIN_ACTION: &str = "sts:AssumeRole";

/// Longest a chained session lasts (IAM's role-chaining limit).
const MAX_CHAINED_S: u64 = 3600;

impl Sts {
    /// AssumeRole for the holder of the session `caller_token` (its signature already
    /// checked). `input.web_identity_token` is not read.
    pub async fn assume_role(
        &self,
        caller_token: &str,
        input: AssumeRoleInput,
    ) -> Result<AssumeRoleOutput, AppError> {
        let (name, session_policy) = input.checked()?;
        let (_, caller) = self.open_session(caller_token)?;
        let caller_role = Role::name_in(&caller.role_arn).unwrap_or_default();
        let caller_session_arn = format!(
            "arn:signet:sts:::assumed-role/{caller_role}/{}",
            caller.session_name
        );
        let refused = || {
            AppError::AccessDenied(format!(
                "User: {caller_session_arn} is not authorized to perform: {CHAIN_ACTION} on resource: {}",
                input.role_arn
            ))
        };
        // The caller's own permissions.
        let now_s = self.clock.now_ms() / 1000;
        let own = caller
            .authorize(CHAIN_ACTION, &input.role_arn, &[], now_s)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        if !own.allowed {
            return Err(refused());
        }
        // The role's trust, for the caller by either of its names.
        let role = self.dir.role(name).await.map_err(|_| refused())?;
        let docs = self.role_docs(&role)?;
        let mut ctx = Context::new();
        ctx.set("aws:PrincipalArn", vec![caller.role_arn.clone()]);
        ctx.set("sts:RoleSessionName", vec![input.role_session_name.clone()]);
        let decide = |principal: &str| {
            let req = Request {
                action: CHAIN_ACTION,
                resource: &role.arn,
                principal: Some(Principal {
                    kind: "AWS",
                    value: principal,
                }),
                context: &ctx,
            };
            evaluate(&[("trust", &docs.trust)], None, &req).reason
        };
        let reasons = [decide(&caller.role_arn), decide(&caller_session_arn)];
        let trusted =
            !reasons.contains(&Reason::ExplicitDeny) && reasons.contains(&Reason::Allowed);
        if !trusted {
            return Err(refused());
        }
        let max = MAX_CHAINED_S.min(u64::from(role.max_session_s));
        let duration_s = self
            .session_duration(input.duration_seconds, max)
            .map_err(|e| {
                AppError::invalid(format!(
                    "{e} (a chained role session lasts at most one hour)"
                ))
            })?;
        // Never past the caller's own session: a chain cannot outlive the credentials it
        // started from (stricter than IAM, which lets each link last an hour).
        let duration_s = duration_s.min(caller.expires_at.saturating_sub(now_s));
        let credentials = self.mint_credentials(SessionSpec {
            role: &role,
            subject: &caller.subject,
            session_name: &input.role_session_name,
            provider: &caller.provider,
            audience: &caller.audience,
            amr: caller.amr.clone(),
            identity_pool: caller.identity_pool.as_deref(),
            duration_s,
            session_policy,
        })?;
        Ok(AssumeRoleOutput {
            credentials,
            assumed_role_id: format!("{}:{}", role.role_id, input.role_session_name),
            assumed_role_arn: assumed_role_arn(&role, &input.role_session_name),
            subject: caller.subject,
            provider: caller.provider,
            audience: caller.audience,
        })
    }
}
