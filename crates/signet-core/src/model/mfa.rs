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
}

impl PoolMfa {
    /// The default: no MFA (not written, so older records and goldens stay as they were).
    pub fn is_off(&self) -> bool {
        *self == PoolMfa::default()
    }
}

/// A second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaFactor {
    /// TOTP from an authenticator app (`SOFTWARE_TOKEN_MFA`).
    SoftwareTokenMfa,
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
}

impl UserMfa {
    /// Nothing set up (not written).
    pub fn is_empty(&self) -> bool {
        *self == UserMfa::default()
    }
}
