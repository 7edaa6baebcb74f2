//! One-time codes and refresh-token families: the once-only state of the sign-in flows.
//! Every check and its consequence happen in one apply, so a code or a refresh generation
//! is spent exactly once cluster-wide however many gateways race for it.

use super::users::{load, patched, store_user};
use super::{get, put, reject, valid_parts, Apply};
use crate::kv::key;
use crate::{
    CodeBudget, CodeLimits, CodePurpose, CodeRecord, CoreError, KvTxn, OutboxMessage, Outcome,
    RefreshFamily, Rejection, Table, UserPatch,
};
use serde::{Deserialize, Serialize};

/// Which code: a user's code for one purpose.
struct CodeKey<'a> {
    pool_id: &'a str,
    username: &'a str,
    purpose: &'a CodePurpose,
}

impl CodeKey<'_> {
    fn key(&self) -> Vec<u8> {
        key(&[self.pool_id, self.username, &self.purpose.key()])
    }
}

/// The budget of a user's codes for one purpose, as it stands at `now_ms`.
fn budget(
    txn: &impl KvTxn,
    k: &[u8],
    now_ms: u64,
    limits: &CodeLimits,
) -> Result<CodeBudget, CoreError> {
    Ok(get::<CodeBudget>(txn, Table::CodeBudgets, k)?
        .unwrap_or_default()
        .at(now_ms, limits))
}

/// Store a new one-time code for a user, replacing any previous one for the purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCode {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// What the code is for.
    pub purpose: CodePurpose,
    /// The hashed code with its expiry and attempt budget.
    pub code: CodeRecord,
    /// The message for the dev outbox, when that is the configured notifier.
    pub outbox: Option<OutboxMessage>,
    /// The proposer's clock, for the issuance budget.
    #[serde(default)]
    pub now_ms: u64,
    /// Issuance and failure limits (per user and purpose, across reissues).
    #[serde(default)]
    pub limits: CodeLimits,
}

impl Apply for IssueCode {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let at = CodeKey {
            pool_id: &self.pool_id,
            username: &self.username,
            purpose: &self.purpose,
        };
        let (code, outbox) = (&self.code, self.outbox.as_ref());
        let (now_ms, limits) = (self.now_ms, &self.limits);
        if let Err(r) = load(txn, at.pool_id, at.username)? {
            return reject(r);
        }
        let k = at.key();
        let mut spent = budget(txn, &k, now_ms, limits)?;
        if spent.issues_spent(limits) || spent.failures_spent(limits) {
            return reject(Rejection::CodeLimitExceeded);
        }
        spent.issued = spent.issued.saturating_add(1);
        put(txn, Table::CodeBudgets, &k, &spent)?;
        put(txn, Table::Codes, &k, code)?;
        match outbox {
            Some(m) => put(txn, Table::Outbox, &k, m)?,
            None => txn.delete(Table::Outbox, &k)?,
        }
        Ok(Outcome::Applied)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Spend a one-time code: on a match the code is destroyed and `patch` applied to the
/// user, atomically; a wrong code costs one attempt.
///
/// The order matters: a spent budget refuses before the code is looked at; a code whose
/// attribute has changed value since it was sent is void (destroyed unchecked); only then
/// is the hash compared, and a mismatch costs one attempt of the code and one failure of
/// the budget, which outlives the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemCode {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// What the code is for.
    pub purpose: CodePurpose,
    /// Keyed hash of the presented code.
    pub code_hash: String,
    /// The proposer's clock, for the expiry check.
    pub now_ms: u64,
    /// What a valid code does.
    pub patch: UserPatch,
    /// Failure limits (per user and purpose, across reissues).
    #[serde(default)]
    pub limits: CodeLimits,
}

impl Apply for RedeemCode {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let at = CodeKey {
            pool_id: &self.pool_id,
            username: &self.username,
            purpose: &self.purpose,
        };
        let (code_hash, now_ms) = (self.code_hash.as_str(), self.now_ms);
        let (patch, limits) = (&self.patch, &self.limits);
        let (pool, user) = match load(txn, at.pool_id, at.username)? {
            Ok(v) => v,
            Err(r) => return reject(r),
        };
        let k = at.key();
        let mut spent = budget(txn, &k, now_ms, limits)?;
        if spent.failures_spent(limits) {
            return reject(Rejection::CodeLimitExceeded);
        }
        let Some(mut code) = get::<CodeRecord>(txn, Table::Codes, &k)? else {
            return reject(Rejection::CodeNotFound);
        };
        if now_ms >= code.expires_at_ms {
            txn.delete(Table::Codes, &k)?;
            return reject(Rejection::CodeExpired);
        }
        if let Some(t) = &code.sent_to {
            if user.attributes.get(&t.attribute) != Some(&t.value) {
                txn.delete(Table::Codes, &k)?;
                txn.delete(Table::Outbox, &k)?;
                return reject(Rejection::CodeNotFound);
            }
        }
        if !constant_time_eq(code.code_hash.as_bytes(), code_hash.as_bytes()) {
            spent.failures = spent.failures.saturating_add(1);
            put(txn, Table::CodeBudgets, &k, &spent)?;
            code.attempts_left = code.attempts_left.saturating_sub(1);
            if code.attempts_left == 0 || spent.failures_spent(limits) {
                txn.delete(Table::Codes, &k)?;
                return reject(Rejection::TooManyAttempts);
            }
            put(txn, Table::Codes, &k, &code)?;
            return reject(Rejection::CodeMismatch {
                attempts_left: code.attempts_left,
            });
        }
        // A valid code whose effect no longer applies (the user changed meanwhile) is kept.
        let Some(new) = patched(&user, patch) else {
            return reject(Rejection::PreconditionFailed);
        };
        let outcome = store_user(txn, &pool, &user, &new)?;
        if outcome == Outcome::Applied {
            txn.delete(Table::Codes, &k)?;
            txn.delete(Table::Outbox, &k)?;
            // Proven control of the destination: the failures before it were the user's own.
            txn.delete(Table::CodeBudgets, &k)?;
        }
        Ok(outcome)
    }
}

