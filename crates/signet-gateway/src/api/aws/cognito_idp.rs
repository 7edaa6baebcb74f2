//! `AWSCognitoIdentityProviderService.<Action>`: Cognito user pools over AWS JSON 1.1. The
//! public actions (sign-up, sign-in, the signed-in user's own calls) need no signature, as
//! in Cognito: their credentials are in their members (client id and secret hash, tokens,
//! sessions); each calls the `signet.v1.UserPoolAuth` method of the same name. The admin
//! actions are signed with an admin access key (AWS Signature Version 4 for service
//! `cognito-idp`) and call the `signet.v1.UserPoolAdmin` method of the same name.

use super::json::{run, AwsError, Fix};
use super::shapes;
use crate::api::grpc::admin::AdminApi;
use crate::api::grpc::auth::AuthApi;
use crate::aws::SignedRequest as Signed;
use crate::Gateway;
use axum::response::Response;
use signet_proto::v1::user_pool_admin_server::UserPoolAdmin;
use signet_proto::v1::user_pool_auth_server::UserPoolAuth;
use std::sync::Arc;

/// The service name in an admin call's signature scope.
const SERVICE: &str = "cognito-idp";

/// The public actions: (Cognito's name, the UserPoolAuth method).
macro_rules! public_actions {
    ($($name:literal => $method:ident),* $(,)?) => {
        async fn public(api: &AuthApi, action: &str, req: &Signed<'_>) -> Option<Response> {
            Some(match action {
                $($name => run(req, None, None, |r| api.$method(r)).await,)*
                _ => return None,
            })
        }
    };
}

public_actions! {
    "SignUp" => sign_up,
    "ConfirmSignUp" => confirm_sign_up,
    "ResendConfirmationCode" => resend_confirmation_code,
    "InitiateAuth" => initiate_auth,
    "RespondToAuthChallenge" => respond_to_auth_challenge,
    "ForgotPassword" => forgot_password,
    "ConfirmForgotPassword" => confirm_forgot_password,
    "ChangePassword" => change_password,
    "GetUser" => get_user,
    "UpdateUserAttributes" => update_user_attributes,
    "DeleteUserAttributes" => delete_user_attributes,
    "GetUserAttributeVerificationCode" => get_user_attribute_verification_code,
    "VerifyUserAttribute" => verify_user_attribute,
    "DeleteUser" => delete_user,
    "GlobalSignOut" => global_sign_out,
    "RevokeToken" => revoke_token,
    "AssociateSoftwareToken" => associate_software_token,
    "VerifySoftwareToken" => verify_software_token,
    "SetUserMFAPreference" => set_user_mfa_preference,
    "ConfirmDevice" => confirm_device,
    "GetDevice" => get_device,
    "ListDevices" => list_devices,
    "ForgetDevice" => forget_device,
    "UpdateDeviceStatus" => update_device_status,
    "GetTokensFromRefreshToken" => get_tokens_from_refresh_token,
}

/// The admin actions: (Cognito's name, the UserPoolAdmin method, and where Cognito's shape
/// differs, the fix of the request and of the answer).
macro_rules! admin_actions {
    ($($name:literal => $method:ident $(in $fin:ident)? $(out $fout:ident)?),* $(,)?) => {
        /// Whether `action` is an admin action offered.
        fn is_admin(action: &str) -> bool {
            matches!(action, $($name)|*)
        }

        async fn admin(api: &AdminApi, action: &str, req: &Signed<'_>) -> Option<Response> {
            Some(match action {
                $($name => {
                    let fix_in: Option<Fix> = None $(.or(Some(shapes::$fin)))?;
                    let fix_out: Option<Fix> = None $(.or(Some(shapes::$fout)))?;
                    run(req, fix_in, fix_out, |r| api.$method(r)).await
                })*
                _ => return None,
            })
        }
    };
}

