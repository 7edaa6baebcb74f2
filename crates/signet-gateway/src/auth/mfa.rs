//! The second factor: the TOTP challenge at sign-in (SOFTWARE_TOKEN_MFA), codes sent by
//! SMS or email (SMS_MFA, EMAIL_OTP: one-time codes of the shared code machinery, bound to
//! the verified destination), the choice among several (SELECT_MFA_TYPE), setting an
//! authenticator up during sign-in (MFA_SETUP) or with an access token
//! (AssociateSoftwareToken, VerifySoftwareToken), and the user's preference
//! (SetUserMFAPreference, AdminSetUserMFAPreference).
//!
//! Seeds are sealed under the gateways' server key before they reach the log. A code is
//! accepted once cluster-wide: the answer's write (`TotpSignIn`) records its time step and
//! the log refuses a step not after the last one, whichever gateway the replay goes to. A
//! wrong code is counted in that same write towards the lockout wrong passwords use, and a
//! right password does not clear the count while a second factor is still to come, so
//! neither factor's guesses escape the limit. A TOTP sign-in writes two entries (the
//! password's reservation and the answer), as many as a password sign-in (reservation and
//! clearing).

use super::session::invalid_session;
use super::{Auth, AuthOutcome};
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::tokens::SessionPayload;
use crate::AppError;
use signet_core::{
    AppClient, AssociateTotp, CodePurpose, Command, MfaFactor, MfaMode, Outcome, Rejection,
    SetMfaPreference, TotpSignIn, User, UserPatch, UserPool, UserView, VerifyTotp,
};
use signet_crypto::{base32, totp_matching_step, totp_seed};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Sealing purpose of TOTP seeds.
const SEED_PURPOSE: &str = "totp-seed";
/// The MFA_SETUP session's stage once VerifySoftwareToken succeeded: only then does
/// RespondToAuthChallenge(MFA_SETUP) sign in.
const SETUP_VERIFIED: &str = "MFA_SETUP:verified";

/// What a right first factor leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// Tokens.
    Tokens,
    /// One factor's challenge.
    Factor(MfaFactor),
    /// A choice among factors (SELECT_MFA_TYPE).
    Select(Vec<MfaFactor>),
    /// Setting an authenticator up (the pool requires MFA and the user has no factor).
    Setup,
}

/// In an OPTIONAL pool, the factors the user turned on (of those the pool offers) are
/// asked; in an ON pool those, or else any the user has (a verified authenticator, email
/// or phone number), and a user with none sets an authenticator up. Of several, the
/// preferred one is asked, or the user picks.
pub(super) fn next_factor(pool: &UserPool, view: &UserView) -> Next {
    let (user, mfa) = (&view.user, &pool.config.mfa);
    let pick = |usable: &dyn Fn(MfaFactor) -> bool| -> Vec<MfaFactor> {
        MfaFactor::ALL
            .into_iter()
            .filter(|f| mfa.offers(*f) && usable(*f))
            .collect()
    };
    let enabled = pick(&|f| user.factor_enabled(f));
    let candidates = match mfa.mode {
        MfaMode::Off => return Next::Tokens,
        MfaMode::Optional if enabled.is_empty() => return Next::Tokens,
        MfaMode::On if enabled.is_empty() => match pick(&|f| user.has_factor(f)) {
            any if any.is_empty() => return Next::Setup,
            any => any,
        },
        MfaMode::Optional | MfaMode::On => enabled,
    };
    match user.mfa.preferred {
        Some(p) if candidates.contains(&p) => Next::Factor(p),
        _ if candidates.len() == 1 => Next::Factor(candidates[0]),
        _ => Next::Select(candidates),
    }
}

/// The challenge that asks for `factor`.
fn challenge_of(factor: MfaFactor) -> Challenge {
    match factor {
        MfaFactor::SoftwareTokenMfa => Challenge::SoftwareTokenMfa,
        MfaFactor::SmsMfa => Challenge::SmsMfa,
        MfaFactor::EmailOtp => Challenge::EmailOtp,
    }
}

/// The stage a session must be at to answer `challenge`.
pub(super) fn stage(challenge: Challenge) -> &'static str {
    match challenge {
        Challenge::MfaSetup => SETUP_VERIFIED,
        other => other.name(),
    }
}

