//! One-time codes (sign-up confirmation, password reset, attribute verification): issued
//! bound to purpose, user, attribute and value, stored only as a keyed hash, delivered
//! through the notifier, spent once cluster-wide through the log (DESIGN §8).
//!
//! A shared handle: sign-up, admin user management and the self-service calls hold a
//! clone.

use crate::clock::SharedClock;
use crate::notifier::{Delivery, Notifier};
use crate::store::Store;
use crate::validate::mask;
use crate::AppError;
use signet_core::{
    CodeLimits, CodePurpose, CodeRecord, CodeTarget, Command, IssueCode, OutboxMessage, RedeemCode,
    User, UserPatch, UserPool,
};
use signet_crypto::KeyedHasher;
use std::sync::Arc;
use std::time::Duration;

/// Lifetime of a sign-in's second-factor code (Cognito's: three minutes), unless codes
/// are configured to live shorter.
const MFA_CODE_TTL: Duration = Duration::from_secs(180);

/// Where a code went (masked), Cognito's CodeDeliveryDetails.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeDelivery {
    /// Masked destination.
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// The attribute the code verifies.
    pub attribute: String,
}

/// How codes are issued (from the gateway's config).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeSettings {
    /// Lifetime of sign-up and attribute verification codes.
    pub confirm_ttl: Duration,
    /// Lifetime of password reset codes.
    pub reset_ttl: Duration,
    /// Wrong guesses a code survives.
    pub attempts: u32,
    /// Issuance and failure limits per user and purpose.
    pub limits: CodeLimits,
}

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Codes {
    store: Store,
    keyed: KeyedHasher,
    notifier: Arc<Notifier>,
    settings: CodeSettings,
    clock: SharedClock,
    hooks: crate::hooks::Hooks,
}

