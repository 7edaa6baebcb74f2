//! The gateway's handle on the store cluster: writes whose business rejections come back
//! as API errors, and reads that name their answer type and their consistency. Features
//! hold a clone (it shares the client's connections).

use crate::error::rejection;
use crate::AppError;
use signet_core::{Answer, Command, Outcome, Page, Query};
use signet_store_client::{ReadConsistency, StoreClient};

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Store {
    client: StoreClient,
}

impl Store {
    /// Wrap a client.
    pub(crate) fn new(client: StoreClient) -> Store {
        Store { client }
    }

    /// The client itself (readiness probes, the change stream, key reloads).
    pub(crate) fn client(&self) -> &StoreClient {
        &self.client
    }

    /// Propose a command; a rejection becomes the matching API error. Returns the index
    /// the write committed at.
    pub(crate) async fn write(&self, cmd: Command) -> Result<u64, AppError> {
        let w = self.client.write(cmd).await?;
        match w.outcome {
            Outcome::Applied => Ok(w.index),
            Outcome::Rejected(r) => Err(rejection(r)),
        }
    }

    /// One page of a listing, at Cognito's page sizes: `query` is built for the clamped
    /// limit and read linearizably; the next token is the key of the last item of a full
    /// page (or of a page the store cut short by size).
    pub(crate) async fn list<T>(
        &self,
        limit: usize,
        query: impl FnOnce(usize) -> Query,
        key: impl Fn(&T) -> String,
    ) -> Result<(Vec<T>, Option<String>), AppError>
    where
        Page<T>: Answer,
    {
        let limit = page_size(limit);
        let Page { items, more } = self
            .ask(query(limit), ReadConsistency::Linearizable)
            .await?;
        Ok(page(items, limit, more, key))
    }

    /// A read at the consistency the caller states, as the answer type it expects
    /// (`Option<User>`, `Page<Group>`, …). A result of another kind is a defect, reported
    /// here once rather than as an "unexpected" arm at every call.
    pub(crate) async fn ask<T: Answer>(
        &self,
        q: Query,
        consistency: ReadConsistency,
    ) -> Result<T, AppError> {
        let (result, _) = self.client.read(&q, consistency).await?;
        T::from_result(result).map_err(|other| {
            let mut got = format!("{other:?}");
            got.truncate(120);
            AppError::Internal(format!(
                "the store answered {got} where {} was expected",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// How often a gateway asks the stores for their membership.
pub(crate) const MEMBERS_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Keep the store client's member list current until `stop`: a store replaced under a new
/// address (a wiped node joined under a new id, a moved machine) is reached without
/// restarting the gateway with a new `--store` list, even once every store it was started
/// with is gone.
pub(crate) async fn members_loop(
    store: Store,
    interval: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = store.client.refresh_members().await {
            tracing::debug!("store membership not refreshed: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Cognito's page sizes: 0 (unset) means the maximum, 60.
pub(crate) fn page_size(limit: usize) -> usize {
    if limit == 0 {
        60
    } else {
        limit.min(60)
    }
}

/// A page and the token of the next one: full pages, and pages the store cut short by
/// size (`more`), continue after their last item.
pub(crate) fn page<T>(
    items: Vec<T>,
    limit: usize,
    more: bool,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let next = (items.len() == limit || more)
        .then(|| items.last().map(&key))
        .flatten();
    (items, next)
}
