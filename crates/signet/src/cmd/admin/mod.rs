//! `signet admin …`: user-pool administration through a gateway's `UserPoolAdmin` API
//! (identity pools and roles: `identity`; bulk user imports: `import`). Every command
//! prints its answer as JSON on stdout; a refused call prints the Cognito exception name and
//! message on stderr and exits non-zero.

mod access_keys;
mod identity;
mod import;

use super::connect;

use crate::cli::admin::{
    AdminArgs, AdminCommand, ClientSecretsCommand, ClientSel, IdentityProvidersCommand,
    KeysCommand, PreTokenHookArgs, ProviderSel, ProviderSettings, ResourceServerSel,
    ResourceServerSettings, ResourceServersCommand, UserSel,
};
use crate::cli::token::OnOff;
use crate::output::emit;
use crate::proto_json as pj;
use crate::rpc::{
    admin_secret, all_pages, answer, attributes, list_request, with_secret, AdminChannel, PAGE,
};
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;

/// The user-pool admin client with the admin secret on every call.
type Admin = UserPoolAdminClient<AdminChannel>;

/// Connect to the gateway named by the admin flags, with the admin secret on every call.
async fn admin_channel(args: &AdminArgs) -> anyhow::Result<AdminChannel> {
    let secret = admin_secret(args.admin_secret.clone(), &args.data_dir)?;
    with_secret(connect(&args.gateway).await?, &secret)
}

fn user_ref(u: &UserSel) -> pb::UserRef {
    pb::UserRef {
        user_pool_id: u.pool.clone(),
        username: u.username.clone(),
    }
}

fn pool_ref(pool: &str) -> pb::UserPoolRef {
    pb::UserPoolRef {
        user_pool_id: pool.to_string(),
    }
}

fn client_ref(c: ClientSel) -> pb::ClientRef {
    pb::ClientRef {
        user_pool_id: c.pool,
        client_id: c.client_id,
    }
}

fn resource_server_ref(r: ResourceServerSel) -> pb::ResourceServerRef {
    pb::ResourceServerRef {
        user_pool_id: r.pool,
        identifier: r.identifier,
    }
}

fn resource_server(s: ResourceServerSettings) -> pb::ResourceServerType {
    pb::ResourceServerType {
        user_pool_id: s.server.pool,
        identifier: s.server.identifier,
        name: s.name,
        scopes: s
            .scopes
            .into_iter()
            .map(
                |(scope_name, scope_description)| pb::ResourceServerScopeType {
                    scope_name,
                    scope_description,
                },
            )
            .collect(),
    }
}

/// The hook the flags describe, if --pre-token-hook-url is given.
fn pre_token_hook(h: PreTokenHookArgs) -> Option<pb::PreTokenGenerationConfigType> {
    Some(pb::PreTokenGenerationConfigType {
        url: h.pre_token_hook_url?,
        version: h.pre_token_hook_version.unwrap_or_else(|| "V1_0".into()),
        // 0 = the gateway's default.
        timeout_ms: h.pre_token_hook_timeout_ms.unwrap_or(0),
        fail_open: h.pre_token_hook_fail_open,
    })
}

/// The first page of a list call in a pool (`next_token` empty), or the next one.
fn in_pool(user_pool_id: &str, next_token: String) -> pb::ListInPoolRequest {
    pb::ListInPoolRequest {
        user_pool_id: user_pool_id.to_string(),
        max_results: PAGE,
        next_token,
    }
}

/// Change the pool's triggers with `edit`, keeping the others; the updated pool.
async fn edit_triggers(
    c: &mut Admin,
    pool: String,
    edit: impl FnOnce(&mut pb::LambdaConfigType) -> anyhow::Result<()>,
) -> anyhow::Result<Value> {
    let current = answer(c.describe_user_pool(pool_ref(&pool)).await)?;
    let mut l = current
        .user_pool
        .and_then(|p| p.lambda_config)
        .unwrap_or_default();
    edit(&mut l)?;
    let r = answer(
        c.update_user_pool(pb::UpdateUserPoolRequest {
            user_pool_id: pool,
            lambda_config: Some(l),
            ..Default::default()
        })
        .await,
    )?;
    Ok(json!({ "user_pool": r.user_pool.as_ref().map(pj::pool) }))
}

