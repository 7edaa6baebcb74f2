//! Roles and their inline permission policies. Documents are validated by the gateway
//! before proposing; here only existence and naming are decided.

use super::{get, put, reject, valid_parts, Apply};
use crate::{CoreError, KvTxn, Outcome, Rejection, Role, Table};
use serde::{Deserialize, Serialize};

/// Create a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRole {
    /// The role (no inline policies yet).
    pub role: Role,
}

impl Apply for CreateRole {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let role = &self.role;
        if !valid_parts(&[&role.name]) {
            return reject(Rejection::InvalidKey);
        }
        if txn.get(Table::Roles, role.name.as_bytes())?.is_some() {
            return reject(Rejection::RoleExists);
        }
        put(txn, Table::Roles, role.name.as_bytes(), role)?;
        Ok(Outcome::Applied)
    }
}

/// Change a role's description, trust policy or maximum session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRole {
    /// Role name.
    pub name: String,
    /// New description, if given.
    pub description: Option<String>,
    /// New trust policy, if given.
    pub trust_policy: Option<String>,
    /// New maximum session, if given.
    pub max_session_s: Option<u32>,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for UpdateRole {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let name = self.name.as_str();
        let (description, trust_policy) =
            (self.description.as_deref(), self.trust_policy.as_deref());
        let (max_session_s, at_ms) = (self.max_session_s, self.at_ms);
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
}

/// Add or replace an inline permission policy of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutRolePolicy {
    /// Role name.
    pub role_name: String,
    /// Policy name.
    pub policy_name: String,
    /// Policy document (validated by the gateway).
    pub document: String,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for PutRolePolicy {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (role, policy) = (&self.role_name, &self.policy_name);
        put_policy(txn, role, policy, Some(&self.document), self.at_ms)
    }
}

/// Remove an inline permission policy of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRolePolicy {
    /// Role name.
    pub role_name: String,
    /// Policy name.
    pub policy_name: String,
    /// Time of the call, Unix ms.
    pub at_ms: u64,
}

impl Apply for DeleteRolePolicy {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        put_policy(txn, &self.role_name, &self.policy_name, None, self.at_ms)
    }
}

/// Put (`Some`) or delete (`None`) an inline policy.
fn put_policy(
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

/// Delete a role (only once it has no inline policies, as IAM requires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRole {
    /// Role name.
    pub name: String,
}

impl Apply for DeleteRole {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let name = self.name.as_str();
        let Some(role) = get::<Role>(txn, Table::Roles, name.as_bytes())? else {
            return reject(Rejection::RoleNotFound);
        };
        if !role.policies.is_empty() {
            return reject(Rejection::RoleHasPolicies);
        }
        txn.delete(Table::Roles, name.as_bytes())?;
        Ok(Outcome::Applied)
    }
}
