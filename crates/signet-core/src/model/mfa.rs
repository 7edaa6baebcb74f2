//! Multi-factor authentication: a pool's MFA configuration and a user's factors.
//!
//! A TOTP seed is stored only sealed (by the gateways, under a key from their config): the
//! store never sees it in the clear. The last time step a user's TOTP was accepted at is
//! kept here, so that a code is accepted once cluster-wide (`crate::apply::mfa`).

use serde::{Deserialize, Serialize};

/// Whether a pool asks for a second factor (Cognito's `MfaConfiguration`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaMode {
    /// Never.
    #[default]
    Off,
    /// Every user: one without a factor sets one up at sign-in (MFA_SETUP).
    On,
    /// Users who turned a factor on.
    Optional,
}

/// A pool's MFA configuration (SetUserPoolMfaConfig).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolMfa {
    /// Off, on or optional.
    pub mode: MfaMode,
    /// TOTP (an authenticator app) is offered.
    pub software_token: bool,
    /// Codes by SMS to a verified `phone_number` are offered (SMS_MFA).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sms: bool,
    /// Codes by email to a verified `email` are offered (EMAIL_OTP).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub email: bool,
}

impl PoolMfa {
    /// The default: no MFA (not written, so older records and goldens stay as they were).
    pub fn is_off(&self) -> bool {
        *self == PoolMfa::default()
    }

    /// Whether the pool offers `factor`.
    pub fn offers(&self, factor: MfaFactor) -> bool {
        match factor {
            MfaFactor::SoftwareTokenMfa => self.software_token,
            MfaFactor::SmsMfa => self.sms,
            MfaFactor::EmailOtp => self.email,
        }
    }
}

/// A second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaFactor {
    /// TOTP from an authenticator app (`SOFTWARE_TOKEN_MFA`).
    SoftwareTokenMfa,
    /// A code sent by SMS to the verified `phone_number` (`SMS_MFA`).
    SmsMfa,
    /// A code sent by email to the verified `email` (`EMAIL_OTP`).
    EmailOtp,
}

impl MfaFactor {
    /// Every factor, in the order a choice lists them.
    pub const ALL: [MfaFactor; 3] = [
        MfaFactor::SmsMfa,
        MfaFactor::SoftwareTokenMfa,
        MfaFactor::EmailOtp,
    ];

    /// Cognito's name of the factor (and of its challenge).
    pub fn name(self) -> &'static str {
        match self {
            MfaFactor::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            MfaFactor::SmsMfa => "SMS_MFA",
            MfaFactor::EmailOtp => "EMAIL_OTP",
        }
    }

    /// The factor of a Cognito name.
    pub fn from_name(name: &str) -> Option<MfaFactor> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The attribute a code of this factor goes to (`None`: TOTP, no code is sent).
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            MfaFactor::SoftwareTokenMfa => None,
            MfaFactor::SmsMfa => Some("phone_number"),
            MfaFactor::EmailOtp => Some("email"),
        }
    }
}

/// A user's verified TOTP authenticator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    /// The seed, sealed by the gateways.
    pub sealed_seed: String,
    /// The last time step (Unix seconds / 30) a code was accepted for: only a later one is
    /// accepted next.
    pub last_step: u64,
    /// The name the user gave the authenticator.
    #[serde(default)]
    pub friendly_name: String,
    /// Turned on (SetUserMFAPreference; a set-up during sign-in turns it on): asked for at
    /// sign-in in an OPTIONAL pool. In an ON pool a verified authenticator is always asked.
    #[serde(default)]
    pub enabled: bool,
}

/// A user's MFA state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserMfa {
    /// The verified authenticator.
    pub totp: Option<Totp>,
    /// A seed handed out by AssociateSoftwareToken, not yet verified (sealed).
    pub pending_seed: Option<String>,
    /// The preferred factor.
    pub preferred: Option<MfaFactor>,
    /// SMS_MFA turned on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sms_enabled: bool,
    /// EMAIL_OTP turned on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub email_enabled: bool,
}

impl UserMfa {
    /// Nothing set up (not written).
    pub fn is_empty(&self) -> bool {
        *self == UserMfa::default()
    }
}

impl crate::User {
    /// Whether the user can answer `factor` at all: a verified authenticator, or a
    /// verified attribute for a code to go to.
    pub fn has_factor(&self, factor: MfaFactor) -> bool {
        match factor.attribute() {
            None => self.mfa.totp.is_some(),
            Some(a) => {
                self.attributes.contains_key(a)
                    && self
                        .attributes
                        .get(&format!("{a}_verified"))
                        .is_some_and(|v| v == "true")
            }
        }
    }

    /// Whether the user turned `factor` on (and still has it).
    pub fn factor_enabled(&self, factor: MfaFactor) -> bool {
        self.has_factor(factor)
            && match factor {
                MfaFactor::SoftwareTokenMfa => self.mfa.totp.as_ref().is_some_and(|t| t.enabled),
                MfaFactor::SmsMfa => self.mfa.sms_enabled,
                MfaFactor::EmailOtp => self.mfa.email_enabled,
            }
    }
}
