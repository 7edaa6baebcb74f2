//! AdminLinkProviderForUser and AdminDisableProviderForUser: a provider's subject made to
//! sign in as an existing user of the pool, and undone. Only a subject that never signed in
//! on its own may be linked (two users are never merged), to a user that exists now with
//! the `sub` the link records.

use super::Federation;
use crate::AppError;
use serde_json::json;
use signet_core::{
    Command, LinkProviderUser, ProviderLink, Query, UnlinkProviderUser, UpdateUser, UserPatch,
};
use signet_store_client::ReadConsistency::Linearizable;

/// A user as named by a provider: (provider name, attribute name, value).
#[derive(Debug, Clone, Default)]
pub struct ProviderUserRef {
    /// `Cognito` for the pool's own users, else a provider's name.
    pub provider: String,
    /// `Cognito_Subject` for a provider's users.
    pub attribute: String,
    /// A username, or a subject at the provider.
    pub value: String,
}

const COGNITO: &str = "Cognito";
const SUBJECT_ATTRIBUTE: &str = "Cognito_Subject";

fn source(r: &ProviderUserRef) -> Result<(), AppError> {
    if r.provider.is_empty() || r.provider.eq_ignore_ascii_case(COGNITO) {
        return Err(AppError::invalid(
            "SourceUser must name an identity provider",
        ));
    }
    if r.attribute != SUBJECT_ATTRIBUTE {
        return Err(AppError::invalid(format!(
            "ProviderAttributeName must be {SUBJECT_ATTRIBUTE}"
        )));
    }
    if r.value.is_empty() || r.value.len() > 255 || r.value.contains('\0') {
        return Err(AppError::invalid(
            "ProviderAttributeValue: 1 to 255 characters",
        ));
    }
    Ok(())
}

impl Federation {
    /// The user a provider's subject is linked to, if it is (linearizable: a link or an
    /// unlink that returned is seen).
    pub(crate) async fn link_of(
        &self,
        pool_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<ProviderLink>, AppError> {
        self.store
            .ask(
                Query::GetProviderLink {
                    pool_id: pool_id.into(),
                    provider: provider.into(),
                    subject: subject.into(),
                },
                Linearizable,
            )
            .await
    }

    /// AdminLinkProviderForUser.
    pub async fn link_provider_for_user(
        &self,
        pool_id: &str,
        destination: &ProviderUserRef,
        from: &ProviderUserRef,
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        if !destination.provider.eq_ignore_ascii_case(COGNITO) {
            return Err(AppError::invalid(
                "DestinationUser must be a user of the pool (ProviderName Cognito)",
            ));
        }
        source(from)?;
        let provider = self.describe_provider(pool_id, &from.provider).await?;
        let user = self.dir.find_user(&pool, &destination.value).await?.user;
        let federated_username = crate::validate::canonical_username(
            &format!("{}_{}", provider.name, from.value),
            &pool.config,
        )?;
        let now = self.clock.now_ms();
        let identity = json!({
            "userId": from.value,
            "providerName": provider.name,
            "providerType": provider.provider_type.name(),
            "issuer": null,
            "primary": "false",
            "dateCreated": now.to_string(),
        });
        self.store
            .write(Command::LinkProviderUser(LinkProviderUser {
                link: ProviderLink {
                    pool_id: pool.id.clone(),
                    provider: provider.name.clone(),
                    subject: from.value.clone(),
                    username: user.username.clone(),
                    sub: user.sub.clone(),
                    linked_at_ms: now,
                },
                federated_username,
                identity: identity.to_string(),
            }))
            .await
            .map_err(|e| match e {
                AppError::UsernameExists => AppError::invalid(
                    "That provider user is linked already, or has signed in on its own: merging \
                     two users is not offered",
                ),
                other => other,
            })?;
        Ok(())
    }

    /// AdminDisableProviderForUser: the subject's link goes, and its own federated user, if
    /// it has one, is disabled (and signed out everywhere).
    pub async fn disable_provider_for_user(
        &self,
        pool_id: &str,
        who: &ProviderUserRef,
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        source(who)?;
        let now = self.clock.now_ms();
        self.store
            .write(Command::UnlinkProviderUser(UnlinkProviderUser {
                pool_id: pool.id.clone(),
                provider: who.provider.clone(),
                subject: who.value.clone(),
                at_ms: now,
            }))
            .await?;
        let username = crate::validate::canonical_username(
            &format!("{}_{}", who.provider, who.value),
            &pool.config,
        )?;
        match self.dir.find_user(&pool, &username).await {
            Ok(view) => {
                let patch = UserPatch {
                    enabled: Some(false),
                    tokens_valid_after_ms: Some(now),
                    expect_sub: Some(view.user.sub.clone()),
                    at_ms: now,
                    ..UserPatch::default()
                };
                self.store
                    .write(Command::UpdateUser(UpdateUser {
                        pool_id: pool.id.clone(),
                        username,
                        patch,
                    }))
                    .await?;
                Ok(())
            }
            Err(AppError::UserNotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
