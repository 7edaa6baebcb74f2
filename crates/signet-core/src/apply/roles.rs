//! Roles and their inline permission policies. Documents are validated by the gateway
//! before proposing; here only existence and naming are decided.

use super::{get, put, reject, valid_parts};
use crate::{CoreError, KvTxn, Outcome, Rejection, Role, Table};

pub(super) fn create_role(txn: &mut impl KvTxn, role: &Role) -> Result<Outcome, CoreError> {
    if !valid_parts(&[&role.name]) {
        return reject(Rejection::InvalidKey);
    }
    if txn.get(Table::Roles, role.name.as_bytes())?.is_some() {
        return reject(Rejection::RoleExists);
    }
    put(txn, Table::Roles, role.name.as_bytes(), role)?;
    Ok(Outcome::Applied)
}

pub(super) fn update_role(
    txn: &mut impl KvTxn,
    name: &str,
    description: Option<&str>,
    trust_policy: Option<&str>,
    max_session_s: Option<u32>,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    let Some(mut role) = get::<Role>(txn, Table::Roles, name.as_bytes())? else {
        return reject(Rejection::RoleNotFound);
    };
    if let Some(d) = description {
        role.description = d.to_string();
    }
    if let Some(t) = trust_policy {
        role.trust_policy = t.to_string();
    }
    if let Some(m) = max_session_s {
        role.max_session_s = m;
    }
    role.updated_at_ms = at_ms;
    put(txn, Table::Roles, name.as_bytes(), &role)?;
    Ok(Outcome::Applied)
}

/// Put (`Some`) or delete (`None`) an inline policy.
pub(super) fn put_policy(
    txn: &mut impl KvTxn,
    role_name: &str,
    policy_name: &str,
    document: Option<&String>,
    at_ms: u64,
) -> Result<Outcome, CoreError> {
    if policy_name.is_empty() {
        return reject(Rejection::InvalidKey);
    }
    let Some(mut role) = get::<Role>(txn, Table::Roles, role_name.as_bytes())? else {
        return reject(Rejection::RoleNotFound);
    };
    match document {
        Some(doc) => {
            role.policies.insert(policy_name.to_string(), doc.clone());
        }
        None => {
            if role.policies.remove(policy_name).is_none() {
                return reject(Rejection::PolicyNotFound);
            }
        }
    }
    role.updated_at_ms = at_ms;
    put(txn, Table::Roles, role_name.as_bytes(), &role)?;
    Ok(Outcome::Applied)
}

pub(super) fn delete_role(txn: &mut impl KvTxn, name: &str) -> Result<Outcome, CoreError> {
    let Some(role) = get::<Role>(txn, Table::Roles, name.as_bytes())? else {
        return reject(Rejection::RoleNotFound);
    };
    if !role.policies.is_empty() {
        return reject(Rejection::RoleHasPolicies);
    }
    txn.delete(Table::Roles, name.as_bytes())?;
    Ok(Outcome::Applied)
}
