//! Passwords: hashing on the bounded argon2 pool, and the one guess check with its
//! cluster-wide lockout (DESIGN §8: an attempt is reserved through the log before the
//! password is verified).
//!
//! A shared handle: sign-in and the self-service password change hold a clone.

use crate::clock::SharedClock;
use crate::store::Store;
use crate::AppError;
use signet_core::{ClearSignInFailures, Command, Outcome, RecordSignInFailure, UserPool};
use signet_crypto::{PasswordHasher, Sealer, SrpVerifier, MAX_PASSWORD_BYTES};
use std::time::Duration;

/// Sealing purpose of SRP verifiers.
const SRP_PURPOSE: &str = "srp-verifier";

/// The part of a pool id that SRP hashes: after its first `_` (as Cognito's clients take
/// it), the whole id when it has none.
pub(crate) fn srp_pool_name(pool_id: &str) -> &str {
    pool_id.split('_').nth(1).unwrap_or(pool_id)
}

/// The answer of [`Passwords::guess`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guess {
    /// The password is right (the failure count is cleared).
    Right,
    /// Wrong (and counted).
    Wrong,
    /// Not checked: the user is locked out, or unknown.
    Locked,
}

/// The lockout policy (from the gateway's config).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lockout {
    /// Failed sign-ins before a lockout starts.
    pub threshold: u32,
    /// First lockout; doubled per further failure.
    pub base: Duration,
    /// Longest lockout.
    pub max: Duration,
}

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Passwords {
    store: Store,
    hasher: PasswordHasher,
    lockout: Lockout,
    clock: SharedClock,
    sealer: Sealer,
}

