//! ListUsers (with Cognito's filter) and the dev outbox.

use super::{parse_filter, Users};
use crate::AppError;
use signet_core::UserSearchPage;
use signet_core::{OutboxMessage, Query, User};
use signet_store_client::ReadConsistency::Linearizable;

impl Users {
    /// ListUsers with an optional filter; returns the page and the next token.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: &str,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<User>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        match parse_filter(filter)? {
            None => {
                let query = |limit| Query::ListUsers {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                };
                self.store
                    .list(limit, query, |u: &User| u.username.clone())
                    .await
            }
            Some(filter) => {
                let UserSearchPage { users, next } = self
                    .store
                    .ask(
                        Query::SearchUsers {
                            pool_id: pool_id.into(),
                            filter,
                            after,
                            limit: crate::store::page_size(limit),
                        },
                        Linearizable,
                    )
                    .await?;
                Ok((users, next))
            }
        }
    }

    /// The dev outbox of a pool.
    pub async fn outbox(&self, pool_id: &str) -> Result<Vec<OutboxMessage>, AppError> {
        self.dir.pool(pool_id).await?;
        self.store
            .ask(
                Query::ListOutbox {
                    pool_id: pool_id.into(),
                },
                Linearizable,
            )
            .await
    }
}
