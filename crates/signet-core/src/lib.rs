//! Signet's domain model and the deterministic half of the replicated store.
//!
//! Everything that must be identical on every Raft member lives here: the log entry type
//! ([`Request`] carrying a [`Command`]), the business answer ([`Outcome`]), and [`apply`],
//! which turns one command into reads and writes on a small key-value transaction
//! ([`KvTxn`]). `apply` uses no clock, no randomness, no hashing and no I/O besides that
//! transaction: timestamps, ids, hashes and key material are chosen by the proposer and
//! carried in the command, so replaying the log always yields the same state.
#![forbid(unsafe_code)]

mod apply;
mod codec;
mod command;
mod error;
mod kv;
mod mem;
mod model;
mod outcome;
pub mod purge;
mod query;
pub mod search;

pub use apply::{apply, valid_register_name, DEDUP_WINDOW, MAX_AUDIT_BATCH, MAX_REGISTER_NAME};
// The struct each `Command` variant carries, one per variant, named like it.
pub use apply::{revocation_key, Revocation, Revoked};
pub use apply::{
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
pub use apply::{DeleteAdminAccessKey, PutAdminAccessKey};
pub use apply::{IndexClient, PlacePool, Placement, Routed};
pub use codec::{
    decode_record, encode_record, record_json, RECORD_FORMAT_VERSION, RECORD_FORMAT_ZSTD_DICT,
};
pub use command::{Command, Request, RequestId, LOG_FORMAT_VERSION, MAX_PROPOSER_SKEW};
pub use error::{CoreError, KvError};
pub use kv::{ChangedKey, KvRead, KvTxn, Row, Table};
pub use mem::MemKv;
pub use model::{
    AdminAccessKey, Algorithm, AmbiguousRoleResolution, AppClient, AttributeType, AuditEvent,
    AuthFlow, ClientSecret, CodeBudget, CodeLimits, CodePurpose, CodeRecord, CodeTarget, Device,
    DeviceConfig, Group, Identity, IdentityPool, IdentityProvider, ImportChunk, ImportJob,
    ImportRow, ImportStatus, KeyState, LoginProvider, MappingRule, MatchType, MfaFactor, MfaMode,
    OAuthFlow, OutboxMessage, PasswordPolicy, PoolConfig, PoolMfa, PoolRoles, ProviderLink,
    ProviderType, RefreshFamily, ResourceServer, ResourceServerScope, RetireReason, Role,
    RoleMapping, RoleMappingKind, RowError, SchemaAttribute, SigningKey, TokenHook, TokenValidity,
    Totp, TriggerHook, Triggers, UiCustomization, User, UserMfa, UserPatch, UserPool, UserStatus,
    AUDIT_RING, MAX_AUDIT_FIELD, MAX_DEVICES_PER_USER, MAX_IMPORT_ERRORS, ROLE_ARN_PREFIX,
};
pub use outcome::{Outcome, Rejection};
pub use query::{
    query, Answer, FilterOp, Page, Query, QueryResult, UserFilter, UserSearchPage, UserView,
    MAX_PAGE_BYTES,
};
