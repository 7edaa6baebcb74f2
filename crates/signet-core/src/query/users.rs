//! User lookups that combine several tables.

use super::{decode_all, get, get_user};
use crate::kv::{compound, key};
use crate::{Group, KvError, KvRead, Table, User, UserPool};
use serde::{Deserialize, Serialize};

/// Most rows one [`crate::Query::SearchUsers`] call examines.
const MAX_SCAN: usize = 10_000;

/// Comparison of a user filter (Cognito's ListUsers `Filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterOp {
    /// `attribute = "value"`.
    Equals,
    /// `attribute ^= "value"` (starts with).
    Prefix,
}

/// A ListUsers filter on one of Cognito's searchable attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// `username`, `email`, `phone_number`, `name`, `given_name`, `family_name`,
    /// `preferred_username`, `cognito:user_status`, `status` or `sub`.
    pub attribute: String,
    /// Comparison.
    pub op: FilterOp,
    /// Value to compare with.
    pub value: String,
}

impl UserFilter {
    /// Attributes Cognito lets ListUsers filter on.
    pub const SEARCHABLE: [&'static str; 10] = [
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    ];

    /// Whether `user` matches.
    pub fn matches(&self, user: &User) -> bool {
        let value = match self.attribute.as_str() {
            "username" => Some(user.username.as_str()),
            "sub" => Some(user.sub.as_str()),
            "cognito:user_status" => Some(user.status.name()),
            "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }),
            other => user.attributes.get(other).map(String::as_str),
        };
        match (value, self.op) {
            (Some(v), FilterOp::Equals) => v == self.value,
            (Some(v), FilterOp::Prefix) => v.starts_with(&self.value),
            (None, _) => false,
        }
    }
}

/// The user a sign-in name designates: the username itself, else a sign-in attribute.
pub(super) fn user_for_login(
    kv: &impl KvRead,
    pool_id: &str,
    login: &str,
) -> Result<Option<super::UserView>, KvError> {
    // A deleted pool's users linger until purged: the pool must exist. Its record is
    // decoded only when the login is not a username (the common case reads no config).
    let Some(pool) = kv.get(Table::Pools, pool_id.as_bytes())? else {
        return Ok(None);
    };
    let mut user = get_user(kv, pool_id, login)?;
    if user.is_none() {
        let pool: UserPool = crate::codec::decode_record(Table::Pools, &pool)?;
        for attr in pool.config.login_attributes() {
            if let Some(name) = kv.get(Table::Aliases, &key(&[pool_id, attr, login]))? {
                let name = String::from_utf8_lossy(&name).into_owned();
                user = get_user(kv, pool_id, &name)?;
                break;
            }
        }
    }
    let Some(user) = user else {
        return Ok(None);
    };
    let groups = groups_of(kv, pool_id, &user.sub)?;
    Ok(Some(super::UserView { user, groups }))
}

/// Groups of the user with `sub`, lowest precedence first.
pub(super) fn groups_of(kv: &impl KvRead, pool_id: &str, sub: &str) -> Result<Vec<Group>, KvError> {
    let prefix = key(&[pool_id, sub, ""]);
    let mut groups = Vec::new();
    for (k, group_id) in kv.scan(Table::UserGroups, &prefix, None, usize::MAX)? {
        let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        if let Some(g) = get::<Group>(kv, Table::Groups, &compound(pool_id, &name))? {
            // A membership of a deleted (and maybe re-created) group does not count.
            if g.group_id.as_bytes() == group_id.as_slice() {
                groups.push(g);
            }
        }
    }
    groups.sort_by_key(|g| (g.precedence.unwrap_or(u32::MAX), g.name.clone()));
    Ok(groups)
}

/// Live members of a group, in sub order.
pub(super) fn members_of(
    kv: &impl KvRead,
    pool_id: &str,
    group: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<User>, bool), KvError> {
    let Some(g) = get::<Group>(kv, Table::Groups, &compound(pool_id, group))? else {
        return Ok((vec![], false));
    };
    let prefix = key(&[pool_id, &g.group_id, ""]);
    let after = after.map(|a| key(&[pool_id, &g.group_id, a]));
    let mut users = Vec::new();
    for (k, username) in kv.scan(Table::GroupMembers, &prefix, after.as_deref(), limit)? {
        let sub = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        let username = String::from_utf8_lossy(&username).into_owned();
        // The user may have been deleted, or deleted and re-created under a new sub.
        if let Some(u) = get_user(kv, pool_id, &username)? {
            if u.sub == sub {
                users.push(u);
            }
        }
    }
    Ok(super::paging::within_budget(
        users,
        super::paging::encoded_len,
    ))
}

