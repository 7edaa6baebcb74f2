//! A user's second factors: a TOTP authenticator handed out, verified, turned on, and
//! used at sign-in.
//!
//! Once cluster-wide: a TOTP sign-in records the time step its code was for, and only a
//! later step is accepted next, so a code replayed through another gateway within its
//! window is refused by the log, not by a gateway's memory. Wrong codes count towards the
//! same lockout as wrong passwords, in the same write that answers them.

use super::users::{count_failure, load};
use super::{put, reject, Apply};
use crate::kv::compound;
use crate::{CoreError, KvTxn, MfaFactor, Outcome, Rejection, Table, Totp, User};
use serde::{Deserialize, Serialize};

/// Load a user who must still be the one a token or session named (same `sub`): a user
/// deleted and made again under the same name is another user.
pub(super) fn load_same(
    txn: &impl KvTxn,
    pool_id: &str,
    username: &str,
    sub: &str,
) -> Result<Result<User, Rejection>, CoreError> {
    Ok(match load(txn, pool_id, username)? {
        Ok((_, u)) if u.sub == sub => Ok(u),
        Ok(_) => Err(Rejection::UserNotFound),
        Err(r) => Err(r),
    })
}

/// AssociateSoftwareToken: hand the user a new TOTP seed (sealed), pending until verified.
/// A verified authenticator stays in use until the new one is verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssociateTotp {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user's `sub` (the user the token or session named).
    pub sub: String,
    /// The new seed, sealed by the gateway.
    pub sealed_seed: String,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for AssociateTotp {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let mut user = match load_same(txn, &self.pool_id, &self.username, &self.sub)? {
            Ok(u) => u,
            Err(r) => return reject(r),
        };
        user.mfa.pending_seed = Some(self.sealed_seed.clone());
        user.updated_at_ms = self.at_ms;
        put(
            txn,
            Table::Users,
            &compound(&self.pool_id, &self.username),
            &user,
        )?;
        Ok(Outcome::Applied)
    }
}

/// VerifySoftwareToken: the pending seed produced a right code for `step`; it becomes the
/// user's authenticator (replacing any earlier one) and the failed sign-ins are cleared. Only if the pending seed is still the
/// one checked (a second AssociateSoftwareToken meanwhile voids the check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyTotp {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user's `sub` (the user the token or session named).
    pub sub: String,
    /// The pending seed the code was checked against.
    pub sealed_seed: String,
    /// The time step of the code (it may not be used again to sign in).
    pub step: u64,
    /// The name the user gave the authenticator.
    pub friendly_name: String,
    /// Turn it on and make it preferred (a set-up during sign-in, MFA_SETUP).
    pub enable: bool,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for VerifyTotp {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let mut user = match load_same(txn, &self.pool_id, &self.username, &self.sub)? {
            Ok(u) => u,
            Err(r) => return reject(r),
        };
        if user.mfa.pending_seed.as_deref() != Some(self.sealed_seed.as_str()) {
            return reject(Rejection::PreconditionFailed);
        }
        let was_enabled = user.mfa.totp.as_ref().is_some_and(|t| t.enabled);
        user.mfa.totp = Some(Totp {
            sealed_seed: self.sealed_seed.clone(),
            last_step: self.step,
            friendly_name: self.friendly_name.clone(),
            enabled: was_enabled || self.enable,
        });
        if self.enable {
            user.mfa.preferred = Some(MfaFactor::SoftwareTokenMfa);
        }
        user.mfa.pending_seed = None;
        // Whoever verified holds the password's session or an access token, and a right
        // code: a sign-in that succeeded, as far as the lockout is concerned.
        user.failed_sign_ins = 0;
        user.locked_until_ms = 0;
        user.updated_at_ms = self.at_ms;
        put(
            txn,
            Table::Users,
            &compound(&self.pool_id, &self.username),
            &user,
        )?;
        Ok(Outcome::Applied)
    }
}

/// The answer to a SOFTWARE_TOKEN_MFA challenge, checked by the gateway against the seed:
/// `step` is the time step of a right code, `None` a wrong code.
///
/// * locked out (`at_ms` before the lockout's end): refused, `TooManyAttempts`, uncounted;
/// * wrong: counted as a failed sign-in (the lockout the passwords use), `Applied`;
/// * right but for a step not after the last one accepted (a replay, on this gateway or
///   another): refused, `MfaCodeReused`;
/// * right: the step is recorded and the failures cleared, `Applied`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSignIn {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user's `sub` (the user the token or session named).
    pub sub: String,
    /// The time step of a right code; `None`: a wrong code.
    pub step: Option<u64>,
    /// The proposer's clock, Unix ms (lockout windows).
    pub at_ms: u64,
    /// Failures before the first lockout.
    pub threshold: u32,
    /// First lockout length, ms.
    pub base_ms: u64,
    /// Longest lockout, ms.
    pub max_ms: u64,
}

