//! Groups of a user pool and their members.

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::store::Store;
use crate::validate::{display_name, identifier};
use crate::AppError;
use signet_core::{
    AddUserToGroup, Command, CreateGroup, DeleteGroup, Group, Query, RemoveUserFromGroup,
    UpdateGroup, User,
};
use signet_store_client::ReadConsistency::Linearizable;

/// A group's settings, for CreateGroup and UpdateGroup alike.
#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    /// The pool.
    pub pool_id: String,
    /// The group's name (it reaches `cognito:groups` in tokens).
    pub name: String,
    /// Description.
    pub description: String,
    /// Precedence among the user's groups (lower wins).
    pub precedence: Option<u32>,
    /// The IAM role of the group's members.
    pub role_arn: Option<String>,
}

/// The one check of a group's fields, for Create and Update alike (Cognito's limits). The
/// name reaches `cognito:groups` in tokens, so it is an identifier: nothing invisible, no
/// control characters (a CR/LF or ESC there would reach every relying service's logs).
fn check_group(g: &GroupInput) -> Result<(), AppError> {
    identifier("GroupName", &g.name, 128)?;
    display_name("Description", &g.description, 0, 2048)?;
    if let Some(arn) = g.role_arn.as_deref().filter(|a| !a.is_empty()) {
        identifier("RoleArn", arn, 2048)?;
    }
    Ok(())
}

/// The groups feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Groups {
    store: Store,
    dir: Directory,
    clock: SharedClock,
}

impl Groups {
    /// Built by the composition root.
    pub(crate) fn new(store: Store, dir: Directory, clock: SharedClock) -> Groups {
        Groups { store, dir, clock }
    }
}

impl Groups {
    /// CreateGroup.
    pub async fn create_group(&self, g: GroupInput) -> Result<Group, AppError> {
        self.dir.pool(&g.pool_id).await?;
        check_group(&g)?;
        let now = self.clock.now_ms();
        let group = Group {
            pool_id: g.pool_id,
            name: g.name,
            group_id: signet_crypto::random_hex_id(),
            description: g.description,
            precedence: g.precedence,
            role_arn: g.role_arn,
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::CreateGroup(CreateGroup {
                group: group.clone(),
            }))
            .await?;
        Ok(group)
    }

    /// GetGroup.
    pub async fn get_group(&self, pool_id: &str, name: &str) -> Result<Group, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetGroup {
                    pool_id: pool_id.into(),
                    name: name.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| AppError::ResourceNotFound("Group not found.".into()))
    }

    /// UpdateGroup.
    pub async fn update_group(&self, g: GroupInput) -> Result<Group, AppError> {
        self.dir.pool(&g.pool_id).await?;
        check_group(&g)?;
        self.store
            .write(Command::UpdateGroup(UpdateGroup {
                pool_id: g.pool_id.clone(),
                name: g.name.clone(),
                description: g.description,
                precedence: g.precedence,
                role_arn: g.role_arn,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        self.get_group(&g.pool_id, &g.name).await
    }

    /// DeleteGroup.
    pub async fn delete_group(&self, pool_id: &str, name: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteGroup(DeleteGroup {
                pool_id: pool_id.into(),
                name: name.into(),
            }))
            .await
            .map(|_| ())
    }

    /// ListGroups.
    pub async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Group>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListGroups {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                },
                |g: &Group| g.name.clone(),
            )
            .await
    }

    /// AdminAddUserToGroup / AdminRemoveUserFromGroup.
    pub async fn set_membership(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
        member: bool,
    ) -> Result<(), AppError> {
        let user = self.dir.pool_user(pool_id, username).await?;
        let cmd = if member {
            Command::AddUserToGroup(AddUserToGroup {
                pool_id: pool_id.into(),
                username: user.username,
                group: group.into(),
            })
        } else {
            Command::RemoveUserFromGroup(RemoveUserFromGroup {
                pool_id: pool_id.into(),
                username: user.username,
                group: group.into(),
            })
        };
        self.store.write(cmd).await.map(|_| ())
    }

    /// AdminListGroupsForUser.
    pub async fn groups_for_user(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<Group>, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        Ok(self.dir.find_user(&pool, username).await?.groups)
    }

    /// ListUsersInGroup.
    pub async fn users_in_group(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<User>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        self.get_group(pool_id, group).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListUsersInGroup {
                    pool_id: pool_id.into(),
                    group: group.into(),
                    after,
                    limit,
                },
                |u: &User| u.sub.clone(),
            )
            .await
    }
}
