//! OpenID tokens of identities: GetOpenIdToken, and the admin's
//! GetOpenIdTokenForDeveloperIdentity.

use super::{
    Identities, DEVELOPER_TOKEN_DEFAULT_S, DEVELOPER_TOKEN_MAX_S, IDENTITY_PROVIDER,
    OPEN_ID_TOKEN_S,
};
use crate::ids;
use crate::AppError;
use serde_json::{json, Value};
use signet_core::{Command, GetOrCreateIdentity, Identity, Query};
use signet_crypto::Algorithm;
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

impl Identities {
    fn open_id_token(
        &self,
        pool_id: &str,
        identity_id: &str,
        amr: Vec<String>,
        ttl_s: u64,
    ) -> Result<String, AppError> {
        let now = self.clock.now_ms() / 1000;
        let claims = json!({
            "iss": self.urls.identity_issuer(),
            "aud": pool_id,
            "sub": identity_id,
            "token_use": "identity",
            "amr": amr,
            "iat": now,
            "exp": now + ttl_s,
            "jti": signet_crypto::random_hex_id(),
        });
        // RS256, as Cognito's identity tokens: what most relying parties accept.
        self.keys
            .signer(Algorithm::RS256)?
            .sign(&claims)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// GetOpenIdToken: a Signet-signed OpenID token for a proven identity.
    pub async fn get_open_id_token(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
    ) -> Result<String, AppError> {
        let p = self.prove(identity_id, logins).await?;
        // A token proven only by identity tokens never outlives them: a short developer
        // token cannot be renewed forever without going back to the developer backend.
        let now = self.clock.now_ms() / 1000;
        let mut ttl = OPEN_ID_TOKEN_S;
        if p.logins.iter().all(|l| l.provider == IDENTITY_PROVIDER) {
            for l in &p.logins {
                let exp = l.claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
                // exp == now is still valid to every verifier, and so is the new token.
                ttl = ttl.min(exp.saturating_sub(now));
            }
        }
        self.open_id_token(&p.pool.id, &p.identity.identity_id, p.amr(), ttl)
    }

    /// GetOpenIdTokenForDeveloperIdentity (admin): a backend vouches for its user id.
    /// Returns (identity id, token).
    pub async fn get_open_id_token_for_developer_identity(
        &self,
        pool_id: &str,
        identity_id: Option<&str>,
        logins: &BTreeMap<String, String>,
        token_duration_s: u64,
    ) -> Result<(String, String), AppError> {
        let pool = self.dir.identity_pool(pool_id).await?;
        let Some(dev) = pool.developer_provider.clone() else {
            return Err(AppError::InvalidIdentityPoolConfiguration(
                "The identity pool has no developer provider name.".into(),
            ));
        };
        let Some(user) = logins.get(&dev) else {
            return Err(AppError::invalid(format!(
                "logins must contain the developer provider {dev}"
            )));
        };
        if user.is_empty() || user.len() > 1024 || user.contains('\0') {
            return Err(AppError::invalid(
                "developer user identifier: 1 to 1024 characters",
            ));
        }
        let ttl = match token_duration_s {
            0 => DEVELOPER_TOKEN_DEFAULT_S,
            d if (1..=DEVELOPER_TOKEN_MAX_S).contains(&d) => d,
            d => {
                return Err(AppError::invalid(format!(
                    "token_duration {d} is above {DEVELOPER_TOKEN_MAX_S}"
                )))
            }
        };
        let others: BTreeMap<String, String> = logins
            .iter()
            .filter(|(k, _)| **k != dev)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut subjects: BTreeMap<String, String> = self
            .logins
            .verify_logins(&pool, &others)
            .await?
            .into_iter()
            .map(|l| (l.provider, l.subject))
            .collect();
        subjects.insert(dev.clone(), user.clone());
        self.store
            .write(Command::GetOrCreateIdentity(GetOrCreateIdentity {
                pool_id: pool.id.clone(),
                logins: subjects.clone(),
                new_identity_id: format!("local:{}", ids::uuid()),
                into_identity_id: identity_id.map(str::to_string),
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        let identity: Identity = self
            .store
            .ask::<Option<_>>(
                Query::GetIdentityByLogin {
                    pool_id: pool.id.clone(),
                    provider: dev.clone(),
                    subject: user.clone(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| AppError::Internal("identity vanished after linking".into()))?;
        let mut amr = vec!["authenticated".to_string()];
        amr.extend(identity.logins.keys().cloned());
        let token = self.open_id_token(&pool.id, &identity.identity_id, amr, ttl)?;
        Ok((identity.identity_id, token))
    }
}
