//! Admin access keys (see [`crate::AdminAccessKey`]): made, activated or deactivated,
//! deleted.

use super::{get, put, reject, valid_parts, Apply};
use crate::{AdminAccessKey, CoreError, KvTxn, Outcome, Rejection, Table};
use serde::{Deserialize, Serialize};

/// Create (`create`) an admin access key, or change one's description and state (the
/// secret and creation time of an existing key never change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAdminAccessKey {
    /// The key.
    pub key: AdminAccessKey,
    /// Create: refused if the id exists. Change: refused if it does not.
    pub create: bool,
}

impl Apply for PutAdminAccessKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let id = self.key.access_key_id.as_bytes();
        if !valid_parts(&[&self.key.access_key_id]) {
            return reject(Rejection::InvalidKey);
        }
        let existing = get::<AdminAccessKey>(txn, Table::AdminAccessKeys, id)?;
        let key = match (self.create, existing) {
            (true, Some(_)) => return reject(Rejection::AdminKeyExists),
            (false, None) => return reject(Rejection::AdminKeyNotFound),
            (true, None) => self.key.clone(),
            (false, Some(old)) => AdminAccessKey {
                description: self.key.description.clone(),
                active: self.key.active,
                ..old
            },
        };
        put(txn, Table::AdminAccessKeys, id, &key)?;
        Ok(Outcome::Applied)
    }
}

/// Delete an admin access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAdminAccessKey {
    /// Its id.
    pub access_key_id: String,
}

impl Apply for DeleteAdminAccessKey {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let id = self.access_key_id.as_bytes();
        if txn.get(Table::AdminAccessKeys, id)?.is_none() {
            return reject(Rejection::AdminKeyNotFound);
        }
        txn.delete(Table::AdminAccessKeys, id)?;
        Ok(Outcome::Applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply, query, Command, MemKv, Query, QueryResult, Request, RequestId};

    fn run(kv: &mut MemKv, n: u8, c: Command) -> Outcome {
        apply(kv, &Request::new(RequestId([n; 16]), c)).unwrap()
    }

    fn key(active: bool, description: &str, secret: &str) -> AdminAccessKey {
        AdminAccessKey {
            access_key_id: "SAK1".into(),
            sealed_secret: secret.into(),
            description: description.into(),
            active,
            created_at_ms: 7,
        }
    }

    #[test]
    fn a_key_is_made_once_changed_without_its_secret_and_deleted() {
        let mut kv = MemKv::new();
        let put = |key, create| Command::PutAdminAccessKey(PutAdminAccessKey { key, create });
        assert_eq!(
            run(&mut kv, 1, put(key(true, "ci", "s1"), true)),
            Outcome::Applied
        );
        assert_eq!(
            run(&mut kv, 2, put(key(true, "again", "s2"), true)),
            Outcome::Rejected(Rejection::AdminKeyExists)
        );
        // A change keeps the secret it was made with, whatever the command carries.
        assert_eq!(
            run(&mut kv, 3, put(key(false, "old", "s3"), false)),
            Outcome::Applied
        );
        let q = Query::GetAdminAccessKey {
            access_key_id: "SAK1".into(),
        };
        let QueryResult::AdminAccessKey(Some(k)) = query(&kv, &q).unwrap() else {
            panic!("no key");
        };
        assert_eq!((k.active, k.description.as_str()), (false, "old"));
        assert_eq!(k.sealed_secret, "s1");
        let del = || {
            Command::DeleteAdminAccessKey(DeleteAdminAccessKey {
                access_key_id: "SAK1".into(),
            })
        };
        assert_eq!(run(&mut kv, 4, del()), Outcome::Applied);
        assert_eq!(
            run(&mut kv, 5, del()),
            Outcome::Rejected(Rejection::AdminKeyNotFound)
        );
        assert_eq!(
            run(&mut kv, 6, put(key(true, "x", "s"), false)),
            Outcome::Rejected(Rejection::AdminKeyNotFound)
        );
    }
}
