//! Read-side queries over committed state.

use crate::kv::compound;
use crate::{decode_record, KvError, KvRead, Row, SigningKey, Table, User, UserPool};
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
    /// Every published signing key.
    ListSigningKeys,
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
}

/// Answer a query from committed state.
pub fn query(kv: &impl KvRead, q: &Query) -> Result<QueryResult, KvError> {
    Ok(match q {
        Query::GetUserPool { pool_id } => QueryResult::UserPool(
            kv.get(Table::Pools, pool_id.as_bytes())?
                .map(|b| decode_record(Table::Pools, &b))
                .transpose()?,
        ),
        Query::ListUserPools { after, limit } => {
            let rows = kv.scan(
                Table::Pools,
                b"",
                after.as_deref().map(str::as_bytes),
                (*limit).min(MAX_PAGE),
            )?;
            QueryResult::UserPools(decode_all(Table::Pools, rows)?)
        }
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
        } => {
            let prefix = compound(pool_id, "");
            let after = after.as_ref().map(|a| compound(pool_id, a));
            let rows = kv.scan(
                Table::Users,
                &prefix,
                after.as_deref(),
                (*limit).min(MAX_PAGE),
            )?;
            QueryResult::Users(decode_all(Table::Users, rows)?)
        }
        Query::ListSigningKeys => {
            let rows = kv.scan(Table::SigningKeys, b"", None, usize::MAX)?;
            QueryResult::SigningKeys(decode_all(Table::SigningKeys, rows)?)
        }
    })
}

fn get_user(kv: &impl KvRead, pool_id: &str, username: &str) -> Result<Option<User>, KvError> {
    kv.get(Table::Users, &compound(pool_id, username))?
        .map(|b| decode_record(Table::Users, &b))
        .transpose()
}

fn decode_all<T: serde::de::DeserializeOwned>(
    table: Table,
    rows: Vec<Row>,
) -> Result<Vec<T>, KvError> {
    rows.into_iter()
        .map(|(_, v)| decode_record(table, &v))
        .collect()
}
