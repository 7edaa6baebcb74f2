//! `signet.v1.UserPoolAdmin`: handlers convert and delegate; the interceptor in `mod.rs`
//! has already checked the admin secret.

use super::convert as cv;
use crate::names::{Challenge, InitiateFlow, MessageAction};
use crate::oauth::resource_servers::ResourceServerInput;
use crate::pools::{ClientInput, PoolInput};
use crate::users::AdminCreateUser;
use crate::Gateway;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_server::UserPoolAdmin;
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub(crate) struct AdminApi {
    pub(crate) gw: Arc<Gateway>,
}

type R<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> R<T> {
    Ok(Response::new(v))
}

impl AdminApi {
    fn pool_out(&self, p: &signet_core::UserPool) -> pb::UserPoolResponse {
        pb::UserPoolResponse {
            user_pool: Some(cv::pool(p, self.gw.config().issuer(&p.id))),
        }
    }
}

/// A pool-scoped list request's pool, start (`None`: the first page) and page size.
fn in_pool(r: &pb::ListInPoolRequest) -> (&str, Option<String>, usize) {
    (
        &r.user_pool_id,
        cv::token(&r.next_token),
        r.max_results as usize,
    )
}

fn resource_server_in(r: &pb::ResourceServerType) -> ResourceServerInput {
    ResourceServerInput {
        identifier: r.identifier.clone(),
        name: r.name.clone(),
        scopes: r
            .scopes
            .iter()
            .map(|s| (s.scope_name.clone(), s.scope_description.clone()))
            .collect(),
    }
}

