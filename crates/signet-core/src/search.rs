//! The ListUsers search index: `pool \0 attribute \0 value \0 username` → empty, for the
//! attributes Cognito lets ListUsers filter on, so `email ^= "ali"` is a range scan rather
//! than a walk over every user of the pool. Apply keeps it in step with the users table
//! ([`index_user`]); a store that predates it builds it once ([`backfill`]).

use crate::kv::key;
use crate::{CoreError, KvRead, KvTxn, Table, User};

/// Filterable attributes served by [`Table::UserSearch`]. The username and sub have
/// tables of their own; the statuses are few-valued and still scanned.
pub const INDEXED: [&str; 6] = [
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
];

/// Whether ListUsers filters on `attribute` through the index.
pub fn indexed(attribute: &str) -> bool {
    INDEXED.contains(&attribute)
}

/// The index row of one (attribute, value) of a user. Values holding a NUL byte are not
/// indexed: the key encoding could not tell where they end.
pub(crate) fn entry(pool_id: &str, attr: &str, value: &str, username: &str) -> Option<Vec<u8>> {
    (!value.contains('\0')).then(|| key(&[pool_id, attr, value, username]))
}

/// The key prefix of every row of `attr` whose value starts with `value_prefix`
/// (`exact`: whose value is `value_prefix`).
pub(crate) fn scan_prefix(pool_id: &str, attr: &str, value_prefix: &str, exact: bool) -> Vec<u8> {
    let mut k = key(&[pool_id, attr, value_prefix]);
    if exact {
        k.push(0);
    }
    k
}

/// The username at the end of an index key.
pub(crate) fn username_of(index_key: &[u8]) -> Option<&str> {
    let at = index_key.iter().rposition(|b| *b == 0)?;
    std::str::from_utf8(&index_key[at + 1..]).ok()
}

/// Move `pool_id`'s index rows from `old` to `new` (None: the user is created / deleted).
pub(crate) fn index_user(
    txn: &mut impl KvTxn,
    pool_id: &str,
    old: Option<&User>,
    new: Option<&User>,
) -> Result<(), CoreError> {
    for attr in INDEXED {
        let row = |u: Option<&User>| {
            u.and_then(|u| {
                let value = u.attributes.get(attr)?;
                entry(pool_id, attr, value, &u.username)
            })
        };
        let (before, after) = (row(old), row(new));
        if before == after {
            continue;
        }
        if let Some(k) = before {
            txn.delete(Table::UserSearch, &k)?;
        }
        if let Some(k) = after {
            txn.put(Table::UserSearch, &k, Vec::new())?;
        }
    }
    Ok(())
}

/// Meta key marking that the index covers every user.
pub const BACKFILL_MARK: &[u8] = b"user_search_index_v1";

/// Index `users` (rows of the users table, read beforehand; a part of them at a time is
/// fine, indexing is idempotent), then call [`mark_backfilled`]. Deterministic, so every
/// member that runs it agrees.
pub fn backfill(txn: &mut impl KvTxn, users: &[(Vec<u8>, Vec<u8>)]) -> Result<usize, CoreError> {
    let mut n = 0;
    for (k, v) in users {
        let Some(at) = k.iter().position(|b| *b == 0) else {
            continue;
        };
        let pool_id = String::from_utf8_lossy(&k[..at]).to_string();
        let user: User = crate::decode_record(Table::Users, v)?;
        index_user(txn, &pool_id, None, Some(&user))?;
        n += 1;
    }
    Ok(n)
}

/// Record that every user is indexed.
pub fn mark_backfilled(txn: &mut impl KvTxn) -> Result<(), CoreError> {
    Ok(txn.put(Table::Meta, BACKFILL_MARK, b"1".to_vec())?)
}

