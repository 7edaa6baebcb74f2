//! Records kept in the state machine. New fields must be `#[serde(default)]` so records
//! written by older binaries keep decoding.

mod admin_key;
mod alg;
mod audit;
mod client;
mod device;
mod group;
mod identity;
mod import;
mod mfa;
mod pool;
mod provider;
mod tokens;
mod user;

pub use admin_key::AdminAccessKey;
pub(crate) use alg::lenient as lenient_alg;
pub use alg::Algorithm;
pub use audit::{AuditEvent, AUDIT_RING, MAX_AUDIT_FIELD};
pub use client::{
    AppClient, AuthFlow, ClientSecret, OAuthFlow, ResourceServer, ResourceServerScope,
    TokenValidity,
};
pub use device::{Device, DeviceConfig, MAX_DEVICES_PER_USER};
pub use group::Group;
pub use identity::{
    AmbiguousRoleResolution, Identity, IdentityPool, LoginProvider, MappingRule, MatchType,
    PoolRoles, Role, RoleMapping, RoleMappingKind, ROLE_ARN_PREFIX,
};
pub use import::{ImportChunk, ImportJob, ImportRow, ImportStatus, RowError, MAX_IMPORT_ERRORS};
pub use mfa::{MfaFactor, MfaMode, PoolMfa, Totp, UserMfa};
pub use pool::{
    AttributeType, PasswordPolicy, PoolConfig, SchemaAttribute, TokenHook, TriggerHook, Triggers,
    UiCustomization, UserPool,
};
pub use provider::{IdentityProvider, ProviderLink, ProviderType};
pub use tokens::{
    CodeBudget, CodeLimits, CodePurpose, CodeRecord, CodeTarget, KeyState, OutboxMessage,
    RefreshFamily, RetireReason, SigningKey,
};
pub use user::{User, UserPatch, UserStatus};

/// For `skip_serializing_if`: a field added with a zero default is not written while zero,
/// so records and log entries that predate it keep their exact encoding.
pub(crate) fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