/// Rotate a refresh-token family: succeeds once per generation; presenting an older
/// generation revokes the family (reuse detection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceRefreshFamily {
    /// Family id.
    pub family_id: String,
    /// Generation carried by the presented token.
    pub presented_generation: u32,
    /// When the family's last token expires, Unix ms.
    pub expires_at_ms: u64,
    /// The proposer's clock, Unix ms (0 in entries that predate the retry grace).
    #[serde(default, skip_serializing_if = "crate::model::is_zero")]
    pub at_ms: u64,
    /// The client's retry grace, ms: the token generation just replaced still refreshes
    /// (without advancing again) until this long after the advance.
    #[serde(default, skip_serializing_if = "crate::model::is_zero")]
    pub grace_ms: u64,
}

impl Apply for AdvanceRefreshFamily {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let family_id = self.family_id.as_str();
        let (presented, expires_at_ms) = (self.presented_generation, self.expires_at_ms);
        if !valid_parts(&[family_id]) {
            return reject(Rejection::InvalidKey);
        }
        let k = family_id.as_bytes();
        let mut fam =
            get::<RefreshFamily>(txn, Table::RefreshFamilies, k)?.unwrap_or(RefreshFamily {
                generation: 0,
                revoked: false,
                expires_at_ms,
                advanced_at_ms: 0,
            });
        if fam.revoked {
            return reject(Rejection::RefreshRevoked);
        }
        fam.expires_at_ms = fam.expires_at_ms.max(expires_at_ms);
        if presented != fam.generation {
            // The token just replaced, within the client's grace: a retry of a refresh
            // whose answer was lost. It refreshes again, to the current generation.
            let retry = self.grace_ms > 0
                && presented.checked_add(1) == Some(fam.generation)
                && self.at_ms < fam.advanced_at_ms.saturating_add(self.grace_ms);
            if retry {
                put(txn, Table::RefreshFamilies, k, &fam)?;
                return Ok(Outcome::Applied);
            }
            // A token that was already rotated is back: someone holds a copy. Revoke all.
            fam.revoked = true;
            put(txn, Table::RefreshFamilies, k, &fam)?;
            revoke_family(txn, &self.family_id, fam.expires_at_ms)?;
            return reject(Rejection::RefreshReused);
        }
        fam.generation += 1;
        fam.advanced_at_ms = self.at_ms;
        put(txn, Table::RefreshFamilies, k, &fam)?;
        Ok(Outcome::Applied)
    }
}

/// Revoke a refresh-token family (RevokeToken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRefreshFamily {
    /// Family id.
    pub family_id: String,
    /// When the family's last token expires, Unix ms.
    pub expires_at_ms: u64,
}

impl Apply for RevokeRefreshFamily {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        let (family_id, expires_at_ms) = (self.family_id.as_str(), self.expires_at_ms);
        if !valid_parts(&[family_id]) {
            return reject(Rejection::InvalidKey);
        }
        let k = family_id.as_bytes();
        let mut fam =
            get::<RefreshFamily>(txn, Table::RefreshFamilies, k)?.unwrap_or(RefreshFamily {
                generation: 0,
                revoked: false,
                expires_at_ms,
                advanced_at_ms: 0,
            });
        let newly = !fam.revoked;
        fam.revoked = true;
        fam.expires_at_ms = fam.expires_at_ms.max(expires_at_ms);
        put(txn, Table::RefreshFamilies, k, &fam)?;
        if newly {
            revoke_family(txn, family_id, fam.expires_at_ms)?;
        }
        Ok(Outcome::Applied)
    }
}

/// Start the refresh-token family of an authorization code: its first redemption. The code
/// names the family; a second redemption finds it started and is refused, so a code gives
/// tokens once, cluster-wide, whatever the concurrency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRefreshFamily {
    /// Family id (chosen when the code was issued).
    pub family_id: String,
    /// When the family's last token expires, Unix ms.
    pub expires_at_ms: u64,
}

impl Apply for StartRefreshFamily {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.family_id]) {
            return reject(Rejection::InvalidKey);
        }
        let k = self.family_id.as_bytes();
        if get::<RefreshFamily>(txn, Table::RefreshFamilies, k)?.is_some() {
            return reject(Rejection::RefreshFamilyExists);
        }
        let fam = RefreshFamily {
            generation: 0,
            revoked: false,
            expires_at_ms: self.expires_at_ms,
            advanced_at_ms: 0,
        };
        put(txn, Table::RefreshFamilies, k, &fam)?;
        Ok(Outcome::Applied)
    }
}

/// A family revoked: its tokens can be minted until it expires, and live one token
/// lifetime past that.
fn revoke_family(
    txn: &mut impl KvTxn,
    family_id: &str,
    expires_at_ms: u64,
) -> Result<(), CoreError> {
    let what = super::Revoked::Family {
        family_id: family_id.to_string(),
    };
    super::revoke(txn, what, super::after_last_token(expires_at_ms))
}