/// Whether the index was built (new stores mark it at their first apply of a user).
pub fn is_backfilled(kv: &impl KvRead) -> Result<bool, CoreError> {
    Ok(kv.get(Table::Meta, BACKFILL_MARK)?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        apply, query, Command, CreateUser, CreateUserPool, DeleteUser, FilterOp, MemKv, Outcome,
        Query, QueryResult, Request, RequestId, UpdateUser, UserFilter, UserPatch, UserPool,
        UserStatus,
    };

    fn run(kv: &mut MemKv, n: &mut u64, c: Command) {
        *n += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&n.to_be_bytes());
        assert_eq!(
            apply(kv, &Request::new(RequestId(id), c)).unwrap(),
            Outcome::Applied
        );
    }

    /// A pool `p` with users u00..u29; user i has email `u{i}@example.com`.
    fn populated() -> (MemKv, u64) {
        let (mut kv, mut n) = (MemKv::new(), 0);
        run(
            &mut kv,
            &mut n,
            Command::CreateUserPool(CreateUserPool {
                pool: UserPool::new("p", "test", 1),
            }),
        );
        for i in 0..30 {
            let mut u = User::new(
                format!("sub{i}"),
                format!("u{i:02}"),
                UserStatus::Confirmed,
                1,
            );
            u.attributes
                .insert("email".into(), format!("u{i:02}@example.com"));
            run(
                &mut kv,
                &mut n,
                Command::CreateUser(CreateUser {
                    pool_id: "p".into(),
                    user: u,
                }),
            );
        }
        (kv, n)
    }

    fn search(
        kv: &MemKv,
        attribute: &str,
        op: FilterOp,
        value: &str,
        after: Option<String>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let q = Query::SearchUsers {
            pool_id: "p".into(),
            filter: UserFilter {
                attribute: attribute.into(),
                op,
                value: value.into(),
            },
            after,
            limit,
        };
        match query(kv, &q).unwrap() {
            QueryResult::UserSearch { users, next } => {
                (users.into_iter().map(|u| u.username).collect(), next)
            }
            other => panic!("{other:?}"),
        }
    }

    /// Every page of a search, concatenated.
    fn all(kv: &MemKv, attribute: &str, op: FilterOp, value: &str, limit: usize) -> Vec<String> {
        let (mut out, mut after) = (Vec::new(), None);
        for _ in 0..100 {
            let (page, next) = search(kv, attribute, op, value, after, limit);
            assert!(page.len() <= limit);
            out.extend(page);
            match next {
                Some(t) => after = Some(t),
                None => return out,
            }
        }
        panic!("pagination did not end");
    }

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("u{i:02}")).collect()
    }

    #[test]
    fn prefix_and_exact_searches_page_through_the_index() {
        let (kv, _) = populated();
        assert_eq!(all(&kv, "email", FilterOp::Prefix, "u1", 4), names(10..20));
        // Exactly one page: no token for an empty next page.
        assert_eq!(
            search(&kv, "email", FilterOp::Prefix, "u1", None, 10).1,
            None
        );
        assert_eq!(
            all(&kv, "email", FilterOp::Equals, "u12@example.com", 4),
            ["u12"]
        );
        assert!(all(&kv, "email", FilterOp::Equals, "u1", 4).is_empty());
        assert_eq!(
            all(&kv, "username", FilterOp::Prefix, "u2", 3),
            names(20..30)
        );
        assert_eq!(all(&kv, "username", FilterOp::Equals, "u07", 3), ["u07"]);
        // A token that is not this filter's ends the listing rather than jumping around.
        let (_, next) = search(&kv, "email", FilterOp::Prefix, "u", None, 5);
        let foreign = search(&kv, "email", FilterOp::Prefix, "u2", next, 5);
        assert_eq!(foreign, (vec![], None));
        assert_eq!(
            search(&kv, "email", FilterOp::Prefix, "u", Some("zz".into()), 5),
            (vec![], None)
        );
    }

    #[test]
    fn updates_and_deletes_move_the_index() {
        let (mut kv, mut n) = populated();
        let mut patch = UserPatch {
            at_ms: 2,
            ..Default::default()
        };
        patch
            .set_attributes
            .insert("email".into(), "zed@example.com".into());
        patch
            .set_attributes
            .insert("given_name".into(), "Zed".into());
        run(
            &mut kv,
            &mut n,
            Command::UpdateUser(UpdateUser {
                pool_id: "p".into(),
                username: "u10".into(),
                patch,
            }),
        );
        run(
            &mut kv,
            &mut n,
            Command::DeleteUser(DeleteUser {
                pool_id: "p".into(),
                username: "u11".into(),
                at_ms: 0,
            }),
        );
        assert_eq!(all(&kv, "email", FilterOp::Prefix, "u1", 4), names(12..20));
        assert_eq!(all(&kv, "email", FilterOp::Prefix, "zed", 4), ["u10"]);
        assert_eq!(all(&kv, "given_name", FilterOp::Equals, "Zed", 4), ["u10"]);
        let rows = kv.scan(Table::UserSearch, b"", None, usize::MAX).unwrap();
        // 29 users with an e-mail, one with a given name: nothing stale left behind.
        assert_eq!(rows.len(), 30);
    }

    #[test]
    fn backfill_indexes_users_written_before_the_index_existed() {
        let (mut kv, _) = populated();
        // A store from before the index: users, no index rows, no mark.
        for (k, _) in kv.scan(Table::UserSearch, b"", None, usize::MAX).unwrap() {
            kv.delete(Table::UserSearch, &k).unwrap();
        }
        assert!(all(&kv, "email", FilterOp::Prefix, "u2", 50).is_empty());
        assert!(!is_backfilled(&kv).unwrap());
        let users = kv.scan(Table::Users, b"", None, usize::MAX).unwrap();
        assert_eq!(backfill(&mut kv, &users[..10]).unwrap(), 10);
        assert_eq!(backfill(&mut kv, &users[5..]).unwrap(), 25);
        mark_backfilled(&mut kv).unwrap();
        assert!(is_backfilled(&kv).unwrap());
        assert_eq!(all(&kv, "email", FilterOp::Prefix, "u2", 50), names(20..30));
    }
}
