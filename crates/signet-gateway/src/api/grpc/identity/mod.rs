//! `signet.v1.IdentityAdmin`, `signet.v1.Identity` and `signet.v1.Sts`: conversions only.

mod identities;
mod mapping;
mod pools;
mod public;
mod roles;
mod sts;

use crate::sts::Credentials;
use crate::Gateway;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_server::IdentityAdmin;
use signet_proto::v1::identity_server::Identity;
use signet_proto::v1::sts_server::Sts;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub(crate) struct IdentityAdminApi {
    pub(crate) gw: Arc<Gateway>,
}

pub(crate) struct IdentityApi {
    pub(crate) gw: Arc<Gateway>,
}

pub(crate) struct StsApi {
    pub(crate) gw: Arc<Gateway>,
}

fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

pub(crate) fn credentials_out(c: Credentials) -> pb::CredentialsType {
    pb::CredentialsType {
        access_key_id: c.access_key_id,
        secret_key: c.secret_access_key,
        session_token: c.session_token,
        expiration: c.expiration_ms,
    }
}

rpc_table! {
    IdentityAdmin for IdentityAdminApi {
        create_identity_pool(pb::IdentityPoolType) -> pb::IdentityPoolType => pools::create_identity_pool;
        describe_identity_pool(pb::IdentityPoolRef) -> pb::IdentityPoolType => pools::describe_identity_pool;
        update_identity_pool(pb::IdentityPoolType) -> pb::IdentityPoolType => pools::update_identity_pool;
        delete_identity_pool(pb::IdentityPoolRef) -> pb::Empty => pools::delete_identity_pool;
        list_identity_pools(pb::ListRequest) -> pb::ListIdentityPoolsResponse => pools::list_identity_pools;
        set_identity_pool_roles(pb::IdentityPoolRolesType) -> pb::Empty => pools::set_identity_pool_roles;
        get_identity_pool_roles(pb::IdentityPoolRef) -> pb::IdentityPoolRolesType => pools::get_identity_pool_roles;
        list_identities(pb::ListIdentitiesRequest) -> pb::ListIdentitiesResponse => identities::list_identities;
        describe_identity(pb::IdentityRef) -> pb::IdentityDescription => identities::describe_identity;
        delete_identities(pb::DeleteIdentitiesRequest) -> pb::DeleteIdentitiesResponse => identities::delete_identities;
        get_open_id_token_for_developer_identity(pb::GetOpenIdTokenForDeveloperIdentityRequest) -> pb::OpenIdTokenResponse => identities::get_open_id_token_for_developer_identity;
        create_role(pb::CreateRoleRequest) -> pb::RoleType => roles::create_role;
        get_role(pb::RoleRef) -> pb::RoleType => roles::get_role;
        update_role(pb::UpdateRoleRequest) -> pb::RoleType => roles::update_role;
        delete_role(pb::RoleRef) -> pb::Empty => roles::delete_role;
        list_roles(pb::ListRequest) -> pb::ListRolesResponse => roles::list_roles;
        put_role_policy(pb::RolePolicyType) -> pb::Empty => roles::put_role_policy;
        get_role_policy(pb::RolePolicyRef) -> pb::RolePolicyType => roles::get_role_policy;
        delete_role_policy(pb::RolePolicyRef) -> pb::Empty => roles::delete_role_policy;
    }
}

rpc_table! {
    Identity for IdentityApi {
        get_id(pb::GetIdRequest) -> pb::GetIdResponse => public::get_id;
        get_open_id_token(pb::GetOpenIdTokenRequest) -> pb::OpenIdTokenResponse => public::get_open_id_token;
        get_credentials_for_identity(pb::GetCredentialsForIdentityRequest) -> pb::GetCredentialsForIdentityResponse => public::get_credentials_for_identity;
        unlink_identity(pb::UnlinkIdentityRequest) -> pb::Empty => public::unlink_identity;
    }
}

rpc_table! {
    Sts for StsApi {
        assume_role_with_web_identity(pb::AssumeRoleWithWebIdentityRequest) -> pb::AssumeRoleWithWebIdentityResponse => sts::assume_role_with_web_identity;
        get_caller_identity(pb::SessionTokenRequest) -> pb::GetCallerIdentityResponse => sts::get_caller_identity;
        authorize(pb::AuthorizeRequest) -> pb::AuthorizeResponse => sts::authorize;
        verify_request_signature(pb::VerifyRequestSignatureRequest) -> pb::VerifyRequestSignatureResponse => sts::verify_request_signature;
    }
}
