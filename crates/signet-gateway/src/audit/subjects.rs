//! What an audited call is about, read from a fixed list of request fields: the pool,
//! the user, the app client, and one other name (the challenge answered, a group, role,
//! client name, identity pool, key id). No password, code, secret or token field is ever read, except an access
//! token's claims, and only once the call has verified it ([`Subject::settle`]).

use signet_proto::v1 as pb;
use std::collections::HashMap;

/// The names an event records.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    pub pool_id: String,
    pub username: String,
    pub client_id: String,
    pub target: String,
    /// An access token naming the user (read only after the call succeeded).
    pub token: String,
    /// Not a security event after all (a refresh through InitiateAuth).
    pub skip: bool,
}

impl Subject {
    /// Fill in the user an access token named, once the call succeeded (so the token was
    /// verified): `username`, `client_id` and the pool from `iss`. Then forget the token.
    pub(crate) fn settle(mut self, passed: bool) -> Subject {
        let token = std::mem::take(&mut self.token);
        if passed && !token.is_empty() {
            if let Some(claims) = claims(&token) {
                let s = |k: &str| {
                    claims
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                self.username = s("username");
                self.client_id = s("client_id");
                self.pool_id = s("iss").rsplit('/').next().unwrap_or_default().to_string();
            }
        }
        self
    }
}

/// The (already verified) payload of a JWT.
fn claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn param(m: &HashMap<String, String>, k: &str) -> String {
    m.get(k).cloned().unwrap_or_default()
}

/// A request an audited call may receive; by default it names nothing.
pub(crate) trait Audited {
    fn subject(&self) -> Subject {
        Subject::default()
    }
}

/// A refresh is not a sign-in.
fn refresh(flow: &str) -> bool {
    flow.starts_with("REFRESH_TOKEN")
}

impl Audited for pb::AccessTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AddCustomAttributesRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminCreateUserRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminDeleteUserAttributesRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminInitiateAuthRequest {
    fn subject(&self) -> Subject {
        Subject {
            skip: refresh(&self.auth_flow),
            pool_id: self.user_pool_id.clone(),
            username: param(&self.auth_parameters, "USERNAME"),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminRespondToAuthChallengeRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: param(&self.challenge_responses, "USERNAME"),
            client_id: self.client_id.clone(),
            target: self.challenge_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminSetUserMfaPreferenceRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminSetUserPasswordRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminUpdateUserAttributesRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AssociateSoftwareTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AssumeRoleWithWebIdentityRequest {}

impl Audited for pb::AttributeVerificationRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AuthorizeRequest {}

impl Audited for pb::ChangePasswordRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ExportUsersRequest {
    /// An export that carries password hashes says so in the trail.
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: if self.include_password_hashes {
                "with password hashes".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    }
}

impl Audited for pb::AddUserPoolClientSecretRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ClientRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ClientSecretRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ClientUserRequest {
    fn subject(&self) -> Subject {
        Subject {
            username: self.username.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ConfirmForgotPasswordRequest {
    fn subject(&self) -> Subject {
        Subject {
            username: self.username.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ConfirmSignUpRequest {
    fn subject(&self) -> Subject {
        Subject {
            username: self.username.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateGroupRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.group_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateRoleRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.role_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateUserImportJobRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateUserPoolClientRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.client_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateUserPoolRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.pool_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::DeleteIdentitiesRequest {}

impl Audited for pb::DeleteUserAttributesRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::Empty {}

impl Audited for pb::GetCredentialsForIdentityRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::GetIdRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::GetOpenIdTokenForDeveloperIdentityRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::GetOpenIdTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::GetTokensFromRefreshTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::GroupRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.group_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityPoolRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityPoolRolesType {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityPoolType {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::InitiateAuthRequest {
    fn subject(&self) -> Subject {
        Subject {
            skip: refresh(&self.auth_flow),
            username: param(&self.auth_parameters, "USERNAME"),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IssueClientTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::CreateAdminAccessKeyRequest {}

impl Audited for pb::UpdateAdminAccessKeyRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.access_key_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminAccessKeyRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.access_key_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::KidRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.kid.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListIdentitiesRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListInPoolRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListRequest {}

impl Audited for pb::ListUserImportJobsRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListUsersInGroupRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.group_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListUsersRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityProviderRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.provider_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::IdentityProviderType {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.provider_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminLinkProviderForUserRequest {
    fn subject(&self) -> Subject {
        let d = self.destination_user.clone().unwrap_or_default();
        let s = self.source_user.clone().unwrap_or_default();
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: d.provider_attribute_value,
            target: format!("{}:{}", s.provider_name, s.provider_attribute_value),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminDisableProviderForUserRequest {
    fn subject(&self) -> Subject {
        let u = self.user.clone().unwrap_or_default();
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: format!("{}:{}", u.provider_name, u.provider_attribute_value),
            ..Default::default()
        }
    }
}

impl Audited for pb::GetIdentityProviderByIdentifierRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.idp_identifier.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ResourceServerRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.identifier.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ResourceServerType {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.identifier.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::RespondToAuthChallengeRequest {
    fn subject(&self) -> Subject {
        Subject {
            username: param(&self.challenge_responses, "USERNAME"),
            client_id: self.client_id.clone(),
            target: self.challenge_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::RevokeTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::RolePolicyRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.role_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::RolePolicyType {
    fn subject(&self) -> Subject {
        Subject {
            target: self.role_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::RoleRef {
    fn subject(&self) -> Subject {
        Subject {
            target: self.role_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::SessionTokenRequest {}

impl Audited for pb::SetUserMfaPreferenceRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::SetUserPoolMfaConfigRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::SignUpRequest {
    fn subject(&self) -> Subject {
        Subject {
            username: self.username.clone(),
            client_id: self.client_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UnlinkIdentityRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.identity_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UpdateRoleRequest {
    fn subject(&self) -> Subject {
        Subject {
            target: self.role_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UpdateUserAttributesRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UpdateUserPoolClientRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            client_id: self.client_id.clone(),
            target: self.client_name.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UpdateUserPoolRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.pool_name.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UserGroupRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            target: self.group_name.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UserImportJobRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            target: self.job_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UserPoolRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UserRef {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::VerifyRequestSignatureRequest {}

impl Audited for pb::VerifySoftwareTokenRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::VerifyUserAttributeRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminListUserAuthEventsRequest {}

impl Audited for pb::ConfirmDeviceRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            target: self.device_key.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::DeviceRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            target: self.device_key.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::ListDevicesRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::UpdateDeviceStatusRequest {
    fn subject(&self) -> Subject {
        Subject {
            token: self.access_token.clone(),
            target: self.device_key.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminDeviceRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            target: self.device_key.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminListDevicesRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            ..Default::default()
        }
    }
}

impl Audited for pb::AdminUpdateDeviceStatusRequest {
    fn subject(&self) -> Subject {
        Subject {
            pool_id: self.user_pool_id.clone(),
            username: self.username.clone(),
            target: self.device_key.clone(),
            ..Default::default()
        }
    }
}