/// Set (or, with `None`, remove) the trigger `name` (CustomAuth: the three together).
fn put_trigger(
    l: &mut pb::LambdaConfigType,
    name: &str,
    hook: Option<pb::TriggerHookType>,
) -> anyhow::Result<()> {
    let slot = match name {
        "PreSignUp" => &mut l.pre_sign_up,
        "PostConfirmation" => &mut l.post_confirmation,
        "PreAuthentication" => &mut l.pre_authentication,
        "PostAuthentication" => &mut l.post_authentication,
        "UserMigration" => &mut l.user_migration,
        "CustomMessage" => &mut l.custom_message,
        "CustomAuth" if hook.is_none() => {
            l.define_auth_challenge = None;
            l.create_auth_challenge = None;
            l.verify_auth_challenge_response = None;
            return Ok(());
        }
        other => anyhow::bail!("unknown trigger {other}"),
    };
    *slot = hook;
    Ok(())
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    // Computed here from the secret: no gateway is asked.
    if let AdminCommand::HookKey { pool } = &args.command {
        let secret = std::env::var("SIGNET_WEBHOOK_SECRET").map_err(|_| {
            anyhow::anyhow!("set SIGNET_WEBHOOK_SECRET to the gateways' webhook secret")
        })?;
        let secret = signet_crypto::Secret::new(secret.into_bytes()).ok_or_else(|| {
            anyhow::anyhow!("SIGNET_WEBHOOK_SECRET must be at least 32 characters")
        })?;
        let key = signet_gateway::pool_hook_key(&secret, pool);
        let key = String::from_utf8_lossy(key.expose()).to_string();
        println!("{}", json!({ "user_pool_id": pool, "hook_key": key }));
        return Ok(());
    }
    let channel = admin_channel(&args).await?;
    let mut c = UserPoolAdminClient::new(channel.clone());
    let out = match args.command {
        AdminCommand::IdentityPools { command } => {
            identity::pools(IdentityAdminClient::new(channel), command).await?
        }
        AdminCommand::Roles { command } => {
            identity::roles(IdentityAdminClient::new(channel), command).await?
        }
        AdminCommand::CreatePool {
            name,
            auto_verify,
            alias,
            username_attribute,
            signing_alg,
            min_length,
            no_prevent_user_existence_errors,
            admin_create_user_only,
            pre_token_hook: hook,
        } => {
            let password_policy = min_length.map(|n| pb::PasswordPolicyType {
                minimum_length: n,
                require_uppercase: true,
                require_lowercase: true,
                require_numbers: true,
                require_symbols: true,
                temporary_password_validity_days: 7,
            });
            let r = answer(
                c.create_user_pool(pb::CreateUserPoolRequest {
                    pool_name: name,
                    password_policy,
                    username_attributes: username_attribute,
                    alias_attributes: alias,
                    auto_verified_attributes: auto_verify,
                    prevent_user_existence_errors: no_prevent_user_existence_errors
                        .then_some(false),
                    signing_alg: signing_alg.unwrap_or_default(),
                    pre_token_generation: pre_token_hook(hook),
                    admin_create_user_only,
                    ..Default::default()
                })
                .await,
            )?;
            json!({ "user_pool": r.user_pool.as_ref().map(pj::pool) })
        }
        AdminCommand::DescribePool { pool } => {
            let r = answer(c.describe_user_pool(pool_ref(&pool)).await)?;
            json!({ "user_pool": r.user_pool.as_ref().map(pj::pool) })
        }
        AdminCommand::UpdatePool {
            pool,
            name,
            pre_token_hook: hook,
            clear_pre_token_hook,
            logo_url,
            primary_color,
            background_color,
            clear_ui,
            admin_create_user_only,
        } => {
            let ui = (logo_url.is_some() || primary_color.is_some() || background_color.is_some())
                .then(|| pb::UiCustomizationType {
                    logo_url: logo_url.unwrap_or_default(),
                    primary_color: primary_color.unwrap_or_default(),
                    background_color: background_color.unwrap_or_default(),
                });
            let r = answer(
                c.update_user_pool(pb::UpdateUserPoolRequest {
                    user_pool_id: pool,
                    pool_name: name,
                    pre_token_generation: pre_token_hook(hook),
                    clear_pre_token_generation: clear_pre_token_hook,
                    ui_customization: ui,
                    clear_ui_customization: clear_ui,
                    admin_create_user_only,
                    ..Default::default()
                })
                .await,
            )?;
            json!({ "user_pool": r.user_pool.as_ref().map(pj::pool) })
        }
        AdminCommand::ListPools => list_pools(&mut c).await?,
        AdminCommand::DeletePool { pool } => {
            answer(c.delete_user_pool(pool_ref(&pool)).await)?;
            json!({ "deleted_user_pool": pool })
        }
        AdminCommand::CreateClient {
            pool,
            name,
            secret,
            flows,
            rotate_refresh_tokens,
            retry_grace_secs,
            access_token_validity,
            oauth,
        } => {
            let r = answer(
                c.create_user_pool_client(pb::CreateUserPoolClientRequest {
                    user_pool_id: pool,
                    client_name: name,
                    generate_secret: secret,
                    explicit_auth_flows: flows,
                    // 0 = the gateway's default.
                    access_token_validity_seconds: access_token_validity.unwrap_or(0),
                    enable_refresh_token_rotation: rotate_refresh_tokens,
                    retry_grace_period_seconds: retry_grace_secs,
                    allowed_oauth_flows: oauth.oauth_flow,
                    allowed_oauth_scopes: oauth.oauth_scope,
                    callback_urls: oauth.callback_url,
                    logout_urls: oauth.logout_url,
                    default_redirect_uri: oauth.default_redirect_uri.unwrap_or_default(),
                    supported_identity_providers: oauth.identity_provider,
                    ..Default::default()
                })
                .await,
            )?;
            json!({ "user_pool_client": r.user_pool_client.as_ref().map(pj::client) })
        }
        AdminCommand::UpdateClient {
            client,
            name,
            disable,
            enable,
            oauth,
            clear_oauth,
        } => {
            let r = answer(
                c.update_user_pool_client(pb::UpdateUserPoolClientRequest {
                    user_pool_id: client.pool,
                    client_id: client.client_id,
                    client_name: name,
                    allowed_oauth_flows: oauth.oauth_flow,
                    allowed_oauth_scopes: oauth.oauth_scope,
                    callback_urls: oauth.callback_url,
                    logout_urls: oauth.logout_url,
                    default_redirect_uri: oauth.default_redirect_uri,
                    supported_identity_providers: oauth.identity_provider,
                    clear_oauth,
                    disabled: (disable || enable).then_some(disable),
                    ..Default::default()
                })
                .await,
            )?;
            json!({ "user_pool_client": r.user_pool_client.as_ref().map(pj::client) })
        }
        AdminCommand::ClientSecrets { command } => client_secrets(&mut c, command).await?,
        AdminCommand::ResourceServers { command } => resource_servers(&mut c, command).await?,
        AdminCommand::IdentityProviders { command } => identity_providers(&mut c, command).await?,
        AdminCommand::ListClients { pool } => list_clients(&mut c, pool).await?,
        AdminCommand::CreateUser {
            user,
            temporary_password,
            attrs,
        } => {
            let r = answer(
                c.admin_create_user(pb::AdminCreateUserRequest {
                    user_pool_id: user.pool,
                    username: user.username,
                    user_attributes: attributes(&attrs),
                    temporary_password,
                    message_action: String::new(),
                })
                .await,
            )?;
            json!({ "user": r.user.as_ref().map(pj::user) })
        }
        AdminCommand::UpdateUser { user, attrs } => {
            answer(
                c.admin_update_user_attributes(pb::AdminUpdateUserAttributesRequest {
                    user_pool_id: user.pool.clone(),
                    username: user.username.clone(),
                    user_attributes: attributes(&attrs),
                })
                .await,
            )?;
            let r = answer(c.admin_get_user(user_ref(&user)).await)?;
            json!({ "user": r.user.as_ref().map(pj::user) })
        }
        AdminCommand::GetUser(u) => {
            let r = answer(c.admin_get_user(user_ref(&u)).await)?;
            json!({ "user": r.user.as_ref().map(pj::user) })
        }
        AdminCommand::ListUsers { pool, filter } => list_users(&mut c, pool, filter).await?,
        AdminCommand::SetPassword {
            user,
            password,
            permanent,
        } => {
            answer(
                c.admin_set_user_password(pb::AdminSetUserPasswordRequest {
                    user_pool_id: user.pool,
                    username: user.username.clone(),
                    password,
                    permanent,
                })
                .await,
            )?;
            json!({ "username": user.username, "password_set": true, "permanent": permanent })
        }
        AdminCommand::DisableUser(u) => {
            answer(c.admin_disable_user(user_ref(&u)).await)?;
            json!({ "username": u.username, "enabled": false })
        }
        AdminCommand::EnableUser(u) => {
            answer(c.admin_enable_user(user_ref(&u)).await)?;
            json!({ "username": u.username, "enabled": true })
        }
        AdminCommand::DeleteUser(u) => {
            answer(c.admin_delete_user(user_ref(&u)).await)?;
            json!({ "deleted_user": u.username })
        }
        AdminCommand::ConfirmUser(u) => {
            answer(c.admin_confirm_sign_up(user_ref(&u)).await)?;
            json!({ "username": u.username, "confirmed": true })
        }
        AdminCommand::SignOutUser(u) => {
            answer(c.admin_user_global_sign_out(user_ref(&u)).await)?;
            json!({ "username": u.username, "signed_out": true })
        }
        AdminCommand::SetMfaConfig {
            pool,
            mfa,
            totp,
            sms,
            email,
        } => {
            let r = answer(
                c.set_user_pool_mfa_config(pb::SetUserPoolMfaConfigRequest {
                    user_pool_id: pool,
                    mfa_configuration: mfa,
                    software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
                        enabled: totp == OnOff::On,
                    }),
                    sms_mfa_configuration: sms.map(|s| pb::SmsMfaConfigType {
                        enabled: s == OnOff::On,
                    }),
                    email_mfa_configuration: email.map(|s| pb::EmailMfaConfigType {
                        enabled: s == OnOff::On,
                    }),
                })
                .await,
            )?;
            pj::mfa_config(&r)
        }
        AdminCommand::SetTrigger {
            pool,
            trigger,
            url,
            timeout_ms,
            fail_open,
        } => {
            let hook = pb::TriggerHookType {
                url,
                timeout_ms,
                fail_open,
            };
            edit_triggers(&mut c, pool, |l| put_trigger(l, &trigger, Some(hook))).await?
        }
        AdminCommand::SetCustomAuth {
            pool,
            define_url,
            create_url,
            verify_url,
            timeout_ms,
        } => {
            let hook = |url| {
                Some(pb::TriggerHookType {
                    url,
                    timeout_ms,
                    fail_open: false,
                })
            };
            edit_triggers(&mut c, pool, |l| {
                l.define_auth_challenge = hook(define_url);
                l.create_auth_challenge = hook(create_url);
                l.verify_auth_challenge_response = hook(verify_url);
                Ok(())
            })
            .await?
        }
        AdminCommand::ClearTrigger { pool, trigger } => {
            edit_triggers(&mut c, pool, |l| put_trigger(l, &trigger, None)).await?
        }
        AdminCommand::HookKey { .. } => unreachable!("answered above"),
        AdminCommand::ListAuthEvents { pool, username } => {
            let mut events = Vec::new();
            let mut next_token = String::new();
            loop {
                let r = answer(
                    c.admin_list_user_auth_events(pb::AdminListUserAuthEventsRequest {
                        user_pool_id: pool.clone(),
                        username: username.clone(),
                        max_results: 60,
                        next_token: next_token.clone(),
                    })
                    .await,
                )?;
                events.extend(r.auth_events.iter().map(pj::auth_event));
                if r.next_token.is_empty() {
                    break;
                }
                next_token = r.next_token;
            }
            json!({ "auth_events": events })
        }
        AdminCommand::AddCustomAttribute {
            pool,
            name,
            data_type,
            immutable,
            max_length,
        } => {
            answer(
                c.add_custom_attributes(pb::AddCustomAttributesRequest {
                    user_pool_id: pool.clone(),
                    custom_attributes: vec![pb::SchemaAttributeType {
                        name: name.clone(),
                        attribute_data_type: data_type,
                        mutable: !immutable,
                        required: false,
                        max_length,
                    }],
                })
                .await,
            )?;
            let name = if name.starts_with("custom:") {
                name
            } else {
                format!("custom:{name}")
            };
            json!({ "user_pool_id": pool, "added": name })
        }
        AdminCommand::GetMfaConfig { pool } => {
            let r = answer(
                c.get_user_pool_mfa_config(pb::UserPoolRef { user_pool_id: pool })
                    .await,
            )?;
            pj::mfa_config(&r)
        }
        AdminCommand::ListDevices(u) => {
            let mut devices = Vec::new();
            let mut token = String::new();
            loop {
                let r = answer(
                    c.admin_list_devices(pb::AdminListDevicesRequest {
                        user_pool_id: u.pool.clone(),
                        username: u.username.clone(),
                        limit: 0,
                        pagination_token: token,
                    })
                    .await,
                )?;
                devices.extend(r.devices.iter().map(pj::device));
                if r.pagination_token.is_empty() {
                    break;
                }
                token = r.pagination_token;
            }
            json!({ "username": u.username, "devices": devices })
        }
        AdminCommand::ForgetDevice { user, device_key } => {
            answer(
                c.admin_forget_device(pb::AdminDeviceRequest {
                    user_pool_id: user.pool,
                    username: user.username.clone(),
                    device_key: device_key.clone(),
                })
                .await,
            )?;
            json!({ "username": user.username, "device_key": device_key, "forgotten": true })
        }
        AdminCommand::SetUserMfa { user, factors } => {
            let m = super::token::MfaSettings::from_args(factors)?;
            answer(
                c.admin_set_user_mfa_preference(pb::AdminSetUserMfaPreferenceRequest {
                    user_pool_id: user.pool,
                    username: user.username.clone(),
                    software_token_mfa_settings: m.totp,
                    sms_mfa_settings: m.sms,
                    email_mfa_settings: m.email,
                })
                .await,
            )?;
            let mut out = m.summary();
            out["username"] = json!(user.username);
            out
        }
        AdminCommand::CreateGroup {
            pool,
            name,
            precedence,
            role_arn,
        } => {
            let r = answer(
                c.create_group(pb::CreateGroupRequest {
                    user_pool_id: pool,
                    group_name: name,
                    description: String::new(),
                    role_arn: role_arn.unwrap_or_default(),
                    precedence,
                })
                .await,
            )?;
            json!({ "group": r.group.as_ref().map(pj::group) })
        }
        AdminCommand::AddToGroup { user, group } => {
            answer(
                c.admin_add_user_to_group(pb::UserGroupRef {
                    user_pool_id: user.pool,
                    username: user.username.clone(),
                    group_name: group.clone(),
                })
                .await,
            )?;
            json!({ "username": user.username, "added_to_group": group })
        }
        AdminCommand::ImportJobs { command } => import::jobs(&mut c, command).await?,
        AdminCommand::ImportUsers(a) => import::import_users(&mut c, a).await?,
        AdminCommand::ExportUsers(a) => import::export_users(&mut c, a).await?,
        AdminCommand::Outbox { pool } => {
            let r = answer(c.list_outbox(pool_ref(&pool)).await)?;
            let messages: Vec<Value> = r.messages.iter().map(pj::outbox_message).collect();
            json!({ "messages": messages })
        }
        AdminCommand::AccessKeys { command } => access_keys::run(&mut c, command).await?,
        AdminCommand::Keys { command } => match command {
            KeysCommand::List => {
                let r = answer(c.list_signing_keys(pb::Empty {}).await)?;
                let keys: Vec<Value> = r.keys.iter().map(pj::signing_key).collect();
                json!({ "keys": keys })
            }
            KeysCommand::Rotate => {
                answer(c.rotate_signing_keys(pb::Empty {}).await)?;
                json!({ "rotation": "requested" })
            }
            KeysCommand::Revoke { kid } => {
                answer(c.revoke_signing_key(pb::KidRef { kid: kid.clone() }).await)?;
                json!({ "kid": kid, "state": "revoked" })
            }
        },
    };
    emit(&out)
}

