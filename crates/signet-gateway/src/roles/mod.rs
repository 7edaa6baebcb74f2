//! Roles (admin): create, read, update, delete, list; inline permission policies. Every
//! document is parsed with the same evaluator that later decides with it, so a policy that
//! could not be evaluated is refused when it is written.
//!
//! A feature in the gateway's shape: [`Roles`] holds only the handles it uses (the store
//! and the clock), built by `app.rs`; the gRPC adapter calls it.

use crate::clock::SharedClock;
use crate::ids;
use crate::store::Store;
use crate::AppError;
use signet_core::{
    Command, CreateRole, DeleteRole, DeleteRolePolicy, PutRolePolicy, Query, Role, UpdateRole,
};
use signet_store_client::ReadConsistency::Linearizable;
use signet_verify::policy::PolicyDocument;

/// Largest total of a role's inline policies (compact JSON): with the other claims and
/// base64, a session token stays under signet-verify's 8 KiB cap.
pub const MAX_ROLE_POLICIES_BYTES: usize = 4096;

/// Default and bounds of a role's maximum session, seconds (IAM's).
const DEFAULT_MAX_SESSION_S: u32 = 3600;
const MAX_SESSION_RANGE: std::ops::RangeInclusive<u32> = 3600..=43_200;

/// IAM's names: `len` ASCII letters, digits and `+=,.@_-`.
pub(crate) fn check_iam_name(
    what: &str,
    name: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Result<(), AppError> {
    let ok = len.contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "{what} must be {} to {} of letters, digits and +=,.@_-",
            len.start(),
            len.end()
        )))
    }
}

/// The one check of a role's description, for CreateRole and UpdateRole alike (IAM: at
/// most 1000 characters), without control or invisible characters.
fn check_description(description: &str) -> Result<(), AppError> {
    crate::validate::display_name("Description", description, 0, 1000)
}

fn check_trust(doc: &str) -> Result<(), AppError> {
    PolicyDocument::parse_trust(doc)
        .map(|_| ())
        .map_err(|e| AppError::MalformedPolicy(format!("assume role policy: {e}")))
}

fn check_max_session(s: u32) -> Result<u32, AppError> {
    match s {
        0 => Ok(DEFAULT_MAX_SESSION_S),
        s if MAX_SESSION_RANGE.contains(&s) => Ok(s),
        s => Err(AppError::invalid(format!(
            "max_session_duration {s} is outside 3600..=43200"
        ))),
    }
}

/// The roles feature.
#[derive(Clone)]
pub(crate) struct Roles {
    store: Store,
    clock: SharedClock,
}

impl Roles {
    /// Built by the composition root.
    pub(crate) fn new(store: Store, clock: SharedClock) -> Roles {
        Roles { store, clock }
    }

    /// CreateRole.
    pub async fn create_role(
        &self,
        name: &str,
        trust_policy: &str,
        description: &str,
        max_session_s: u32,
    ) -> Result<Role, AppError> {
        check_iam_name("role_name", name, 1..=64)?;
        check_trust(trust_policy)?;
        check_description(description)?;
        let now = self.clock.now_ms();
        let role = Role {
            name: name.to_string(),
            arn: Role::arn_of(name),
            role_id: ids::role_id(),
            description: description.to_string(),
            trust_policy: trust_policy.to_string(),
            max_session_s: check_max_session(max_session_s)?,
            policies: Default::default(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::CreateRole(CreateRole { role: role.clone() }))
            .await?;
        Ok(role)
    }

    /// GetRole (a linearizable read).
    pub async fn get_role(&self, name: &str) -> Result<Role, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetRole {
                    name: name.to_string(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::NoSuchEntity(format!("The role with name {name} cannot be found."))
            })
    }

    /// UpdateRole: description, trust policy and maximum session, each if given.
    pub async fn update_role(
        &self,
        name: &str,
        description: Option<String>,
        trust_policy: Option<String>,
        max_session_s: Option<u32>,
    ) -> Result<Role, AppError> {
        if let Some(d) = &description {
            check_description(d)?;
        }
        if let Some(t) = &trust_policy {
            check_trust(t)?;
        }
        if max_session_s == Some(0) {
            return Err(AppError::invalid(
                "max_session_duration 0 is outside 3600..=43200",
            ));
        }
        let max_session_s = max_session_s.map(check_max_session).transpose()?;
        self.store
            .write(Command::UpdateRole(UpdateRole {
                name: name.to_string(),
                description,
                trust_policy,
                max_session_s,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        self.get_role(name).await
    }

    /// DeleteRole (only once its inline policies are deleted).
    pub async fn delete_role(&self, name: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteRole(DeleteRole {
                name: name.to_string(),
            }))
            .await
            .map(|_| ())
    }

    /// ListRoles.
    pub async fn list_roles(
        &self,
        limit: usize,
        next: Option<String>,
    ) -> Result<(Vec<Role>, Option<String>), AppError> {
        self.store
            .list(
                limit,
                |limit| Query::ListRoles { after: next, limit },
                |r: &Role| r.name.clone(),
            )
            .await
    }

    /// PutRolePolicy: the document must parse as a permission policy.
    pub async fn put_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AppError> {
        check_iam_name("policy_name", policy_name, 1..=128)?;
        PolicyDocument::parse(document).map_err(|e| AppError::MalformedPolicy(e.to_string()))?;
        // Every session token carries all of the role's policies: refuse what could never
        // be issued (compact JSON, as the token holds it).
        let compact = |d: &str| {
            serde_json::from_str::<serde_json::Value>(d)
                .map(|v| v.to_string().len())
                .unwrap_or(d.len())
        };
        let role = self.get_role(role_name).await?;
        let others: usize = role
            .policies
            .iter()
            .filter(|(n, _)| n.as_str() != policy_name)
            .map(|(_, d)| compact(d))
            .sum();
        if others + compact(document) > MAX_ROLE_POLICIES_BYTES {
            return Err(AppError::LimitExceeded(format!(
                "The role's inline policies would take more than {MAX_ROLE_POLICIES_BYTES} bytes (compact JSON), more than a session token can carry."
            )));
        }
        self.store
            .write(Command::PutRolePolicy(PutRolePolicy {
                role_name: role_name.to_string(),
                policy_name: policy_name.to_string(),
                document: document.to_string(),
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }

    /// GetRolePolicy.
    pub async fn get_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> Result<String, AppError> {
        self.get_role(role_name)
            .await?
            .policies
            .get(policy_name)
            .cloned()
            .ok_or_else(|| {
                AppError::NoSuchEntity(format!(
                    "The role policy with name {policy_name} cannot be found."
                ))
            })
    }

    /// DeleteRolePolicy.
    pub async fn delete_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteRolePolicy(DeleteRolePolicy {
                role_name: role_name.to_string(),
                policy_name: policy_name.to_string(),
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }
}
