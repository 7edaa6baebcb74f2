//! The replicated log's entry type: a [`Command`] in a versioned, idempotent [`Request`].

use crate::{
    AppClient, ClientSecret, CodeLimits, CodePurpose, CodeRecord, Group, IdentityPool, ImportJob,
    ImportRow, OutboxMessage, PoolConfig, RetireReason, RowError, SigningKey, User, UserPatch,
    UserPool,
};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Create a user pool; rejected if the id exists or existed.
    CreateUserPool {
        /// The pool.
        pool: UserPool,
    },
    /// Replace a pool's name and configuration.
    UpdateUserPool {
        /// Pool id.
        pool_id: String,
        /// New display name.
        name: String,
        /// New configuration.
        config: PoolConfig,
        /// Time of the change, Unix ms.
        at_ms: u64,
    },
    /// Delete a pool (refused under deletion protection). Its rows become unreachable:
    /// pool ids are never reused.
    DeleteUserPool {
        /// Pool id.
        pool_id: String,
        /// Time of the deletion, Unix ms.
        at_ms: u64,
    },
    /// Create an app client.
    CreateAppClient {
        /// The client.
        client: AppClient,
    },
    /// Replace an existing app client.
    UpdateAppClient {
        /// The client's new record.
        client: AppClient,
    },
    /// Delete an app client.
    DeleteAppClient {
        /// Pool id.
        pool_id: String,
        /// Client id.
        client_id: String,
    },
    /// Create a user; rejected if the username, sub or a sign-in alias is taken.
    CreateUser {
        /// Pool to create the user in.
        pool_id: String,
        /// The user record.
        user: User,
    },
    /// Change a user, optionally only from an expected state.
    UpdateUser {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// The change.
        patch: UserPatch,
    },
    /// Count a failed password sign-in; from `threshold` failures on, lock password sign-in
    /// for `base_ms` doubled per further failure, at most `max_ms`.
    RecordSignInFailure {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// Time of the failure, Unix ms.
        at_ms: u64,
        /// Failures before the first lockout.
        threshold: u32,
        /// First lockout length, ms.
        base_ms: u64,
        /// Longest lockout, ms.
        max_ms: u64,
    },
    /// Forget failed sign-ins after a successful one.
    ClearSignInFailures {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
    },
    /// Delete a user, its indexes and pending codes.
    DeleteUser {
        /// Pool of the user.
        pool_id: String,
        /// Canonical username.
        username: String,
    },
    /// Create a group.
    CreateGroup {
        /// The group.
        group: Group,
    },
    /// Change a group's description, precedence and role.
    UpdateGroup {
        /// Pool id.
        pool_id: String,
        /// Group name.
        name: String,
        /// New description.
        description: String,
        /// New precedence.
        precedence: Option<u32>,
        /// New role.
        role_arn: Option<String>,
        /// Time of the change, Unix ms.
        at_ms: u64,
    },
    /// Delete a group (its memberships die with its group id).
    DeleteGroup {
        /// Pool id.
        pool_id: String,
        /// Group name.
        name: String,
    },
    /// Add a user to a group (idempotent).
    AddUserToGroup {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// Group name.
        group: String,
    },
    /// Remove a user from a group (idempotent).
    RemoveUserFromGroup {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// Group name.
        group: String,
    },
    /// Store a new one-time code for a user, replacing any previous one for the purpose.
    IssueCode {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// What the code is for.
        purpose: CodePurpose,
        /// The hashed code with its expiry and attempt budget.
        code: CodeRecord,
        /// The message for the dev outbox, when that is the configured notifier.
        outbox: Option<OutboxMessage>,
        /// The proposer's clock, for the issuance budget.
        #[serde(default)]
        now_ms: u64,
        /// Issuance and failure limits (per user and purpose, across reissues).
        #[serde(default)]
        limits: CodeLimits,
    },
    /// Spend a one-time code: on a match the code is destroyed and `patch` applied to the
    /// user, atomically; a wrong code costs one attempt.
    RedeemCode {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
        /// What the code is for.
        purpose: CodePurpose,
        /// Keyed hash of the presented code.
        code_hash: String,
        /// The proposer's clock, for the expiry check.
        now_ms: u64,
        /// What a valid code does.
        patch: UserPatch,
        /// Failure limits (per user and purpose, across reissues).
        #[serde(default)]
        limits: CodeLimits,
    },
    /// Rotate a refresh-token family: succeeds once per generation; presenting an older
    /// generation revokes the family (reuse detection).
    AdvanceRefreshFamily {
        /// Family id.
        family_id: String,
        /// Generation carried by the presented token.
        presented_generation: u32,
        /// When the family's last token expires, Unix ms.
        expires_at_ms: u64,
    },
    /// Revoke a refresh-token family (RevokeToken).
    RevokeRefreshFamily {
        /// Family id.
        family_id: String,
        /// When the family's last token expires, Unix ms.
        expires_at_ms: u64,
    },
    /// Publish the public half of a signing key.
    PublishKey {
        /// The key record.
        key: SigningKey,
    },
    /// A gateway is alive: its keys keep their place until `until_ms`.
    RenewKeyLease {
        /// Key owner (gateway instance id).
        owner: String,
        /// Lease expiry, Unix ms.
        until_ms: u64,
    },
    /// Stop signing with a published key; it stays in the JWKS until `drop_after_ms`.
    /// With `LeaseLapsed`, only if its owner's lease has indeed run out at `at_ms`.
    RetireKey {
        /// Key id.
        kid: String,
        /// Why.
        reason: RetireReason,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
        /// When the key may leave the JWKS, Unix ms.
        drop_after_ms: u64,
    },
    /// Take a key out of the JWKS at once and make validators refuse it.
    RevokeKey {
        /// Key id.
        kid: String,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
        /// When the tombstone may go, Unix ms.
        drop_after_ms: u64,
    },
    /// Create an identity pool.
    CreateIdentityPool {
        /// The pool.
        pool: IdentityPool,
    },
    /// Resolve logins to an identity, creating it if none of them is known (GetId):
    /// concurrent calls for one login end with one identity. A login not yet linked is
    /// linked; logins owned by different identities merge them into the identity of the
    /// first login (in provider order).
    GetOrCreateIdentity {
        /// Identity pool.
        pool_id: String,
        /// Provider name → subject; empty for an unauthenticated identity.
        logins: std::collections::BTreeMap<String, String>,
        /// The id to use if a new identity is created (chosen by the proposer).
        new_identity_id: String,
        /// Link the logins to this existing identity instead (developer-authenticated
        /// identities name it); identities owning any of the logins merge into it.
        #[serde(default)]
        into_identity_id: Option<String>,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Replace an identity pool's settings (providers, flags); roles and mappings are kept.
    UpdateIdentityPool {
        /// The new settings (`created_at_ms` is kept from the stored pool).
        pool: IdentityPool,
    },
    /// Delete an identity pool; its identities become unreachable with it.
    DeleteIdentityPool {
        /// Pool id.
        pool_id: String,
    },
    /// Set the default roles and role mappings of an identity pool.
    SetIdentityPoolRoles {
        /// Pool id.
        pool_id: String,
        /// Default roles.
        roles: crate::PoolRoles,
        /// Role mappings per provider name.
        role_mappings: std::collections::BTreeMap<String, crate::RoleMapping>,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Remove logins from an identity (each must be linked to it).
    UnlinkIdentity {
        /// Pool id.
        pool_id: String,
        /// Identity id.
        identity_id: String,
        /// Provider name → subject to unlink.
        logins: std::collections::BTreeMap<String, String>,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Delete identities and their logins (unknown ids are skipped).
    DeleteIdentities {
        /// Pool id.
        pool_id: String,
        /// Identity ids.
        identity_ids: Vec<String>,
    },
    /// Create a role.
    CreateRole {
        /// The role (no inline policies yet).
        role: crate::Role,
    },
    /// Change a role's description, trust policy or maximum session.
    UpdateRole {
        /// Role name.
        name: String,
        /// New description, if given.
        description: Option<String>,
        /// New trust policy, if given.
        trust_policy: Option<String>,
        /// New maximum session, if given.
        max_session_s: Option<u32>,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Add or replace an inline permission policy of a role.
    PutRolePolicy {
        /// Role name.
        role_name: String,
        /// Policy name.
        policy_name: String,
        /// Policy document (validated by the gateway).
        document: String,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Remove an inline permission policy of a role.
    DeleteRolePolicy {
        /// Role name.
        role_name: String,
        /// Policy name.
        policy_name: String,
        /// Time of the call, Unix ms.
        at_ms: u64,
    },
    /// Delete a role (only once it has no inline policies, as IAM requires).
    DeleteRole {
        /// Role name.
        name: String,
    },
    /// Create (`create`) or replace a resource server of a pool.
    PutResourceServer {
        /// The resource server.
        server: crate::ResourceServer,
        /// Create: refused if it exists. Replace: refused if it does not.
        create: bool,
    },
    /// Delete a resource server.
    DeleteResourceServer {
        /// Pool id.
        pool_id: String,
        /// Identifier.
        identifier: String,
    },
    /// Add a secret to an app client (at most two, for rotation).
    AddClientSecret {
        /// Pool id.
        pool_id: String,
        /// Client id.
        client_id: String,
        /// The secret (hashed and sealed).
        secret: ClientSecret,
    },
    /// Remove one secret of an app client (never its last one).
    DeleteClientSecret {
        /// Pool id.
        pool_id: String,
        /// Client id.
        client_id: String,
        /// Secret id.
        secret_id: String,
    },
    /// Revoke one access token (by jti) until it expires.
    RevokeAccessToken {
        /// The token's jti.
        jti: String,
        /// Its expiry, Unix ms (the row may go after it).
        expires_at_ms: u64,
    },
    /// Ask every gateway to rotate its keys now (they follow this through Watch).
    RequestKeyRotation {
        /// The proposer's clock, Unix ms.
        at_ms: u64,
    },
    /// Forget the named refresh-token families and revoked access tokens whose records
    /// have expired at `now_ms` (see [`crate::purge`]); keys that are absent or not yet
    /// expired are left alone, so the command is safe to apply late or twice.
    PurgeExpired {
        /// The proposer's clock, Unix ms.
        now_ms: u64,
        /// Family ids ([`crate::Table::RefreshFamilies`]), at most
        /// [`crate::purge::MAX_PURGE_BATCH`] are looked at.
        families: Vec<String>,
        /// Access-token jtis ([`crate::Table::RevokedTokens`]), at most
        /// [`crate::purge::MAX_PURGE_BATCH`] are looked at.
        revoked_tokens: Vec<String>,
    },
    /// Remove a retired or revoked key whose overlap has passed at `at_ms`.
    DropKey {
        /// Key id.
        kid: String,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
    },
    /// Create a user import job (status Created) in an existing pool.
    CreateImportJob {
        /// Pool id.
        pool_id: String,
        /// The new job.
        job: ImportJob,
    },
    /// Stage the next chunk of an upload: validated users plus the count (and the first
    /// reasons) of rows the gateway refused. Only while the job is Created; chunks come
    /// in order, from one upload; a retried chunk is answered as applied.
    StageImportChunk {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
        /// Random id of the upload staging the chunks (a second upload is refused).
        upload_id: String,
        /// Chunk number, from 0.
        seq: u32,
        /// This is the upload's last chunk.
        last: bool,
        /// Valid rows, ready to insert.
        rows: Vec<ImportRow>,
        /// Rows of this stretch of the file that the gateway refused.
        rejected_rows: u64,
        /// Reasons for (the first of) them.
        rejected: Vec<RowError>,
    },
    /// Start (Created → InProgress) or resume an import: `runner` holds it until
    /// `lease_until_ms`. Resuming an InProgress job needs the previous lease to have lapsed
    /// at `at_ms`, unless `runner` already holds it.
    StartImportJob {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
        /// Gateway instance that will apply the chunks.
        runner: String,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
        /// End of the runner's claim, Unix ms.
        lease_until_ms: u64,
    },
    /// Insert the users of chunk `seq` (the job's next one) as CreateUser would, skipping
    /// those whose username or sign-in alias is taken; renew the runner's lease. A Stopping
    /// job stops here instead; after the last chunk the job has Succeeded.
    ApplyImportChunk {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
        /// The runner holding the job.
        runner: String,
        /// Chunk number.
        seq: u32,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
        /// New end of the runner's claim, Unix ms.
        lease_until_ms: u64,
    },
    /// Stop an import: a Created job (or one whose runner's lease lapsed) stops at once and
    /// its staged chunks are dropped; a running one becomes Stopping.
    StopImportJob {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
    },
    /// The runner gives up on a job: Failed with `message`, staged chunks dropped.
    FailImportJob {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
        /// The runner holding the job.
        runner: String,
        /// The proposer's clock, Unix ms.
        at_ms: u64,
        /// Why.
        message: String,
    },
}

impl Command {
    /// Short name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateUserPool { .. } => "create_user_pool",
            Command::UpdateUserPool { .. } => "update_user_pool",
            Command::DeleteUserPool { .. } => "delete_user_pool",
            Command::CreateAppClient { .. } => "create_app_client",
            Command::UpdateAppClient { .. } => "update_app_client",
            Command::DeleteAppClient { .. } => "delete_app_client",
            Command::CreateUser { .. } => "create_user",
            Command::UpdateUser { .. } => "update_user",
            Command::DeleteUser { .. } => "delete_user",
            Command::RecordSignInFailure { .. } => "record_sign_in_failure",
            Command::ClearSignInFailures { .. } => "clear_sign_in_failures",
            Command::CreateGroup { .. } => "create_group",
            Command::UpdateGroup { .. } => "update_group",
            Command::DeleteGroup { .. } => "delete_group",
            Command::AddUserToGroup { .. } => "add_user_to_group",
            Command::RemoveUserFromGroup { .. } => "remove_user_from_group",
            Command::IssueCode { .. } => "issue_code",
            Command::RedeemCode { .. } => "redeem_code",
            Command::AdvanceRefreshFamily { .. } => "advance_refresh_family",
            Command::RevokeRefreshFamily { .. } => "revoke_refresh_family",
            Command::PublishKey { .. } => "publish_key",
            Command::RenewKeyLease { .. } => "renew_key_lease",
            Command::RetireKey { .. } => "retire_key",
            Command::RevokeKey { .. } => "revoke_key",
            Command::DropKey { .. } => "drop_key",
            Command::RequestKeyRotation { .. } => "request_key_rotation",
            Command::PurgeExpired { .. } => "purge_expired",
            Command::CreateIdentityPool { .. } => "create_identity_pool",
            Command::GetOrCreateIdentity { .. } => "get_or_create_identity",
            Command::UpdateIdentityPool { .. } => "update_identity_pool",
            Command::DeleteIdentityPool { .. } => "delete_identity_pool",
            Command::SetIdentityPoolRoles { .. } => "set_identity_pool_roles",
            Command::UnlinkIdentity { .. } => "unlink_identity",
            Command::DeleteIdentities { .. } => "delete_identities",
            Command::CreateRole { .. } => "create_role",
            Command::UpdateRole { .. } => "update_role",
            Command::PutRolePolicy { .. } => "put_role_policy",
            Command::DeleteRolePolicy { .. } => "delete_role_policy",
            Command::DeleteRole { .. } => "delete_role",
            Command::PutResourceServer { .. } => "put_resource_server",
            Command::DeleteResourceServer { .. } => "delete_resource_server",
            Command::AddClientSecret { .. } => "add_client_secret",
            Command::DeleteClientSecret { .. } => "delete_client_secret",
            Command::RevokeAccessToken { .. } => "revoke_access_token",
            Command::CreateImportJob { .. } => "create_import_job",
            Command::StageImportChunk { .. } => "stage_import_chunk",
            Command::StartImportJob { .. } => "start_import_job",
            Command::ApplyImportChunk { .. } => "apply_import_chunk",
            Command::StopImportJob { .. } => "stop_import_job",
            Command::FailImportJob { .. } => "fail_import_job",
        }
    }
}