impl Codes {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        keyed: KeyedHasher,
        notifier: Arc<Notifier>,
        settings: CodeSettings,
        clock: SharedClock,
        hooks: crate::hooks::Hooks,
    ) -> Codes {
        Codes {
            store,
            keyed,
            notifier,
            settings,
            clock,
            hooks,
        }
    }

    /// The pool's CustomMessage for a code (or temporary password) sent by `medium`:
    /// (message, subject) with the code and username put in; (None, None) without a hook.
    pub(crate) async fn compose(
        &self,
        pool: &UserPool,
        source: crate::hooks::MessageSource,
        user: &User,
        medium: &str,
        code: &str,
    ) -> Result<(Option<String>, Option<String>), AppError> {
        let Some(m) = self.hooks.custom_message(pool, source, user, None).await? else {
            return Ok((None, None));
        };
        let fill = |t: String| {
            t.replace(crate::hooks::CODE_PARAMETER, code)
                .replace(crate::hooks::USERNAME_PARAMETER, &user.username)
        };
        Ok(match medium {
            "SMS" => (m.sms.map(fill), None),
            _ => (m.email.map(fill), m.subject.map(fill)),
        })
    }

    /// Deliver a message that is not a stored code (a temporary password).
    pub(crate) async fn deliver(&self, d: &Delivery) {
        self.notifier.deliver(d, self.clock.now_ms()).await
    }

    /// Issue a fresh code for `purpose` and deliver it. Fails if the user has nowhere to
    /// receive it.
    pub(crate) async fn send(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: CodePurpose,
    ) -> Result<CodeDelivery, AppError> {
        let Some((attribute, destination)) = destination(pool, user, &purpose) else {
            return Err(AppError::invalid(
                "Cannot send a code: the user has no registered/verified email or phone_number",
            ));
        };
        let medium = if attribute == "phone_number" {
            "SMS"
        } else {
            "EMAIL"
        };
        // The hook writes the message before the code is issued: a refusal costs no code.
        let source = match purpose {
            CodePurpose::ConfirmSignUp => crate::hooks::MessageSource::SignUp,
            CodePurpose::ResetPassword => crate::hooks::MessageSource::ForgotPassword,
            CodePurpose::VerifyAttribute(_) => crate::hooks::MessageSource::VerifyUserAttribute,
            CodePurpose::SignInMfa(_) => crate::hooks::MessageSource::Authentication,
        };
        let code = signet_crypto::random_code(6);
        let (message, subject) = self.compose(pool, source, user, medium, &code).await?;
        let now = self.clock.now_ms();
        let ttl = match purpose {
            CodePurpose::ResetPassword => self.settings.reset_ttl,
            CodePurpose::SignInMfa(_) => MFA_CODE_TTL.min(self.settings.confirm_ttl),
            _ => self.settings.confirm_ttl,
        };
        let outbox = self.notifier.is_outbox().then(|| OutboxMessage {
            username: user.username.clone(),
            purpose: purpose.clone(),
            destination: destination.clone(),
            code: code.clone(),
            issued_at_ms: now,
        });
        self.store
            .write(Command::IssueCode(IssueCode {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                purpose: purpose.clone(),
                code: CodeRecord {
                    code_hash: self.hash(&pool.id, &user.username, &purpose, &code),
                    expires_at_ms: now + ttl.as_millis() as u64,
                    attempts_left: self.settings.attempts,
                    sent_to: Some(CodeTarget {
                        attribute: attribute.clone(),
                        value: destination.clone(),
                    }),
                },
                outbox,
                now_ms: now,
                limits: self.settings.limits,
            }))
            .await?;
        self.deliver(&Delivery {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            purpose: purpose.key(),
            destination: destination.clone(),
            medium: medium.into(),
            code,
            message,
            subject,
        })
        .await;
        Ok(CodeDelivery {
            destination: mask(&destination),
            medium: medium.into(),
            attribute,
        })
    }

    pub(crate) fn hash(
        &self,
        pool_id: &str,
        username: &str,
        purpose: &CodePurpose,
        code: &str,
    ) -> String {
        self.keyed.hash(
            "one-time-code",
            &[
                pool_id.as_bytes(),
                username.as_bytes(),
                purpose.key().as_bytes(),
                code.as_bytes(),
            ],
        )
    }

    /// Spend a code; on success apply `patch` atomically.
    pub(crate) async fn redeem(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: CodePurpose,
        code: &str,
        patch: UserPatch,
    ) -> Result<(), AppError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 16 {
            return Err(AppError::CodeMismatch);
        }
        self.store
            .write(Command::RedeemCode(RedeemCode {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                code_hash: self.hash(&pool.id, &user.username, &purpose, code),
                purpose,
                now_ms: self.clock.now_ms(),
                patch,
                limits: self.settings.limits,
            }))
            .await
            .map(|_| ())
    }
}

/// The attribute a code for `purpose` goes to, with its value.
pub(crate) fn destination(
    pool: &UserPool,
    user: &User,
    purpose: &CodePurpose,
) -> Option<(String, String)> {
    let verified = |a: &str| {
        user.attributes
            .get(&format!("{a}_verified"))
            .is_some_and(|v| v == "true")
    };
    let candidates: Vec<&str> = match purpose {
        CodePurpose::VerifyAttribute(a) => vec![a.as_str()],
        CodePurpose::ConfirmSignUp => pool
            .config
            .auto_verified_attributes
            .iter()
            .map(String::as_str)
            .collect(),
        CodePurpose::ResetPassword => vec!["email", "phone_number"]
            .into_iter()
            .filter(|a| verified(a))
            .collect(),
        // A second factor goes only where the user proved they receive.
        CodePurpose::SignInMfa(a) => [a.as_str()].into_iter().filter(|a| verified(a)).collect(),
    };
    candidates
        .into_iter()
        .find_map(|a| user.attributes.get(a).map(|v| (a.to_string(), v.clone())))
}

/// Fake delivery details for an unknown user, when user existence is hidden.
pub(crate) fn decoy_delivery(pool: &UserPool) -> CodeDelivery {
    let attribute = pool
        .config
        .auto_verified_attributes
        .first()
        .cloned()
        .unwrap_or_else(|| "email".into());
    CodeDelivery {
        destination: if attribute == "phone_number" {
            "+*******0000".into()
        } else {
            "u***@e***.com".into()
        },
        medium: if attribute == "phone_number" {
            "SMS".into()
        } else {
            "EMAIL".into()
        },
        attribute,
    }
}
