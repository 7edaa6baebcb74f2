//! The public identity calls: GetId, GetOpenIdToken, GetCredentialsForIdentity,
//! UnlinkIdentity, and the admin's GetOpenIdTokenForDeveloperIdentity.

use super::identity_pools::IDENTITY_PROVIDER;
use super::ids;
use super::logins::VerifiedLogin;
use super::role_mapping::{self, LoginClaims};
use super::sts::{Credentials, SessionSpec};
use crate::{AppError, Gateway};
use serde_json::{json, Value};
use signet_core::{
    Command, GetOrCreateIdentity, Identity, IdentityPool, Query, Role, UnlinkIdentity,
};
use signet_crypto::Algorithm;
use signet_store::ReadConsistency::Linearizable;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Lifetime of GetOpenIdToken's tokens.
const OPEN_ID_TOKEN_S: u64 = 600;
/// Default and longest lifetime of developer-identity tokens.
const DEVELOPER_TOKEN_DEFAULT_S: u64 = 900;
const DEVELOPER_TOKEN_MAX_S: u64 = 86_400;
/// Lifetime of GetCredentialsForIdentity's credentials (Cognito's: one hour).
const CREDENTIALS_S: u64 = 3600;

/// An identity proven by the logins of a call.
struct Proven {
    identity: Identity,
    pool: Arc<IdentityPool>,
    logins: Vec<VerifiedLogin>,
}

impl Proven {
    fn authenticated(&self) -> bool {
        !self.identity.logins.is_empty()
    }

    /// `amr`: `authenticated` and the providers, or `unauthenticated`.
    fn amr(&self) -> Vec<String> {
        if !self.authenticated() {
            return vec!["unauthenticated".into()];
        }
        let mut amr = vec!["authenticated".to_string()];
        for l in &self.logins {
            if l.provider == IDENTITY_PROVIDER {
                // A developer identity's token carries its providers.
                if let Some(a) = l.claims.get("amr").and_then(Value::as_array) {
                    amr.extend(
                        a.iter()
                            .filter_map(Value::as_str)
                            .filter(|p| *p != "authenticated")
                            .map(str::to_string),
                    );
                }
            } else {
                amr.push(l.provider.clone());
            }
        }
        amr.dedup();
        amr
    }
}

impl Gateway {
    async fn identity_by_login(
        &self,
        pool_id: &str,
        login: &VerifiedLogin,
    ) -> Result<Option<Identity>, AppError> {
        self.ask(
            Query::GetIdentityByLogin {
                pool_id: pool_id.to_string(),
                provider: login.provider.clone(),
                subject: login.subject.clone(),
            },
            Linearizable,
        )
        .await
    }

    /// GetId: the identity of these logins, created if none is linked yet (through the
    /// log, so concurrent calls for one login end with one id).
    pub async fn get_id(
        &self,
        pool_id: &str,
        logins: &BTreeMap<String, String>,
    ) -> Result<String, AppError> {
        let pool = self.identity_pool(pool_id).await?;
        if logins.contains_key(IDENTITY_PROVIDER) {
            return Err(AppError::invalid(
                "signet-identity tokens name their identity already",
            ));
        }
        let verified = self.verify_logins(&pool, logins).await?;
        if verified.is_empty() && !pool.allow_unauthenticated {
            return Err(AppError::NotAuthorized(
                "Unauthenticated access is not supported for this identity pool.".into(),
            ));
        }
        // Fast path: every login already linked to one identity → no write.
        if let Some(first) = verified.first() {
            if let Some(i) = self.identity_by_login(&pool.id, first).await? {
                if verified
                    .iter()
                    .all(|l| i.logins.get(&l.provider) == Some(&l.subject))
                {
                    return Ok(i.identity_id);
                }
            }
        }
        let new_id = format!("local:{}", ids::uuid());
        let subjects: BTreeMap<String, String> = verified
            .iter()
            .map(|l| (l.provider.clone(), l.subject.clone()))
            .collect();
        self.write(Command::GetOrCreateIdentity(GetOrCreateIdentity {
            pool_id: pool.id.clone(),
            logins: subjects,
            new_identity_id: new_id.clone(),
            into_identity_id: None,
            at_ms: self.now_ms(),
        }))
        .await?;
        match verified.first() {
            None => Ok(new_id),
            Some(first) => self
                .identity_by_login(&pool.id, first)
                .await?
                .map(|i| i.identity_id)
                .ok_or_else(|| AppError::Internal("identity vanished after GetId".into())),
        }
    }

