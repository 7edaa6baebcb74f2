//! `signet admin identity-pools …` and `signet admin roles …`: the gateway's `IdentityAdmin`
//! API (admin secret required, found as for every `signet admin` command).

use crate::cli::identity::{
    IdentityPoolSettings, IdentityPoolsCommand, RolePolicySel, RolesCommand,
};
use crate::input::Stdin;
use crate::proto_json as pj;
use crate::rpc::{all_pages, answer, list_request, AdminChannel, PAGE};
use anyhow::Context;
use serde::Deserialize;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use std::collections::HashMap;

type Admin = IdentityAdminClient<AdminChannel>;

fn pool_ref(identity_pool_id: String) -> pb::IdentityPoolRef {
    pb::IdentityPoolRef { identity_pool_id }
}

fn policy_ref(p: RolePolicySel) -> pb::RolePolicyRef {
    pb::RolePolicyRef {
        role_name: p.name,
        policy_name: p.policy_name,
    }
}

fn pool_type(identity_pool_id: String, s: IdentityPoolSettings) -> pb::IdentityPoolType {
    pb::IdentityPoolType {
        identity_pool_id,
        identity_pool_name: s.name,
        allow_unauthenticated_identities: s.allow_unauthenticated,
        allow_classic_flow: s.allow_classic_flow,
        cognito_identity_providers: s.user_pools,
        open_id_connect_providers: s.oidc,
        developer_provider_name: s.developer_provider.unwrap_or_default(),
        creation_date: 0,
        last_modified_date: 0,
        supported_login_providers: s.social.into_iter().collect(),
        login_provider_endpoints: HashMap::new(),
    }
}

/// One provider's entry of `--mapping-json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingJson {
    r#type: String,
    ambiguous_role_resolution: String,
    #[serde(default)]
    rules: Vec<RuleJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleJson {
    claim: String,
    match_type: String,
    value: String,
    role_arn: String,
}

/// `--mapping-json`: provider name -> role mapping.
fn role_mappings(text: &str) -> anyhow::Result<HashMap<String, pb::RoleMappingType>> {
    let parsed: HashMap<String, MappingJson> =
        serde_json::from_str(text).context("--mapping-json")?;
    Ok(parsed
        .into_iter()
        .map(|(provider, m)| {
            let rules = m
                .rules
                .into_iter()
                .map(|r| pb::MappingRuleType {
                    claim: r.claim,
                    match_type: r.match_type,
                    value: r.value,
                    role_arn: r.role_arn,
                })
                .collect();
            let mapping = pb::RoleMappingType {
                r#type: m.r#type,
                ambiguous_role_resolution: m.ambiguous_role_resolution,
                rules,
            };
            (provider, mapping)
        })
        .collect())
}

/// `signet admin identity-pools …`
pub async fn pools(mut c: Admin, cmd: IdentityPoolsCommand) -> anyhow::Result<Value> {
    let mut stdin = Stdin::default();
    Ok(match cmd {
        IdentityPoolsCommand::Create(settings) => {
            let p = answer(
                c.create_identity_pool(pool_type(String::new(), settings))
                    .await,
            )?;
            json!({ "identity_pool": pj::identity_pool(&p) })
        }
        IdentityPoolsCommand::Describe(sel) => {
            let p = answer(c.describe_identity_pool(pool_ref(sel.identity_pool)).await)?;
            json!({ "identity_pool": pj::identity_pool(&p) })
        }
        IdentityPoolsCommand::Update { pool, settings } => {
            let p = answer(
                c.update_identity_pool(pool_type(pool.identity_pool, settings))
                    .await,
            )?;
            json!({ "identity_pool": pj::identity_pool(&p) })
        }
        IdentityPoolsCommand::List => {
            let all = all_pages(async |next_token| {
                let r = answer(c.list_identity_pools(list_request(next_token)).await)?;
                let pools = r.identity_pools.iter().map(pj::identity_pool).collect();
                Ok((pools, r.next_token))
            })
            .await?;
            json!({ "identity_pools": all })
        }
        IdentityPoolsCommand::Delete(sel) => {
            answer(
                c.delete_identity_pool(pool_ref(sel.identity_pool.clone()))
                    .await,
            )?;
            json!({ "deleted_identity_pool": sel.identity_pool })
        }
        IdentityPoolsCommand::SetRoles {
            pool,
            authenticated,
            unauthenticated,
            mapping_json,
        } => {
            let roles = [
                ("authenticated", authenticated),
                ("unauthenticated", unauthenticated),
            ]
            .into_iter()
            .filter_map(|(k, arn)| Some((k.to_string(), arn?)))
            .collect();
            let role_mappings = match mapping_json {
                Some(doc) => role_mappings(&stdin.document(doc)?)?,
                None => HashMap::new(),
            };
            let set = pb::IdentityPoolRolesType {
                identity_pool_id: pool.identity_pool,
                roles,
                role_mappings,
            };
            answer(c.set_identity_pool_roles(set.clone()).await)?;
            pj::identity_pool_roles(&set)
        }
        IdentityPoolsCommand::GetRoles(sel) => {
            let r = answer(c.get_identity_pool_roles(pool_ref(sel.identity_pool)).await)?;
            pj::identity_pool_roles(&r)
        }
        IdentityPoolsCommand::Identities(sel) => {
            let all = all_pages(async |next_token| {
                let r = answer(
                    c.list_identities(pb::ListIdentitiesRequest {
                        identity_pool_id: sel.identity_pool.clone(),
                        max_results: PAGE,
                        next_token,
                    })
                    .await,
                )?;
                let ids = r.identities.iter().map(pj::identity).collect();
                Ok((ids, r.next_token))
            })
            .await?;
            json!({ "identity_pool_id": sel.identity_pool, "identities": all })
        }
        IdentityPoolsCommand::DescribeIdentity { identity_id } => {
            let i = answer(c.describe_identity(pb::IdentityRef { identity_id }).await)?;
            json!({ "identity": pj::identity(&i) })
        }
        IdentityPoolsCommand::DeleteIdentities { identity_ids } => {
            let r = answer(
                c.delete_identities(pb::DeleteIdentitiesRequest {
                    identity_ids_to_delete: identity_ids.clone(),
                })
                .await,
            )?;
            let unprocessed: Vec<Value> = r
                .unprocessed_identity_ids
                .iter()
                .map(|u| json!({ "identity_id": u.identity_id, "error_code": u.error_code }))
                .collect();
            let deleted: Vec<&String> = identity_ids
                .iter()
                .filter(|id| {
                    !r.unprocessed_identity_ids
                        .iter()
                        .any(|u| &&u.identity_id == id)
                })
                .collect();
            json!({ "deleted_identity_ids": deleted, "unprocessed_identity_ids": unprocessed })
        }
        IdentityPoolsCommand::DeveloperToken {
            pool,
            logins,
            identity_id,
            duration,
        } => {
            let r = answer(
                c.get_open_id_token_for_developer_identity(
                    pb::GetOpenIdTokenForDeveloperIdentityRequest {
                        identity_pool_id: pool.identity_pool,
                        identity_id: identity_id.unwrap_or_default(),
                        logins: logins.into_iter().collect(),
                        token_duration: duration.unwrap_or(0),
                    },
                )
                .await,
            )?;
            json!({ "identity_id": r.identity_id, "token": r.token })
        }
    })
}

