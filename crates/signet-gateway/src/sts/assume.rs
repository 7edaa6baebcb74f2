//! AssumeRoleWithWebIdentity: a user-pool ID token or an OIDC token, through the role's
//! trust policy, becomes temporary credentials.

use super::{
    assumed_role_arn, peek_claims, token_error, AssumeRoleInput, AssumeRoleOutput, SessionSpec, Sts,
};
use crate::urls::IDENTITY_PROVIDER;
use crate::AppError;
use serde_json::Value;
use signet_verify::{Expected, TokenUse};

impl Sts {
    /// AssumeRoleWithWebIdentity: the token is a Signet identity-pool OpenID token
    /// (provider `signet-identity`) or a Signet user-pool ID token (provider = its issuer
    /// without the scheme); the role's trust policy decides.
    pub async fn assume_role_with_web_identity(
        &self,
        input: AssumeRoleInput,
    ) -> Result<AssumeRoleOutput, AppError> {
        let (name, session_policy) = input.checked()?;
        let token = &input.web_identity_token;
        let iss = peek_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                AppError::InvalidIdentityToken("The web identity token is malformed.".into())
            })?;
        // Strictly, against exactly the issuer the token names (it is one of ours).
        let verify = |token_use| {
            let expected = Expected {
                issuer: iss.clone(),
                token_use,
                clients: None,
                leeway_s: 0,
            };
            self.tokens
                .verify_own(token, &expected)
                .map_err(|e| token_error("web identity token", e))
        };
        let (provider, audience, subject, amr, identity_pool) = if iss
            == self.urls.identity_issuer()
        {
            let claims = verify(TokenUse::Identity)?;
            let aud = claims["aud"].as_str().unwrap_or_default().to_string();
            let pool = self.dir.identity_pool(&aud).await.map_err(|_| {
                AppError::InvalidIdentityToken(format!("Identity pool {aud} no longer exists."))
            })?;
            // Cognito's rule: with the basic (classic) flow off, an identity pool's tokens
            // buy credentials only through GetCredentialsForIdentity, where the pool's role
            // mapping decides. Admitting them here, even for the pool's own roles, would let
            // a user pick a role the mapping rules deny them.
            if !pool.allow_classic_flow {
                return Err(AppError::AccessDenied(format!(
                    "Basic (classic) flow is not enabled for identity pool {aud}: its tokens cannot be used with AssumeRoleWithWebIdentity."
                )));
            }
            let amr = claims
                .get("amr")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let sub = claims["sub"].as_str().unwrap_or_default().to_string();
            (
                IDENTITY_PROVIDER.to_string(),
                aud,
                sub,
                amr,
                Some(pool.id.clone()),
            )
        } else {
            let base = format!("{}/", self.urls.public_url());
            let pool_id = iss
                .strip_prefix(&base)
                .filter(|p| !p.is_empty() && !p.contains('/'))
                .ok_or_else(|| {
                    AppError::InvalidIdentityToken(format!(
                        "Tokens of issuer {iss} are not accepted."
                    ))
                })?
                .to_string();
            let user_pool = self.dir.pool(&pool_id).await.map_err(|_| {
                AppError::InvalidIdentityToken(format!("User pool {pool_id} does not exist."))
            })?;
            let claims = verify(TokenUse::Id)?;
            self.tokens
                .check_id_token_user(&user_pool, &claims)
                .await
                .map_err(|e| {
                    e.or_answer(|_| {
                        AppError::InvalidIdentityToken(
                            "The web identity token's user is disabled or signed out.".into(),
                        )
                    })
                })?;
            let provider = iss
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .to_string();
            let aud = claims["aud"].as_str().unwrap_or_default().to_string();
            let sub = claims["sub"].as_str().unwrap_or_default().to_string();
            (provider, aud, sub, vec!["authenticated".to_string()], None)
        };
        let role = self.dir.role(name).await?;
        self.check_trust(&role, &provider, &audience, &subject, &amr)?;
        let duration_s = self
            .session_duration(input.duration_seconds, u64::from(role.max_session_s))
            .map_err(AppError::invalid)?;
        let credentials = self.mint_credentials(SessionSpec {
            role: &role,
            subject: &subject,
            session_name: &input.role_session_name,
            provider: &provider,
            audience: &audience,
            amr,
            identity_pool: identity_pool.as_deref(),
            duration_s,
            session_policy,
        })?;
        Ok(AssumeRoleOutput {
            credentials,
            assumed_role_id: format!("{}:{}", role.role_id, input.role_session_name),
            assumed_role_arn: assumed_role_arn(&role, &input.role_session_name),
            subject,
            provider,
            audience,
        })
    }
}
