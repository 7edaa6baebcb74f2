use serde::{Deserialize, Serialize};

/// What a one-time code is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "attribute", rename_all = "snake_case")]
pub enum CodePurpose {
    /// Confirm a sign-up.
    ConfirmSignUp,
    /// Reset a forgotten password.
    ResetPassword,
    /// Verify an attribute (`email`, `phone_number`).
    VerifyAttribute(String),
    /// A sign-in's second factor sent to an attribute (`email`: EMAIL_OTP,
    /// `phone_number`: SMS_MFA).
    SignInMfa(String),
}

impl CodePurpose {
    /// Stable key fragment.
    pub fn key(&self) -> String {
        match self {
            CodePurpose::ConfirmSignUp => "confirm".into(),
            CodePurpose::ResetPassword => "reset".into(),
            CodePurpose::VerifyAttribute(a) => format!("verify:{a}"),
            CodePurpose::SignInMfa(a) => format!("mfa:{a}"),
        }
    }
}

/// A one-time code at rest: only its keyed hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// Keyed hash of the code (the gateway hashes before proposing).
    pub code_hash: String,
    /// When it stops working, Unix milliseconds.
    pub expires_at_ms: u64,
    /// Wrong guesses left before the code is destroyed.
    pub attempts_left: u32,
    /// The attribute and value the code was sent to. A code proves control of that value
    /// only: once the user's attribute holds another value the code is void.
    #[serde(default)]
    pub sent_to: Option<CodeTarget>,
}

/// Where a code was sent: an attribute (`email`, `phone_number`) and its value then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTarget {
    /// The attribute.
    pub attribute: String,
    /// Its value when the code was issued.
    pub value: String,
}

/// Cluster-wide limits on one user's codes for one purpose, carried by the commands (they
/// come from the gateways' configuration) so apply stays deterministic. Zero means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeLimits {
    /// Length of the window the counts below are kept over, milliseconds.
    pub window_ms: u64,
    /// Most codes issued per window.
    pub max_issued: u32,
    /// Most failed redemptions per window, counted across reissued codes. Once reached,
    /// no code is checked or issued until the window ends.
    pub max_failures: u32,
}

/// What one user has spent of [`CodeLimits`] for one purpose, in the current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBudget {
    /// Start of the window, Unix milliseconds.
    pub window_start_ms: u64,
    /// Codes issued in the window.
    pub issued: u32,
    /// Failed redemptions in the window.
    pub failures: u32,
}

impl CodeBudget {
    /// The budget as it stands at `now_ms`: a fresh one once the window has passed.
    pub fn at(self, now_ms: u64, limits: &CodeLimits) -> CodeBudget {
        if now_ms >= self.window_start_ms.saturating_add(limits.window_ms) {
            CodeBudget {
                window_start_ms: now_ms,
                issued: 0,
                failures: 0,
            }
        } else {
            self
        }
    }

    /// Are failed redemptions used up (no code may be checked or issued)?
    pub fn failures_spent(&self, limits: &CodeLimits) -> bool {
        limits.max_failures > 0 && self.failures >= limits.max_failures
    }

    /// Are issued codes used up?
    pub fn issues_spent(&self, limits: &CodeLimits) -> bool {
        limits.max_issued > 0 && self.issued >= limits.max_issued
    }
}

/// A message for the dev outbox (the stand-in for e-mail and SMS on a laptop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Canonical username.
    pub username: String,
    /// Purpose of the code.
    pub purpose: CodePurpose,
    /// Where it would have been sent (an e-mail address or phone number).
    pub destination: String,
    /// The code itself: dev outbox only, never with a real notifier.
    pub code: String,
    /// When it was issued, Unix milliseconds.
    pub issued_at_ms: u64,
}

/// Server-side state of a refresh-token family (every token descending from one sign-in).
/// Absent means "generation 0, not revoked": signing in writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    /// The generation a rotating client must present next.
    pub generation: u32,
    /// Revoked (RevokeToken, or reuse of a rotated token detected).
    pub revoked: bool,
    /// After this instant the record can be forgotten: every token of the family has
    /// expired. Unix milliseconds.
    pub expires_at_ms: u64,
    /// When the family last advanced (the proposer's clock), for the retry grace. Unix ms.
    #[serde(default, skip_serializing_if = "super::is_zero")]
    pub advanced_at_ms: u64,
}

/// The public half of a gateway's signing key, as published through the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// Key id; never reused with other key material.
    pub kid: String,
    /// Gateway instance that holds the private half.
    pub owner: String,
    /// JWS algorithm (`EdDSA`, `ES256`, `RS256`).
    pub alg: String,
    /// The public key as a JWK (JSON text).
    pub public_jwk: String,
    /// When the publish entry was proposed, Unix milliseconds.
    pub published_at_ms: u64,
    /// Earliest time the owner may sign with it, Unix milliseconds.
    pub usable_from_ms: u64,
    /// Where the key is in its life.
    #[serde(default)]
    pub state: KeyState,
}

/// Life of a published signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyState {
    /// In the JWKS; its owner signs with it from `usable_from_ms` on.
    #[default]
    Published,
    /// No longer signs; stays in the JWKS until every token it signed has expired.
    Retired {
        /// When it stopped signing, Unix ms.
        retired_at_ms: u64,
        /// When it may leave the JWKS, Unix ms.
        drop_after_ms: u64,
    },
    /// Compromised: out of the JWKS at once, its tokens refused by every Signet validator.
    /// The record stays (a tombstone) until `drop_after_ms`.
    Revoked {
        /// When it was revoked, Unix ms.
        revoked_at_ms: u64,
        /// When the tombstone may go, Unix ms.
        drop_after_ms: u64,
    },
}

impl KeyState {
    /// Whether the key belongs in a JWKS.
    pub fn is_published(&self) -> bool {
        !matches!(self, KeyState::Revoked { .. })
    }
}

/// Why a key stops signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetireReason {
    /// Its owner rotated to a newer key.
    Rotated,
    /// Its owner stopped renewing its lease (the gateway is gone).
    LeaseLapsed,
}
