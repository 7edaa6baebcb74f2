//! CUSTOM_AUTH: a sign-in whose challenges the pool's triggers define (Cognito's custom
//! authentication flow). DefineAuthChallenge looks at the challenges answered so far and
//! says "issue tokens", "fail" or "ask a CUSTOM_CHALLENGE"; CreateAuthChallenge makes it
//! (public parameters for the user, private ones kept sealed in the session);
//! VerifyAuthChallengeResponse checks the answer.
//!
//! Every answer is a guess reserved through the log before the hook checks it (the same
//! lockout as passwords, DESIGN §8), so neither replaying a session nor answering on many
//! gateways at once multiplies the tries a one-time code allows. Failing open never signs
//! anyone in: no decision means no tokens, no check means a wrong answer. Tokens go
//! through the same checks as after a password (enabled, confirmed, temporary password,
//! MFA, PostAuthentication).

use super::session::invalid_session;
use super::{wrong_credentials, Auth, AuthOutcome};
use crate::hooks::{ChallengeResult, Next};
use crate::names::Challenge;
use crate::passwords::Guess;
use crate::tokens::{CustomState, SessionPayload};
use crate::AppError;
use signet_core::{AppClient, User, UserPool, UserView};
use std::collections::BTreeMap;

/// Most challenges one sign-in may ask.
const MAX_ROUNDS: usize = 8;

impl Auth {
    /// InitiateAuth(CUSTOM_AUTH) for `username`.
    pub(super) async fn custom_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
    ) -> Result<AuthOutcome, AppError> {
        if !pool.config.triggers.custom_auth() {
            return Err(AppError::invalid(
                "Custom auth lambda triggers are not configured for the user pool.",
            ));
        }
        let (_, view) = self.user_for_login(pool, username).await?;
        if view.is_none() && !pool.config.prevent_user_existence_errors {
            return Err(AppError::UserNotFound);
        }
        self.pre_authentication(pool, client, username, view.as_ref())
            .await?;
        self.custom_round(pool, client, username, view, Vec::new())
            .await
    }

    /// Ask DefineAuthChallenge what follows `answered`, and act on it.
    async fn custom_round(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        view: Option<UserView>,
        answered: Vec<ChallengeResult>,
    ) -> Result<AuthOutcome, AppError> {
        let user = view.as_ref().map(|v| &v.user);
        let next = self
            .hooks
            .define_auth_challenge(pool, username, user, &client.client_id, &answered)
            .await?;
        match next {
            Next::Fail => return Err(wrong_credentials()),
            // A decision about a user the pool does not have is no sign-in.
            Next::IssueTokens => {
                return match view {
                    Some(view) => self.after_password(pool, client, view, None).await,
                    None => Err(wrong_credentials()),
                }
            }
            Next::Challenge if answered.len() >= MAX_ROUNDS => {
                return Err(AppError::NotAuthorized(format!(
                    "No more than {MAX_ROUNDS} challenges per sign-in."
                )))
            }
            Next::Challenge => {}
        }
        let Some(made) = self
            .hooks
            .create_auth_challenge(pool, username, user, &client.client_id, &answered)
            .await?
        else {
            return Err(wrong_credentials());
        };
        // An unknown user gets a session like anyone's, bound to no one (no sub): its
        // answer is refused without asking the hooks.
        let holder = match &view {
            Some(v) => v.user.clone(),
            None => User::new("", username, signet_core::UserStatus::Confirmed, 0),
        };
        let state = CustomState {
            history: answered,
            private: made.private,
            metadata: made.metadata,
        };
        let session = self.new_session_with(
            pool,
            client,
            &holder,
            Challenge::CustomChallenge.name(),
            Some(state),
        )?;
        let mut parameters: BTreeMap<String, String> = made.public;
        parameters.insert("USERNAME".into(), holder.username.clone());
        Ok(AuthOutcome::Challenge {
            name: Challenge::CustomChallenge,
            session,
            parameters,
        })
    }

    /// RespondToAuthChallenge(CUSTOM_CHALLENGE): the answer, counted, then checked by the
    /// VerifyAuthChallengeResponse hook; then DefineAuthChallenge again.
    pub(super) async fn answer_custom(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let answer = responses
            .get("ANSWER")
            .ok_or_else(|| AppError::invalid("Missing required parameter ANSWER"))?;
        let state = s.custom.clone().ok_or_else(invalid_session)?;
        if s.sub.is_empty() {
            return Err(wrong_credentials());
        }
        let view = self.session_user(pool, s).await?;
        let hidden = pool.config.prevent_user_existence_errors;
        let check = self.hooks.verify_auth_challenge(
            pool,
            &view.user,
            &client.client_id,
            &state.private,
            answer,
        );
        let right = match self
            .passwords
            .guess_async(pool, &view.user.username, check, true)
            .await?
        {
            Guess::Right => true,
            Guess::Wrong => false,
            Guess::Locked if !hidden => {
                return Err(AppError::NotAuthorized("Password attempts exceeded".into()))
            }
            Guess::Locked => return Err(wrong_credentials()),
        };
        let mut answered = state.history;
        answered.push(ChallengeResult {
            name: Challenge::CustomChallenge.name().into(),
            result: right,
            metadata: state.metadata,
        });
        // Disabled or signed out meanwhile: no further round.
        let view = self.session_user(pool, s).await?;
        let username = view.user.username.clone();
        self.custom_round(pool, client, &username, Some(view), answered)
            .await
    }
}
