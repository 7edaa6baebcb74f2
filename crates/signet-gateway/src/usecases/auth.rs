//! Sign-in: password flows, the NEW_PASSWORD_REQUIRED challenge, refresh, and token
//! issuance. A password sign-in is one linearizable read, one argon2 verify and the
//! signatures; it writes nothing. Refresh with rotation is one compare-and-set write.

use super::principal::{Dead, TokenUser, UserCheckError};
use crate::hooks::{edit_claims, edit_scopes, HookEvent, Trigger};
use crate::metrics::Issued;
use crate::names::{Challenge, InitiateFlow, WireName};
use crate::tokens::{
    access_claims, id_claims, RefreshPayload, SessionPayload, Subject, REFRESH_PURPOSE,
    SESSION_PURPOSE,
};
use crate::validate::{attributes, canonical_username, check_password, AttrWrite};
use crate::{AppError, Gateway};
use signet_core::Outcome;
use signet_core::{
    AdvanceRefreshFamily, AppClient, AuthFlow, ClearSignInFailures, Command, Group, Query,
    RecordSignInFailure, RefreshFamily, User, UserPatch, UserPool, UserStatus, UserView,
};
use signet_crypto::MAX_PASSWORD_BYTES;
use signet_store::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

/// Tokens of a successful sign-in or refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// Access token.
    pub access_token: String,
    /// ID token.
    pub id_token: String,
    /// Refresh token (on sign-in, and on refresh when the client rotates them).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// How a client with a secret proved it on a refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretProof<'a> {
    /// Cognito's SECRET_HASH (InitiateAuth).
    Hash(Option<&'a str>),
    /// The client authenticated with its secret already (the OAuth token endpoint).
    Authenticated,
}

/// Tokens, or a challenge to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Signed in.
    Tokens(AuthResult),
    /// The user must answer a challenge.
    Challenge {
        /// Which challenge.
        name: Challenge,
        /// Sealed session to send back.
        session: String,
        /// Parameters (USER_ID_FOR_SRP, requiredAttributes, …).
        parameters: BTreeMap<String, String>,
    },
}

/// The answer of [`Gateway::guess_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guess {
    /// The password is right (the failure count is cleared).
    Right,
    /// Wrong (and counted).
    Wrong,
    /// Not checked: the user is locked out, or unknown.
    Locked,
}

fn wrong_credentials() -> AppError {
    AppError::NotAuthorized("Incorrect username or password.".into())
}

/// How a refresh continues an existing family.
struct Continuation {
    family: String,
    generation: u32,
    expires_at_ms: u64,
    auth_time: u64,
    rotate: bool,
}

impl Gateway {
    /// InitiateAuth / AdminInitiateAuth. `admin` selects ADMIN_USER_PASSWORD_AUTH.
    pub async fn initiate_auth(
        &self,
        client_id: &str,
        flow: InitiateFlow,
        params: &BTreeMap<String, String>,
        admin: bool,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.active_client(client_id).await?;
        let pool = self.pool(&client.pool_id).await?;
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        match flow {
            InitiateFlow::UserPassword
            | InitiateFlow::AdminUserPassword
            | InitiateFlow::AdminNoSrp => {
                let (needed, wanted_admin) = if flow == InitiateFlow::UserPassword {
                    (AuthFlow::AllowUserPasswordAuth, false)
                } else {
                    (AuthFlow::AllowAdminUserPasswordAuth, true)
                };
                if wanted_admin != admin || !client.allows(needed) {
                    return Err(AppError::invalid(format!(
                        "{} flow not enabled for this client",
                        flow.wire()
                    )));
                }
                let username = params
                    .get("USERNAME")
                    .ok_or_else(|| AppError::invalid("Missing required parameter USERNAME"))?;
                let password = params
                    .get("PASSWORD")
                    .ok_or_else(|| AppError::invalid("Missing required parameter PASSWORD"))?;
                self.check_secret_hash(&client, username, secret_hash)?;
                self.password_auth(&pool, &client, username, password).await
            }
            InitiateFlow::RefreshToken | InitiateFlow::RefreshTokenLegacy => {
                if !client.allows(AuthFlow::AllowRefreshTokenAuth) {
                    return Err(AppError::invalid(
                        "REFRESH_TOKEN_AUTH flow not enabled for this client",
                    ));
                }
                let token = params
                    .get("REFRESH_TOKEN")
                    .ok_or_else(|| AppError::invalid("Missing required parameter REFRESH_TOKEN"))?;
                self.refresh_auth(&pool, &client, token, SecretProof::Hash(secret_hash))
                    .await
                    .map(AuthOutcome::Tokens)
            }
        }
    }

