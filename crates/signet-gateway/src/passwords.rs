//! Passwords: hashing on the bounded argon2 pool, and the one guess check with its
//! cluster-wide lockout (DESIGN §8: an attempt is reserved through the log before the
//! password is verified).
//!
//! A shared handle: sign-in and the self-service password change hold a clone.

use crate::clock::SharedClock;
use crate::store::Store;
use crate::AppError;
use signet_core::{ClearSignInFailures, Command, Outcome, RecordSignInFailure, UserPool};
use signet_crypto::{PasswordHasher, MAX_PASSWORD_BYTES};
use std::time::Duration;

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
}

impl Passwords {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        hasher: PasswordHasher,
        lockout: Lockout,
        clock: SharedClock,
    ) -> Passwords {
        Passwords {
            store,
            hasher,
            lockout,
            clock,
        }
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
        let reserved = self
            .store
            .client()
            .write(Command::RecordSignInFailure(RecordSignInFailure {
                pool_id: pool.id.clone(),
                username: username.to_string(),
                at_ms: self.clock.now_ms(),
                threshold: self.lockout.threshold,
                base_ms: self.lockout.base.as_millis() as u64,
                max_ms: self.lockout.max.as_millis() as u64,
            }))
            .await?;
        let hash = match (&reserved.outcome, hash) {
            (Outcome::Applied, Some(h)) if password.len() <= MAX_PASSWORD_BYTES => h,
            (outcome, _) => {
                self.hasher.verify_dummy(password).await?;
                return Ok(match outcome {
                    Outcome::Applied => Guess::Wrong,
                    Outcome::Rejected(_) => Guess::Locked,
                });
            }
        };
        if !self.hasher.verify(password, hash).await? {
            return Ok(Guess::Wrong);
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
