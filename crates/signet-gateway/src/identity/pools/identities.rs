//! The identities of identity pools (admin): ListIdentities, DescribeIdentity,
//! DeleteIdentities.

use super::IdentityPools;
use crate::AppError;
use signet_core::{Command, DeleteIdentities, Identity, Query};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

impl IdentityPools {
    /// ListIdentities.
    pub async fn list_identities(
        &self,
        pool_id: &str,
        limit: usize,
        next: Option<String>,
    ) -> Result<(Vec<Identity>, Option<String>), AppError> {
        self.describe_identity_pool(pool_id).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListIdentities {
                    pool_id: pool_id.to_string(),
                    after: next,
                    limit,
                },
                |i: &Identity| i.identity_id.clone(),
            )
            .await
    }

    /// An identity by id alone (a linearizable read).
    pub async fn describe_identity(&self, identity_id: &str) -> Result<Identity, AppError> {
        self.store
            .ask::<Option<_>>(
                Query::GetIdentityById {
                    identity_id: identity_id.to_string(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!("Identity '{identity_id}' not found."))
            })
    }

    /// DeleteIdentities: returns the ids that were not found.
    pub async fn delete_identities(&self, ids: &[String]) -> Result<Vec<String>, AppError> {
        if ids.is_empty() || ids.len() > 60 {
            return Err(AppError::invalid("give 1 to 60 identity ids"));
        }
        let mut by_pool: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match self.describe_identity(id).await {
                Ok(i) => by_pool.entry(i.pool_id).or_default().push(i.identity_id),
                Err(AppError::ResourceNotFound(_)) => missing.push(id.clone()),
                Err(e) => return Err(e),
            }
        }
        for (pool_id, identity_ids) in by_pool {
            self.store
                .write(Command::DeleteIdentities(DeleteIdentities {
                    pool_id,
                    identity_ids,
                }))
                .await?;
        }
        Ok(missing)
    }
}
