//! `AWSCognitoIdentityService.<Action>`: identity pools over AWS JSON 1.1. The public trade
//! of logins for an identity id, an OpenID token and credentials is unsigned, as in Cognito
//! (the logins are the credentials), and calls the `signet.v1.Identity` method of the same
//! name; the pool administration and developer-identity actions are signed with an admin
//! access key (AWS Signature Version 4 for service `cognito-identity`) and call the
//! `signet.v1.IdentityAdmin` method of the same name.

use super::json::{parse, run, run_value, AwsError, Fix};
use super::shapes;
use crate::api::grpc::identity::{IdentityAdminApi, IdentityApi};
use crate::aws::SignedRequest as Signed;
use crate::Gateway;
use axum::response::Response;
use serde_json::Value;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_server::IdentityAdmin;
use signet_proto::v1::identity_server::Identity;
use std::sync::Arc;

/// The service name in an admin call's signature scope.
const SERVICE: &str = "cognito-identity";

/// Answer `action`: a public one as it comes, an admin one once its signature holds.
pub(super) async fn call(gw: &Arc<Gateway>, action: &str, req: &Signed<'_>) -> Response {
    let api = IdentityApi { gw: gw.clone() };
    match action {
        "GetId" => return run(req, None, None, |r| api.get_id(r)).await,
        "GetOpenIdToken" => return run(req, None, None, |r| api.get_open_id_token(r)).await,
        "GetCredentialsForIdentity" => {
            let out = Some(shapes::credentials_out as Fix);
            return run(req, None, out, |r| api.get_credentials_for_identity(r)).await;
        }
        "UnlinkIdentity" => return run(req, None, None, |r| api.unlink_identity(r)).await,
        _ => {}
    }
    if !ADMIN.contains(&action) {
        return AwsError::unknown_operation(&format!("{}.{action}", super::COGNITO_IDENTITY))
            .into_response();
    }
    if let Err(refused) = super::json::admin_signature(gw, req, SERVICE).await {
        return *refused;
    }
    admin(IdentityAdminApi { gw: gw.clone() }, action, req).await
}

/// The signed actions offered.
const ADMIN: [&str; 11] = [
    "CreateIdentityPool",
    "DescribeIdentityPool",
    "UpdateIdentityPool",
    "DeleteIdentityPool",
    "ListIdentityPools",
    "SetIdentityPoolRoles",
    "GetIdentityPoolRoles",
    "ListIdentities",
    "DescribeIdentity",
    "DeleteIdentities",
    "GetOpenIdTokenForDeveloperIdentity",
];

async fn admin(api: IdentityAdminApi, action: &str, req: &Signed<'_>) -> Response {
    let pool_out = Some(shapes::identity_pool_out as Fix);
    match action {
        "CreateIdentityPool" => match pool_in(&api, req, false).await {
            Ok(v) => run_value(req, v, pool_out, |r| api.create_identity_pool(r)).await,
            Err(e) => e.into_response(),
        },
        "UpdateIdentityPool" => match pool_in(&api, req, true).await {
            Ok(v) => run_value(req, v, pool_out, |r| api.update_identity_pool(r)).await,
            Err(e) => e.into_response(),
        },
        "DescribeIdentityPool" => run(req, None, pool_out, |r| api.describe_identity_pool(r)).await,
        "DeleteIdentityPool" => run(req, None, None, |r| api.delete_identity_pool(r)).await,
        "ListIdentityPools" => {
            let out = Some(shapes::identity_pools_out as Fix);
            run(req, None, out, |r| api.list_identity_pools(r)).await
        }
        "SetIdentityPoolRoles" => {
            let fix = Some(shapes::roles_in as Fix);
            run(req, fix, None, |r| api.set_identity_pool_roles(r)).await
        }
        "GetIdentityPoolRoles" => {
            let out = Some(shapes::roles_out as Fix);
            run(req, None, out, |r| api.get_identity_pool_roles(r)).await
        }
        "ListIdentities" => run(req, None, None, |r| api.list_identities(r)).await,
        "DescribeIdentity" => run(req, None, None, |r| api.describe_identity(r)).await,
        "DeleteIdentities" => run(req, None, None, |r| api.delete_identities(r)).await,
        "GetOpenIdTokenForDeveloperIdentity" => {
            run(req, None, None, |r| {
                api.get_open_id_token_for_developer_identity(r)
            })
            .await
        }
        _ => AwsError::unknown_operation(action).into_response(),
    }
}

