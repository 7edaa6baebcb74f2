//! The pool's user a provider's subject is: `<provider>_<subject>`, an `EXTERNAL_PROVIDER`
//! user made at its first sign-in — exactly once, however many first sign-ins race (the
//! log's CreateUser refuses the second, which then reads the first) — with the attributes
//! the provider's attribute mapping takes from its claims, refreshed at every sign-in, and
//! the `identities` attribute naming the provider.

use super::oidc::ProviderUser;
use super::Federation;
use crate::auth::SignedIn;
use crate::AppError;
use serde_json::{json, Value};
use signet_core::{
    Command, CreateUser, IdentityProvider, UpdateUser, User, UserPatch, UserPool, UserStatus,
};
use std::collections::BTreeMap;

/// A claim as an attribute value: strings as they are, booleans and numbers as text.
fn attribute_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The mapped attributes of a provider's user (bounded like every attribute).
fn mapped(p: &IdentityProvider, who: &ProviderUser) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (attr, claim) in &p.attribute_mapping {
        if attr == "username" {
            continue;
        }
        if let Some(v) = who.claims.get(claim).and_then(attribute_value) {
            if v.len() <= 2048 && !v.chars().any(char::is_control) {
                out.insert(attr.clone(), v);
            }
        }
    }
    out
}

impl Federation {
    /// The user `who` is in `pool` (made at the first sign-in), checked: enabled.
    pub(crate) async fn user_for(
        &self,
        pool: &UserPool,
        p: &IdentityProvider,
        who: &ProviderUser,
    ) -> Result<SignedIn, AppError> {
        let username = crate::validate::canonical_username(
            &format!("{}_{}", p.name, who.subject),
            &pool.config,
        )?;
        // Linked to a user of the pool (AdminLinkProviderForUser): that user, as they are
        // (the provider's claims do not overwrite a user the pool owns).
        if let Some(link) = self.link_of(&pool.id, &p.name, &who.subject).await? {
            let user = self.dir.find_user(pool, &link.username).await?.user;
            if user.sub != link.sub {
                return Err(AppError::NotAuthorized(
                    "This account can not sign in with that provider.".into(),
                ));
            }
            if !user.enabled {
                return Err(AppError::NotAuthorized("User is disabled.".into()));
            }
            return Ok(SignedIn {
                sub: user.sub,
                username: user.username,
            });
        }
        let attributes = mapped(p, who);
        let user = match self.dir.find_user(pool, &username).await {
            Ok(view) => {
                let user = view.user;
                if user.status != UserStatus::ExternalProvider {
                    return Err(AppError::NotAuthorized(
                        "This account can not sign in with that provider.".into(),
                    ));
                }
                self.refresh_attributes(pool, &user, &attributes).await?;
                user
            }
            Err(AppError::UserNotFound) => self.create(pool, p, who, &username, attributes).await?,
            Err(e) => return Err(e),
        };
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        Ok(SignedIn {
            sub: user.sub,
            username: user.username,
        })
    }

    async fn create(
        &self,
        pool: &UserPool,
        p: &IdentityProvider,
        who: &ProviderUser,
        username: &str,
        attributes: BTreeMap<String, String>,
    ) -> Result<User, AppError> {
        let now = self.clock.now_ms();
        let mut user = User::new(
            crate::ids::uuid(),
            username,
            UserStatus::ExternalProvider,
            now,
        );
        user.attributes = attributes;
        let identities = json!([{
            "userId": who.subject,
            "providerName": p.name,
            "providerType": p.provider_type.name(),
            "issuer": null,
            "primary": "true",
            "dateCreated": now.to_string(),
        }]);
        user.attributes
            .insert("identities".into(), identities.to_string());
        // PreSignUp_ExternalProvider: the pool's hook may refuse the new user (its verdict
        // to confirm or verify changes nothing: the provider vouched already).
        self.hooks
            .pre_sign_up(
                pool,
                crate::hooks::SignUpSource::ExternalProvider,
                &user,
                None,
                &Default::default(),
                &Default::default(),
            )
            .await?;
        match self
            .store
            .write(Command::CreateUser(CreateUser {
                pool_id: pool.id.clone(),
                user: user.clone(),
            }))
            .await
        {
            Ok(_) => Ok(user),
            // A first sign-in of the same subject won the race: that user it is.
            Err(AppError::UsernameExists) => Ok(self.dir.find_user(pool, username).await?.user),
            Err(e) => Err(e),
        }
    }

    /// Mapped attributes follow the provider: changed values are written (one log write,
    /// only when something changed).
    async fn refresh_attributes(
        &self,
        pool: &UserPool,
        user: &User,
        attributes: &BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        let changed: BTreeMap<String, String> = attributes
            .iter()
            .filter(|(k, v)| user.attributes.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let patch = UserPatch {
            set_attributes: changed,
            expect_sub: Some(user.sub.clone()),
            at_ms: self.clock.now_ms(),
            ..UserPatch::default()
        };
        self.store
            .write(Command::UpdateUser(UpdateUser {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                patch,
            }))
            .await?;
        Ok(())
    }
}
