//! `signet.v1.UserPoolAdmin`: handlers convert and delegate; the interceptor in `mod.rs`
//! has already checked the admin secret.

mod clients;
mod groups;
mod import;
mod keys;
mod pools;
mod providers;
mod resource_servers;
mod users;

use super::convert as cv;
use crate::Gateway;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_server::UserPoolAdmin;
use std::sync::Arc;

pub(crate) struct AdminApi {
    pub(crate) gw: Arc<Gateway>,
}

/// A pool as the API shows it, with its issuer.
fn pool_out(gw: &Gateway, p: &signet_core::UserPool) -> pb::UserPoolResponse {
    pb::UserPoolResponse {
        user_pool: Some(cv::pool(p, gw.urls.issuer(&p.id))),
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

rpc_table! {
    UserPoolAdmin for AdminApi {
        get_csv_header(pb::UserPoolRef) -> pb::GetCsvHeaderResponse => import::csv_header;
        create_user_import_job(pb::CreateUserImportJobRequest) -> pb::UserImportJobResponse => import::create;
        describe_user_import_job(pb::UserImportJobRef) -> pb::UserImportJobResponse => import::describe;
        list_user_import_jobs(pb::ListUserImportJobsRequest) -> pb::ListUserImportJobsResponse => import::list;
        start_user_import_job(pb::UserImportJobRef) -> pb::UserImportJobResponse => import::start;
        stop_user_import_job(pb::UserImportJobRef) -> pb::UserImportJobResponse => import::stop;
        export_users(pb::ExportUsersRequest) -> pb::ExportUsersResponse => import::export;
        create_user_pool(pb::CreateUserPoolRequest) -> pb::UserPoolResponse => pools::create_user_pool;
        describe_user_pool(pb::UserPoolRef) -> pb::UserPoolResponse => pools::describe_user_pool;
        add_custom_attributes(pb::AddCustomAttributesRequest) -> pb::Empty => pools::add_custom_attributes;
        update_user_pool(pb::UpdateUserPoolRequest) -> pb::UserPoolResponse => pools::update_user_pool;
        delete_user_pool(pb::UserPoolRef) -> pb::Empty => pools::delete_user_pool;
        list_user_pools(pb::ListRequest) -> pb::ListUserPoolsResponse => pools::list_user_pools;
        create_user_pool_client(pb::CreateUserPoolClientRequest) -> pb::UserPoolClientResponse => clients::create_user_pool_client;
        describe_user_pool_client(pb::ClientRef) -> pb::UserPoolClientResponse => clients::describe_user_pool_client;
        update_user_pool_client(pb::UpdateUserPoolClientRequest) -> pb::UserPoolClientResponse => clients::update_user_pool_client;
        create_resource_server(pb::ResourceServerType) -> pb::ResourceServerType => resource_servers::create_resource_server;
        describe_resource_server(pb::ResourceServerRef) -> pb::ResourceServerType => resource_servers::describe_resource_server;
        update_resource_server(pb::ResourceServerType) -> pb::ResourceServerType => resource_servers::update_resource_server;
        delete_resource_server(pb::ResourceServerRef) -> pb::Empty => resource_servers::delete_resource_server;
        list_resource_servers(pb::ListInPoolRequest) -> pb::ListResourceServersResponse => resource_servers::list_resource_servers;
        create_identity_provider(pb::IdentityProviderType) -> pb::IdentityProviderType => providers::create_identity_provider;
        describe_identity_provider(pb::IdentityProviderRef) -> pb::IdentityProviderType => providers::describe_identity_provider;
        update_identity_provider(pb::IdentityProviderType) -> pb::IdentityProviderType => providers::update_identity_provider;
        delete_identity_provider(pb::IdentityProviderRef) -> pb::Empty => providers::delete_identity_provider;
        list_identity_providers(pb::ListInPoolRequest) -> pb::ListIdentityProvidersResponse => providers::list_identity_providers;
        get_identity_provider_by_identifier(pb::GetIdentityProviderByIdentifierRequest) -> pb::IdentityProviderType => providers::get_identity_provider_by_identifier;
        admin_link_provider_for_user(pb::AdminLinkProviderForUserRequest) -> pb::Empty => providers::admin_link_provider_for_user;
        admin_disable_provider_for_user(pb::AdminDisableProviderForUserRequest) -> pb::Empty => providers::admin_disable_provider_for_user;
        add_user_pool_client_secret(pb::AddUserPoolClientSecretRequest) -> pb::ClientSecretDescriptorType => clients::add_user_pool_client_secret;
        list_user_pool_client_secrets(pb::ClientRef) -> pb::ListUserPoolClientSecretsResponse => clients::list_user_pool_client_secrets;
        delete_user_pool_client_secret(pb::ClientSecretRef) -> pb::Empty => clients::delete_user_pool_client_secret;
        delete_user_pool_client(pb::ClientRef) -> pb::Empty => clients::delete_user_pool_client;
        list_user_pool_clients(pb::ListInPoolRequest) -> pb::ListUserPoolClientsResponse => clients::list_user_pool_clients;
        admin_create_user(pb::AdminCreateUserRequest) -> pb::UserResponse => users::admin_create_user;
        admin_get_user(pb::UserRef) -> pb::UserResponse => users::admin_get_user;
        admin_list_user_auth_events(pb::AdminListUserAuthEventsRequest) -> pb::AdminListUserAuthEventsResponse => users::admin_list_user_auth_events;
        admin_delete_user(pb::UserRef) -> pb::Empty => users::admin_delete_user;
        admin_disable_user(pb::UserRef) -> pb::Empty => users::admin_disable_user;
        admin_enable_user(pb::UserRef) -> pb::Empty => users::admin_enable_user;
        admin_set_user_password(pb::AdminSetUserPasswordRequest) -> pb::Empty => users::admin_set_user_password;
        admin_reset_user_password(pb::UserRef) -> pb::Empty => users::admin_reset_user_password;
        admin_update_user_attributes(pb::AdminUpdateUserAttributesRequest) -> pb::Empty => users::admin_update_user_attributes;
        admin_delete_user_attributes(pb::AdminDeleteUserAttributesRequest) -> pb::Empty => users::admin_delete_user_attributes;
        admin_confirm_sign_up(pb::UserRef) -> pb::Empty => users::admin_confirm_sign_up;
        list_users(pb::ListUsersRequest) -> pb::ListUsersResponse => users::list_users;
        admin_initiate_auth(pb::AdminInitiateAuthRequest) -> pb::AuthResponse => users::admin_initiate_auth;
        admin_respond_to_auth_challenge(pb::AdminRespondToAuthChallengeRequest) -> pb::AuthResponse => users::admin_respond_to_auth_challenge;
        set_user_pool_mfa_config(pb::SetUserPoolMfaConfigRequest) -> pb::UserPoolMfaConfigResponse => pools::set_user_pool_mfa_config;
        get_user_pool_mfa_config(pb::UserPoolRef) -> pb::UserPoolMfaConfigResponse => pools::get_user_pool_mfa_config;
        admin_set_user_mfa_preference(pb::AdminSetUserMfaPreferenceRequest) -> pb::Empty => users::admin_set_user_mfa_preference;
        admin_get_device(pb::AdminDeviceRequest) -> pb::DeviceResponse => users::admin_get_device;
        admin_list_devices(pb::AdminListDevicesRequest) -> pb::ListDevicesResponse => users::admin_list_devices;
        admin_forget_device(pb::AdminDeviceRequest) -> pb::Empty => users::admin_forget_device;
        admin_update_device_status(pb::AdminUpdateDeviceStatusRequest) -> pb::Empty => users::admin_update_device_status;
        admin_user_global_sign_out(pb::UserRef) -> pb::Empty => users::admin_user_global_sign_out;
        create_group(pb::CreateGroupRequest) -> pb::GroupResponse => groups::create_group;
        get_group(pb::GroupRef) -> pb::GroupResponse => groups::get_group;
        update_group(pb::CreateGroupRequest) -> pb::GroupResponse => groups::update_group;
        delete_group(pb::GroupRef) -> pb::Empty => groups::delete_group;
        list_groups(pb::ListInPoolRequest) -> pb::ListGroupsResponse => groups::list_groups;
        admin_add_user_to_group(pb::UserGroupRef) -> pb::Empty => groups::admin_add_user_to_group;
        admin_remove_user_from_group(pb::UserGroupRef) -> pb::Empty => groups::admin_remove_user_from_group;
        admin_list_groups_for_user(pb::UserRef) -> pb::ListGroupsResponse => groups::admin_list_groups_for_user;
        list_users_in_group(pb::ListUsersInGroupRequest) -> pb::ListUsersResponse => groups::list_users_in_group;
        list_outbox(pb::UserPoolRef) -> pb::ListOutboxResponse => users::list_outbox;
        list_signing_keys(pb::Empty) -> pb::ListSigningKeysResponse => keys::list_signing_keys;
        create_admin_access_key(pb::CreateAdminAccessKeyRequest) -> pb::AdminAccessKeyResponse => keys::create_admin_access_key;
        list_admin_access_keys(pb::ListRequest) -> pb::ListAdminAccessKeysResponse => keys::list_admin_access_keys;
        update_admin_access_key(pb::UpdateAdminAccessKeyRequest) -> pb::AdminAccessKeyResponse => keys::update_admin_access_key;
        delete_admin_access_key(pb::AdminAccessKeyRef) -> pb::Empty => keys::delete_admin_access_key;
        rotate_signing_keys(pb::Empty) -> pb::Empty => keys::rotate_signing_keys;
        revoke_signing_key(pb::KidRef) -> pb::Empty => keys::revoke_signing_key;
    }
}
