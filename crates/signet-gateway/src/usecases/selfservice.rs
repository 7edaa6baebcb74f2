//! Calls made with the user's own access token, and token revocation.

use super::auth::Guess;
use super::principal::{Dead, TokenUser};
use super::signup::CodeDelivery;
use crate::validate::{attributes, check_password, AttrWrite};
use crate::{AppError, Gateway};
use base64::Engine;
use signet_core::{
    CodePurpose, Command, DeleteUser, Query, RefreshFamily, RevokeRefreshFamily, User, UserPatch,
    UserPool, UserView,
};
use signet_store::ReadConsistency::Linearizable;
use signet_verify::{Expected, TokenUse};
use std::sync::Arc;

/// Clock skew tolerated on Signet's own APIs.
const LEEWAY_S: u64 = 30;

/// Only contact attributes are verified with codes.
fn check_verifiable(attribute: &str) -> Result<(), AppError> {
    if attribute != "email" && attribute != "phone_number" {
        return Err(AppError::invalid(
            "only email and phone_number can be verified",
        ));
    }
    Ok(())
}

fn revoked() -> AppError {
    AppError::NotAuthorized("Access Token has been revoked".into())
}

impl Gateway {
    /// Verify an access token strictly (through signet-verify) and load its user: the user
    /// must still exist with the same sub, be enabled, not be signed out since the token was
    /// issued, and the token's refresh family must not be revoked.
    pub(crate) async fn authenticate(
        &self,
        token: &str,
    ) -> Result<(Arc<UserPool>, UserView, String), AppError> {
        let invalid = || AppError::NotAuthorized("Invalid Access Token".into());
        // Route by the unverified issuer, then verify against exactly that issuer.
        if token.len() > signet_verify::MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let payload = token.split('.').nth(1).ok_or_else(invalid)?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid())?;
        let iss: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| invalid())?;
        let pool_id = iss["iss"]
            .as_str()
            .and_then(|i| i.strip_prefix(&format!("{}/", self.cfg.public_url)))
            .ok_or_else(invalid)?
            .to_string();
        // A store outage must surface as such, not as a bad token.
        let pool = self.pool(&pool_id).await.map_err(|e| match e {
            AppError::ResourceNotFound(_) => invalid(),
            other => other,
        })?;
        let expected = Expected {
            issuer: self.cfg.issuer(&pool.id),
            token_use: TokenUse::Access,
            clients: None,
            leeway_s: LEEWAY_S,
        };
        let claims =
            signet_verify::verify(token, &self.cache.keys().set, &expected).map_err(|e| {
                AppError::NotAuthorized(match e {
                    signet_verify::VerifyError::Expired => "Access Token has expired".into(),
                    other => format!("Invalid Access Token: {other}"),
                })
            })?;
        let scope_ok = claims["scope"]
            .as_str()
            .is_some_and(|s| s.split(' ').any(|s| s == crate::tokens::USER_ADMIN_SCOPE));
        if !scope_ok {
            return Err(AppError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let who = TokenUser::from_access(&claims).ok_or_else(invalid)?;
        let view = self.live_user(&pool, &who).await.map_err(|e| {
            e.or_answer(|d| match d {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => revoked(),
            })
        })?;
        // Revoked one by one (RFC 7009)?
        let jti = claims["jti"].as_str().unwrap_or_default().to_string();
        let jti_revoked: Vec<bool> = self
            .ask(Query::RevokedTokens { jtis: vec![jti] }, Linearizable)
            .await?;
        if jti_revoked.first() != Some(&false) {
            return Err(revoked());
        }
        if let Some(fam) = claims["origin_jti"].as_str() {
            let family: Option<RefreshFamily> = self
                .ask(
                    Query::GetRefreshFamily {
                        family_id: fam.into(),
                    },
                    Linearizable,
                )
                .await?;
            if family.is_some_and(|f| f.revoked) {
                return Err(revoked());
            }
        }
        Ok((pool, view, who.client_id))
    }

    /// GetUser.
    pub async fn get_user(&self, token: &str) -> Result<User, AppError> {
        let (_, view, client_id) = self.authenticate(token).await?;
        let mut user = view.user;
        // Only the attributes the client may read.
        if let Ok(client) = self.client(&client_id).await {
            if !client.read_attributes.is_empty() {
                user.attributes
                    .retain(|k, _| k == "sub" || client.read_attributes.iter().any(|a| a == k));
            }
        }
        Ok(user)
    }

    /// UpdateUserAttributes. A changed e-mail or phone becomes unverified and, if the pool
    /// auto-verifies it, a verification code is sent.
    pub async fn update_user_attributes(
        &self,
        token: &str,
        attrs: &[(String, String)],
    ) -> Result<Vec<CodeDelivery>, AppError> {
        let (pool, view, client_id) = self.authenticate(token).await?;
        crate::validate::check_writable(&*self.client(&client_id).await?, attrs)?;
        let mut set = attributes(&pool.config, attrs, AttrWrite::UserUpdate)?;
        let mut reverify = Vec::new();
        for a in ["email", "phone_number"] {
            if set
                .get(a)
                .is_some_and(|v| view.user.attributes.get(a) != Some(v))
            {
                set.insert(format!("{a}_verified"), "false".into());
                if pool.config.auto_verified_attributes.iter().any(|x| x == a) {
                    reverify.push(a);
                }
            }
        }
        self.patch_user(
            &pool.id,
            &view.user.username,
            UserPatch {
                set_attributes: set,
                at_ms: self.now_ms(),
                ..Default::default()
            },
        )
        .await?;
        let user = self.find_user(&pool, &view.user.username).await?.user;
        let mut out = Vec::new();
        for a in reverify {
            // The change is committed: a spent code budget only means no code this time
            // (GetUserAttributeVerificationCode asks again once the window has passed).
            match self
                .send_code(&pool, &user, CodePurpose::VerifyAttribute(a.into()))
                .await
            {
                Ok(d) => out.push(d),
                Err(AppError::LimitExceeded(m)) => {
                    tracing::info!(attribute = a, "no verification code sent: {m}")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// DeleteUserAttributes.
    pub async fn delete_user_attributes(
        &self,
        token: &str,
        names: &[String],
    ) -> Result<(), AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        self.remove_attributes(&pool, &view.user.username, names, AttrWrite::UserUpdate)
            .await
    }

    /// ChangePassword: the previous password must match, checked like a sign-in (counted
    /// towards the lockout, so a stolen access token is not an unlimited oracle); a
    /// concurrent change wins once. The change ends every session of the user, this one
    /// included.
    pub async fn change_password(
        &self,
        token: &str,
        previous: &str,
        proposed: &str,
    ) -> Result<(), AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        check_password(&pool.config.password_policy, proposed)?;
        let current = view.user.password_hash.clone().unwrap_or_default();
        match self
            .guess_password(&pool, &view.user.username, Some(&current), previous)
            .await?
        {
            Guess::Right => {}
            Guess::Wrong => {
                return Err(AppError::NotAuthorized(
                    "Incorrect username or password.".into(),
                ))
            }
            Guess::Locked => {
                return Err(AppError::NotAuthorized("Password attempts exceeded".into()))
            }
        }
        let hash = self.hasher.hash(proposed).await?;
        let now = self.now_ms();
        self.patch_user(
            &pool.id,
            &view.user.username,
            UserPatch {
                expect_password_hash: Some(current),
                password: Some((hash, None)),
                tokens_valid_after_ms: Some(now),
                at_ms: now,
                ..Default::default()
            },
        )
        .await
    }

    /// GetUserAttributeVerificationCode.
    pub async fn attribute_verification_code(
        &self,
        token: &str,
        attribute: &str,
    ) -> Result<CodeDelivery, AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        check_verifiable(attribute)?;
        self.send_code(
            &pool,
            &view.user,
            CodePurpose::VerifyAttribute(attribute.into()),
        )
        .await
    }

    /// VerifyUserAttribute.
    pub async fn verify_user_attribute(
        &self,
        token: &str,
        attribute: &str,
        code: &str,
    ) -> Result<(), AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        check_verifiable(attribute)?;
        let mut patch = UserPatch {
            at_ms: self.now_ms(),
            ..Default::default()
        };
        patch
            .set_attributes
            .insert(format!("{attribute}_verified"), "true".into());
        self.redeem(
            &pool,
            &view.user,
            CodePurpose::VerifyAttribute(attribute.into()),
            code,
            patch,
        )
        .await
    }

    /// DeleteUser (self).
    pub async fn delete_self(&self, token: &str) -> Result<(), AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        self.write(Command::DeleteUser(DeleteUser {
            pool_id: pool.id.clone(),
            username: view.user.username,
        }))
        .await
        .map(|_| ())
    }

    /// GlobalSignOut (self).
    pub async fn global_sign_out(&self, token: &str) -> Result<(), AppError> {
        let (pool, view, _) = self.authenticate(token).await?;
        self.sign_out_everywhere(&pool.id, &view.user.username)
            .await
    }

    /// RevokeToken: revoke a refresh token and every token issued from it. Returns only
    /// once the revocation is committed.
    pub async fn revoke_token(
        &self,
        token: &str,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<(), AppError> {
        let client = self.active_client(client_id).await?;
        if !client.secrets.is_empty()
            && !self.secret_matches(&client, client_secret.unwrap_or_default())
        {
            return Err(AppError::NotAuthorized(
                "Client authentication failed".into(),
            ));
        }
        let p = self
            .open_refresh(&client, token)
            .map_err(|_| AppError::invalid("Invalid token"))?;
        self.write(Command::RevokeRefreshFamily(RevokeRefreshFamily {
            family_id: p.fam,
            expires_at_ms: p.exp_ms,
        }))
        .await
        .map(|_| ())
    }
}