admin_actions! {
    "CreateUserPool" => create_user_pool in pool_in out pool_out,
    "DescribeUserPool" => describe_user_pool out pool_out,
    "DeleteUserPool" => delete_user_pool,
    "ListUserPools" => list_user_pools out pools_out,
    "AddCustomAttributes" => add_custom_attributes,
    "CreateUserPoolClient" => create_user_pool_client in client_create_in out client_out,
    "DescribeUserPoolClient" => describe_user_pool_client out client_out,
    "UpdateUserPoolClient" => update_user_pool_client in client_update_in out client_out,
    "DeleteUserPoolClient" => delete_user_pool_client,
    "ListUserPoolClients" => list_user_pool_clients out clients_out,
    "AddUserPoolClientSecret" => add_user_pool_client_secret out client_secret_out,
    "ListUserPoolClientSecrets" => list_user_pool_client_secrets in single_page_in,
    "DeleteUserPoolClientSecret" => delete_user_pool_client_secret,
    "AdminCreateUser" => admin_create_user,
    "AdminGetUser" => admin_get_user out user_flat,
    "AdminDeleteUser" => admin_delete_user,
    "AdminDisableUser" => admin_disable_user,
    "AdminEnableUser" => admin_enable_user,
    "AdminSetUserPassword" => admin_set_user_password,
    "AdminResetUserPassword" => admin_reset_user_password,
    "AdminUpdateUserAttributes" => admin_update_user_attributes,
    "AdminDeleteUserAttributes" => admin_delete_user_attributes,
    "AdminConfirmSignUp" => admin_confirm_sign_up,
    "AdminUserGlobalSignOut" => admin_user_global_sign_out,
    "AdminInitiateAuth" => admin_initiate_auth,
    "AdminRespondToAuthChallenge" => admin_respond_to_auth_challenge,
    "AdminSetUserMFAPreference" => admin_set_user_mfa_preference,
    "ListUsers" => list_users,
    "CreateGroup" => create_group,
    "GetGroup" => get_group,
    "UpdateGroup" => update_group,
    "DeleteGroup" => delete_group,
    "ListGroups" => list_groups in list_groups_in,
    "AdminAddUserToGroup" => admin_add_user_to_group,
    "AdminRemoveUserFromGroup" => admin_remove_user_from_group,
    "AdminListGroupsForUser" => admin_list_groups_for_user in single_page_in,
    "ListUsersInGroup" => list_users_in_group out users_in_group_out,
    "AdminListUserAuthEvents" => admin_list_user_auth_events out auth_events_out,
    "UpdateUserPool" => update_user_pool in pool_in out nothing,
    "SetUserPoolMfaConfig" => set_user_pool_mfa_config,
    "GetUserPoolMfaConfig" => get_user_pool_mfa_config,
    "AdminGetDevice" => admin_get_device,
    "AdminListDevices" => admin_list_devices,
    "AdminForgetDevice" => admin_forget_device,
    "AdminUpdateDeviceStatus" => admin_update_device_status,
    "CreateIdentityProvider" => create_identity_provider out identity_provider,
    "DescribeIdentityProvider" => describe_identity_provider out identity_provider,
    "UpdateIdentityProvider" => update_identity_provider out identity_provider,
    "DeleteIdentityProvider" => delete_identity_provider,
    "ListIdentityProviders" => list_identity_providers,
    "GetIdentityProviderByIdentifier" => get_identity_provider_by_identifier out identity_provider,
    "CreateResourceServer" => create_resource_server out resource_server,
    "DescribeResourceServer" => describe_resource_server out resource_server,
    "UpdateResourceServer" => update_resource_server out resource_server,
    "DeleteResourceServer" => delete_resource_server,
    "ListResourceServers" => list_resource_servers,
    "AdminLinkProviderForUser" => admin_link_provider_for_user,
    "AdminDisableProviderForUser" => admin_disable_provider_for_user,
    "GetCSVHeader" => get_csv_header,
    "CreateUserImportJob" => create_user_import_job,
    "DescribeUserImportJob" => describe_user_import_job,
    "ListUserImportJobs" => list_user_import_jobs,
    "StartUserImportJob" => start_user_import_job,
    "StopUserImportJob" => stop_user_import_job,
}

/// Answer `action`: a public one as it comes, an admin one once its signature holds.
pub(super) async fn call(gw: &Arc<Gateway>, action: &str, req: &Signed<'_>) -> Response {
    let api = AuthApi { gw: gw.clone() };
    if let Some(r) = public(&api, action, req).await {
        return r;
    }
    if !is_admin(action) {
        return AwsError::unknown_operation(&format!("{}.{action}", super::COGNITO_IDP))
            .into_response();
    }
    if let Err(refused) = super::json::admin_signature(gw, req, SERVICE).await {
        return *refused;
    }
    let api = AdminApi { gw: gw.clone() };
    match admin(&api, action, req).await {
        Some(r) => r,
        None => AwsError::unknown_operation(action).into_response(),
    }
}