/// Who a set-up call is for: an access token's user, or an MFA_SETUP session's.
struct Holder {
    pool: Arc<UserPool>,
    view: UserView,
    /// The session's client and payload (`None` with an access token).
    session: Option<(Arc<AppClient>, SessionPayload)>,
}

/// Exactly one of them, as Cognito wants.
fn one_of<'a>(
    access_token: Option<&'a str>,
    session: Option<&'a str>,
) -> Result<Result<&'a str, &'a str>, AppError> {
    match (access_token, session) {
        (Some(t), None) => Ok(Ok(t)),
        (None, Some(s)) => Ok(Err(s)),
        _ => Err(AppError::invalid(
            "Give either an AccessToken or a Session, not both or neither.",
        )),
    }
}

impl Auth {
    /// After a right first factor: tokens, or the second factor's challenge.
    pub(super) async fn second_factor(
        &self,
        pool: &UserPool,
        client: &AppClient,
        view: UserView,
        trigger: Trigger,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        let mut parameters = BTreeMap::new();
        parameters.insert("USER_ID_FOR_SRP".to_string(), view.user.username.clone());
        let next = next_factor(pool, &view);
        // A remembered device proves its own secret in place of the second factor.
        if let (false, Some(key)) = (next == Next::Tokens, device) {
            if self
                .remembered_device(pool, &view.user, key)
                .await?
                .is_some()
            {
                return self.ask_device(pool, client, &view.user, key);
            }
        }
        let name = match next {
            Next::Tokens => return self.signed_in(pool, client, &view, trigger, device).await,
            Next::Factor(f) => return self.ask_factor(pool, client, &view.user, f, device).await,
            Next::Select(factors) => {
                let names: Vec<&str> = factors.iter().map(|f| f.name()).collect();
                parameters.insert(
                    "MFAS_CAN_CHOOSE".into(),
                    serde_json::to_string(&names).expect("names serialize"),
                );
                Challenge::SelectMfaType
            }
            Next::Setup if pool.config.mfa.software_token => {
                parameters.insert("MFAS_CAN_SETUP".into(), r#"["SOFTWARE_TOKEN_MFA"]"#.into());
                Challenge::MfaSetup
            }
            Next::Setup => {
                return Err(AppError::InvalidState(
                    "MFA is required, the user has no verified email or phone number the pool \
                     sends codes to, and the pool offers no authenticator to set up."
                        .into(),
                ))
            }
        };
        Ok(AuthOutcome::Challenge {
            name,
            session: self.new_session_device(pool, client, &view.user, name.name(), device)?,
            parameters,
        })
    }

    /// The challenge of `factor`; for SMS and email, a fresh code is sent first.
    async fn ask_factor(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        factor: MfaFactor,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        let mut parameters = BTreeMap::new();
        parameters.insert("USER_ID_FOR_SRP".to_string(), user.username.clone());
        if let Some(attribute) = factor.attribute() {
            let sent = self
                .codes
                .send(pool, user, CodePurpose::SignInMfa(attribute.into()))
                .await?;
            parameters.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), sent.medium);
            parameters.insert("CODE_DELIVERY_DESTINATION".into(), sent.destination);
        }
        let name = challenge_of(factor);
        Ok(AuthOutcome::Challenge {
            name,
            session: self.new_session_device(pool, client, user, name.name(), device)?,
            parameters,
        })
    }

    /// The answer to SELECT_MFA_TYPE: one of the factors offered (as they are now), whose
    /// challenge follows.
    pub(super) async fn answer_select(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let answer = responses
            .get("ANSWER")
            .ok_or_else(|| AppError::invalid("Missing required parameter ANSWER"))?;
        let view = self.session_user(pool, s).await?;
        let allowed = match next_factor(pool, &view) {
            Next::Select(factors) => factors,
            Next::Factor(f) => vec![f],
            // The user's factors changed since: this session leads nowhere now.
            Next::Tokens | Next::Setup => return Err(invalid_session()),
        };
        let factor = MfaFactor::from_name(answer)
            .filter(|f| allowed.contains(f))
            .ok_or_else(|| {
                AppError::invalid(format!(
                    "ANSWER must be one of the factors offered: {}",
                    allowed
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        self.ask_factor(pool, client, &view.user, factor, s.device.as_deref())
            .await
    }

    /// The answer to SMS_MFA or EMAIL_OTP: the code sent for this user's sign-in, spent
    /// once through the log (wrong guesses cost the code's attempts, as other codes'), which
    /// also clears the failed sign-in the password left counted.
    pub(super) async fn answer_code(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
        factor: MfaFactor,
    ) -> Result<AuthOutcome, AppError> {
        let (parameter, attribute) = match factor {
            MfaFactor::SmsMfa => ("SMS_MFA_CODE", "phone_number"),
            MfaFactor::EmailOtp => ("EMAIL_OTP_CODE", "email"),
            MfaFactor::SoftwareTokenMfa => unreachable!("TOTP is answered by answer_totp"),
        };
        let code = responses
            .get(parameter)
            .ok_or_else(|| AppError::invalid(format!("Missing required parameter {parameter}")))?;
        let view = self.session_user(pool, s).await?;
        let patch = UserPatch {
            expect_sub: Some(view.user.sub.clone()),
            clear_sign_in_failures: true,
            at_ms: self.clock.now_ms(),
            ..Default::default()
        };
        self.codes
            .redeem(
                pool,
                &view.user,
                CodePurpose::SignInMfa(attribute.into()),
                code,
                patch,
            )
            .await?;
        self.session_signed_in(pool, client, s).await
    }

    /// The answer to SOFTWARE_TOKEN_MFA.
    pub(super) async fn answer_totp(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let code = responses.get("SOFTWARE_TOKEN_MFA_CODE").ok_or_else(|| {
            AppError::invalid("Missing required parameter SOFTWARE_TOKEN_MFA_CODE")
        })?;
        let view = self.session_user(pool, s).await?;
        let totp = view.user.mfa.totp.as_ref().ok_or_else(invalid_session)?;
        let seed = self.open_seed(&totp.sealed_seed)?;
        let step = totp_matching_step(&seed, code.trim(), self.clock.now_ms());
        let lockout = self.passwords.lockout();
        // Counted (or accepted once) in the log before the answer says anything.
        let written = self
            .store
            .write_raw(Command::TotpSignIn(TotpSignIn {
                pool_id: pool.id.clone(),
                username: view.user.username.clone(),
                sub: view.user.sub.clone(),
                step,
                at_ms: self.clock.now_ms(),
                threshold: lockout.threshold,
                base_ms: lockout.base.as_millis() as u64,
                max_ms: lockout.max.as_millis() as u64,
            }))
            .await?;
        match (written.outcome, step) {
            (Outcome::Applied, Some(_)) => {}
            (Outcome::Applied, None) => return Err(AppError::CodeMismatch),
            (Outcome::Rejected(Rejection::TooManyAttempts), _) => {
                crate::audit::note("locked");
                return Err(AppError::NotAuthorized("Password attempts exceeded".into()));
            }
            (Outcome::Rejected(Rejection::MfaCodeReused), _) => return Err(AppError::ExpiredCode),
            (Outcome::Rejected(_), _) => return Err(invalid_session()),
        }
        self.session_signed_in(pool, client, s).await
    }

    /// RespondToAuthChallenge(MFA_SETUP) with the session VerifySoftwareToken returned.
    pub(super) async fn finish_mfa_setup(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
    ) -> Result<AuthOutcome, AppError> {
        let view = self.session_user(pool, s).await?;
        if view.user.mfa.totp.is_none() {
            return Err(invalid_session());
        }
        self.signed_in(
            pool,
            client,
            &view,
            Trigger::Authentication,
            s.device.as_deref(),
        )
        .await
    }

    /// The session's last factor was right: the one user check again (disabled or signed
    /// out meanwhile: no tokens), then the tokens.
    async fn session_signed_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
    ) -> Result<AuthOutcome, AppError> {
        let view = self.session_user(pool, s).await?;
        self.signed_in(
            pool,
            client,
            &view,
            Trigger::Authentication,
            s.device.as_deref(),
        )
        .await
    }

    /// The tokens of a sign-in whose every factor is done; the PostAuthentication hook,
    /// if the pool sets it, may refuse them. `device`: the DEVICE_KEY the sign-in named.
    pub(super) async fn signed_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        view: &UserView,
        trigger: Trigger,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        self.hooks
            .post_authentication(pool, &view.user, &client.client_id)
            .await?;
        if super::on_hosted_page() {
            return Ok(AuthOutcome::SignedIn(super::SignedIn {
                sub: view.user.sub.clone(),
                username: view.user.username.clone(),
            }));
        }
        let device = self.device_claim(pool, &view.user, device).await?;
        self.tokens
            .issue(
                pool,
                client,
                &view.user,
                &view.groups,
                None,
                trigger,
                device,
            )
            .await
            .map(AuthOutcome::Tokens)
    }

    async fn holder(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
    ) -> Result<Holder, AppError> {
        match one_of(access_token, session)? {
            Ok(token) => {
                let (pool, view, _) = self.tokens.authenticate(token).await?;
                Ok(Holder {
                    pool,
                    view,
                    session: None,
                })
            }
            Err(session) => {
                let (s, pool, client) = self
                    .open_session(session, Challenge::MfaSetup.name())
                    .await?;
                let view = self.session_user(&pool, &s).await?;
                Ok(Holder {
                    pool,
                    view,
                    session: Some((client, s)),
                })
            }
        }
    }

    fn open_seed(&self, sealed: &str) -> Result<Vec<u8>, AppError> {
        self.sealer.open(SEED_PURPOSE, sealed).ok_or_else(|| {
            AppError::Internal("a TOTP seed does not open with this gateway's server key".into())
        })
    }

    /// AssociateSoftwareToken: a new seed (base32, for the authenticator app), pending
    /// until verified; with a session, the session to verify it with.
    pub async fn associate_software_token(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
    ) -> Result<(String, Option<String>), AppError> {
        let h = self.holder(access_token, session).await?;
        if !h.pool.config.mfa.software_token {
            return Err(AppError::SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the userPool.".into(),
            ));
        }
        let seed = totp_seed();
        self.store
            .write(Command::AssociateTotp(AssociateTotp {
                pool_id: h.pool.id.clone(),
                username: h.view.user.username.clone(),
                sub: h.view.user.sub.clone(),
                sealed_seed: self.sealer.seal(SEED_PURPOSE, &seed),
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        let next = match &h.session {
            Some((client, _)) => {
                Some(self.new_session(&h.pool, client, &h.view.user, Challenge::MfaSetup.name())?)
            }
            None => None,
        };
        Ok((base32(&seed), next))
    }

    /// VerifySoftwareToken: a right code of the pending seed makes it the user's
    /// authenticator (during MFA_SETUP also turned on and preferred); with a session, the
    /// session that completes MFA_SETUP.
    pub async fn verify_software_token(
        &self,
        access_token: Option<&str>,
        session: Option<&str>,
        code: &str,
        friendly_name: &str,
    ) -> Result<Option<String>, AppError> {
        let h = self.holder(access_token, session).await?;
        let pending = h.view.user.mfa.pending_seed.clone().ok_or_else(|| {
            AppError::EnableSoftwareTokenMfa(
                "No software token to verify: call AssociateSoftwareToken first.".into(),
            )
        })?;
        let seed = self.open_seed(&pending)?;
        let step = totp_matching_step(&seed, code.trim(), self.clock.now_ms())
            .ok_or_else(|| AppError::EnableSoftwareTokenMfa("Code mismatch".into()))?;
        let written = self
            .store
            .write_raw(Command::VerifyTotp(VerifyTotp {
                pool_id: h.pool.id.clone(),
                username: h.view.user.username.clone(),
                sub: h.view.user.sub.clone(),
                sealed_seed: pending,
                step,
                friendly_name: friendly_name.chars().take(128).collect(),
                // Set up during sign-in, or in a pool that requires MFA: in use at once.
                enable: h.session.is_some() || h.pool.config.mfa.mode == MfaMode::On,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        match written.outcome {
            Outcome::Applied => {}
            Outcome::Rejected(Rejection::PreconditionFailed) => {
                return Err(AppError::EnableSoftwareTokenMfa(
                    "Another software token was associated meanwhile; verify that one.".into(),
                ))
            }
            Outcome::Rejected(r) => return Err(crate::error::rejection(r)),
        }
        match &h.session {
            Some((client, _)) => Ok(Some(self.new_session(
                &h.pool,
                client,
                &h.view.user,
                SETUP_VERIFIED,
            )?)),
            None => Ok(None),
        }
    }

    /// SetUserMFAPreference.
    pub async fn set_mfa_preference(
        &self,
        access_token: &str,
        settings: MfaSettings,
    ) -> Result<(), AppError> {
        let (pool, view, _) = self.tokens.authenticate(access_token).await?;
        let sub = Some(view.user.sub.clone());
        self.write_preference(&pool, &view.user, sub, settings)
            .await
    }

    /// AdminSetUserMFAPreference.
    pub async fn admin_set_mfa_preference(
        &self,
        pool_id: &str,
        username: &str,
        settings: MfaSettings,
    ) -> Result<(), AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let user = self.dir.pool_user(pool_id, username).await?;
        self.write_preference(&pool, &user, None, settings).await
    }

    async fn write_preference(
        &self,
        pool: &UserPool,
        user: &User,
        sub: Option<String>,
        settings: MfaSettings,
    ) -> Result<(), AppError> {
        for (factor, setting) in settings.each() {
            let Some(setting) = setting else { continue };
            if pool.config.mfa.mode == MfaMode::On && !setting.enabled {
                return Err(AppError::invalid(format!(
                    "{} cannot be turned off while the user pool requires MFA.",
                    factor.name()
                )));
            }
            if setting.enabled && !user.has_factor(factor) {
                return Err(AppError::invalid(missing(factor)));
            }
            if setting.enabled && factor.attribute().is_some() && !pool.config.mfa.offers(factor) {
                return Err(AppError::invalid(format!(
                    "{} is not enabled for this user pool.",
                    factor.name()
                )));
            }
        }
        let field =
            |f: Option<Setting>| (f.map(|s| s.enabled), f.map(|s| s.enabled && s.preferred));
        let (totp_enabled, totp_preferred) = field(settings.totp);
        let (sms_enabled, sms_preferred) = field(settings.sms);
        let (email_enabled, email_preferred) = field(settings.email);
        let written = self
            .store
            .write_raw(Command::SetMfaPreference(SetMfaPreference {
                pool_id: pool.id.clone(),
                username: user.username.clone(),
                sub,
                totp_enabled,
                totp_preferred,
                sms_enabled,
                sms_preferred,
                email_enabled,
                email_preferred,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        match written.outcome {
            Outcome::Applied => Ok(()),
            // The user changed between the check and the write (an attribute unverified).
            Outcome::Rejected(Rejection::PreconditionFailed) => Err(AppError::invalid(
                "The user no longer has the factor to turn on; try again.",
            )),
            Outcome::Rejected(Rejection::UserNotFound) => {
                Err(AppError::NotAuthorized("Invalid Access Token".into()))
            }
            Outcome::Rejected(r) => Err(crate::error::rejection(r)),
        }
    }
}

/// Why a factor cannot be turned on for a user.
fn missing(factor: MfaFactor) -> &'static str {
    match factor {
        MfaFactor::SoftwareTokenMfa => "User has not verified software token mfa",
        MfaFactor::SmsMfa => "User does not have a verified phone_number to send SMS_MFA codes to",
        MfaFactor::EmailOtp => "User does not have a verified email to send EMAIL_OTP codes to",
    }
}

/// One factor's setting in SetUserMFAPreference (Cognito's MfaSettingsType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Turned on.
    pub enabled: bool,
    /// The preferred factor (only if turned on).
    pub preferred: bool,
}

/// SetUserMFAPreference's settings; a factor left `None` stays as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MfaSettings {
    /// SoftwareTokenMfaSettings.
    pub totp: Option<Setting>,
    /// SMSMfaSettings.
    pub sms: Option<Setting>,
    /// EmailMfaSettings.
    pub email: Option<Setting>,
}

impl MfaSettings {
    fn each(self) -> [(MfaFactor, Option<Setting>); 3] {
        [
            (MfaFactor::SoftwareTokenMfa, self.totp),
            (MfaFactor::SmsMfa, self.sms),
            (MfaFactor::EmailOtp, self.email),
        ]
    }
}