async fn list_pools(c: &mut Admin) -> anyhow::Result<Value> {
    let all = all_pages(async |next_token| {
        let r = answer(c.list_user_pools(list_request(next_token)).await)?;
        Ok((r.user_pools.iter().map(pj::pool).collect(), r.next_token))
    })
    .await?;
    Ok(json!({ "user_pools": all }))
}

async fn list_clients(c: &mut Admin, pool: String) -> anyhow::Result<Value> {
    let all = all_pages(async |next_token| {
        let r = answer(c.list_user_pool_clients(in_pool(&pool, next_token)).await)?;
        let clients = r.user_pool_clients.iter().map(pj::client).collect();
        Ok((clients, r.next_token))
    })
    .await?;
    Ok(json!({ "user_pool_clients": all }))
}

/// `signet admin client-secrets …`
async fn client_secrets(c: &mut Admin, cmd: ClientSecretsCommand) -> anyhow::Result<Value> {
    Ok(match cmd {
        ClientSecretsCommand::Add(client) => {
            let client_id = client.client_id.clone();
            let r = pb::AddUserPoolClientSecretRequest {
                user_pool_id: client.pool,
                client_id: client.client_id,
                client_secret: String::new(),
            };
            let s = answer(c.add_user_pool_client_secret(r).await)?;
            json!({ "client_id": client_id, "client_secret": pj::client_secret(&s) })
        }
        ClientSecretsCommand::List(client) => {
            let client_id = client.client_id.clone();
            let r = answer(c.list_user_pool_client_secrets(client_ref(client)).await)?;
            let secrets: Vec<Value> = r.client_secrets.iter().map(pj::client_secret).collect();
            json!({ "client_id": client_id, "client_secrets": secrets })
        }
        ClientSecretsCommand::Delete { client, secret_id } => {
            let client_id = client.client_id.clone();
            answer(
                c.delete_user_pool_client_secret(pb::ClientSecretRef {
                    user_pool_id: client.pool,
                    client_id: client.client_id,
                    client_secret_id: secret_id.clone(),
                })
                .await,
            )?;
            json!({ "client_id": client_id, "deleted_client_secret": secret_id })
        }
    })
}

