//! `signet sts …`: a gateway's public `Sts` API: credentials of a role for a web-identity
//! token, authorization decisions for credentials, and whose credentials they are.
//! Answers are printed as JSON on stdout.

use super::connect;
use crate::cli::sts::{StsArgs, StsCommand};
use crate::exit::Exit;
use crate::input::Stdin;
use crate::output::emit;
use crate::proto_json as pj;
use crate::rpc::answer;
use serde_json::json;
use signet_proto::v1 as pb;
use signet_proto::v1::sts_client::StsClient;

/// Exit status of `authorize --fail-on-deny` for a denial.
const DENIED: u8 = 3;

pub async fn run(args: StsArgs) -> anyhow::Result<()> {
    let mut stdin = Stdin::default();
    let mut c = StsClient::new(connect(&args.gateway).await?);
    match args.command {
        StsCommand::AssumeRole {
            role_arn,
            session_name,
            web_identity_token,
            duration,
            policy,
        } => {
            let policy = policy.map(|d| stdin.document(d)).transpose()?;
            let r = answer(
                c.assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest {
                    role_arn,
                    role_session_name: session_name,
                    web_identity_token: stdin.value(web_identity_token)?,
                    // 0 = the default, one hour (capped at the role's longest session).
                    duration_seconds: duration.unwrap_or(0),
                    policy: policy.unwrap_or_default(),
                })
                .await,
            )?;
            let user = r
                .assumed_role_user
                .as_ref()
                .map(|u| json!({ "assumed_role_id": u.assumed_role_id, "arn": u.arn }));
            emit(&json!({
                "credentials": pj::credentials(r.credentials.as_ref()),
                "subject_from_web_identity_token": r.subject_from_web_identity_token,
                "assumed_role_user": user,
                "provider": r.provider,
                "audience": r.audience,
            }))
        }
        StsCommand::Authorize {
            session,
            access_key_id,
            action,
            resource,
            context,
            fail_on_deny,
        } => {
            let r = answer(
                c.authorize(pb::AuthorizeRequest {
                    session_token: stdin.value(session.session_token)?,
                    access_key_id: access_key_id.unwrap_or_default(),
                    action,
                    resource,
                    context: context.into_iter().collect(),
                })
                .await,
            )?;
            emit(&pj::authorization(&r))?;
            if fail_on_deny && !r.allowed {
                return Err(Exit {
                    code: DENIED,
                    message: format!("denied ({})", r.decision),
                }
                .into());
            }
            Ok(())
        }
        StsCommand::CallerIdentity(session) => {
            let r = answer(
                c.get_caller_identity(pb::SessionTokenRequest {
                    session_token: stdin.value(session.session_token)?,
                })
                .await,
            )?;
            emit(&json!({ "user_id": r.user_id, "account": r.account, "arn": r.arn }))
        }
    }
}
