//! The replicated log's entry type: a [`Command`] in a versioned, idempotent [`Request`].

use crate::{
    AddClientSecret, AddCustomAttributes, AddUserToGroup, AdvanceRefreshFamily, ApplyImportChunk,
    AssociateTotp, CasRegister, ClearSignInFailures, ConfirmDevice, CreateAppClient, CreateGroup,
    CreateIdentityPool, CreateImportJob, CreateRole, CreateUser, CreateUserPool, DeleteAppClient,
    DeleteClientSecret, DeleteGroup, DeleteIdentities, DeleteIdentityPool, DeleteIdentityProvider,
    DeleteResourceServer, DeleteRole, DeleteRolePolicy, DeleteUser, DeleteUserPool, DropKey,
    FailImportJob, ForgetDevice, GetOrCreateIdentity, IssueCode, LinkProviderUser, PublishKey,
    PurgeExpired, PutIdentityProvider, PutResourceServer, PutRolePolicy, RecordAuditEvents,
    RecordSignInFailure, RedeemCode, RemoveUserFromGroup, RenewKeyLease, RequestKeyRotation,
    RetireKey, RevokeAccessToken, RevokeKey, RevokeRefreshFamily, SetIdentityPoolRoles,
    SetMfaPreference, SetUserPoolMfa, StageImportChunk, StartImportJob, StartRefreshFamily,
    StopImportJob, TotpSignIn, UnlinkIdentity, UnlinkProviderUser, UpdateAppClient,
    UpdateDeviceStatus, UpdateGroup, UpdateIdentityPool, UpdateRole, UpdateUser, UpdateUserPool,
    VerifyTotp,
};
use crate::{DeleteAdminAccessKey, PutAdminAccessKey};
use crate::{IndexClient, PlacePool, Routed};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the log-entry format. Bumped when a change needs a migration; a binary
/// refuses entries newer than it understands instead of misreading them.
pub const LOG_FORMAT_VERSION: u32 = 1;

/// 16 random bytes chosen by the client for one logical write and reused on every retry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 16]);

impl RequestId {
    /// Hex form, used as the dedup key and in logs.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse a 32-character hex string.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(RequestId(out))
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.to_hex())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RequestId::from_hex(&s).ok_or_else(|| serde::de::Error::custom("bad request id"))
    }
}

/// One log entry's application payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Log-entry format version ([`LOG_FORMAT_VERSION`] when written).
    pub v: u32,
    /// Idempotency key of the write.
    pub request_id: RequestId,
    /// What to do.
    pub command: Command,
}

impl Request {
    /// Wrap a command with the current format version.
    pub fn new(request_id: RequestId, command: Command) -> Self {
        Request {
            v: LOG_FORMAT_VERSION,
            request_id,
            command,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.request_id, self.command.name())
    }
}

