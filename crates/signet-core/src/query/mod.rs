//! Read-side queries over committed state.

mod answers;
mod paging;
mod users;

pub use answers::{Answer, Page, UserSearchPage};
pub use paging::MAX_PAGE_BYTES;
pub use users::{FilterOp, UserFilter};

use paging::{decode_page, paged};

use crate::kv::compound;
use crate::{
    decode_record, AppClient, AuditEvent, Group, Identity, IdentityPool, ImportJob, KvError,
    KvRead, OutboxMessage, RefreshFamily, ResourceServer, Role, Row, SigningKey, Table, User,
    UserPool,
};
use serde::{Deserialize, Serialize};

/// Largest page any list query returns.
pub const MAX_PAGE: usize = 1000;

/// A read of committed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Query {
    /// One pool by id.
    GetUserPool {
        /// Pool id.
        pool_id: String,
    },
    /// Pools in id order, after `after`.
    ListUserPools {
        /// Exclusive start (a pool id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// One user by canonical username.
    GetUser {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
    },
    /// One user by `sub`.
    GetUserBySub {
        /// Pool id.
        pool_id: String,
        /// Subject id.
        sub: String,
    },
    /// Users of a pool in username order, after `after`.
    ListUsers {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a canonical username).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Users of a pool with their groups, in username order, after `after` (user export).
    ExportUsers {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a canonical username).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Every published signing key.
    ListSigningKeys,
    /// One app client.
    GetAppClient {
        /// Pool id.
        pool_id: String,
        /// Client id.
        client_id: String,
    },
    /// One app client by id alone (public calls name only the client).
    GetAppClientById {
        /// Client id.
        client_id: String,
    },
    /// App clients of a pool in id order, after `after`.
    ListAppClients {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a client id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Resolve a sign-in name (username, or a value of a sign-in attribute) to the user,
    /// with the user's groups in precedence order: everything sign-in needs in one read.
    GetUserForLogin {
        /// Pool id.
        pool_id: String,
        /// Canonical username or alias value as typed.
        login: String,
    },
    /// Users matching a filter, in username order, scanning at most 10,000 rows per call.
    SearchUsers {
        /// Pool id.
        pool_id: String,
        /// The filter.
        filter: UserFilter,
        /// Exclusive start (a canonical username).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// One group.
    GetGroup {
        /// Pool id.
        pool_id: String,
        /// Group name.
        name: String,
    },
    /// Groups of a pool in name order.
    ListGroups {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a group name).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Groups of a user, in precedence order.
    ListGroupsForUser {
        /// Pool id.
        pool_id: String,
        /// Canonical username.
        username: String,
    },
    /// Members of a group, in sub order.
    ListUsersInGroup {
        /// Pool id.
        pool_id: String,
        /// Group name.
        group: String,
        /// Exclusive start (a sub).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// State of a refresh-token family.
    GetRefreshFamily {
        /// Family id.
        family_id: String,
    },
    /// Every key owner's lease expiry (Unix ms).
    ListKeyLeases,
    /// The dev outbox of a pool.
    ListOutbox {
        /// Pool id.
        pool_id: String,
    },
    /// One identity pool.
    GetIdentityPool {
        /// Identity pool id.
        pool_id: String,
    },
    /// Identity pools in id order, after `after`.
    ListIdentityPools {
        /// Exclusive start (a pool id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// One identity (only while its pool exists).
    GetIdentity {
        /// Identity pool id.
        pool_id: String,
        /// Identity id.
        identity_id: String,
    },
    /// One identity by id alone (public calls name only the identity).
    GetIdentityById {
        /// Identity id.
        identity_id: String,
    },
    /// The identity a login is linked to (only while its pool exists).
    GetIdentityByLogin {
        /// Identity pool id.
        pool_id: String,
        /// Provider name.
        provider: String,
        /// Subject at that provider.
        subject: String,
    },
    /// Identities of a pool in id order, after `after`.
    ListIdentities {
        /// Identity pool id.
        pool_id: String,
        /// Exclusive start (an identity id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// One role by name.
    GetRole {
        /// Role name.
        name: String,
    },
    /// One resource server.
    GetResourceServer {
        /// Pool id.
        pool_id: String,
        /// Identifier.
        identifier: String,
    },
    /// Resource servers of a pool in identifier order, after `after`.
    ListResourceServers {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (an identifier).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// One identity provider of a pool.
    GetIdentityProvider {
        /// Pool id.
        pool_id: String,
        /// Provider name.
        name: String,
    },
    /// The provider an identifier names in a pool (GetIdentityProviderByIdentifier).
    GetIdentityProviderByIdentifier {
        /// Pool id.
        pool_id: String,
        /// Identifier.
        identifier: String,
    },
    /// The user a provider's subject is linked to, if it is.
    GetProviderLink {
        /// Pool id.
        pool_id: String,
        /// Provider name.
        provider: String,
        /// Subject at the provider.
        subject: String,
    },
    /// Identity providers of a pool in name order, after `after`.
    ListIdentityProviders {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a name).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Whether access tokens were revoked: the expiry recorded for each jti, if any.
    RevokedTokens {
        /// Token ids.
        jtis: Vec<String>,
    },
    /// One user import job (only while its pool exists).
    GetImportJob {
        /// Pool id.
        pool_id: String,
        /// Job id.
        job_id: String,
    },
    /// Import jobs of a pool in id order, after `after`.
    ListImportJobs {
        /// Pool id.
        pool_id: String,
        /// Exclusive start (a job id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// An admin access key.
    GetAdminAccessKey {
        /// Its id.
        access_key_id: String,
    },
    /// Admin access keys in id order, after `after`.
    ListAdminAccessKeys {
        /// Exclusive start (an access key id).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Roles in name order, after `after`.
    ListRoles {
        /// Exclusive start (a role name).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// The value of a diagnostic register ([`crate::CasRegister`]), used by `signet chaos`.
    GetRegister {
        /// The register.
        name: String,
    },
    /// The audit trail of a user (`username` empty: the pool's events about no user),
    /// newest first: events with a sequence number below `before` (None: from the newest),
    /// at most `limit`.
    ListAuditEvents {
        /// Pool id.
        pool_id: String,
        /// Canonical username, or empty.
        username: String,
        /// Exclusive upper bound of the ring sequence numbers returned.
        before: Option<u64>,
        /// Page size (capped at [`crate::AUDIT_RING`]).
        limit: usize,
    },
    /// One device of a user.
    GetDevice {
        /// Pool id.
        pool_id: String,
        /// The user's `sub`.
        sub: String,
        /// Device key.
        device_key: String,
    },
    /// A user's devices in key order, after the key `after`, at most `limit`.
    ListDevices {
        /// Pool id.
        pool_id: String,
        /// The user's `sub`.
        sub: String,
        /// Exclusive start (a device key).
        after: Option<String>,
        /// Page size (capped at 1000).
        limit: usize,
    },
    /// Where a user pool lives ([`crate::Placement`]), as this group knows it.
    GetPlacement {
        /// Pool id.
        pool_id: String,
    },
    /// The pool of an app client, from the directory group's client directory.
    GetClientPool {
        /// Client id.
        client_id: String,
    },
    /// Revocations with a sequence number above `after`, in order, at most `limit`
    /// (capped at 1000): those not yet purged, i.e. still affecting unexpired tokens.
    ListRevocations {
        /// Exclusive start (a sequence number; 0 for the first).
        after: u64,
        /// Page size.
        limit: usize,
    },
    /// The sequence number of the latest revocation (0: none yet), purged or not.
    RevocationSeq,
}

impl Query {
    /// The user pool whose state the query reads, if it is one pool's (see
    /// [`crate::Command::user_pool_id`]). `None` for listings across pools, for lookups
    /// by an id that does not name its pool (an app client by id, a refresh family,
    /// revoked tokens), and for what is not a user pool's.
    pub fn user_pool_id(&self) -> Option<&str> {
        let id = match self {
            Query::GetUserPool { pool_id }
            | Query::GetUser { pool_id, .. }
            | Query::GetUserBySub { pool_id, .. }
            | Query::ListUsers { pool_id, .. }
            | Query::ExportUsers { pool_id, .. }
            | Query::GetAppClient { pool_id, .. }
            | Query::ListAppClients { pool_id, .. }
            | Query::GetUserForLogin { pool_id, .. }
            | Query::SearchUsers { pool_id, .. }
            | Query::GetGroup { pool_id, .. }
            | Query::ListGroups { pool_id, .. }
            | Query::ListGroupsForUser { pool_id, .. }
            | Query::ListUsersInGroup { pool_id, .. }
            | Query::ListOutbox { pool_id }
            | Query::GetResourceServer { pool_id, .. }
            | Query::ListResourceServers { pool_id, .. }
            | Query::GetIdentityProvider { pool_id, .. }
            | Query::GetIdentityProviderByIdentifier { pool_id, .. }
            | Query::GetProviderLink { pool_id, .. }
            | Query::ListIdentityProviders { pool_id, .. }
            | Query::GetImportJob { pool_id, .. }
            | Query::ListImportJobs { pool_id, .. }
            | Query::ListAuditEvents { pool_id, .. }
            | Query::GetDevice { pool_id, .. }
            | Query::ListDevices { pool_id, .. }
            | Query::GetPlacement { pool_id } => pool_id,
            // Identity pools (their `pool_id` is an identity pool's) and everything else.
            Query::ListUserPools { .. }
            | Query::ListSigningKeys
            | Query::GetAppClientById { .. }
            | Query::GetRefreshFamily { .. }
            | Query::ListKeyLeases
            | Query::GetIdentityPool { .. }
            | Query::ListIdentityPools { .. }
            | Query::GetIdentity { .. }
            | Query::GetIdentityById { .. }
            | Query::GetIdentityByLogin { .. }
            | Query::ListIdentities { .. }
            | Query::GetRole { .. }
            | Query::RevokedTokens { .. }
            | Query::GetAdminAccessKey { .. }
            | Query::ListAdminAccessKeys { .. }
            | Query::ListRoles { .. }
            | Query::GetRegister { .. }
            | Query::GetClientPool { .. }
            | Query::ListRevocations { .. }
            | Query::RevocationSeq => return None,
        };
        (!id.is_empty()).then_some(id.as_str())
    }
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum QueryResult {
    /// A pool, if it exists.
    UserPool(Option<UserPool>),
    /// A page of pools.
    UserPools(Vec<UserPool>),
    /// A user, if it exists.
    User(Option<User>),
    /// A page of users.
    Users(Vec<User>),
    /// Signing keys.
    SigningKeys(Vec<SigningKey>),
    /// An app client, if it exists.
    AppClient(Option<AppClient>),
    /// A page of app clients.
    AppClients(Vec<AppClient>),
    /// A user with its groups, if the login resolves.
    UserView(Option<UserView>),
    /// A page of users with their groups.
    UserViews(Vec<UserView>),
    /// A page of a filtered listing; `next` is where to continue (absent at the end).
    UserSearch {
        /// Matching users.
        users: Vec<User>,
        /// Exclusive start of the next page.
        next: Option<String>,
    },
    /// A group, if it exists.
    Group(Option<Group>),
    /// A list of groups.
    Groups(Vec<Group>),
    /// A refresh-token family, if it has server-side state.
    RefreshFamily(Option<RefreshFamily>),
    /// Outbox messages.
    Outbox(Vec<OutboxMessage>),
    /// Key owners and their lease expiry, Unix ms.
    KeyLeases(Vec<(String, u64)>),
    /// An identity pool, if it exists.
    IdentityPool(Option<IdentityPool>),
    /// A page of identity pools.
    IdentityPools(Vec<IdentityPool>),
    /// An identity, if it exists.
    Identity(Option<Identity>),
    /// A page of identities.
    Identities(Vec<Identity>),
    /// An admin access key, if it exists.
    AdminAccessKey(Option<crate::AdminAccessKey>),
    /// A page of admin access keys.
    AdminAccessKeys(Vec<crate::AdminAccessKey>),
    /// A role, if it exists.
    Role(Option<Role>),
    /// A page of roles.
    Roles(Vec<Role>),
    /// A resource server, if it exists.
    ResourceServer(Option<ResourceServer>),
    /// A page of resource servers.
    ResourceServers(Vec<ResourceServer>),
    /// One identity provider, if it exists.
    IdentityProvider(Option<crate::IdentityProvider>),
    /// A page of identity providers.
    IdentityProviders(Vec<crate::IdentityProvider>),
    /// A provider link, if there is one.
    ProviderLink(Option<crate::ProviderLink>),
    /// For each jti asked about, whether it is revoked.
    Revoked(Vec<bool>),
    /// An import job, if it exists.
    ImportJob(Option<ImportJob>),
    /// A page of import jobs.
    ImportJobs(Vec<ImportJob>),
    /// A register's value; `None` if it was never written.
    Register(Option<i64>),
    /// Audit events with their ring sequence numbers, newest first.
    AuditEvents(Vec<(u64, AuditEvent)>),
    /// A device, if the user has it.
    Device(Option<crate::Device>),
    /// A page of devices.
    Devices(Vec<crate::Device>),
    /// A pool's placement, if this group has a row for it.
    Placement(Option<crate::Placement>),
    /// A client's pool, if the directory has it.
    ClientPool(Option<String>),
    /// A page of revocations.
    Revocations(Vec<crate::Revocation>),
    /// A sequence number.
    Seq(u64),
    /// A page of a listing that stopped early at [`MAX_PAGE_BYTES`]: more rows follow even
    /// though it holds fewer than asked for. Continue after its last row.
    Partial(Box<QueryResult>),
}

/// A user with the groups it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// Its groups, lowest precedence first (groups without precedence last).
    pub groups: Vec<Group>,
}

/// Answer a query from committed state.
pub fn query(kv: &impl KvRead, q: &Query) -> Result<QueryResult, KvError> {
    Ok(match q {
        Query::GetUserPool { pool_id } => QueryResult::UserPool(
            kv.get(Table::Pools, pool_id.as_bytes())?
                .map(|b| decode_record(Table::Pools, &b))
                .transpose()?,
        ),
        Query::ListUserPools { after, limit } => paged(
            QueryResult::UserPools,
            list_all(kv, Table::Pools, after, *limit)?,
        ),
        Query::GetUser { pool_id, username } => QueryResult::User(get_user(kv, pool_id, username)?),
        Query::GetUserBySub { pool_id, sub } => {
            let user = match kv.get(Table::UsersBySub, &compound(pool_id, sub))? {
                Some(name) => {
                    let name = String::from_utf8(name).map_err(|e| KvError::Corrupt {
                        table: Table::UsersBySub.name(),
                        reason: e.to_string(),
                    })?;
                    get_user(kv, pool_id, &name)?
                }
                None => None,
            };
            QueryResult::User(user)
        }
        Query::ListUsers {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::Users,
            list_in_pool(kv, Table::Users, pool_id, after, *limit)?,
        ),
        Query::ExportUsers {
            pool_id,
            after,
            limit,
        } => {
            let (users, cut) = list_in_pool::<User>(kv, Table::Users, pool_id, after, *limit)?;
            let mut views = Vec::with_capacity(users.len());
            for user in users {
                let groups = users::groups_of(kv, pool_id, &user.sub)?;
                views.push(UserView { user, groups });
            }
            paged(QueryResult::UserViews, (views, cut))
        }
        Query::ListSigningKeys => {
            let rows = kv.scan(Table::SigningKeys, b"", None, usize::MAX)?;
            QueryResult::SigningKeys(decode_all(Table::SigningKeys, rows)?)
        }
        Query::GetAppClient { pool_id, client_id } => {
            QueryResult::AppClient(get(kv, Table::Clients, &compound(pool_id, client_id))?)
        }
        Query::GetAppClientById { client_id } => {
            let client: Option<AppClient> =
                match kv.get(Table::ClientsById, client_id.as_bytes())? {
                    Some(pool) => get(
                        kv,
                        Table::Clients,
                        &compound(&String::from_utf8_lossy(&pool), client_id),
                    )?,
                    None => None,
                };
            // The pool may be gone (its rows linger): only a live pool's client counts.
            let live = match &client {
                Some(c) => kv.get(Table::Pools, c.pool_id.as_bytes())?.is_some(),
                None => false,
            };
            QueryResult::AppClient(client.filter(|_| live))
        }
        Query::ListAppClients {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::AppClients,
            list_in_pool(kv, Table::Clients, pool_id, after, *limit)?,
        ),
        Query::GetUserForLogin { pool_id, login } => {
            QueryResult::UserView(users::user_for_login(kv, pool_id, login)?)
        }
        Query::SearchUsers {
            pool_id,
            filter,
            after,
            limit,
        } => {
            let (users, next) = users::search(
                kv,
                pool_id,
                filter,
                after.as_deref(),
                (*limit).min(MAX_PAGE),
            )?;
            QueryResult::UserSearch { users, next }
        }
        Query::GetGroup { pool_id, name } => {
            QueryResult::Group(get(kv, Table::Groups, &compound(pool_id, name))?)
        }
        Query::ListGroups {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::Groups,
            list_in_pool(kv, Table::Groups, pool_id, after, *limit)?,
        ),
        Query::ListGroupsForUser { pool_id, username } => {
            QueryResult::Groups(match get_user(kv, pool_id, username)? {
                Some(u) => users::groups_of(kv, pool_id, &u.sub)?,
                None => vec![],
            })
        }
        Query::ListUsersInGroup {
            pool_id,
            group,
            after,
            limit,
        } => paged(
            QueryResult::Users,
            users::members_of(kv, pool_id, group, after.as_deref(), (*limit).min(MAX_PAGE))?,
        ),
        Query::GetRefreshFamily { family_id } => {
            QueryResult::RefreshFamily(get(kv, Table::RefreshFamilies, family_id.as_bytes())?)
        }
        Query::ListKeyLeases => {
            let rows = kv.scan(Table::KeyLeases, b"", None, usize::MAX)?;
            let mut leases = Vec::with_capacity(rows.len());
            for (owner, v) in rows {
                leases.push((
                    String::from_utf8_lossy(&owner).into_owned(),
                    decode_record::<u64>(Table::KeyLeases, &v)?,
                ));
            }
            QueryResult::KeyLeases(leases)
        }
        Query::ListOutbox { pool_id } => {
            let rows = kv.scan(Table::Outbox, &compound(pool_id, ""), None, MAX_PAGE)?;
            QueryResult::Outbox(decode_all(Table::Outbox, rows)?)
        }
        Query::GetIdentityPool { pool_id } => {
            QueryResult::IdentityPool(get(kv, Table::IdentityPools, pool_id.as_bytes())?)
        }
        Query::ListIdentityPools { after, limit } => paged(
            QueryResult::IdentityPools,
            list_all(kv, Table::IdentityPools, after, *limit)?,
        ),
        Query::GetIdentity {
            pool_id,
            identity_id,
        } => QueryResult::Identity(get_identity(kv, pool_id, identity_id)?),
        Query::GetIdentityById { identity_id } => QueryResult::Identity(
            match kv.get(Table::IdentityPoolOf, identity_id.as_bytes())? {
                Some(pool) => get_identity(kv, &String::from_utf8_lossy(&pool), identity_id)?,
                None => None,
            },
        ),
        Query::GetIdentityByLogin {
            pool_id,
            provider,
            subject,
        } => {
            let key = crate::kv::key(&[pool_id, provider, subject]);
            QueryResult::Identity(match kv.get(Table::IdentityLogins, &key)? {
                Some(id) => get_identity(kv, pool_id, &String::from_utf8_lossy(&id))?,
                None => None,
            })
        }
        Query::ListIdentities {
            pool_id,
            after,
            limit,
        } => {
            let live = kv.get(Table::IdentityPools, pool_id.as_bytes())?.is_some();
            let page = if live {
                list_in_pool(kv, Table::Identities, pool_id, after, *limit)?
            } else {
                (vec![], false)
            };
            paged(QueryResult::Identities, page)
        }
        Query::GetResourceServer {
            pool_id,
            identifier,
        } => QueryResult::ResourceServer(get(
            kv,
            Table::ResourceServers,
            &compound(pool_id, identifier),
        )?),
        Query::GetIdentityProvider { pool_id, name } => QueryResult::IdentityProvider(get(
            kv,
            Table::IdentityProviders,
            &compound(pool_id, name),
        )?),
        Query::GetIdentityProviderByIdentifier {
            pool_id,
            identifier,
        } => {
            let name: Option<String> = get(
                kv,
                Table::ProviderIdentifiers,
                &compound(pool_id, identifier),
            )?;
            QueryResult::IdentityProvider(match name {
                Some(n) => get(kv, Table::IdentityProviders, &compound(pool_id, &n))?,
                None => None,
            })
        }
        Query::GetProviderLink {
            pool_id,
            provider,
            subject,
        } => QueryResult::ProviderLink(get(
            kv,
            Table::ProviderLinks,
            &crate::kv::key(&[pool_id, provider, subject]),
        )?),
        Query::ListIdentityProviders {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::IdentityProviders,
            list_in_pool(kv, Table::IdentityProviders, pool_id, after, *limit)?,
        ),
        Query::ListResourceServers {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::ResourceServers,
            list_in_pool(kv, Table::ResourceServers, pool_id, after, *limit)?,
        ),
        Query::RevokedTokens { jtis } => {
            let mut out = Vec::with_capacity(jtis.len());
            for j in jtis.iter().take(MAX_PAGE) {
                out.push(kv.get(Table::RevokedTokens, j.as_bytes())?.is_some());
            }
            QueryResult::Revoked(out)
        }
        Query::GetRole { name } => QueryResult::Role(get(kv, Table::Roles, name.as_bytes())?),
        Query::GetImportJob { pool_id, job_id } => {
            QueryResult::ImportJob(if kv.get(Table::Pools, pool_id.as_bytes())?.is_some() {
                get(kv, Table::ImportJobs, &compound(pool_id, job_id))?
            } else {
                None
            })
        }
        Query::ListImportJobs {
            pool_id,
            after,
            limit,
        } => paged(
            QueryResult::ImportJobs,
            if kv.get(Table::Pools, pool_id.as_bytes())?.is_some() {
                list_in_pool(kv, Table::ImportJobs, pool_id, after, *limit)?
            } else {
                (vec![], false)
            },
        ),
        Query::GetAdminAccessKey { access_key_id } => {
            QueryResult::AdminAccessKey(get(kv, Table::AdminAccessKeys, access_key_id.as_bytes())?)
        }
        Query::ListAdminAccessKeys { after, limit } => paged(
            QueryResult::AdminAccessKeys,
            list_all(kv, Table::AdminAccessKeys, after, *limit)?,
        ),
        Query::ListRoles { after, limit } => paged(
            QueryResult::Roles,
            list_all(kv, Table::Roles, after, *limit)?,
        ),
        Query::GetRegister { name } => {
            QueryResult::Register(get(kv, Table::Registers, name.as_bytes())?)
        }
        Query::ListAuditEvents {
            pool_id,
            username,
            before,
            limit,
        } => {
            let counter = crate::apply::ring_counter(pool_id, username);
            let next: u64 = get(kv, Table::AuditEvents, &counter)?.unwrap_or(0);
            let top = before.map_or(next, |b| b.min(next));
            let oldest = next.saturating_sub(crate::AUDIT_RING);
            let mut out = Vec::new();
            for seq in (oldest..top)
                .rev()
                .take((*limit).min(crate::AUDIT_RING as usize))
            {
                let slot = crate::apply::ring_slot(pool_id, username, seq);
                if let Some(e) = get::<AuditEvent>(kv, Table::AuditEvents, &slot)? {
                    out.push((seq, e));
                }
            }
            QueryResult::AuditEvents(out)
        }
        Query::GetDevice {
            pool_id,
            sub,
            device_key,
        } => QueryResult::Device(get(
            kv,
            Table::Devices,
            &crate::kv::key(&[pool_id, sub, device_key]),
        )?),
        Query::ListDevices {
            pool_id,
            sub,
            after,
            limit,
        } => {
            let prefix = crate::kv::key(&[pool_id, sub, ""]);
            let after = after.as_ref().map(|a| crate::kv::key(&[pool_id, sub, a]));
            let rows = kv.scan(
                Table::Devices,
                &prefix,
                after.as_deref(),
                (*limit).min(MAX_PAGE),
            )?;
            paged(QueryResult::Devices, decode_page(Table::Devices, rows)?)
        }
        Query::GetPlacement { pool_id } => {
            QueryResult::Placement(get(kv, Table::Placements, pool_id.as_bytes())?)
        }
        Query::GetClientPool { client_id } => {
            QueryResult::ClientPool(get(kv, Table::ClientDirectory, client_id.as_bytes())?)
        }
        Query::ListRevocations { after, limit } => {
            let from = crate::revocation_key(*after);
            let rows = kv.scan(
                Table::Revocations,
                b"",
                Some(from.as_bytes()),
                (*limit).min(MAX_PAGE),
            )?;
            paged(
                QueryResult::Revocations,
                decode_page(Table::Revocations, rows)?,
            )
        }
        Query::RevocationSeq => {
            QueryResult::Seq(get(kv, Table::Meta, crate::apply::META_REVOCATION_SEQ)?.unwrap_or(0))
        }
    })
}

/// A page of `pool_id`'s rows of `table` (keyed by pool id, then name), after the name
/// `after`, at most `limit` (capped at [`MAX_PAGE`]) and about [`MAX_PAGE_BYTES`]; says
/// whether the size cut it short.
fn list_in_pool<T: serde::de::DeserializeOwned>(
    kv: &impl KvRead,
    table: Table,
    pool_id: &str,
    after: &Option<String>,
    limit: usize,
) -> Result<(Vec<T>, bool), KvError> {
    let after = after.as_ref().map(|a| compound(pool_id, a));
    let rows = kv.scan(
        table,
        &compound(pool_id, ""),
        after.as_deref(),
        limit.min(MAX_PAGE),
    )?;
    decode_page(table, rows)
}

/// A page of `table`'s rows (keyed by one name), after the key `after`, at most `limit`
/// (capped at [`MAX_PAGE`]) and about [`MAX_PAGE_BYTES`]; says whether the size cut it short.
fn list_all<T: serde::de::DeserializeOwned>(
    kv: &impl KvRead,
    table: Table,
    after: &Option<String>,
    limit: usize,
) -> Result<(Vec<T>, bool), KvError> {
    let rows = kv.scan(
        table,
        b"",
        after.as_deref().map(str::as_bytes),
        limit.min(MAX_PAGE),
    )?;
    decode_page(table, rows)
}

pub(crate) fn get<T: serde::de::DeserializeOwned>(
    kv: &impl KvRead,
    table: Table,
    key: &[u8],
) -> Result<Option<T>, KvError> {
    kv.get(table, key)?
        .map(|b| decode_record(table, &b))
        .transpose()
}

/// An identity, only while its pool exists (a deleted pool's rows linger unreachable).
fn get_identity(
    kv: &impl KvRead,
    pool_id: &str,
    identity_id: &str,
) -> Result<Option<Identity>, KvError> {
    if kv.get(Table::IdentityPools, pool_id.as_bytes())?.is_none() {
        return Ok(None);
    }
    get(kv, Table::Identities, &compound(pool_id, identity_id))
}

pub(crate) fn get_user(
    kv: &impl KvRead,
    pool_id: &str,
    username: &str,
) -> Result<Option<User>, KvError> {
    kv.get(Table::Users, &compound(pool_id, username))?
        .map(|b| decode_record(Table::Users, &b))
        .transpose()
}

pub(crate) fn decode_all<T: serde::de::DeserializeOwned>(
    table: Table,
    rows: Vec<Row>,
) -> Result<Vec<T>, KvError> {
    rows.into_iter()
        .map(|(_, v)| decode_record(table, &v))
        .collect()
}