impl Passwords {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        hasher: PasswordHasher,
        lockout: Lockout,
        clock: SharedClock,
        sealer: Sealer,
    ) -> Passwords {
        Passwords {
            store,
            hasher,
            lockout,
            clock,
            sealer,
        }
    }

    /// A new password's argon2 hash and its SRP verifier (sealed) for `username` of
    /// `pool_id`: every place that sets a password sets both, so USER_SRP_AUTH works with
    /// any password set since.
    pub(crate) async fn hash_new(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
    ) -> Result<(String, String), AppError> {
        let hash = self.hasher.hash(password).await?;
        let srp = self.srp_verifier(pool_id, username, password).await?;
        Ok((hash, srp))
    }

    /// The sealed SRP verifier of `password` (a modular exponentiation, off the runtime).
    pub(crate) async fn srp_verifier(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
    ) -> Result<String, AppError> {
        let (pool, user, pw) = (
            srp_pool_name(pool_id).to_string(),
            username.to_string(),
            password.to_string(),
        );
        let v = tokio::task::spawn_blocking(move || signet_crypto::srp_verifier(&pool, &user, &pw))
            .await
            .map_err(|e| AppError::Internal(format!("SRP verifier task: {e}")))?;
        let bytes = serde_json::to_vec(&v).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(self.sealer.seal(SRP_PURPOSE, &bytes))
    }

    /// Open a sealed SRP verifier.
    pub(crate) fn open_srp(&self, sealed: &str) -> Option<SrpVerifier> {
        let bytes = self.sealer.open(SRP_PURPOSE, sealed)?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The lockout policy (a wrong second factor counts like a wrong password).
    pub(crate) fn lockout(&self) -> Lockout {
        self.lockout
    }

    /// The argon2 pool.
    pub(crate) fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Check a password guess for `username`, counted first (DESIGN §8): the attempt is
    /// reserved through the log as a failure *before* argon2 runs, and cleared only once
    /// the password proved right. However many guesses run at once, on however many
    /// gateways, at most the lockout threshold of them are ever checked per lockout window.
    /// A reservation the store refuses (locked, or no such user) still costs a dummy hash,
    /// so the time does not tell. An over-long password is a wrong password: same work,
    /// same answer, counted.
    ///
    /// With `clear_if_right` false (a second factor follows), a right password leaves the
    /// reservation counted: the second factor's success clears it, so that an attacker who
    /// knows the password cannot reset the count between guesses of the second factor.
    pub(crate) async fn guess(
        &self,
        pool: &UserPool,
        username: &str,
        hash: Option<&str>,
        password: &str,
        clear_if_right: bool,
    ) -> Result<Guess, AppError> {
        let checked = match hash.filter(|_| password.len() <= MAX_PASSWORD_BYTES) {
            Some(h) => Proof::Argon2 { password, hash: h },
            None => Proof::Argon2Dummy { password },
        };
        self.reserved_check(pool, username, checked, clear_if_right)
            .await
    }

    /// Like [`Passwords::guess`], for a proof that is not the password itself (an SRP
    /// claim): `check` runs (off the runtime) only once the attempt is counted, and also
    /// when it was refused, so that the time does not tell.
    pub(crate) async fn guess_with(
        &self,
        pool: &UserPool,
        username: &str,
        check: impl FnOnce() -> bool + Send + 'static,
        clear_if_right: bool,
    ) -> Result<Guess, AppError> {
        self.reserved_check(
            pool,
            username,
            Proof::Other(Box::new(check)),
            clear_if_right,
        )
        .await
    }

    /// Like [`Passwords::guess`], for an answer checked by an async `check` (a custom
    /// challenge's answer, by the pool's VerifyAuthChallengeResponse hook), which runs only
    /// once the attempt is counted; a locked user's answer is not checked at all.
    pub(crate) async fn guess_async(
        &self,
        pool: &UserPool,
        username: &str,
        check: impl std::future::Future<Output = Result<bool, AppError>> + Send,
        clear_if_right: bool,
    ) -> Result<Guess, AppError> {
        self.reserved_check(
            pool,
            username,
            Proof::Async(Box::pin(check)),
            clear_if_right,
        )
        .await
    }

    async fn reserved_check(
        &self,
        pool: &UserPool,
        username: &str,
        proof: Proof<'_>,
        clear_if_right: bool,
    ) -> Result<Guess, AppError> {
        // A place in the hash queue before the attempt is counted: under overload the
        // attempt is refused uncounted (TooManyRequests), never counted and then left
        // unchecked — which locked out users who only ever gave the right password.
        let slot = match proof {
            Proof::Argon2 { .. } | Proof::Argon2Dummy { .. } => Some(self.hasher.slot()?),
            Proof::Async(_) | Proof::Other(_) => None,
        };
        let reserved = self
            .store
            .write_raw(Command::RecordSignInFailure(RecordSignInFailure {
                pool_id: pool.id.clone(),
                username: username.to_string(),
                at_ms: self.clock.now_ms(),
                threshold: self.lockout.threshold,
                base_ms: self.lockout.base.as_millis() as u64,
                max_ms: self.lockout.max.as_millis() as u64,
            }))
            .await?;
        let right = match (proof, slot) {
            (Proof::Argon2 { password, hash }, Some(slot)) => match &reserved.outcome {
                Outcome::Applied => self.hasher.verify_in(slot, password, hash).await?,
                Outcome::Rejected(_) => {
                    self.hasher.verify_dummy_in(slot, password).await?;
                    false
                }
            },
            (Proof::Argon2Dummy { password }, Some(slot)) => {
                self.hasher.verify_dummy_in(slot, password).await?;
                false
            }
            (Proof::Argon2 { .. } | Proof::Argon2Dummy { .. }, None) => {
                unreachable!("a place is taken for every argon2 proof")
            }
            (Proof::Async(check), _) => match &reserved.outcome {
                Outcome::Applied => check.await?,
                Outcome::Rejected(_) => false,
            },
            (Proof::Other(check), _) => {
                let right = tokio::task::spawn_blocking(check)
                    .await
                    .map_err(|e| AppError::Internal(format!("proof check task: {e}")))?;
                right && reserved.outcome == Outcome::Applied
            }
        };
        match (&reserved.outcome, right) {
            (Outcome::Rejected(_), _) => return Ok(Guess::Locked),
            (Outcome::Applied, false) => return Ok(Guess::Wrong),
            (Outcome::Applied, true) => {}
        }
        if !clear_if_right {
            return Ok(Guess::Right);
        }
        self.store
            .write(Command::ClearSignInFailures(ClearSignInFailures {
                pool_id: pool.id.clone(),
                username: username.to_string(),
            }))
            .await?;
        Ok(Guess::Right)
    }
}

/// What a counted attempt checks.
enum Proof<'a> {
    /// A password against its argon2 hash.
    Argon2 { password: &'a str, hash: &'a str },
    /// No hash to check against (unknown user, over-long password): the same work, wrong.
    Argon2Dummy { password: &'a str },
    /// Another proof (an SRP claim).
    Other(Box<dyn FnOnce() -> bool + Send>),
    /// An answer checked elsewhere (a custom challenge's, by a hook).
    Async(std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, AppError>> + Send + 'a>>),
}
