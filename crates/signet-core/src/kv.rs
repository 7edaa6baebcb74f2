//! The narrow storage interface the state machine is written against. The store crate
//! implements it over sled; [`crate::MemKv`] implements it in memory for tests.

use crate::KvError;
use serde::{Deserialize, Serialize};

/// Logical tables of the state machine. The discriminant is the key prefix on disk, so a
/// value is never reused or renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Table {
    /// Bookkeeping of the store itself (last applied log id, membership, counters).
    Meta = 0,
    /// Request id → first outcome, for idempotent retries.
    Dedup = 1,
    /// Sequence number → request id: the eviction order of [`Table::Dedup`].
    DedupSeq = 2,
    /// Pool id → [`crate::UserPool`].
    Pools = 3,
    /// `pool_id \0 canonical username` → [`crate::User`].
    Users = 4,
    /// `pool_id \0 sub` → canonical username (secondary index of [`Table::Users`]).
    UsersBySub = 5,
    /// Kid → [`crate::SigningKey`] (public half only).
    SigningKeys = 6,
    /// `pool_id \0 client_id` → [`crate::AppClient`].
    Clients = 7,
    /// `pool_id \0 attribute \0 value` → canonical username (sign-in aliases).
    Aliases = 8,
    /// `pool_id \0 group name` → [`crate::Group`].
    Groups = 9,
    /// `pool_id \0 group_id \0 sub` → username: members of a group incarnation.
    GroupMembers = 10,
    /// `pool_id \0 sub \0 group name` → group_id: groups of a user.
    UserGroups = 11,
    /// `pool_id \0 username \0 purpose` → [`crate::CodeRecord`].
    Codes = 12,
    /// `pool_id \0 username \0 purpose` → [`crate::OutboxMessage`] (dev outbox).
    Outbox = 13,
    /// Family id → [`crate::RefreshFamily`].
    RefreshFamilies = 14,
    /// Pool id → deletion time: ids of deleted pools are never reused.
    DeletedPools = 15,
    /// Client id → pool id: public calls name only the client.
    ClientsById = 16,
    /// Key owner (a gateway instance) → lease expiry, Unix ms.
    KeyLeases = 17,
    /// Kid → drop time: kids of dropped keys, never published again.
    DroppedKids = 18,
    /// `rotate` → time of the last "rotate every gateway's keys now" request.
    KeyRequests = 19,
    /// Identity pool id → [`crate::IdentityPool`].
    IdentityPools = 20,
    /// `pool_id \0 identity_id` → [`crate::Identity`].
    Identities = 21,
    /// `pool_id \0 provider \0 subject` → identity id: who a login belongs to.
    IdentityLogins = 22,
    /// Role name → [`crate::Role`].
    Roles = 23,
    /// Identity id → identity pool id (public calls name only the identity).
    IdentityPoolOf = 24,
    /// `pool_id \0 identifier` → [`crate::ResourceServer`].
    ResourceServers = 25,
    /// Access-token jti → expiry (Unix ms): access tokens revoked one by one.
    RevokedTokens = 26,
    /// `pool_id \0 job_id` → [`crate::ImportJob`].
    ImportJobs = 27,
    /// `job_id \0` + big-endian u32 sequence number → [`crate::ImportChunk`]: users of
    /// an import staged by the upload, deleted as they are applied.
    ImportChunks = 28,
    /// `pool_id \0 attribute \0 value \0 username` → empty: the ListUsers filter index
    /// (see `search.rs`).
    UserSearch = 29,
    /// `pool_id \0 username \0 purpose` → [`crate::CodeBudget`]: codes issued and failed
    /// redemptions in the current window, kept across reissued codes.
    CodeBudgets = 30,
    /// Register name → `i64`: the diagnostic compare-and-set registers `signet chaos`
    /// drives ([`crate::CasRegister`]).
    Registers = 31,
    /// `pool_id \0 username \0 slot` → [`crate::AuditEvent`], and `… \0 #` → the ring's
    /// next sequence number: the bounded audit trail (`apply/audit.rs`).
    AuditEvents = 32,
    /// `pool_id \0 sub \0 device_key` → [`crate::Device`]: a user's confirmed devices.
    Devices = 33,
    /// `pool_id \0 name` → [`crate::IdentityProvider`]: a pool's identity providers.
    IdentityProviders = 34,
    /// `pool_id \0 identifier` → provider name: the identifiers of a pool's providers.
    ProviderIdentifiers = 35,
    /// `pool_id \0 provider \0 subject` → [`crate::ProviderLink`]: provider subjects linked
    /// to existing users.
    ProviderLinks = 36,
    /// Access key id → [`crate::AdminAccessKey`]: the keys that sign admin calls (AWS
    /// Signature Version 4).
    AdminAccessKeys = 37,
    /// Pool id → [`crate::Placement`]: where a pool lives, when pools are spread over
    /// several store groups (`apply/placement.rs`).
    Placements = 38,
    /// Client id → pool id, in the directory group of a sharded deployment: the pool of
    /// a client whose record lives in another group.
    ClientDirectory = 39,
    /// Sequence number (20 decimal digits) → [`crate::Revocation`]: changes that void
    /// tokens already handed out, served to relying services (`apply/revocations.rs`).
    Revocations = 40,
}