fn resource_server_out(r: &signet_core::ResourceServer) -> pb::ResourceServerType {
    pb::ResourceServerType {
        user_pool_id: r.pool_id.clone(),
        identifier: r.identifier.clone(),
        name: r.name.clone(),
        scopes: r
            .scopes
            .iter()
            .map(|s| pb::ResourceServerScopeType {
                scope_name: s.name.clone(),
                scope_description: s.description.clone(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl UserPoolAdmin for AdminApi {
    async fn get_csv_header(&self, r: Request<pb::UserPoolRef>) -> R<pb::GetCsvHeaderResponse> {
        ok(super::import::csv_header(&self.gw, r.into_inner()).await?)
    }

    async fn create_user_import_job(
        &self,
        r: Request<pb::CreateUserImportJobRequest>,
    ) -> R<pb::UserImportJobResponse> {
        ok(super::import::create(&self.gw, r.into_inner()).await?)
    }

    async fn describe_user_import_job(
        &self,
        r: Request<pb::UserImportJobRef>,
    ) -> R<pb::UserImportJobResponse> {
        ok(super::import::describe(&self.gw, r.into_inner()).await?)
    }

    async fn list_user_import_jobs(
        &self,
        r: Request<pb::ListUserImportJobsRequest>,
    ) -> R<pb::ListUserImportJobsResponse> {
        ok(super::import::list(&self.gw, r.into_inner()).await?)
    }

    async fn start_user_import_job(
        &self,
        r: Request<pb::UserImportJobRef>,
    ) -> R<pb::UserImportJobResponse> {
        ok(super::import::start(&self.gw, r.into_inner()).await?)
    }

    async fn stop_user_import_job(
        &self,
        r: Request<pb::UserImportJobRef>,
    ) -> R<pb::UserImportJobResponse> {
        ok(super::import::stop(&self.gw, r.into_inner()).await?)
    }

    async fn create_user_pool(
        &self,
        r: Request<pb::CreateUserPoolRequest>,
    ) -> R<pb::UserPoolResponse> {
        let p = self
            .gw
            .pools
            .create_user_pool(cv::pool_input(r.get_ref())?)
            .await?;
        ok(self.pool_out(&p))
    }

    async fn describe_user_pool(&self, r: Request<pb::UserPoolRef>) -> R<pb::UserPoolResponse> {
        let p = self
            .gw
            .pools
            .describe_user_pool(&r.get_ref().user_pool_id)
            .await?;
        ok(self.pool_out(&p))
    }

    async fn update_user_pool(
        &self,
        r: Request<pb::UpdateUserPoolRequest>,
    ) -> R<pb::UserPoolResponse> {
        let r = r.into_inner();
        let current = self.gw.pools.describe_user_pool(&r.user_pool_id).await?;
        let mut config = current.config.clone();
        if r.password_policy.is_some() {
            config.password_policy = cv::policy(&r.password_policy);
        }
        if !r.auto_verified_attributes.is_empty() {
            config.auto_verified_attributes = r.auto_verified_attributes.clone();
        }
        if r.clear_pre_token_generation {
            config.pre_token_generation = None;
        } else if let Some(h) = &r.pre_token_generation {
            config.pre_token_generation = Some(cv::hook_in(h));
        }
        if let Some(v) = r.prevent_user_existence_errors {
            config.prevent_user_existence_errors = v;
        }
        if let Some(v) = r.deletion_protection {
            config.deletion_protection = v;
        }
        let input = PoolInput {
            name: r.pool_name.unwrap_or(current.name),
            config,
        };
        let p = self
            .gw
            .pools
            .update_user_pool(&r.user_pool_id, input)
            .await?;
        ok(self.pool_out(&p))
    }

    async fn delete_user_pool(&self, r: Request<pb::UserPoolRef>) -> R<pb::Empty> {
        self.gw
            .pools
            .delete_user_pool(&r.get_ref().user_pool_id)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_user_pools(&self, r: Request<pb::ListRequest>) -> R<pb::ListUserPoolsResponse> {
        let r = r.into_inner();
        let (pools, next) = self
            .gw
            .pools
            .list_user_pools(cv::token(&r.next_token), r.max_results as usize)
            .await?;
        ok(pb::ListUserPoolsResponse {
            user_pools: pools
                .iter()
                .map(|p| cv::pool(p, self.gw.config().issuer(&p.id)))
                .collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn create_user_pool_client(
        &self,
        r: Request<pb::CreateUserPoolClientRequest>,
    ) -> R<pb::UserPoolClientResponse> {
        let r = r.into_inner();
        let (c, secret) = self
            .gw
            .clients
            .create_client(&r.user_pool_id, cv::client_input_create(&r))
            .await?;
        ok(pb::UserPoolClientResponse {
            user_pool_client: Some(cv::client(&c, secret)),
        })
    }

    async fn describe_user_pool_client(
        &self,
        r: Request<pb::ClientRef>,
    ) -> R<pb::UserPoolClientResponse> {
        let r = r.into_inner();
        let c = self
            .gw
            .clients
            .describe_client(&r.user_pool_id, &r.client_id)
            .await?;
        ok(pb::UserPoolClientResponse {
            user_pool_client: Some(cv::client(&c, None)),
        })
    }

    async fn update_user_pool_client(
        &self,
        r: Request<pb::UpdateUserPoolClientRequest>,
    ) -> R<pb::UserPoolClientResponse> {
        let r = r.into_inner();
        let current = self
            .gw
            .clients
            .describe_client(&r.user_pool_id, &r.client_id)
            .await?;
        let keep = |given: &Vec<String>, now: Vec<String>| {
            if given.is_empty() {
                now
            } else {
                given.clone()
            }
        };
        let input = ClientInput {
            name: r.client_name.clone().unwrap_or_default(),
            generate_secret: false,
            auth_flows: keep(
                &r.explicit_auth_flows,
                current
                    .auth_flows
                    .iter()
                    .map(|f| f.name().to_string())
                    .collect(),
            ),
            access_s: if r.access_token_validity_seconds == 0 {
                current.validity.access_s
            } else {
                r.access_token_validity_seconds
            },
            id_s: if r.id_token_validity_seconds == 0 {
                current.validity.id_s
            } else {
                r.id_token_validity_seconds
            },
            refresh_s: if r.refresh_token_validity_seconds == 0 {
                current.validity.refresh_s
            } else {
                r.refresh_token_validity_seconds
            },
            read_attributes: keep(&r.read_attributes, current.read_attributes.clone()),
            write_attributes: keep(&r.write_attributes, current.write_attributes.clone()),
            refresh_token_rotation: r
                .enable_refresh_token_rotation
                .unwrap_or(current.refresh_token_rotation),
            oauth_flows: if r.clear_oauth {
                vec![]
            } else {
                keep(
                    &r.allowed_oauth_flows,
                    current
                        .oauth_flows
                        .iter()
                        .map(|f| f.name().to_string())
                        .collect(),
                )
            },
            oauth_scopes: if r.clear_oauth {
                vec![]
            } else {
                keep(&r.allowed_oauth_scopes, current.oauth_scopes.clone())
            },
            disabled: r.disabled.unwrap_or(current.disabled),
        };
        let c = self
            .gw
            .clients
            .update_client(&r.user_pool_id, &r.client_id, input)
            .await?;
        ok(pb::UserPoolClientResponse {
            user_pool_client: Some(cv::client(&c, None)),
        })
    }

    async fn create_resource_server(
        &self,
        r: Request<pb::ResourceServerType>,
    ) -> R<pb::ResourceServerType> {
        let r = r.into_inner();
        let rs = self
            .gw
            .resource_servers
            .create_resource_server(&r.user_pool_id, resource_server_in(&r))
            .await?;
        ok(resource_server_out(&rs))
    }

    async fn describe_resource_server(
        &self,
        r: Request<pb::ResourceServerRef>,
    ) -> R<pb::ResourceServerType> {
        let r = r.into_inner();
        let rs = self
            .gw
            .resource_servers
            .describe_resource_server(&r.user_pool_id, &r.identifier)
            .await?;
        ok(resource_server_out(&rs))
    }

    async fn update_resource_server(
        &self,
        r: Request<pb::ResourceServerType>,
    ) -> R<pb::ResourceServerType> {
        let r = r.into_inner();
        let rs = self
            .gw
            .resource_servers
            .update_resource_server(&r.user_pool_id, resource_server_in(&r))
            .await?;
        ok(resource_server_out(&rs))
    }

    async fn delete_resource_server(&self, r: Request<pb::ResourceServerRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .resource_servers
            .delete_resource_server(&r.user_pool_id, &r.identifier)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_resource_servers(
        &self,
        r: Request<pb::ListInPoolRequest>,
    ) -> R<pb::ListResourceServersResponse> {
        let (pool_id, after, limit) = in_pool(r.get_ref());
        let (servers, next) = self
            .gw
            .resource_servers
            .list_resource_servers(pool_id, after, limit)
            .await?;
        ok(pb::ListResourceServersResponse {
            resource_servers: servers.iter().map(resource_server_out).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn add_user_pool_client_secret(
        &self,
        r: Request<pb::ClientRef>,
    ) -> R<pb::ClientSecretDescriptorType> {
        let r = r.into_inner();
        let (id, value, at) = self
            .gw
            .clients
            .add_client_secret(&r.user_pool_id, &r.client_id)
            .await?;
        ok(pb::ClientSecretDescriptorType {
            client_secret_id: id,
            client_secret_value: value,
            client_secret_create_date: at as i64,
        })
    }

    async fn list_user_pool_client_secrets(
        &self,
        r: Request<pb::ClientRef>,
    ) -> R<pb::ListUserPoolClientSecretsResponse> {
        let r = r.into_inner();
        let secrets = self
            .gw
            .clients
            .list_client_secrets(&r.user_pool_id, &r.client_id)
            .await?;
        ok(pb::ListUserPoolClientSecretsResponse {
            client_secrets: secrets
                .into_iter()
                .map(|(id, at)| pb::ClientSecretDescriptorType {
                    client_secret_id: id,
                    client_secret_value: String::new(),
                    client_secret_create_date: at as i64,
                })
                .collect(),
        })
    }

    async fn delete_user_pool_client_secret(
        &self,
        r: Request<pb::ClientSecretRef>,
    ) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .clients
            .delete_client_secret(&r.user_pool_id, &r.client_id, &r.client_secret_id)
            .await?;
        ok(pb::Empty {})
    }

    async fn delete_user_pool_client(&self, r: Request<pb::ClientRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .clients
            .delete_client(&r.user_pool_id, &r.client_id)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_user_pool_clients(
        &self,
        r: Request<pb::ListInPoolRequest>,
    ) -> R<pb::ListUserPoolClientsResponse> {
        let (pool_id, after, limit) = in_pool(r.get_ref());
        let (clients, next) = self.gw.clients.list_clients(pool_id, after, limit).await?;
        ok(pb::ListUserPoolClientsResponse {
            user_pool_clients: clients.iter().map(|c| cv::client(c, None)).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn admin_create_user(
        &self,
        r: Request<pb::AdminCreateUserRequest>,
    ) -> R<pb::UserResponse> {
        let r = r.into_inner();
        let u = self
            .gw
            .users
            .admin_create_user(
                &r.user_pool_id,
                AdminCreateUser {
                    username: r.username.clone(),
                    attributes: cv::attrs(&r.user_attributes),
                    temporary_password: r.temporary_password.clone(),
                    suppress: MessageAction::parse(&r.message_action)? == MessageAction::Suppress,
                },
            )
            .await?;
        ok(pb::UserResponse {
            user: Some(cv::user(&u)),
        })
    }

    async fn admin_get_user(&self, r: Request<pb::UserRef>) -> R<pb::UserResponse> {
        let r = r.into_inner();
        let u = self
            .gw
            .users
            .admin_get_user(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::UserResponse {
            user: Some(cv::user(&u)),
        })
    }

    async fn admin_delete_user(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_delete_user(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_disable_user(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_set_enabled(&r.user_pool_id, &r.username, false)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_enable_user(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_set_enabled(&r.user_pool_id, &r.username, true)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_set_user_password(
        &self,
        r: Request<pb::AdminSetUserPasswordRequest>,
    ) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_set_password(&r.user_pool_id, &r.username, &r.password, r.permanent)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_reset_user_password(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_reset_password(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_update_user_attributes(
        &self,
        r: Request<pb::AdminUpdateUserAttributesRequest>,
    ) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_update_attributes(&r.user_pool_id, &r.username, &cv::attrs(&r.user_attributes))
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_delete_user_attributes(
        &self,
        r: Request<pb::AdminDeleteUserAttributesRequest>,
    ) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_delete_attributes(&r.user_pool_id, &r.username, &r.user_attribute_names)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_confirm_sign_up(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_confirm_sign_up(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_users(&self, r: Request<pb::ListUsersRequest>) -> R<pb::ListUsersResponse> {
        let r = r.into_inner();
        let (users, next) = self
            .gw
            .users
            .list_users(
                &r.user_pool_id,
                &r.filter,
                r.limit as usize,
                cv::token(&r.pagination_token),
            )
            .await?;
        ok(pb::ListUsersResponse {
            users: users.iter().map(cv::user).collect(),
            pagination_token: next.unwrap_or_default(),
        })
    }

    async fn admin_initiate_auth(
        &self,
        r: Request<pb::AdminInitiateAuthRequest>,
    ) -> R<pb::AuthResponse> {
        let r = r.into_inner();
        let flow = InitiateFlow::parse(&r.auth_flow)?;
        let client = self
            .gw
            .clients
            .describe_client(&r.user_pool_id, &r.client_id)
            .await?;
        let params: BTreeMap<String, String> = r.auth_parameters.into_iter().collect();
        let o = self
            .gw
            .auth
            .initiate_auth(&client.client_id, flow, &params, true)
            .await?;
        ok(cv::auth(o))
    }

    async fn admin_respond_to_auth_challenge(
        &self,
        r: Request<pb::AdminRespondToAuthChallengeRequest>,
    ) -> R<pb::AuthResponse> {
        let r = r.into_inner();
        let challenge = Challenge::parse(&r.challenge_name)?;
        let client = self
            .gw
            .clients
            .describe_client(&r.user_pool_id, &r.client_id)
            .await?;
        let responses: BTreeMap<String, String> = r.challenge_responses.into_iter().collect();
        let o = self
            .gw
            .auth
            .respond_to_challenge(&client.client_id, challenge, &r.session, &responses)
            .await?;
        ok(cv::auth(o))
    }

    async fn admin_user_global_sign_out(&self, r: Request<pb::UserRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .users
            .admin_global_sign_out(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::Empty {})
    }

    async fn create_group(&self, r: Request<pb::CreateGroupRequest>) -> R<pb::GroupResponse> {
        let r = r.into_inner();
        let role = (!r.role_arn.is_empty()).then_some(r.role_arn.clone());
        let g = self
            .gw
            .groups
            .create_group(
                &r.user_pool_id,
                &r.group_name,
                &r.description,
                r.precedence,
                role,
            )
            .await?;
        ok(pb::GroupResponse {
            group: Some(cv::group(&g)),
        })
    }

    async fn get_group(&self, r: Request<pb::GroupRef>) -> R<pb::GroupResponse> {
        let r = r.into_inner();
        let g = self
            .gw
            .groups
            .get_group(&r.user_pool_id, &r.group_name)
            .await?;
        ok(pb::GroupResponse {
            group: Some(cv::group(&g)),
        })
    }

    async fn update_group(&self, r: Request<pb::CreateGroupRequest>) -> R<pb::GroupResponse> {
        let r = r.into_inner();
        let role = (!r.role_arn.is_empty()).then_some(r.role_arn.clone());
        let g = self
            .gw
            .groups
            .update_group(
                &r.user_pool_id,
                &r.group_name,
                &r.description,
                r.precedence,
                role,
            )
            .await?;
        ok(pb::GroupResponse {
            group: Some(cv::group(&g)),
        })
    }

    async fn delete_group(&self, r: Request<pb::GroupRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .groups
            .delete_group(&r.user_pool_id, &r.group_name)
            .await?;
        ok(pb::Empty {})
    }

    async fn list_groups(&self, r: Request<pb::ListInPoolRequest>) -> R<pb::ListGroupsResponse> {
        let (pool_id, after, limit) = in_pool(r.get_ref());
        let (groups, next) = self.gw.groups.list_groups(pool_id, after, limit).await?;
        ok(pb::ListGroupsResponse {
            groups: groups.iter().map(cv::group).collect(),
            next_token: next.unwrap_or_default(),
        })
    }

    async fn admin_add_user_to_group(&self, r: Request<pb::UserGroupRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .groups
            .set_membership(&r.user_pool_id, &r.username, &r.group_name, true)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_remove_user_from_group(&self, r: Request<pb::UserGroupRef>) -> R<pb::Empty> {
        let r = r.into_inner();
        self.gw
            .groups
            .set_membership(&r.user_pool_id, &r.username, &r.group_name, false)
            .await?;
        ok(pb::Empty {})
    }

    async fn admin_list_groups_for_user(
        &self,
        r: Request<pb::UserRef>,
    ) -> R<pb::ListGroupsResponse> {
        let r = r.into_inner();
        let groups = self
            .gw
            .groups
            .groups_for_user(&r.user_pool_id, &r.username)
            .await?;
        ok(pb::ListGroupsResponse {
            groups: groups.iter().map(cv::group).collect(),
            next_token: String::new(),
        })
    }

    async fn list_users_in_group(
        &self,
        r: Request<pb::ListUsersInGroupRequest>,
    ) -> R<pb::ListUsersResponse> {
        let r = r.into_inner();
        let (users, next) = self
            .gw
            .groups
            .users_in_group(
                &r.user_pool_id,
                &r.group_name,
                cv::token(&r.next_token),
                r.limit as usize,
            )
            .await?;
        ok(pb::ListUsersResponse {
            users: users.iter().map(cv::user).collect(),
            pagination_token: next.unwrap_or_default(),
        })
    }

    async fn list_outbox(&self, r: Request<pb::UserPoolRef>) -> R<pb::ListOutboxResponse> {
        let messages = self.gw.users.outbox(&r.get_ref().user_pool_id).await?;
        ok(pb::ListOutboxResponse {
            messages: messages
                .into_iter()
                .map(|m| pb::OutboxMessageType {
                    username: m.username,
                    purpose: m.purpose.key(),
                    destination: m.destination,
                    code: m.code,
                    issued_at: m.issued_at_ms as i64,
                })
                .collect(),
        })
    }

    async fn list_signing_keys(&self, _: Request<pb::Empty>) -> R<pb::ListSigningKeysResponse> {
        let keys = self.gw.key_admin.list().await?;
        ok(pb::ListSigningKeysResponse {
            keys: keys.iter().map(cv::signing_key).collect(),
        })
    }

    async fn rotate_signing_keys(&self, _: Request<pb::Empty>) -> R<pb::Empty> {
        self.gw.key_admin.rotate().await?;
        ok(pb::Empty {})
    }

    async fn revoke_signing_key(&self, r: Request<pb::KidRef>) -> R<pb::Empty> {
        self.gw.key_admin.revoke(&r.get_ref().kid).await?;
        ok(pb::Empty {})
    }
}
