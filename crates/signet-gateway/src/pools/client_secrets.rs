//! Client secrets with rotation (AddUserPoolClientSecret & co.): a confidential client
//! holds one or two secrets, so a secret can be replaced without downtime.

use super::clients::Clients;
use crate::AppError;
use signet_core::{AddClientSecret, Command, DeleteClientSecret};

impl Clients {
    /// AddUserPoolClientSecret: a second secret for rotation (shown once), `given` or made
    /// here. Returns (secret id, secret, created at).
    pub async fn add_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        given: Option<&str>,
    ) -> Result<(String, String, u64), AppError> {
        let client = self.describe_client(pool_id, client_id).await?;
        if client.secrets.is_empty() {
            return Err(AppError::invalid(
                "a public client (created without a secret) cannot get one",
            ));
        }
        let now = self.clock.now_ms();
        let (record, plain) = self.secrets.new_secret(client_id, now, given)?;
        let id = record.id.clone();
        self.store
            .write(Command::AddClientSecret(AddClientSecret {
                pool_id: pool_id.into(),
                client_id: client_id.into(),
                secret: record,
            }))
            .await?;
        Ok((id, plain, now))
    }

    /// ListUserPoolClientSecrets: (id, created at) of each secret; never the secret.
    pub async fn list_client_secrets(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<(String, u64)>, AppError> {
        let client = self.describe_client(pool_id, client_id).await?;
        Ok(client
            .secrets
            .iter()
            .map(|s| (s.id.clone(), s.created_at_ms))
            .collect())
    }

    /// DeleteUserPoolClientSecret (never the last one).
    pub async fn delete_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        secret_id: &str,
    ) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteClientSecret(DeleteClientSecret {
                pool_id: pool_id.into(),
                client_id: client_id.into(),
                secret_id: secret_id.into(),
            }))
            .await
            .map(|_| ())
    }
}