    async fn password_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> Result<AuthOutcome, AppError> {
        // Overloaded: refuse before the store read. Every attempt needs a hash, so the
        // answer is the same for every user (no enumeration), and a refusal then costs a
        // few microseconds instead of a linearizable read (under a flood of retries the
        // reads took half the CPU the hashes needed).
        if self.hasher.saturated() {
            return Err(signet_crypto::PasswordError::Saturated.into());
        }
        let login = canonical_username(username, &pool.config).ok();
        let view: Option<UserView> = match &login {
            Some(login) => {
                self.ask(
                    Query::GetUserForLogin {
                        pool_id: pool.id.clone(),
                        login: login.clone(),
                    },
                    Linearizable,
                )
                .await?
            }
            None => None,
        };
        // Imported users arrive RESET_REQUIRED without a password: they exist for sign-in
        // (and are told to reset), as in Cognito.
        let view = view.filter(|v| {
            v.user.password_hash.is_some() || v.user.status == UserStatus::ResetRequired
        });
        let hidden = pool.config.prevent_user_existence_errors;
        // Unknown users go through the same reservation (refused by the store) and the same
        // hashing work, so neither the answer nor its timing nor the traffic tells them apart.
        let target = match &view {
            Some(v) => v.user.username.clone(),
            None => login.unwrap_or_default(),
        };
        let hash = view.as_ref().and_then(|v| v.user.password_hash.as_deref());
        let has_password = hash.is_some();
        let guess = self.guess_password(pool, &target, hash, password).await?;
        let Some(view) = view else {
            return Err(if hidden {
                wrong_credentials()
            } else {
                AppError::UserNotFound
            });
        };
        match guess {
            Guess::Right => {}
            // A lockout exists only for existing users: with user existence hidden, naming
            // it would reveal the user.
            Guess::Locked if !hidden => {
                return Err(AppError::NotAuthorized("Password attempts exceeded".into()))
            }
            // RESET_REQUIRED without a password (an import): nothing to check.
            _ if !has_password => return Err(AppError::PasswordResetRequired),
            _ => return Err(wrong_credentials()),
        }
        let user = view.user;
        if !user.enabled {
            return Err(AppError::NotAuthorized("User is disabled.".into()));
        }
        match user.status {
            UserStatus::Unconfirmed => Err(AppError::UserNotConfirmed),
            UserStatus::ResetRequired => Err(AppError::PasswordResetRequired),
            UserStatus::ForceChangePassword => {
                if user
                    .password_expires_at_ms
                    .is_some_and(|t| self.now_ms() >= t)
                {
                    return Err(AppError::NotAuthorized(
                        "Temporary password has expired and must be reset by an administrator."
                            .into(),
                    ));
                }
                let now = self.now_ms();
                let session = SessionPayload {
                    v: 1,
                    pool: pool.id.clone(),
                    client: client.client_id.clone(),
                    username: user.username.clone(),
                    challenge: Challenge::NewPasswordRequired.name().into(),
                    exp_ms: now + self.cfg.session_ttl.as_millis() as u64,
                    sub: user.sub.clone(),
                    iat_ms: now,
                };
                let session = self.sealer.seal(
                    SESSION_PURPOSE,
                    &serde_json::to_vec(&session).map_err(|e| AppError::Internal(e.to_string()))?,
                );
                let mut parameters = BTreeMap::new();
                parameters.insert("USER_ID_FOR_SRP".into(), user.username.clone());
                parameters.insert(
                    "userAttributes".into(),
                    serde_json::to_string(&user.attributes).unwrap_or_default(),
                );
                parameters.insert("requiredAttributes".into(), "[]".into());
                Ok(AuthOutcome::Challenge {
                    name: Challenge::NewPasswordRequired,
                    session,
                    parameters,
                })
            }
            UserStatus::Confirmed => self
                .issue_tokens(
                    pool,
                    client,
                    &user,
                    &view.groups,
                    None,
                    Trigger::Authentication,
                )
                .await
                .map(AuthOutcome::Tokens),
        }
    }