/// A provider's user as AdminLink/DisableProviderForUser name them.
fn provider_user(provider: &str, subject: &str) -> pb::ProviderUserIdentifierType {
    pb::ProviderUserIdentifierType {
        provider_name: provider.into(),
        provider_attribute_name: "Cognito_Subject".into(),
        provider_attribute_value: subject.into(),
    }
}

fn provider_ref(s: ProviderSel) -> pb::IdentityProviderRef {
    pb::IdentityProviderRef {
        user_pool_id: s.pool,
        provider_name: s.name,
    }
}

fn provider(
    s: ProviderSettings,
    provider_type: String,
) -> anyhow::Result<pb::IdentityProviderType> {
    let mut details: std::collections::HashMap<String, String> = s.details.into_iter().collect();
    if let Some(path) = &s.metadata_file {
        let doc = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--metadata-file {}: {e}", path.display()))?;
        details.insert("MetadataFile".into(), doc);
    }
    Ok(pb::IdentityProviderType {
        user_pool_id: s.provider.pool,
        provider_name: s.provider.name,
        provider_type,
        provider_details: details,
        attribute_mapping: s.mapping.into_iter().collect(),
        idp_identifiers: s.identifiers,
        ..Default::default()
    })
}

/// `signet admin identity-providers …`
async fn identity_providers(c: &mut Admin, cmd: IdentityProvidersCommand) -> anyhow::Result<Value> {
    let p = match cmd {
        IdentityProvidersCommand::Create {
            settings,
            provider_type,
        } => answer(
            c.create_identity_provider(provider(settings, provider_type)?)
                .await,
        )?,
        IdentityProvidersCommand::Describe(sel) => {
            answer(c.describe_identity_provider(provider_ref(sel)).await)?
        }
        IdentityProvidersCommand::Update(s) => answer(
            c.update_identity_provider(provider(s, String::new())?)
                .await,
        )?,
        IdentityProvidersCommand::Delete(sel) => {
            let name = sel.name.clone();
            answer(c.delete_identity_provider(provider_ref(sel)).await)?;
            return Ok(json!({ "deleted_identity_provider": name }));
        }
        IdentityProvidersCommand::List { pool } => {
            let all = all_pages(async |next_token| {
                let r = answer(c.list_identity_providers(in_pool(&pool, next_token)).await)?;
                Ok((
                    r.providers.iter().map(pj::identity_provider).collect(),
                    r.next_token,
                ))
            })
            .await?;
            return Ok(json!({ "identity_providers": all }));
        }
        IdentityProvidersCommand::Link {
            provider,
            subject,
            username,
        } => {
            let source = provider_user(&provider.name, &subject);
            answer(
                c.admin_link_provider_for_user(pb::AdminLinkProviderForUserRequest {
                    user_pool_id: provider.pool,
                    destination_user: Some(pb::ProviderUserIdentifierType {
                        provider_name: "Cognito".into(),
                        provider_attribute_name: String::new(),
                        provider_attribute_value: username.clone(),
                    }),
                    source_user: Some(source),
                })
                .await,
            )?;
            return Ok(
                json!({ "linked": { "provider": provider.name, "subject": subject, "username": username } }),
            );
        }
        IdentityProvidersCommand::Disable { provider, subject } => {
            answer(
                c.admin_disable_provider_for_user(pb::AdminDisableProviderForUserRequest {
                    user_pool_id: provider.pool,
                    user: Some(provider_user(&provider.name, &subject)),
                })
                .await,
            )?;
            return Ok(json!({ "disabled": { "provider": provider.name, "subject": subject } }));
        }
    };
    Ok(json!({ "identity_provider": pj::identity_provider(&p) }))
}