/// Create/UpdateIdentityPool's request in the message's shape. Cognito names an identity
/// pool's OpenID Connect providers by IAM ARN; Signet keeps each provider (issuer, JWKS,
/// client ids) in the pool and names it `arn:signet:iam:::oidc-provider/<issuer>`. So an
/// update may name the providers the pool has (what DescribeIdentityPool answered: a
/// describe-change-update round trip keeps them), and a provider Signet does not have is
/// refused: it is added with its issuer, JWKS URL and client ids (`OpenIdConnectProviders`
/// here, or `signet admin identity-pools`). `ServerSideTokenCheck` is taken either way:
/// Signet always checks a user-pool token's user with the pool. Signet's own
/// `LoginProviderEndpoints`, which an AWS SDK cannot send, is kept on update.
async fn pool_in(
    api: &IdentityAdminApi,
    req: &Signed<'_>,
    update: bool,
) -> Result<Value, AwsError> {
    let mut v = parse(req.body, None)?;
    let Some(m) = v.as_object_mut() else {
        return Ok(v);
    };
    if let Some(Value::Array(ps)) = m.get_mut("CognitoIdentityProviders") {
        for p in ps.iter_mut().filter_map(Value::as_object_mut) {
            if p.get("ServerSideTokenCheck").is_some_and(Value::is_boolean) {
                p.remove("ServerSideTokenCheck");
            }
        }
    }
    let arns: Vec<String> = match m.remove("OpenIdConnectProviderARNs") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                AwsError::new(
                    "SerializationException",
                    "OpenIdConnectProviderARNs is a list of ARNs.",
                )
            })?,
        Some(_) => {
            return Err(AwsError::new(
                "SerializationException",
                "OpenIdConnectProviderARNs is a list of ARNs.",
            ))
        }
    };
    // Every other member read strictly before anything is looked up.
    super::json::read::<pb::IdentityPoolType>(v.clone())?;
    let Some(m) = v.as_object_mut() else {
        return Ok(v);
    };
    let current = if update {
        let id = m
            .get("IdentityPoolId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let r = super::json::grpc_request(
            req,
            pb::IdentityPoolRef {
                identity_pool_id: id,
            },
        );
        Some(
            api.describe_identity_pool(r)
                .await
                .map_err(|s| AwsError::from_status(&s))?
                .into_inner(),
        )
    } else {
        None
    };
    // The providers the ARNs may name: those given here, else the pool's own.
    let known: Vec<Value> = match m.get("OpenIdConnectProviders") {
        Some(Value::Array(given)) => given.clone(),
        _ => current
            .as_ref()
            .map(|c| {
                c.open_id_connect_providers
                    .iter()
                    .filter_map(|p| serde_json::to_value(p).ok())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut chosen = Vec::new();
    for arn in &arns {
        let found = known.iter().find(|p| {
            p.get("Issuer")
                .and_then(Value::as_str)
                .is_some_and(|i| shapes::oidc_provider_arn(i) == *arn)
        });
        match found {
            Some(p) => chosen.push(p.clone()),
            None => {
                return Err(AwsError::new(
                    "InvalidParameterException",
                    format!(
                        "{arn} is not an OpenID Connect provider of this identity pool. Signet has no IAM \
                         OIDC providers: add the provider with its issuer, JWKS URL and client ids \
                         (OpenIdConnectProviders, or `signet admin identity-pools`); it is then named \
                         arn:signet:iam:::oidc-provider/<issuer without https://>."
                    ),
                ))
            }
        }
    }
    if !m.contains_key("OpenIdConnectProviders") {
        m.insert("OpenIdConnectProviders".into(), Value::Array(chosen));
    }
    if let Some(c) = current.filter(|_| !m.contains_key("LoginProviderEndpoints")) {
        let endpoints = serde_json::to_value(&c.login_provider_endpoints).unwrap_or_default();
        m.insert("LoginProviderEndpoints".into(), endpoints);
    }
    Ok(v)
}
