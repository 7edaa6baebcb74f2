//! Admin access keys: made with a random id (`SAK…`) and secret (shown once, sealed with
//! the cluster's server key before it is proposed), listed without secrets, deactivated or
//! activated, deleted. A rotation is a new key, then the old one deactivated and deleted
//! once nothing uses it.

use super::Aws;
use crate::AppError;
use signet_core::{AdminAccessKey, Command, DeleteAdminAccessKey, PutAdminAccessKey, Query};
use signet_store_client::ReadConsistency::Linearizable;

/// Most admin access keys (checked when one is made).
const MAX_KEYS: usize = 20;

/// A key just made: the only time its secret is shown.
#[derive(Debug, Clone)]
pub struct NewAdminKey {
    /// The key as stored (its secret sealed).
    pub key: AdminAccessKey,
    /// The secret access key, in the clear.
    pub secret_access_key: String,
}

/// Seal purpose of a key's secret (bound to its id).
pub(super) fn seal_purpose(access_key_id: &str) -> String {
    format!("admin-access-key:{access_key_id}")
}

/// `SAK` and 17 characters of A–Z and 2–7 (RFC 4648 base32's alphabet): 85 random bits.
fn new_access_key_id() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes = signet_crypto::random_bytes::<17>();
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    format!("SAK{tail}")
}

impl Aws {
    /// Make a key; its secret is in the answer and nowhere else in the clear.
    pub(crate) async fn create_key(&self, description: &str) -> Result<NewAdminKey, AppError> {
        if description.chars().count() > 256 || description.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "the description: at most 256 characters of text",
            ));
        }
        let (existing, _) = self.list_keys(None, MAX_KEYS + 1).await?;
        if existing.len() >= MAX_KEYS {
            return Err(AppError::LimitExceeded(format!(
                "at most {MAX_KEYS} admin access keys: delete one first"
            )));
        }
        let access_key_id = new_access_key_id();
        let secret_access_key = signet_crypto::random_token::<30>();
        let key = AdminAccessKey {
            sealed_secret: self
                .sealer
                .seal(&seal_purpose(&access_key_id), secret_access_key.as_bytes()),
            access_key_id,
            description: description.to_string(),
            active: true,
            created_at_ms: self.clock.now_ms(),
        };
        self.store
            .write(Command::PutAdminAccessKey(PutAdminAccessKey {
                key: key.clone(),
                create: true,
            }))
            .await?;
        Ok(NewAdminKey {
            key,
            secret_access_key,
        })
    }

    /// The keys, without their secrets' plaintext (sealed values stay inside the gateway).
    pub(crate) async fn list_keys(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AdminAccessKey>, Option<String>), AppError> {
        self.store
            .list(
                limit,
                |limit| Query::ListAdminAccessKeys { after, limit },
                |k: &AdminAccessKey| k.access_key_id.clone(),
            )
            .await
    }

    /// Turn a key on or off (off: it signs nothing from the next call on, on every gateway).
    pub(crate) async fn set_key_active(
        &self,
        access_key_id: &str,
        active: bool,
    ) -> Result<AdminAccessKey, AppError> {
        let mut key = self.key(access_key_id).await?;
        key.active = active;
        self.store
            .write(Command::PutAdminAccessKey(PutAdminAccessKey {
                key: key.clone(),
                create: false,
            }))
            .await?;
        Ok(key)
    }

    /// Delete a key.
    pub(crate) async fn delete_key(&self, access_key_id: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteAdminAccessKey(DeleteAdminAccessKey {
                access_key_id: access_key_id.into(),
            }))
            .await?;
        Ok(())
    }

    /// One key, read linearizably (a key just deactivated is seen so).
    pub(super) async fn key(&self, access_key_id: &str) -> Result<AdminAccessKey, AppError> {
        if access_key_id.is_empty() || access_key_id.len() > 128 {
            return Err(AppError::ResourceNotFound(
                "The admin access key does not exist.".into(),
            ));
        }
        self.store
            .ask::<Option<AdminAccessKey>>(
                Query::GetAdminAccessKey {
                    access_key_id: access_key_id.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound("The admin access key does not exist.".into())
            })
    }
}
