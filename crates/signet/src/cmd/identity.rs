//! `signet identity …`: what an app does with an identity pool, against a gateway's public
//! `Identity` API (no admin secret): the identity of some logins, its credentials, its
//! OpenID token. Answers are printed as JSON on stdout.

use super::connect;
use crate::cli::identity::{IdentityArgs, IdentityCommand};
use crate::input::Stdin;
use crate::output::emit;
use crate::proto_json as pj;
use crate::rpc::answer;
use serde_json::json;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_client::IdentityClient;

pub async fn run(args: IdentityArgs) -> anyhow::Result<()> {
    let mut stdin = Stdin::default();
    let mut c = IdentityClient::new(connect(&args.gateway).await?);
    let out = match args.command {
        IdentityCommand::GetId { pool, logins } => {
            let r = answer(
                c.get_id(pb::GetIdRequest {
                    identity_pool_id: pool.identity_pool,
                    logins: stdin.logins(logins.logins)?,
                })
                .await,
            )?;
            json!({ "identity_id": r.identity_id })
        }
        IdentityCommand::GetCredentials {
            pool,
            logins,
            custom_role_arn,
        } => {
            let logins = stdin.logins(logins.logins)?;
            let id = answer(
                c.get_id(pb::GetIdRequest {
                    identity_pool_id: pool.identity_pool,
                    logins: logins.clone(),
                })
                .await,
            )?;
            let r = answer(
                c.get_credentials_for_identity(pb::GetCredentialsForIdentityRequest {
                    identity_id: id.identity_id,
                    logins,
                    custom_role_arn: custom_role_arn.unwrap_or_default(),
                })
                .await,
            )?;
            json!({
                "identity_id": r.identity_id,
                "credentials": pj::credentials(r.credentials.as_ref()),
            })
        }
        IdentityCommand::OpenIdToken {
            identity_id,
            logins,
        } => {
            let r = answer(
                c.get_open_id_token(pb::GetOpenIdTokenRequest {
                    identity_id,
                    logins: stdin.logins(logins.logins)?,
                })
                .await,
            )?;
            json!({ "identity_id": r.identity_id, "token": r.token })
        }
    };
    emit(&out)
}