/// Filtered listing; returns the matches and where to continue. Indexed attributes and
/// the username are range scans; the rest walk the pool's users, at most [`MAX_SCAN`] per
/// call.
pub(super) fn search(
    kv: &impl KvRead,
    pool_id: &str,
    filter: &UserFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<User>, Option<String>), KvError> {
    if crate::search::indexed(&filter.attribute) {
        return indexed_search(kv, pool_id, filter, after, limit);
    }
    if filter.attribute == "username" {
        return username_search(kv, pool_id, filter, after, limit);
    }
    let prefix = compound(pool_id, "");
    let mut cursor = after.map(|a| compound(pool_id, a));
    let mut found = Vec::new();
    let (mut scanned, mut bytes) = (0, 0);
    loop {
        let rows = kv.scan(Table::Users, &prefix, cursor.as_deref(), 500)?;
        if rows.is_empty() {
            return Ok((found, None));
        }
        let last_key = rows.last().map(|(k, _)| k.clone());
        for user in decode_all::<User>(Table::Users, rows)? {
            scanned += 1;
            if filter.matches(&user) {
                bytes += super::paging::encoded_len(&user);
                found.push(user.clone());
                if found.len() == limit || bytes > super::paging::MAX_PAGE_BYTES {
                    return Ok((found, Some(user.username)));
                }
            }
            if scanned == MAX_SCAN {
                return Ok((found, Some(user.username)));
            }
        }
        cursor = last_key;
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Through [`Table::UserSearch`]. The continuation token is the hex of the last index key
/// returned; a token that is not one of this filter's keys ends the listing.
fn indexed_search(
    kv: &impl KvRead,
    pool_id: &str,
    filter: &UserFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<User>, Option<String>), KvError> {
    let exact = filter.op == FilterOp::Equals;
    let prefix = crate::search::scan_prefix(pool_id, &filter.attribute, &filter.value, exact);
    let cursor = match after {
        Some(t) => match from_hex(t).filter(|k| k.starts_with(&prefix)) {
            Some(k) => Some(k),
            None => return Ok((Vec::new(), None)),
        },
        None => None,
    };
    // One row more than a page tells whether another page exists.
    let rows = kv.scan(Table::UserSearch, &prefix, cursor.as_deref(), limit + 1)?;
    let mut more = rows.len() > limit;
    let mut users = Vec::with_capacity(limit.min(rows.len()));
    let (mut last, mut bytes) = (None, 0);
    for (k, _) in rows.into_iter().take(limit) {
        if bytes > super::paging::MAX_PAGE_BYTES {
            more = true;
            break;
        }
        if let Some(u) = crate::search::username_of(&k) {
            // The index and the users table change in one transaction; a missing user
            // would be a bug, and is skipped rather than failing the listing.
            if let Some(user) = get_user(kv, pool_id, u)? {
                bytes += super::paging::encoded_len(&user);
                users.push(user);
            }
        }
        last = Some(k);
    }
    Ok((users, last.filter(|_| more).map(|k| to_hex(&k))))
}

/// `username = …` is one lookup, `username ^= …` a range of the users table.
fn username_search(
    kv: &impl KvRead,
    pool_id: &str,
    filter: &UserFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<User>, Option<String>), KvError> {
    if filter.op == FilterOp::Equals {
        let user = match after {
            Some(_) => None,
            None => get_user(kv, pool_id, &filter.value)?,
        };
        return Ok((user.into_iter().collect(), None));
    }
    let prefix = compound(pool_id, &filter.value);
    let cursor = after.map(|a| compound(pool_id, a));
    let rows = kv.scan(Table::Users, &prefix, cursor.as_deref(), limit + 1)?;
    let more = rows.len() > limit;
    let (users, cut) =
        super::paging::decode_page::<User>(Table::Users, rows.into_iter().take(limit).collect())?;
    let next = users
        .last()
        .filter(|_| more || cut)
        .map(|u| u.username.clone());
    Ok((users, next))
}
