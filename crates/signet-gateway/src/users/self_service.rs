//! Calls made with the user's own access token, and token revocation.

use crate::clock::SharedClock;
use crate::codes::CodeDelivery;
use crate::codes::Codes;
use crate::directory::Directory;
use crate::passwords::{Guess, Passwords};
use crate::secrets::ClientSecrets;
use crate::store::Store;
use crate::tokens::Tokens;
use crate::validate::{attributes, check_password, AttrWrite};
use crate::AppError;
use signet_core::{CodePurpose, Command, DeleteUser, RevokeRefreshFamily, User, UserPatch};

/// Only contact attributes are verified with codes.
fn check_verifiable(attribute: &str) -> Result<(), AppError> {
    if attribute != "email" && attribute != "phone_number" {
        return Err(AppError::invalid(
            "only email and phone_number can be verified",
        ));
    }
    Ok(())
}

/// The self-service feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct SelfService {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    passwords: Passwords,
    secrets: ClientSecrets,
    codes: Codes,
    tokens: Tokens,
}

impl SelfService {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        passwords: Passwords,
        secrets: ClientSecrets,
        codes: Codes,
        tokens: Tokens,
    ) -> SelfService {
        SelfService {
            store,
            dir,
            clock,
            passwords,
            secrets,
            codes,
            tokens,
        }
    }
}

impl SelfService {
    /// GetUser.
    pub async fn get_user(&self, token: &str) -> Result<User, AppError> {
        let (_, view, client_id) = self.tokens.authenticate(token).await?;
        self.readable(view.user, &client_id).await
    }

    /// The user of an access token for OIDC userInfo: the admin scope or `openid`.
    pub(crate) async fn user_info_user(&self, token: &str) -> Result<User, AppError> {
        let scopes = ["openid", crate::tokens::USER_ADMIN_SCOPE];
        let (_, view, claims) = self.tokens.authenticate_scoped(token, &scopes).await?;
        let client_id = claims["client_id"].as_str().unwrap_or_default();
        self.readable(view.user, client_id).await
    }

    /// `user` with only the attributes `client_id` may read.
    async fn readable(&self, user: User, client_id: &str) -> Result<User, AppError> {
        let mut user = user;
        // Only the attributes the client may read.
        if let Ok(client) = self.dir.client(client_id).await {
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
        let (pool, view, client_id) = self.tokens.authenticate(token).await?;
        crate::validate::check_writable(&*self.dir.client(&client_id).await?, attrs)?;
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
        self.dir
            .patch_user(
                &pool.id,
                &view.user.username,
                UserPatch {
                    set_attributes: set,
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await?;
        let user = self.dir.find_user(&pool, &view.user.username).await?.user;
        let mut out = Vec::new();
        for a in reverify {
            // The change is committed: a spent code budget only means no code this time
            // (GetUserAttributeVerificationCode asks again once the window has passed).
            match self
                .codes
                .send(&pool, &user, CodePurpose::VerifyAttribute(a.into()))
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
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        self.dir
            .remove_attributes(&pool, &view.user.username, names, AttrWrite::UserUpdate)
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
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        check_password(&pool.config.password_policy, proposed)?;
        let current = view.user.password_hash.clone().unwrap_or_default();
        match self
            .passwords
            .guess(&pool, &view.user.username, Some(&current), previous, true)
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
        let (hash, srp) = self
            .passwords
            .hash_new(&pool.id, &view.user.username, proposed)
            .await?;
        let now = self.clock.now_ms();
        self.dir
            .patch_user(
                &pool.id,
                &view.user.username,
                UserPatch {
                    expect_password_hash: Some(current),
                    password: Some((hash, None)),
                    srp: Some(srp),
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
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        check_verifiable(attribute)?;
        self.codes
            .send(
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
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        check_verifiable(attribute)?;
        let mut patch = UserPatch {
            at_ms: self.clock.now_ms(),
            ..Default::default()
        };
        patch
            .set_attributes
            .insert(format!("{attribute}_verified"), "true".into());
        self.codes
            .redeem(
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
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        self.store
            .write(Command::DeleteUser(DeleteUser {
                pool_id: pool.id.clone(),
                username: view.user.username,
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }

    /// GlobalSignOut (self).
    pub async fn global_sign_out(&self, token: &str) -> Result<(), AppError> {
        let (pool, view, _) = self.tokens.authenticate(token).await?;
        self.dir
            .sign_out_everywhere(&pool.id, &view.user.username)
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
        let client = self.dir.active_client(client_id).await?;
        if !client.secrets.is_empty()
            && !self
                .secrets
                .matches(&client, client_secret.unwrap_or_default())
        {
            return Err(AppError::NotAuthorized(
                "Client authentication failed".into(),
            ));
        }
        let p = self
            .tokens
            .open_refresh(&client, token)
            .map_err(|_| AppError::invalid("Invalid token"))?;
        self.store
            .write(Command::RevokeRefreshFamily(RevokeRefreshFamily {
                family_id: p.fam,
                expires_at_ms: p.exp_ms,
            }))
            .await
            .map(|_| ())
    }
}