/// A state change, with everything apply needs already decided by the proposer.
///
/// Each variant wraps a struct of the same name, defined in its aggregate's apply file
/// next to the code that applies it. serde writes an internally tagged newtype variant
/// of a struct exactly like the struct variant it replaced (`{"type": "create_user",
/// …fields}`), so logs written before the split replay unchanged; the `log_format`
/// golden test pins every variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    // User pools and app clients: `apply/pools.rs`.
    /// Create a user pool; rejected if the id exists or existed.
    CreateUserPool(CreateUserPool),
    /// Replace a pool's name and configuration.
    UpdateUserPool(UpdateUserPool),
    /// Set a pool's MFA configuration.
    SetUserPoolMfa(SetUserPoolMfa),
    /// Add custom attributes to a pool's schema.
    AddCustomAttributes(AddCustomAttributes),
    /// Delete a pool (refused under deletion protection).
    DeleteUserPool(DeleteUserPool),
    /// Create an app client.
    CreateAppClient(CreateAppClient),
    /// Replace an existing app client.
    UpdateAppClient(UpdateAppClient),
    /// Delete an app client.
    DeleteAppClient(DeleteAppClient),

    // Users: `apply/users.rs`.
    /// Create a user; rejected if the username, sub or a sign-in alias is taken.
    CreateUser(CreateUser),
    /// Change a user, optionally only from an expected state.
    UpdateUser(UpdateUser),
    /// Count a failed password sign-in; enough of them lock password sign-in for a while.
    RecordSignInFailure(RecordSignInFailure),
    /// Forget failed sign-ins after a successful one.
    ClearSignInFailures(ClearSignInFailures),
    /// Delete a user, its indexes and pending codes.
    DeleteUser(DeleteUser),

    // Second factors: `apply/mfa.rs`.
    /// Hand a user a new (sealed) TOTP seed, pending until verified.
    AssociateTotp(AssociateTotp),
    /// The pending seed gave a right code: it becomes the user's authenticator.
    VerifyTotp(VerifyTotp),
    /// A SOFTWARE_TOKEN_MFA answer: a right code's step (accepted once), or a wrong one
    /// (counted towards the lockout).
    TotpSignIn(TotpSignIn),
    /// Turn second factors on or off, preferred or not.
    SetMfaPreference(SetMfaPreference),

    // Remembered devices: `apply/devices.rs`.
    /// A device becomes the user's.
    ConfirmDevice(ConfirmDevice),
    /// A device remembered or not.
    UpdateDeviceStatus(UpdateDeviceStatus),
    /// A device forgotten.
    ForgetDevice(ForgetDevice),

    // Groups: `apply/groups.rs`.
    /// Create a group.
    CreateGroup(CreateGroup),
    /// Change a group's description, precedence and role.
    UpdateGroup(UpdateGroup),
    /// Delete a group (its memberships die with its group id).
    DeleteGroup(DeleteGroup),
    /// Add a user to a group (idempotent).
    AddUserToGroup(AddUserToGroup),
    /// Remove a user from a group (idempotent).
    RemoveUserFromGroup(RemoveUserFromGroup),

    // One-time codes and refresh-token families: `apply/codes.rs`.
    /// Store a new one-time code for a user, replacing any previous one for the purpose.
    IssueCode(IssueCode),
    /// Spend a one-time code: a match applies its patch, a wrong code costs an attempt.
    RedeemCode(RedeemCode),
    /// Rotate a refresh-token family; an older generation revokes it (reuse detection).
    AdvanceRefreshFamily(AdvanceRefreshFamily),
    /// Revoke a refresh-token family (RevokeToken).
    RevokeRefreshFamily(RevokeRefreshFamily),
    /// Start an authorization code's refresh-token family: its one redemption.
    StartRefreshFamily(StartRefreshFamily),

    // Identity providers of a user pool: `apply/providers.rs`.
    /// Create or replace an identity provider.
    PutIdentityProvider(PutIdentityProvider),
    /// Delete an identity provider.
    DeleteIdentityProvider(DeleteIdentityProvider),
    /// Link a provider's subject to an existing user (AdminLinkProviderForUser).
    LinkProviderUser(LinkProviderUser),
    /// Remove such a link (AdminDisableProviderForUser).
    UnlinkProviderUser(UnlinkProviderUser),

    // Signing keys: `apply/keys.rs`.
    /// Publish the public half of a signing key.
    PublishKey(PublishKey),
    /// A gateway is alive: its keys keep their place until `until_ms`.
    RenewKeyLease(RenewKeyLease),
    /// Stop signing with a published key; it stays in the JWKS until `drop_after_ms`.
    RetireKey(RetireKey),
    /// Take a key out of the JWKS at once and make validators refuse it.
    RevokeKey(RevokeKey),
    /// Remove a retired or revoked key whose overlap has passed at `at_ms`.
    DropKey(DropKey),
    /// Ask every gateway to rotate its keys now (they follow this through Watch).
    RequestKeyRotation(RequestKeyRotation),

    // Identity pools and identities: `apply/identities.rs`.
    /// Create an identity pool.
    CreateIdentityPool(CreateIdentityPool),
    /// Resolve logins to an identity, creating, linking or merging as needed (GetId).
    GetOrCreateIdentity(GetOrCreateIdentity),
    /// Replace an identity pool's settings (providers, flags); roles and mappings are kept.
    UpdateIdentityPool(UpdateIdentityPool),
    /// Delete an identity pool; its identities become unreachable with it.
    DeleteIdentityPool(DeleteIdentityPool),
    /// Set the default roles and role mappings of an identity pool.
    SetIdentityPoolRoles(SetIdentityPoolRoles),
    /// Remove logins from an identity (each must be linked to it).
    UnlinkIdentity(UnlinkIdentity),
    /// Delete identities and their logins (unknown ids are skipped).
    DeleteIdentities(DeleteIdentities),

    // Roles: `apply/roles.rs`.
    /// Create a role.
    CreateRole(CreateRole),
    /// Change a role's description, trust policy or maximum session.
    UpdateRole(UpdateRole),
    /// Add or replace an inline permission policy of a role.
    PutRolePolicy(PutRolePolicy),
    /// Remove an inline permission policy of a role.
    DeleteRolePolicy(DeleteRolePolicy),
    /// Delete a role (only once it has no inline policies, as IAM requires).
    DeleteRole(DeleteRole),

    // Resource servers, client secrets, revoked access tokens: `apply/oauth.rs`.
    /// Create (`create`) or replace a resource server of a pool.
    PutResourceServer(PutResourceServer),
    /// Delete a resource server.
    DeleteResourceServer(DeleteResourceServer),
    /// Add a secret to an app client (at most two, for rotation).
    AddClientSecret(AddClientSecret),
    /// Remove one secret of an app client (never its last one).
    DeleteClientSecret(DeleteClientSecret),
    /// Revoke one access token (by jti) until it expires.
    RevokeAccessToken(RevokeAccessToken),

    // User imports: `apply/imports.rs`, `apply/import_runs.rs`.
    /// Create a user import job (status Created) in an existing pool.
    CreateImportJob(CreateImportJob),
    /// Stage the next chunk of an import job's upload.
    StageImportChunk(StageImportChunk),
    /// Start or resume an import job for a runner, under a lease.
    StartImportJob(StartImportJob),
    /// Insert the users of an import job's next chunk, as CreateUser would.
    ApplyImportChunk(ApplyImportChunk),
    /// Stop an import job, at once or at the runner's next chunk boundary.
    StopImportJob(StopImportJob),
    /// The runner gives up on a job: Failed with `message`, staged chunks dropped.
    FailImportJob(FailImportJob),

    // Expired token state: `apply/purge.rs`.
    /// Forget expired refresh-token families and revoked access tokens ([`crate::purge`]).
    PurgeExpired(PurgeExpired),

    // Diagnostics: `apply/registers.rs`.
    /// Set a diagnostic compare-and-set register (`signet chaos` tests the log's raw
    /// linearizability with it), unconditionally or only from an expected value.
    CasRegister(CasRegister),

    // Audit trail: `apply/audit.rs`.
    /// Append security events to their users' (or pools') bounded rings.
    RecordAuditEvents(RecordAuditEvents),

    // Admin access keys: `apply/admin_keys.rs`.
    /// Create an admin access key, or change one's description or state.
    PutAdminAccessKey(PutAdminAccessKey),
    /// Delete an admin access key.
    DeleteAdminAccessKey(DeleteAdminAccessKey),

    // Pools over several store groups: `apply/placement.rs`, deploy/SHARDING.md.
    /// Record where a pool lives (directory group) or that this group owns it.
    PlacePool(PlacePool),
    /// A pool-scoped command with the group and epoch a sharding gateway routed it by.
    Routed(Routed),
    /// Record in the directory group which pool an app client belongs to.
    IndexClient(IndexClient),
}

