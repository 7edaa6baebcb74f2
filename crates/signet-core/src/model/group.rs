use serde::{Deserialize, Serialize};

/// A group of users in a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Pool id.
    pub pool_id: String,
    /// Group name (unique in the pool).
    pub name: String,
    /// Random id of this incarnation of the group: memberships point at it, so deleting a
    /// group needs no scan and a re-created group starts empty.
    pub group_id: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Lower wins when several groups carry a role.
    #[serde(default)]
    pub precedence: Option<u32>,
    /// Role assumed by members through identity pools.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// Last change, Unix milliseconds.
    pub updated_at_ms: u64,
}
