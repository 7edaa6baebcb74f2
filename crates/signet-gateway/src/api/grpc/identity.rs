//! `signet.v1.IdentityAdmin`, `signet.v1.Identity` and `signet.v1.Sts`: conversions only.

use super::convert as cv;
use crate::identity::pools::IdentityPoolInput;
use crate::sts::{AssumeRoleInput, Credentials};
use crate::{AppError, Gateway};
use signet_core::{
    AmbiguousRoleResolution, IdentityPool, LoginProvider, MappingRule, MatchType, PoolRoles, Role,
    RoleMapping, RoleMappingKind,
};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_server::IdentityAdmin;
use signet_proto::v1::identity_server::Identity;
use signet_proto::v1::sts_server::Sts;
use signet_verify::sigv4::SignableRequest;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub(crate) struct IdentityAdminApi {
    pub(crate) gw: Arc<Gateway>,
}

pub(crate) struct IdentityApi {
    pub(crate) gw: Arc<Gateway>,
}

pub(crate) struct StsApi {
    pub(crate) gw: Arc<Gateway>,
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

fn pool_out(p: &IdentityPool) -> pb::IdentityPoolType {
    let mut cognito = Vec::new();
    let mut oidc = Vec::new();
    for provider in &p.providers {
        match provider {
            LoginProvider::UserPool { client_ids, .. } => {
                for c in client_ids {
                    cognito.push(pb::CognitoIdentityProviderType {
                        provider_name: provider.name(),
                        client_id: c.clone(),
                    });
                }
            }
            LoginProvider::Oidc {
                issuer,
                jwks_url,
                client_ids,
            } => oidc.push(pb::OpenIdConnectProviderType {
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                client_ids: client_ids.clone(),
            }),
        }
    }
    pb::IdentityPoolType {
        identity_pool_id: p.id.clone(),
        identity_pool_name: p.name.clone(),
        allow_unauthenticated_identities: p.allow_unauthenticated,
        allow_classic_flow: p.allow_classic_flow,
        cognito_identity_providers: cognito,
        open_id_connect_providers: oidc,
        developer_provider_name: p.developer_provider.clone().unwrap_or_default(),
        creation_date: p.created_at_ms,
        last_modified_date: p.updated_at_ms,
    }
}

fn pool_in(p: pb::IdentityPoolType) -> IdentityPoolInput {
    IdentityPoolInput {
        name: p.identity_pool_name,
        allow_unauthenticated: p.allow_unauthenticated_identities,
        allow_classic_flow: p.allow_classic_flow,
        user_pools: p
            .cognito_identity_providers
            .into_iter()
            .map(|c| (c.provider_name, c.client_id))
            .collect(),
        oidc: p
            .open_id_connect_providers
            .into_iter()
            .map(|o| (o.issuer, o.jwks_url, o.client_ids))
            .collect(),
        developer_provider: Some(p.developer_provider_name).filter(|d| !d.is_empty()),
    }
}

fn mapping_in(provider: &str, m: pb::RoleMappingType) -> Result<RoleMapping, AppError> {
    let kind = match m.r#type.as_str() {
        "Token" => RoleMappingKind::Token,
        "Rules" => RoleMappingKind::Rules,
        other => {
            return Err(AppError::invalid(format!(
                "role mapping of {provider}: type must be Token or Rules, not {other:?}"
            )))
        }
    };
    let ambiguous = match m.ambiguous_role_resolution.as_str() {
        "AuthenticatedRole" => AmbiguousRoleResolution::AuthenticatedRole,
        "Deny" => AmbiguousRoleResolution::Deny,
        other => {
            return Err(AppError::invalid(format!(
                "role mapping of {provider}: ambiguous_role_resolution must be AuthenticatedRole or Deny, not {other:?}"
            )))
        }
    };
    let rules = m
        .rules
        .into_iter()
        .map(|r| {
            let match_type = match r.match_type.as_str() {
                "Equals" => MatchType::Equals,
                "NotEqual" => MatchType::NotEqual,
                "StartsWith" => MatchType::StartsWith,
                "Contains" => MatchType::Contains,
                other => {
                    return Err(AppError::invalid(format!(
                        "match_type must be Equals, NotEqual, StartsWith or Contains, not {other:?}"
                    )))
                }
            };
            Ok(MappingRule {
                claim: r.claim,
                match_type,
                value: r.value,
                role_arn: r.role_arn,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(RoleMapping {
        kind,
        ambiguous,
        rules,
    })
}

fn mapping_out(m: &RoleMapping) -> pb::RoleMappingType {
    pb::RoleMappingType {
        r#type: format!("{:?}", m.kind),
        ambiguous_role_resolution: format!("{:?}", m.ambiguous),
        rules: m
            .rules
            .iter()
            .map(|r| pb::MappingRuleType {
                claim: r.claim.clone(),
                match_type: format!("{:?}", r.match_type),
                value: r.value.clone(),
                role_arn: r.role_arn.clone(),
            })
            .collect(),
    }
}

fn role_out(r: &Role) -> pb::RoleType {
    pb::RoleType {
        role_name: r.name.clone(),
        arn: r.arn.clone(),
        role_id: r.role_id.clone(),
        description: r.description.clone(),
        assume_role_policy_document: r.trust_policy.clone(),
        max_session_duration: r.max_session_s,
        policy_names: r.policies.keys().cloned().collect(),
        create_date: r.created_at_ms,
    }
}

fn identity_out(i: &signet_core::Identity) -> pb::IdentityDescription {
    pb::IdentityDescription {
        identity_id: i.identity_id.clone(),
        logins: i.logins.keys().cloned().collect(),
        creation_date: i.created_at_ms,
        last_modified_date: i.updated_at_ms,
    }
}

fn credentials_out(c: Credentials) -> pb::CredentialsType {
    pb::CredentialsType {
        access_key_id: c.access_key_id,
        secret_key: c.secret_access_key,
        session_token: c.session_token,
        expiration: c.expiration_ms,
    }
}

#[tonic::async_trait]
impl IdentityAdmin for IdentityAdminApi {
    async fn create_identity_pool(
        &self,
        r: Request<pb::IdentityPoolType>,
    ) -> R<pb::IdentityPoolType> {
        let p = self
            .gw
            .identity_pools
            .create_identity_pool(pool_in(r.into_inner()))
            .await?;
        ok(pool_out(&p))
    }

    async fn describe_identity_pool(
        &self,
        r: Request<pb::IdentityPoolRef>,
    ) -> R<pb::IdentityPoolType> {
        let p = self
            .gw
            .identity_pools
            .describe_identity_pool(&r.get_ref().identity_pool_id)
            .await?;
        ok(pool_out(&p))
    }

    async fn update_identity_pool(
        &self,
        r: Request<pb::IdentityPoolType>,
    ) -> R<pb::IdentityPoolType> {
        let r = r.into_inner();
        let id = r.identity_pool_id.clone();
        let p = self
            .gw
            .identity_pools
            .update_identity_pool(&id, pool_in(r))
            .await?;
        ok(pool_out(&p))
    }

    async fn delete_identity_pool(&self, r: Request<pb::IdentityPoolRef>) -> R<pb::Empty> {
        self.gw
            .identity_pools
            .delete_identity_pool(&r.get_ref().identity_pool_id)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_identity_pools(
        &self,
        r: Request<pb::ListRequest>,
    ) -> R<pb::ListIdentityPoolsResponse> {
        let r = r.into_inner();
        let (pools, next) = self
            .gw
            .identity_pools
            .list_identity_pools(r.max_results as usize, cv::token(&r.next_token))
            .await?;
        ok(pb::ListIdentityPoolsResponse {
            identity_pools: pools.iter().map(pool_out).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn set_identity_pool_roles(&self, r: Request<pb::IdentityPoolRolesType>) -> R<pb::Empty> {
        let r = r.into_inner();
        let mut roles = PoolRoles::default();
        for (k, v) in r.roles {
            match k.as_str() {
                "authenticated" => roles.authenticated = Some(v),
                "unauthenticated" => roles.unauthenticated = Some(v),
                other => {
                    return Err(AppError::invalid(format!(
                        "roles keys are authenticated and unauthenticated, not {other:?}"
                    ))
                    .into())
                }
            }
        }
        let mut mappings = BTreeMap::new();
        for (provider, m) in r.role_mappings {
            let m = mapping_in(&provider, m)?;
            mappings.insert(provider, m);
        }
        self.gw
            .identity_pools
            .set_identity_pool_roles(&r.identity_pool_id, roles, mappings)
            .await?;
        ok(pb::Empty {})
    }

    async fn get_identity_pool_roles(
        &self,
        r: Request<pb::IdentityPoolRef>,
    ) -> R<pb::IdentityPoolRolesType> {
        let p = self
            .gw
            .identity_pools
            .describe_identity_pool(&r.get_ref().identity_pool_id)
            .await?;
        let mut roles = HashMap::new();
        if let Some(a) = &p.roles.authenticated {
            roles.insert("authenticated".to_string(), a.clone());
        }
        if let Some(u) = &p.roles.unauthenticated {
            roles.insert("unauthenticated".to_string(), u.clone());
        }
        ok(pb::IdentityPoolRolesType {
            identity_pool_id: p.id.clone(),
            roles,
            role_mappings: p
                .role_mappings
                .iter()
                .map(|(k, m)| (k.clone(), mapping_out(m)))
                .collect(),
        })
    }

    async fn list_identities(
        &self,
        r: Request<pb::ListIdentitiesRequest>,
    ) -> R<pb::ListIdentitiesResponse> {
        let r = r.into_inner();
        let (ids, next) = self
            .gw
            .identity_pools
            .list_identities(
                &r.identity_pool_id,
                r.max_results as usize,
                cv::token(&r.next_token),
            )
            .await?;
        ok(pb::ListIdentitiesResponse {
            identity_pool_id: r.identity_pool_id,
            identities: ids.iter().map(identity_out).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn describe_identity(&self, r: Request<pb::IdentityRef>) -> R<pb::IdentityDescription> {
        let i = self
            .gw
            .identity_pools
            .describe_identity(&r.get_ref().identity_id)
            .await?;
        ok(identity_out(&i))
    }

    async fn delete_identities(
        &self,
        r: Request<pb::DeleteIdentitiesRequest>,
    ) -> R<pb::DeleteIdentitiesResponse> {
        let missing = self
            .gw
            .identity_pools
            .delete_identities(&r.get_ref().identity_ids_to_delete)
            .await?;
        ok(pb::DeleteIdentitiesResponse {
            unprocessed_identity_ids: missing
                .into_iter()
                .map(|identity_id| pb::UnprocessedIdentityId {
                    identity_id,
                    error_code: "ResourceNotFound".into(),
                })
                .collect(),
        })
    }

    async fn get_open_id_token_for_developer_identity(
        &self,
        r: Request<pb::GetOpenIdTokenForDeveloperIdentityRequest>,
    ) -> R<pb::OpenIdTokenResponse> {
        let r = r.into_inner();
        let identity = Some(r.identity_id.as_str()).filter(|i| !i.is_empty());
        let (identity_id, token) = self
            .gw
            .identities
            .get_open_id_token_for_developer_identity(
                &r.identity_pool_id,
                identity,
                &sorted(r.logins),
                r.token_duration,
            )
            .await?;
        ok(pb::OpenIdTokenResponse { identity_id, token })
    }

    async fn create_role(&self, r: Request<pb::CreateRoleRequest>) -> R<pb::RoleType> {
        let r = r.into_inner();
        let role = self
            .gw
            .roles
            .create_role(
                &r.role_name,
                &r.assume_role_policy_document,
                &r.description,
                r.max_session_duration,
            )
            .await?;
        ok(role_out(&role))
    }

    async fn get_role(&self, r: Request<pb::RoleRef>) -> R<pb::RoleType> {
        let role = self.gw.roles.get_role(&r.get_ref().role_name).await?;
        ok(role_out(&role))
    }

    async fn update_role(&self, r: Request<pb::UpdateRoleRequest>) -> R<pb::RoleType> {
        let r = r.into_inner();
        let role = self
            .gw
            .roles
            .update_role(
                &r.role_name,
                r.description,
                r.assume_role_policy_document,
                r.max_session_duration,
            )
            .await?;
        ok(role_out(&role))
    }

    async fn delete_role(&self, r: Request<pb::RoleRef>) -> R<pb::Empty> {
        self.gw.roles.delete_role(&r.get_ref().role_name).await?;
        ok(pb::Empty {})
    }

    async fn list_roles(&self, r: Request<pb::ListRequest>) -> R<pb::ListRolesResponse> {
        let r = r.into_inner();
        let (roles, next) = self
            .gw
            .roles
            .list_roles(r.max_results as usize, cv::token(&r.next_token))
            .await?;
        ok(pb::ListRolesResponse {
            roles: roles.iter().map(role_out).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn put_role_policy(&self, r: Request<pb::RolePolicyType>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .roles
            .put_role_policy(&r.role_name, &r.policy_name, &r.policy_document)
            .await?;
        ok(pb::Empty {})
    }

    async fn get_role_policy(&self, r: Request<pb::RolePolicyRef>) -> R<pb::RolePolicyType> {
        let r = r.into_inner();
        let policy_document = self
            .gw
            .roles
            .get_role_policy(&r.role_name, &r.policy_name)
            .await?;
        ok(pb::RolePolicyType {
            role_name: r.role_name,
            policy_name: r.policy_name,
            policy_document,
        })
    }

    async fn delete_role_policy(&self, r: Request<pb::RolePolicyRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .roles
            .delete_role_policy(&r.role_name, &r.policy_name)
            .await?;
        ok(pb::Empty {})
    }
}

#[tonic::async_trait]
impl Identity for IdentityApi {
    async fn get_id(&self, r: Request<pb::GetIdRequest>) -> R<pb::GetIdResponse> {
        let r = r.into_inner();
        let identity_id = self
            .gw
            .identities
            .get_id(&r.identity_pool_id, &sorted(r.logins))
            .await?;
        ok(pb::GetIdResponse { identity_id })
    }

    async fn get_open_id_token(
        &self,
        r: Request<pb::GetOpenIdTokenRequest>,
    ) -> R<pb::OpenIdTokenResponse> {
        let r = r.into_inner();
        let token = self
            .gw
            .identities
            .get_open_id_token(&r.identity_id, &sorted(r.logins))
            .await?;
        ok(pb::OpenIdTokenResponse {
            identity_id: r.identity_id,
            token,
        })
    }

    async fn get_credentials_for_identity(
        &self,
        r: Request<pb::GetCredentialsForIdentityRequest>,
    ) -> R<pb::GetCredentialsForIdentityResponse> {
        let r = r.into_inner();
        let custom = Some(r.custom_role_arn.as_str()).filter(|c| !c.is_empty());
        let creds = self
            .gw
            .identities
            .get_credentials_for_identity(&r.identity_id, &sorted(r.logins), custom)
            .await?;
        ok(pb::GetCredentialsForIdentityResponse {
            identity_id: r.identity_id,
            credentials: Some(credentials_out(creds)),
        })
    }

    async fn unlink_identity(&self, r: Request<pb::UnlinkIdentityRequest>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .identities
            .unlink_identity(&r.identity_id, &sorted(r.logins), &r.logins_to_remove)
            .await?;
        ok(pb::Empty {})
    }
}

#[tonic::async_trait]
impl Sts for StsApi {
    async fn assume_role_with_web_identity(
        &self,
        r: Request<pb::AssumeRoleWithWebIdentityRequest>,
    ) -> R<pb::AssumeRoleWithWebIdentityResponse> {
        let r = r.into_inner();
        let out = self
            .gw
            .sts
            .assume_role_with_web_identity(AssumeRoleInput {
                role_arn: r.role_arn,
                role_session_name: r.role_session_name,
                web_identity_token: r.web_identity_token,
                duration_seconds: u64::from(r.duration_seconds),
                policy: r.policy,
            })
            .await?;
        ok(pb::AssumeRoleWithWebIdentityResponse {
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

    async fn get_caller_identity(
        &self,
        r: Request<pb::SessionTokenRequest>,
    ) -> R<pb::GetCallerIdentityResponse> {
        let (user_id, account, arn) = self
            .gw
            .sts
            .get_caller_identity(&r.get_ref().session_token)?;
        ok(pb::GetCallerIdentityResponse {
            user_id,
            account,
            arn,
        })
    }

    async fn authorize(&self, r: Request<pb::AuthorizeRequest>) -> R<pb::AuthorizeResponse> {
        let r = r.into_inner();
        let context: Vec<(String, String)> = r.context.into_iter().collect();
        let akid = Some(r.access_key_id.as_str()).filter(|a| !a.is_empty());
        let out =
            self.gw
                .sts
                .authorize(&r.session_token, akid, &r.action, &r.resource, &context)?;
        let (policy_name, statement_index, sid) = match out.statement {
            Some((p, i, s)) => (p, i as u32, s.unwrap_or_default()),
            None => (String::new(), 0, String::new()),
        };
        ok(pb::AuthorizeResponse {
            allowed: out.allowed,
            decision: out.decision.to_string(),
            policy_name,
            statement_index,
            sid,
            role_arn: out.role_arn,
            subject: out.subject,
        })
    }

    async fn verify_request_signature(
        &self,
        r: Request<pb::VerifyRequestSignatureRequest>,
    ) -> R<pb::VerifyRequestSignatureResponse> {
        let r = r.into_inner();
        let headers: Vec<(String, String)> =
            r.headers.into_iter().map(|h| (h.name, h.value)).collect();
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
        let c =
            self.gw
                .sts
                .verify_request_signature(&req, service.as_deref(), region.as_deref())?;
        ok(pb::VerifyRequestSignatureResponse {
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
}