impl Table {
    /// Every table, in prefix order.
    pub const ALL: [Table; 41] = [
        Table::Meta,
        Table::Dedup,
        Table::DedupSeq,
        Table::Pools,
        Table::Users,
        Table::UsersBySub,
        Table::SigningKeys,
        Table::Clients,
        Table::Aliases,
        Table::Groups,
        Table::GroupMembers,
        Table::UserGroups,
        Table::Codes,
        Table::Outbox,
        Table::RefreshFamilies,
        Table::DeletedPools,
        Table::ClientsById,
        Table::KeyLeases,
        Table::DroppedKids,
        Table::KeyRequests,
        Table::IdentityPools,
        Table::Identities,
        Table::IdentityLogins,
        Table::Roles,
        Table::IdentityPoolOf,
        Table::ResourceServers,
        Table::RevokedTokens,
        Table::ImportJobs,
        Table::ImportChunks,
        Table::UserSearch,
        Table::CodeBudgets,
        Table::Registers,
        Table::AuditEvents,
        Table::Devices,
        Table::IdentityProviders,
        Table::ProviderIdentifiers,
        Table::ProviderLinks,
        Table::AdminAccessKeys,
        Table::Placements,
        Table::ClientDirectory,
        Table::Revocations,
    ];

    /// The one-byte key prefix of this table.
    pub fn prefix(self) -> u8 {
        self as u8
    }

    /// The table with the given prefix byte, if any.
    pub fn from_prefix(b: u8) -> Option<Table> {
        Self::ALL.iter().copied().find(|t| t.prefix() == b)
    }

    /// Human-readable name, for errors and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Dedup => "dedup",
            Table::DedupSeq => "dedup_seq",
            Table::Pools => "pools",
            Table::Users => "users",
            Table::UsersBySub => "users_by_sub",
            Table::SigningKeys => "signing_keys",
            Table::Clients => "clients",
            Table::Aliases => "aliases",
            Table::Groups => "groups",
            Table::GroupMembers => "group_members",
            Table::UserGroups => "user_groups",
            Table::Codes => "codes",
            Table::Outbox => "outbox",
            Table::RefreshFamilies => "refresh_families",
            Table::DeletedPools => "deleted_pools",
            Table::ClientsById => "clients_by_id",
            Table::KeyLeases => "key_leases",
            Table::DroppedKids => "dropped_kids",
            Table::KeyRequests => "key_requests",
            Table::IdentityPools => "identity_pools",
            Table::Identities => "identities",
            Table::IdentityLogins => "identity_logins",
            Table::Roles => "roles",
            Table::IdentityPoolOf => "identity_pool_of",
            Table::ResourceServers => "resource_servers",
            Table::RevokedTokens => "revoked_tokens",
            Table::ImportJobs => "import_jobs",
            Table::ImportChunks => "import_chunks",
            Table::UserSearch => "user_search",
            Table::CodeBudgets => "code_budgets",
            Table::Registers => "registers",
            Table::AuditEvents => "audit_events",
            Table::Devices => "devices",
            Table::IdentityProviders => "identity_providers",
            Table::ProviderIdentifiers => "provider_identifiers",
            Table::ProviderLinks => "provider_links",
            Table::AdminAccessKeys => "admin_access_keys",
            Table::Placements => "placements",
            Table::ClientDirectory => "client_directory",
            Table::Revocations => "revocations",
        }
    }
}

/// A key written by an applied command, reported to watchers for cache invalidation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedKey {
    /// Table of the key.
    pub table: Table,
    /// Key within the table (without the table prefix).
    pub key: Vec<u8>,
}

/// Point reads and writes inside one atomic transaction. The state machine only ever
/// needs point operations while applying, which keeps every engine with transactions
/// (sled's included) usable underneath.
pub trait KvTxn {
    /// The value under `key` in `table`, including writes made earlier in this transaction.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;
    /// Set `key` to `value`.
    fn put(&mut self, table: Table, key: &[u8], value: Vec<u8>) -> Result<(), KvError>;
    /// Remove `key` (no error if absent).
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<(), KvError>;
}

/// One stored row: key (without table prefix) and value.
pub type Row = (Vec<u8>, Vec<u8>);

/// Read-only access to committed state, used by queries.
pub trait KvRead {
    /// The value under `key` in `table`.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;
    /// Up to `limit` entries of `table` whose key starts with `prefix`, in key order,
    /// starting strictly after `after` when given.
    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Row>, KvError>;
}

/// Builds `a \0 b`, the compound-key form used by per-pool tables. Key parts never contain
/// a NUL byte (apply refuses such commands), so the encoding is unambiguous and keeps a
/// pool's rows contiguous.
pub(crate) fn compound(a: &str, b: &str) -> Vec<u8> {
    key(&[a, b])
}

/// Builds `p0 \0 p1 \0 …`.
pub(crate) fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}
