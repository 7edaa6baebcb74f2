//! RespondToAuthChallenge and AdminRespondToAuthChallenge: NEW_PASSWORD_REQUIRED here; the
//! second factors (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE, MFA_SETUP) in
//! `mfa`, CUSTOM_CHALLENGE in `custom`, PASSWORD_VERIFIER in `srp`.

use super::session::invalid_session;
use super::{mfa, Auth, AuthOutcome};
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::tokens::SessionPayload;
use crate::validate::{attributes, check_password, AttrWrite};
use crate::AppError;
use signet_core::{AppClient, MfaFactor, UserPatch, UserPool, UserStatus};
use std::collections::BTreeMap;

impl Auth {
    /// RespondToAuthChallenge / AdminRespondToAuthChallenge.
    pub async fn respond_to_challenge(
        &self,
        client_id: &str,
        challenge: Challenge,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        // SRP's proof carries its state in the secret block, not in a session.
        if challenge == Challenge::PasswordVerifier {
            return self.srp_verify(client_id, responses).await;
        }
        if challenge == Challenge::DevicePasswordVerifier {
            return self.device_srp_verify(client_id, responses).await;
        }
        let client = self.dir.active_client(client_id).await?;
        let (s, pool, session_client) = self.open_session(session, mfa::stage(challenge)).await?;
        if session_client.client_id != client.client_id {
            return Err(invalid_session());
        }
        let given_user = responses
            .get("USERNAME")
            .cloned()
            .unwrap_or_else(|| s.username.clone());
        self.secrets.check_secret_hash(
            &client,
            &given_user,
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        self.answer(&pool, &client, &s, challenge, responses).await
    }

    /// A challenge answered on a hosted sign-in page (inside `for_hosted_page`): the
    /// page's own client, no SECRET_HASH (the page is the gateway's; the client's secret is
    /// asked at the token endpoint), and only the challenges a person answers in a form.
    pub(crate) async fn answer_on_hosted_page(
        &self,
        client: &AppClient,
        challenge: Challenge,
        session: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        if !matches!(
            challenge,
            Challenge::NewPasswordRequired
                | Challenge::SoftwareTokenMfa
                | Challenge::SmsMfa
                | Challenge::EmailOtp
                | Challenge::SelectMfaType
                | Challenge::MfaSetup
        ) {
            return Err(invalid_session());
        }
        let (s, pool, session_client) = self.open_session(session, mfa::stage(challenge)).await?;
        if session_client.client_id != client.client_id {
            return Err(invalid_session());
        }
        self.answer(&pool, client, &s, challenge, responses).await
    }

    /// Answer an opened session's challenge.
    async fn answer(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        challenge: Challenge,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        match challenge {
            Challenge::NewPasswordRequired => self.new_password(pool, client, s, responses).await,
            Challenge::SoftwareTokenMfa => self.answer_totp(pool, client, s, responses).await,
            Challenge::SmsMfa => {
                self.answer_code(pool, client, s, responses, MfaFactor::SmsMfa)
                    .await
            }
            Challenge::EmailOtp => {
                self.answer_code(pool, client, s, responses, MfaFactor::EmailOtp)
                    .await
            }
            Challenge::SelectMfaType => self.answer_select(pool, client, s, responses).await,
            Challenge::MfaSetup => self.finish_mfa_setup(pool, client, s).await,
            Challenge::CustomChallenge => self.answer_custom(pool, client, s, responses).await,
            Challenge::DeviceSrpAuth => self.device_srp_start(pool, client, s, responses).await,
            // SRP's proofs are answered without a session (above).
            Challenge::PasswordVerifier | Challenge::DevicePasswordVerifier => {
                Err(invalid_session())
            }
        }
    }

    /// NEW_PASSWORD_REQUIRED: the user sets a password of their own (and any required
    /// attributes); then the second factor, if the pool asks for one.
    async fn new_password(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
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
        let current = self.session_user(pool, s).await?.user;
        let (hash, srp) = self
            .passwords
            .hash_new(&pool.id, &s.username, new_password)
            .await?;
        // Compare-and-set on the status: a session is good for one password change; and on
        // the password hash checked above: a password set meanwhile voids the session.
        self.dir
            .patch_user(
                &pool.id,
                &s.username,
                UserPatch {
                    expect_status: Some(UserStatus::ForceChangePassword),
                    expect_password_hash: current.password_hash.clone(),
                    status: Some(UserStatus::Confirmed),
                    password: Some((hash, None)),
                    srp: Some(srp),
                    set_attributes,
                    at_ms: self.clock.now_ms(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| match e {
                AppError::NotAuthorized(_) => invalid_session(),
                other => other,
            })?;
        // Disabled (or signed out) between the check and the write: no tokens.
        let view = self.session_user(pool, s).await?;
        self.second_factor(pool, client, view, Trigger::NewPasswordChallenge, None)
            .await
    }
}