impl Apply for TotpSignIn {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let mut user = match load_same(txn, &self.pool_id, &self.username, &self.sub)? {
            Ok(u) => u,
            Err(r) => return reject(r),
        };
        if self.at_ms < user.locked_until_ms {
            return reject(Rejection::TooManyAttempts);
        }
        let key = compound(&self.pool_id, &self.username);
        match self.step {
            None => count_failure(
                &mut user,
                self.at_ms,
                self.threshold,
                self.base_ms,
                self.max_ms,
            ),
            Some(step) => {
                let Some(totp) = user.mfa.totp.as_mut() else {
                    return reject(Rejection::PreconditionFailed);
                };
                if step <= totp.last_step {
                    return reject(Rejection::MfaCodeReused);
                }
                totp.last_step = step;
                user.failed_sign_ins = 0;
                user.locked_until_ms = 0;
            }
        }
        put(txn, Table::Users, &key, &user)?;
        Ok(Outcome::Applied)
    }
}

/// SetUserMFAPreference / AdminSetUserMFAPreference: turn factors on or off and make one
/// preferred or not (fields left `None` stay as they are). A factor is turned on only if
/// the user has it (a verified authenticator, a verified email or phone number), and only
/// a factor that is on can be preferred: `PreconditionFailed` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMfaPreference {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user a token named; `None` for an administrator's call by username.
    pub sub: Option<String>,
    /// Turn the authenticator on or off.
    pub totp_enabled: Option<bool>,
    /// Make it the preferred factor, or not.
    pub totp_preferred: Option<bool>,
    /// Turn SMS_MFA on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_enabled: Option<bool>,
    /// Make SMS_MFA preferred, or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_preferred: Option<bool>,
    /// Turn EMAIL_OTP on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_enabled: Option<bool>,
    /// Make EMAIL_OTP preferred, or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_preferred: Option<bool>,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl SetMfaPreference {
    /// Each factor with its (enabled, preferred) settings.
    fn settings(&self) -> [(MfaFactor, Option<bool>, Option<bool>); 3] {
        [
            (
                MfaFactor::SoftwareTokenMfa,
                self.totp_enabled,
                self.totp_preferred,
            ),
            (MfaFactor::SmsMfa, self.sms_enabled, self.sms_preferred),
            (
                MfaFactor::EmailOtp,
                self.email_enabled,
                self.email_preferred,
            ),
        ]
    }
}

impl Apply for SetMfaPreference {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let mut user = match &self.sub {
            Some(sub) => match load_same(txn, &self.pool_id, &self.username, sub)? {
                Ok(u) => u,
                Err(r) => return reject(r),
            },
            None => match load(txn, &self.pool_id, &self.username)? {
                Ok((_, u)) => u,
                Err(r) => return reject(r),
            },
        };
        for (factor, enabled, _) in self.settings() {
            let Some(on) = enabled else { continue };
            if on && !user.has_factor(factor) {
                return reject(Rejection::PreconditionFailed);
            }
            match factor {
                // Nothing to turn off without a verified authenticator.
                MfaFactor::SoftwareTokenMfa => {
                    if let Some(t) = user.mfa.totp.as_mut() {
                        t.enabled = on;
                    }
                }
                MfaFactor::SmsMfa => user.mfa.sms_enabled = on,
                MfaFactor::EmailOtp => user.mfa.email_enabled = on,
            }
        }
        for (factor, _, preferred) in self.settings() {
            match preferred {
                Some(true) if user.factor_enabled(factor) => user.mfa.preferred = Some(factor),
                Some(true) => return reject(Rejection::PreconditionFailed),
                Some(false) if user.mfa.preferred == Some(factor) => user.mfa.preferred = None,
                _ => {}
            }
        }
        // A factor turned off is no longer preferred.
        if user.mfa.preferred.is_some_and(|f| !user.factor_enabled(f)) {
            user.mfa.preferred = None;
        }
        user.updated_at_ms = self.at_ms;
        put(
            txn,
            Table::Users,
            &compound(&self.pool_id, &self.username),
            &user,
        )?;
        Ok(Outcome::Applied)
    }
}