/// `signet admin roles …`
pub async fn roles(mut c: Admin, cmd: RolesCommand) -> anyhow::Result<Value> {
    let mut stdin = Stdin::default();
    Ok(match cmd {
        RolesCommand::Create {
            name,
            trust_policy,
            description,
            max_session,
        } => {
            let r = answer(
                c.create_role(pb::CreateRoleRequest {
                    role_name: name,
                    assume_role_policy_document: stdin.document(trust_policy)?,
                    description: description.unwrap_or_default(),
                    // 0 = the default, one hour.
                    max_session_duration: max_session.unwrap_or(0),
                })
                .await,
            )?;
            json!({ "role": pj::role(&r) })
        }
        RolesCommand::Get(sel) => {
            let r = answer(
                c.get_role(pb::RoleRef {
                    role_name: sel.name,
                })
                .await,
            )?;
            json!({ "role": pj::role(&r) })
        }
        RolesCommand::List => {
            let all = all_pages(async |next_token| {
                let r = answer(c.list_roles(list_request(next_token)).await)?;
                Ok((r.roles.iter().map(pj::role).collect(), r.next_token))
            })
            .await?;
            json!({ "roles": all })
        }
        RolesCommand::Update {
            name,
            trust_policy,
            description,
            max_session,
        } => {
            let trust_policy = trust_policy.map(|d| stdin.document(d)).transpose()?;
            let r = answer(
                c.update_role(pb::UpdateRoleRequest {
                    role_name: name,
                    description,
                    assume_role_policy_document: trust_policy,
                    max_session_duration: max_session,
                })
                .await,
            )?;
            json!({ "role": pj::role(&r) })
        }
        RolesCommand::Delete(sel) => {
            answer(
                c.delete_role(pb::RoleRef {
                    role_name: sel.name.clone(),
                })
                .await,
            )?;
            json!({ "deleted_role": sel.name })
        }
        RolesCommand::PutPolicy { policy, document } => {
            let put = pb::RolePolicyType {
                role_name: policy.name,
                policy_name: policy.policy_name,
                policy_document: stdin.document(document)?,
            };
            answer(c.put_role_policy(put.clone()).await)?;
            role_policy(&put)
        }
        RolesCommand::GetPolicy(sel) => {
            let p = answer(c.get_role_policy(policy_ref(sel)).await)?;
            role_policy(&p)
        }
        RolesCommand::DeletePolicy(sel) => {
            let (role_name, policy_name) = (sel.name.clone(), sel.policy_name.clone());
            answer(c.delete_role_policy(policy_ref(sel)).await)?;
            json!({ "role_name": role_name, "deleted_policy": policy_name })
        }
    })
}

fn role_policy(p: &pb::RolePolicyType) -> Value {
    json!({
        "role_name": p.role_name,
        "policy_name": p.policy_name,
        "policy_document": pj::document(&p.policy_document),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_json_reads_what_get_roles_prints() {
        let roles = pb::IdentityPoolRolesType {
            identity_pool_id: "pool".into(),
            roles: HashMap::new(),
            role_mappings: [(
                "example.com/p1:client".to_string(),
                pb::RoleMappingType {
                    r#type: "Rules".into(),
                    ambiguous_role_resolution: "Deny".into(),
                    rules: vec![pb::MappingRuleType {
                        claim: "cognito:groups".into(),
                        match_type: "Contains".into(),
                        value: "admins".into(),
                        role_arn: "arn:signet:iam:::role/admin".into(),
                    }],
                },
            )]
            .into(),
        };
        let printed = pj::identity_pool_roles(&roles)["role_mappings"].to_string();
        assert_eq!(role_mappings(&printed).unwrap(), roles.role_mappings);
        let token = role_mappings(
            r#"{"p": {"type": "Token", "ambiguous_role_resolution": "AuthenticatedRole"}}"#,
        )
        .unwrap();
        assert!(token["p"].rules.is_empty());
        let typo = role_mappings(r#"{"p": {"type": "Token", "ambiguous": "Deny"}}"#);
        assert!(typo.is_err());
    }
}