/// `signet admin resource-servers …`
async fn resource_servers(c: &mut Admin, cmd: ResourceServersCommand) -> anyhow::Result<Value> {
    let server = match cmd {
        ResourceServersCommand::Create(s) => {
            answer(c.create_resource_server(resource_server(s)).await)?
        }
        ResourceServersCommand::Describe(sel) => {
            answer(c.describe_resource_server(resource_server_ref(sel)).await)?
        }
        ResourceServersCommand::Update(s) => {
            answer(c.update_resource_server(resource_server(s)).await)?
        }
        ResourceServersCommand::Delete(sel) => {
            let identifier = sel.identifier.clone();
            answer(c.delete_resource_server(resource_server_ref(sel)).await)?;
            return Ok(json!({ "deleted_resource_server": identifier }));
        }
        ResourceServersCommand::List { pool } => {
            let all = all_pages(async |next_token| {
                let r = answer(c.list_resource_servers(in_pool(&pool, next_token)).await)?;
                let servers = r.resource_servers.iter().map(pj::resource_server);
                Ok((servers.collect(), r.next_token))
            })
            .await?;
            return Ok(json!({ "resource_servers": all }));
        }
    };
    Ok(json!({ "resource_server": pj::resource_server(&server) }))
}

async fn list_users(c: &mut Admin, pool: String, filter: Option<String>) -> anyhow::Result<Value> {
    let filter = filter.unwrap_or_default();
    let all = all_pages(async |pagination_token| {
        let r = answer(
            c.list_users(pb::ListUsersRequest {
                user_pool_id: pool.clone(),
                filter: filter.clone(),
                limit: PAGE,
                pagination_token,
                attributes_to_get: vec![],
            })
            .await,
        )?;
        Ok((r.users.iter().map(pj::user).collect(), r.pagination_token))
    })
    .await?;
    Ok(json!({ "users": all }))
}