/// How far a proposer's clock may be from the store cluster's (the
/// middle store clock, as the leader measures it). Commands carry the
/// proposer's clock and apply decides with it (code expiry, lockout windows, key and import
/// leases), so a gateway whose clock is behind would otherwise redeem codes past their
/// expiry, and one ahead would retire keys early. Within this bound the effect of a skewed
/// gateway is bounded by it; beyond, its commands are refused (fail closed) until its clock
/// is fixed. Larger than the longest a client retries one write (the same command, the same
/// clock, for up to the store client's 15 s deadline), much smaller than any code lifetime
/// or lockout window.
pub const MAX_PROPOSER_SKEW: std::time::Duration = std::time::Duration::from_secs(30);

impl Command {
    /// Short name, for logs and metrics (the serde tag).
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateUserPool(_) => "create_user_pool",
            Command::UpdateUserPool(_) => "update_user_pool",
            Command::SetUserPoolMfa(_) => "set_user_pool_mfa",
            Command::AddCustomAttributes(_) => "add_custom_attributes",
            Command::DeleteUserPool(_) => "delete_user_pool",
            Command::CreateAppClient(_) => "create_app_client",
            Command::UpdateAppClient(_) => "update_app_client",
            Command::DeleteAppClient(_) => "delete_app_client",
            Command::CreateUser(_) => "create_user",
            Command::UpdateUser(_) => "update_user",
            Command::RecordSignInFailure(_) => "record_sign_in_failure",
            Command::ClearSignInFailures(_) => "clear_sign_in_failures",
            Command::AssociateTotp(_) => "associate_totp",
            Command::VerifyTotp(_) => "verify_totp",
            Command::TotpSignIn(_) => "totp_sign_in",
            Command::SetMfaPreference(_) => "set_mfa_preference",
            Command::ConfirmDevice(_) => "confirm_device",
            Command::UpdateDeviceStatus(_) => "update_device_status",
            Command::ForgetDevice(_) => "forget_device",
            Command::DeleteUser(_) => "delete_user",
            Command::CreateGroup(_) => "create_group",
            Command::UpdateGroup(_) => "update_group",
            Command::DeleteGroup(_) => "delete_group",
            Command::AddUserToGroup(_) => "add_user_to_group",
            Command::RemoveUserFromGroup(_) => "remove_user_from_group",
            Command::IssueCode(_) => "issue_code",
            Command::RedeemCode(_) => "redeem_code",
            Command::AdvanceRefreshFamily(_) => "advance_refresh_family",
            Command::RevokeRefreshFamily(_) => "revoke_refresh_family",
            Command::StartRefreshFamily(_) => "start_refresh_family",
            Command::PutIdentityProvider(_) => "put_identity_provider",
            Command::DeleteIdentityProvider(_) => "delete_identity_provider",
            Command::LinkProviderUser(_) => "link_provider_user",
            Command::UnlinkProviderUser(_) => "unlink_provider_user",
            Command::PublishKey(_) => "publish_key",
            Command::RenewKeyLease(_) => "renew_key_lease",
            Command::RetireKey(_) => "retire_key",
            Command::RevokeKey(_) => "revoke_key",
            Command::DropKey(_) => "drop_key",
            Command::RequestKeyRotation(_) => "request_key_rotation",
            Command::CreateIdentityPool(_) => "create_identity_pool",
            Command::GetOrCreateIdentity(_) => "get_or_create_identity",
            Command::UpdateIdentityPool(_) => "update_identity_pool",
            Command::DeleteIdentityPool(_) => "delete_identity_pool",
            Command::SetIdentityPoolRoles(_) => "set_identity_pool_roles",
            Command::UnlinkIdentity(_) => "unlink_identity",
            Command::DeleteIdentities(_) => "delete_identities",
            Command::CreateRole(_) => "create_role",
            Command::UpdateRole(_) => "update_role",
            Command::PutRolePolicy(_) => "put_role_policy",
            Command::DeleteRolePolicy(_) => "delete_role_policy",
            Command::DeleteRole(_) => "delete_role",
            Command::PutResourceServer(_) => "put_resource_server",
            Command::DeleteResourceServer(_) => "delete_resource_server",
            Command::AddClientSecret(_) => "add_client_secret",
            Command::DeleteClientSecret(_) => "delete_client_secret",
            Command::RevokeAccessToken(_) => "revoke_access_token",
            Command::CreateImportJob(_) => "create_import_job",
            Command::StageImportChunk(_) => "stage_import_chunk",
            Command::StartImportJob(_) => "start_import_job",
            Command::ApplyImportChunk(_) => "apply_import_chunk",
            Command::StopImportJob(_) => "stop_import_job",
            Command::FailImportJob(_) => "fail_import_job",
            Command::PurgeExpired(_) => "purge_expired",
            Command::CasRegister(_) => "cas_register",
            Command::RecordAuditEvents(_) => "record_audit_events",
            Command::PutAdminAccessKey(_) => "put_admin_access_key",
            Command::DeleteAdminAccessKey(_) => "delete_admin_access_key",
            Command::PlacePool(_) => "place_pool",
            Command::Routed(_) => "routed",
            Command::IndexClient(_) => "index_client",
        }
    }

    /// The proposer's wall clock the command carries, where apply decides with it (code
    /// expiry, lockout windows, key and import leases, purges): Unix ms. The store leader
    /// refuses a command whose clock is further than [`MAX_PROPOSER_SKEW`] from cluster
    /// time, so that a gateway with a skewed clock cannot redeem an expired code, stretch a
    /// lockout window or retire a key early.
    pub fn proposer_clock_ms(&self) -> Option<u64> {
        match self {
            Command::IssueCode(c) => Some(c.now_ms),
            Command::RedeemCode(c) => Some(c.now_ms),
            Command::PurgeExpired(c) => Some(c.now_ms),
            Command::RecordSignInFailure(c) => Some(c.at_ms),
            Command::TotpSignIn(c) => Some(c.at_ms),
            // Decides the retry grace; entries from before it carry no clock.
            Command::AdvanceRefreshFamily(c) => (c.at_ms > 0).then_some(c.at_ms),
            Command::UpdateUserPool(c) => Some(c.at_ms),
            Command::DeleteUserPool(c) => Some(c.at_ms),
            Command::UpdateGroup(c) => Some(c.at_ms),
            Command::RetireKey(c) => Some(c.at_ms),
            Command::RevokeKey(c) => Some(c.at_ms),
            Command::DropKey(c) => Some(c.at_ms),
            Command::RequestKeyRotation(c) => Some(c.at_ms),
            Command::GetOrCreateIdentity(c) => Some(c.at_ms),
            Command::SetIdentityPoolRoles(c) => Some(c.at_ms),
            Command::UnlinkIdentity(c) => Some(c.at_ms),
            Command::UpdateRole(c) => Some(c.at_ms),
            Command::PutRolePolicy(c) => Some(c.at_ms),
            Command::DeleteRolePolicy(c) => Some(c.at_ms),
            Command::StartImportJob(c) => Some(c.at_ms),
            Command::ApplyImportChunk(c) => Some(c.at_ms),
            Command::StopImportJob(c) => Some(c.at_ms),
            Command::FailImportJob(c) => Some(c.at_ms),
            Command::UpdateUser(c) => Some(c.patch.at_ms),
            Command::LinkProviderUser(c) => Some(c.link.linked_at_ms),
            Command::UnlinkProviderUser(c) => Some(c.at_ms),
            Command::Routed(c) => c.command.proposer_clock_ms(),
            _ => None,
        }
    }

    /// The user pool whose state the command changes, if it is one pool's: what a gateway
    /// that spreads pools over store groups routes by (deploy/SHARDING.md). `None` for
    /// what is not one user pool's — signing keys, identity pools, roles, admin keys,
    /// registers, placement itself — and for refresh families and revoked access tokens,
    /// whose keys do not name their pool yet (they live in the directory group).
    pub fn user_pool_id(&self) -> Option<&str> {
        let id = match self {
            Command::CreateUserPool(c) => &c.pool.id,
            Command::UpdateUserPool(c) => &c.pool_id,
            Command::SetUserPoolMfa(c) => &c.pool_id,
            Command::AddCustomAttributes(c) => &c.pool_id,
            Command::DeleteUserPool(c) => &c.pool_id,
            Command::CreateAppClient(c) => &c.client.pool_id,
            Command::UpdateAppClient(c) => &c.client.pool_id,
            Command::DeleteAppClient(c) => &c.pool_id,
            Command::CreateUser(c) => &c.pool_id,
            Command::UpdateUser(c) => &c.pool_id,
            Command::RecordSignInFailure(c) => &c.pool_id,
            Command::ClearSignInFailures(c) => &c.pool_id,
            Command::DeleteUser(c) => &c.pool_id,
            Command::AssociateTotp(c) => &c.pool_id,
            Command::VerifyTotp(c) => &c.pool_id,
            Command::TotpSignIn(c) => &c.pool_id,
            Command::SetMfaPreference(c) => &c.pool_id,
            Command::ConfirmDevice(c) => &c.pool_id,
            Command::UpdateDeviceStatus(c) => &c.pool_id,
            Command::ForgetDevice(c) => &c.pool_id,
            Command::CreateGroup(c) => &c.group.pool_id,
            Command::UpdateGroup(c) => &c.pool_id,
            Command::DeleteGroup(c) => &c.pool_id,
            Command::AddUserToGroup(c) => &c.pool_id,
            Command::RemoveUserFromGroup(c) => &c.pool_id,
            Command::IssueCode(c) => &c.pool_id,
            Command::RedeemCode(c) => &c.pool_id,
            Command::PutIdentityProvider(c) => &c.provider.pool_id,
            Command::DeleteIdentityProvider(c) => &c.pool_id,
            Command::LinkProviderUser(c) => &c.link.pool_id,
            Command::UnlinkProviderUser(c) => &c.pool_id,
            Command::PutResourceServer(c) => &c.server.pool_id,
            Command::DeleteResourceServer(c) => &c.pool_id,
            Command::AddClientSecret(c) => &c.pool_id,
            Command::DeleteClientSecret(c) => &c.pool_id,
            Command::CreateImportJob(c) => &c.pool_id,
            Command::StageImportChunk(c) => &c.pool_id,
            Command::StartImportJob(c) => &c.pool_id,
            Command::ApplyImportChunk(c) => &c.pool_id,
            Command::StopImportJob(c) => &c.pool_id,
            Command::FailImportJob(c) => &c.pool_id,
            // A batch is routed by its first event's pool; a sharding gateway sends one
            // batch per group.
            Command::RecordAuditEvents(c) => &c.events.first()?.pool_id,
            Command::Routed(c) => return c.command.user_pool_id(),
            Command::AdvanceRefreshFamily(_)
            | Command::RevokeRefreshFamily(_)
            | Command::StartRefreshFamily(_)
            | Command::RevokeAccessToken(_)
            | Command::PurgeExpired(_)
            | Command::PublishKey(_)
            | Command::RenewKeyLease(_)
            | Command::RetireKey(_)
            | Command::RevokeKey(_)
            | Command::DropKey(_)
            | Command::RequestKeyRotation(_)
            | Command::CreateIdentityPool(_)
            | Command::GetOrCreateIdentity(_)
            | Command::UpdateIdentityPool(_)
            | Command::DeleteIdentityPool(_)
            | Command::SetIdentityPoolRoles(_)
            | Command::UnlinkIdentity(_)
            | Command::DeleteIdentities(_)
            | Command::CreateRole(_)
            | Command::UpdateRole(_)
            | Command::PutRolePolicy(_)
            | Command::DeleteRolePolicy(_)
            | Command::DeleteRole(_)
            | Command::CasRegister(_)
            | Command::PutAdminAccessKey(_)
            | Command::DeleteAdminAccessKey(_)
            | Command::PlacePool(_)
            | Command::IndexClient(_) => return None,
        };
        (!id.is_empty()).then_some(id.as_str())
    }
}