    /// Check that `logins` prove `identity_id` (or that it is a guest and none are given).
    async fn prove(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
    ) -> Result<Proven, AppError> {
        let identity = self.describe_identity(identity_id).await?;
        let pool = self.identity_pool(&identity.pool_id).await?;
        let verified = self.verify_logins(&pool, logins).await?;
        if verified.is_empty() {
            if !identity.logins.is_empty() {
                return Err(AppError::NotAuthorized(
                    "Invalid login token. Logins are required for an authenticated identity."
                        .into(),
                ));
            }
            if !pool.allow_unauthenticated {
                return Err(AppError::NotAuthorized(
                    "Unauthenticated access is not supported for this identity pool.".into(),
                ));
            }
        }
        for l in &verified {
            let linked = if l.provider == IDENTITY_PROVIDER {
                l.subject == identity.identity_id
            } else {
                identity.logins.get(&l.provider) == Some(&l.subject)
            };
            if !linked {
                return Err(AppError::NotAuthorized(format!(
                    "Invalid login token. The login of {} is not linked to this identity.",
                    l.provider
                )));
            }
        }
        Ok(Proven {
            identity,
            pool,
            logins: verified,
        })
    }

    fn open_id_token(
        &self,
        pool_id: &str,
        identity_id: &str,
        amr: Vec<String>,
        ttl_s: u64,
    ) -> Result<String, AppError> {
        let now = self.now_ms() / 1000;
        let claims = json!({
            "iss": self.identity_issuer(),
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
        let now = self.now_ms() / 1000;
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
        let pool = self.identity_pool(pool_id).await?;
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
            .verify_logins(&pool, &others)
            .await?
            .into_iter()
            .map(|l| (l.provider, l.subject))
            .collect();
        subjects.insert(dev.clone(), user.clone());
        self.write(Command::GetOrCreateIdentity(GetOrCreateIdentity {
            pool_id: pool.id.clone(),
            logins: subjects.clone(),
            new_identity_id: format!("local:{}", ids::uuid()),
            into_identity_id: identity_id.map(str::to_string),
            at_ms: self.now_ms(),
        }))
        .await?;
        let identity: Identity = self
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

    /// GetCredentialsForIdentity (enhanced flow): role from the pool's defaults and
    /// mappings, the role's trust policy checked, credentials for one hour.
    pub async fn get_credentials_for_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        custom_role_arn: Option<&str>,
    ) -> Result<Credentials, AppError> {
        let p = self.prove(identity_id, logins).await?;
        let claims: Vec<LoginClaims<'_>> = if p.authenticated() {
            p.logins
                .iter()
                .map(|l| LoginClaims {
                    provider: &l.provider,
                    audience: l.audience.as_deref(),
                    claims: &l.claims,
                })
                .collect()
        } else {
            vec![]
        };
        let arn = role_mapping::resolve(&p.pool, &claims, custom_role_arn)?;
        let name = Role::name_in(&arn)
            .ok_or_else(|| AppError::Internal(format!("stored role {arn} is not an ARN")))?;
        let role = self.role(name).await.map_err(|_| {
            AppError::InvalidIdentityPoolConfiguration(format!(
                "Invalid identity pool configuration: role {arn} does not exist."
            ))
        })?;
        let amr = p.amr();
        self.check_trust(&role, IDENTITY_PROVIDER, &p.pool.id, identity_id, &amr)
            .map_err(|_| {
                AppError::InvalidIdentityPoolConfiguration(format!(
                    "Invalid identity pool configuration: the trust policy of {arn} does not admit this identity."
                ))
            })?;
        let session_name = format!("signet-{}", &signet_crypto::random_hex_id()[..16]);
        self.mint_credentials(SessionSpec {
            role: &role,
            subject: identity_id,
            session_name: &session_name,
            provider: IDENTITY_PROVIDER,
            audience: &p.pool.id,
            amr,
            identity_pool: Some(&p.pool.id),
            duration_s: CREDENTIALS_S.min(u64::from(role.max_session_s)),
            session_policy: None,
        })
    }

    /// UnlinkIdentity: remove logins proven by their tokens.
    pub async fn unlink_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), AppError> {
        if remove.is_empty() {
            return Err(AppError::invalid("logins_to_remove is empty"));
        }
        let p = self.prove(identity_id, logins).await?;
        let mut unlink = BTreeMap::new();
        for provider in remove {
            let l = p
                .logins
                .iter()
                .find(|l| &l.provider == provider && l.provider != IDENTITY_PROVIDER)
                .ok_or_else(|| {
                    AppError::NotAuthorized(format!(
                        "The login of {provider} must be proven in logins to be unlinked."
                    ))
                })?;
            unlink.insert(l.provider.clone(), l.subject.clone());
        }
        self.write(Command::UnlinkIdentity(UnlinkIdentity {
            pool_id: p.pool.id.clone(),
            identity_id: identity_id.to_string(),
            logins: unlink,
            at_ms: self.now_ms(),
        }))
        .await
        .map(|_| ())
    }
}