    /// Check a password guess for `username`, counted first (DESIGN §8): the attempt is
    /// reserved through the log as a failure *before* argon2 runs, and cleared only once
    /// the password proved right. However many guesses run at once, on however many
    /// gateways, at most the lockout threshold of them are ever checked per lockout window.
    /// A reservation the store refuses (locked, or no such user) still costs a dummy hash,
    /// so the time does not tell. An over-long password is a wrong password: same work,
    /// same answer, counted.
    pub(crate) async fn guess_password(
        &self,
        pool: &UserPool,
        username: &str,
        hash: Option<&str>,
        password: &str,
    ) -> Result<Guess, AppError> {
        let reserved = self
            .store
            .client()
            .write(Command::RecordSignInFailure(RecordSignInFailure {
                pool_id: pool.id.clone(),
                username: username.to_string(),
                at_ms: self.now_ms(),
                threshold: self.cfg.lockout_threshold,
                base_ms: self.cfg.lockout_base.as_millis() as u64,
                max_ms: self.cfg.lockout_max.as_millis() as u64,
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
        self.write(Command::ClearSignInFailures(ClearSignInFailures {
            pool_id: pool.id.clone(),
            username: username.to_string(),
        }))
        .await?;
        Ok(Guess::Right)
    }

    /// RespondToAuthChallenge / AdminRespondToAuthChallenge (NEW_PASSWORD_REQUIRED).
    pub async fn respond_to_challenge(
        &self,
        client_id: &str,
        challenge: Challenge,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.active_client(client_id).await?;
        let pool = self.pool(&client.pool_id).await?;
        // NEW_PASSWORD_REQUIRED is the only challenge so far: nothing to dispatch on.
        let Challenge::NewPasswordRequired = challenge;
        let invalid_session = || AppError::NotAuthorized("Invalid session for the user.".into());
        let s: SessionPayload = self
            .sealer
            .open(SESSION_PURPOSE, session)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_session)?;
        if s.client != client.client_id || s.pool != pool.id || s.challenge != challenge.name() {
            return Err(invalid_session());
        }
        if self.now_ms() >= s.exp_ms {
            return Err(AppError::NotAuthorized(
                "Invalid session for the user, session is expired.".into(),
            ));
        }
        let given_user = responses
            .get("USERNAME")
            .cloned()
            .unwrap_or_else(|| s.username.clone());
        self.check_secret_hash(
            &client,
            &given_user,
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        let new_password = responses
            .get("NEW_PASSWORD")
            .ok_or_else(|| AppError::invalid("Missing required parameter NEW_PASSWORD"))?;
        check_password(&pool.config.password_policy, new_password)?;
        let attrs: Vec<(String, String)> = responses
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.")
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect();
        let set_attributes = attributes(&pool.config, &attrs, AttrWrite::UserUpdate)?;
        // The one user check (DESIGN §8), for the session as for a token: the same user
        // (sub), enabled, not signed out, disabled or given another password since the
        // session was issued. Without it a disabled user got a password set and tokens
        // signed, a session from a replaced temporary password still set the password, and
        // a session of a deleted user set the password of a new user of the same name.
        let holder = TokenUser {
            username: s.username.clone(),
            sub: s.sub.clone(),
            client_id: s.client.clone(),
            signed_in_ms: s.iat_ms,
        };
        let session_refused = |e: UserCheckError| {
            e.or_answer(|dead| match dead {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => invalid_session(),
            })
        };
        let current = self
            .live_user(&pool, &holder)
            .await
            .map_err(session_refused)?
            .user;
        let hash = self.hasher.hash(new_password).await?;
        // Compare-and-set on the status: a session is good for one password change; and on
        // the password hash checked above: a password set meanwhile voids the session.
        self.patch_user(
            &pool.id,
            &s.username,
            UserPatch {
                expect_status: Some(UserStatus::ForceChangePassword),
                expect_password_hash: current.password_hash.clone(),
                status: Some(UserStatus::Confirmed),
                password: Some((hash, None)),
                set_attributes,
                at_ms: self.now_ms(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| match e {
            AppError::NotAuthorized(_) => invalid_session(),
            other => other,
        })?;
        // Disabled (or signed out) between the check and the write: no tokens.
        let view = self
            .live_user(&pool, &holder)
            .await
            .map_err(session_refused)?;
        self.issue_tokens(
            &pool,
            &client,
            &view.user,
            &view.groups,
            None,
            Trigger::NewPasswordChallenge,
        )
        .await
        .map(AuthOutcome::Tokens)
    }

    /// Open and check a refresh token presented with `client`.
    pub(crate) fn open_refresh(
        &self,
        client: &AppClient,
        token: &str,
    ) -> Result<RefreshPayload, AppError> {
        let revoked = || AppError::NotAuthorized("Invalid Refresh Token".into());
        let p: RefreshPayload = self
            .sealer
            .open(REFRESH_PURPOSE, token)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(revoked)?;
        if p.client != client.client_id || p.pool != client.pool_id {
            return Err(revoked());
        }
        if self.now_ms() >= p.exp_ms {
            return Err(AppError::NotAuthorized("Refresh Token has expired".into()));
        }
        Ok(p)
    }

    /// The user of an opened refresh token, if the token still stands for them (the one
    /// user check, by the family's sign-in time). Family revocation is checked by the
    /// caller: rotation checks it in the log.
    pub(crate) async fn refresh_user(
        &self,
        pool: &UserPool,
        p: &RefreshPayload,
    ) -> Result<UserView, AppError> {
        let revoked = || AppError::NotAuthorized("Refresh Token has been revoked".into());
        let who = TokenUser {
            username: p.username.clone(),
            sub: p.sub.clone(),
            client_id: p.client.clone(),
            signed_in_ms: super::family_time_ms(&p.fam).ok_or_else(revoked)?,
        };
        self.live_user(pool, &who).await.map_err(|e| {
            e.or_answer(|d| match d {
                Dead::Disabled => AppError::NotAuthorized("User is disabled.".into()),
                _ => revoked(),
            })
        })
    }

    /// REFRESH_TOKEN_AUTH, and the token endpoint's `grant_type=refresh_token`.
    pub(crate) async fn refresh_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: SecretProof<'_>,
    ) -> Result<AuthResult, AppError> {
        let p = self.open_refresh(client, token)?;
        if let (false, SecretProof::Hash(secret_hash)) = (client.secrets.is_empty(), proof) {
            // Cognito computes the SECRET_HASH of a refresh with the username or the sub.
            self.check_secret_hash(client, &p.username, secret_hash)
                .or_else(|_| self.check_secret_hash(client, &p.sub, secret_hash))?;
        }
        let view = self.refresh_user(pool, &p).await?;
        let user = &view.user;
        if client.refresh_token_rotation {
            // Once per generation, cluster-wide; a replayed older token revokes the family.
            self.write(Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
                family_id: p.fam.clone(),
                presented_generation: p.gen,
                expires_at_ms: p.exp_ms,
            }))
            .await?;
        } else {
            let family: Option<RefreshFamily> = self
                .ask(
                    Query::GetRefreshFamily {
                        family_id: p.fam.clone(),
                    },
                    Linearizable,
                )
                .await?;
            if family.is_some_and(|f| f.revoked) {
                return Err(AppError::NotAuthorized(
                    "Refresh Token has been revoked".into(),
                ));
            }
        }
        self.issue_tokens(
            pool,
            client,
            user,
            &view.groups,
            Some(Continuation {
                family: p.fam,
                generation: p.gen + 1,
                expires_at_ms: p.exp_ms,
                auth_time: p.auth_time,
                rotate: client.refresh_token_rotation,
            }),
            Trigger::RefreshTokens,
        )
        .await
    }

    /// Sign ID and access tokens (and seal a refresh token when one is due), after the
    /// pool's pre-token-generation hook, if it has one.
    async fn issue_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        groups: &[Group],
        cont: Option<Continuation>,
        trigger: Trigger,
    ) -> Result<AuthResult, AppError> {
        let alg = pool.config.signing_alg;
        let key = self.keys.signer(alg)?;
        let now_ms = self.now_ms();
        let now = now_ms / 1000;
        let (family, generation, exp_ms, auth_time, new_refresh) = match cont {
            None => (
                super::new_family_id(now_ms),
                0,
                now_ms + client.validity.refresh_s * 1000,
                now,
                true,
            ),
            Some(c) => (
                c.family,
                c.generation,
                c.expires_at_ms,
                c.auth_time,
                c.rotate,
            ),
        };
        let issuer = self.cfg.issuer(&pool.id);
        let subject = Subject {
            issuer: &issuer,
            client,
            user,
            groups,
            auth_time,
            family: &family,
            now,
        };
        let sign_err = |e: signet_crypto::SigningError| AppError::Internal(e.to_string());
        let mut id = id_claims(&subject);
        let mut access = access_claims(&subject);
        let event = HookEvent {
            trigger,
            client_id: &client.client_id,
            user: Some((user, groups)),
            scopes: vec![crate::tokens::USER_ADMIN_SCOPE.to_string()],
        };
        if let Some(e) = self.pre_token_hook(pool, event).await? {
            edit_claims(&mut id, &e.id_add, &e.id_suppress);
            edit_claims(&mut access, &e.access_add, &e.access_suppress);
            edit_scopes(&mut access, &e.scopes_add, &e.scopes_suppress);
        }
        let id_token = key.sign(&id).map_err(sign_err)?;
        let access_token = key.sign(&access).map_err(sign_err)?;
        self.metrics.issued(if trigger == Trigger::RefreshTokens {
            Issued::Refresh
        } else {
            Issued::SignIn
        });
        let refresh_token = new_refresh.then(|| {
            let payload = RefreshPayload {
                v: 1,
                pool: pool.id.clone(),
                client: client.client_id.clone(),
                sub: user.sub.clone(),
                username: user.username.clone(),
                fam: family.clone(),
                gen: generation,
                iat_ms: now_ms,
                exp_ms,
                auth_time,
            };
            self.sealer.seal(
                REFRESH_PURPOSE,
                &serde_json::to_vec(&payload).expect("payload serialises"),
            )
        });
        Ok(AuthResult {
            access_token,
            id_token,
            refresh_token,
            expires_in: client.validity.access_s,
        })
    }
}
