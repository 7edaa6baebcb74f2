//! Cognito's user-pool triggers as webhooks: PreSignUp, PostConfirmation,
//! PreAuthentication, PostAuthentication and UserMigration. Each event has the shape of
//! the Cognito Lambda event (`version`, `triggerSource`, `region`, `userPoolId`,
//! `userName`, `callerContext`, `request`, `response`); the hook answers with the event,
//! its `response` filled in. A trigger the pool does not set is never called.
//!
//! No event carries a password, a code or a secret, with one exception Cognito makes too:
//! `UserMigration_Authentication` carries the password the user typed, since vouching for
//! it is that hook's purpose.

use super::{HookError, Hooks};
use crate::AppError;
use serde_json::{json, Map, Value};
use signet_core::{TriggerHook, User, UserPool, UserStatus};
use std::collections::BTreeMap;

/// The triggers this module runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    CustomMessage,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::PreSignUp => "PreSignUp",
            Kind::PostConfirmation => "PostConfirmation",
            Kind::PreAuthentication => "PreAuthentication",
            Kind::PostAuthentication => "PostAuthentication",
            Kind::UserMigration => "UserMigration",
            Kind::DefineAuthChallenge => "DefineAuthChallenge",
            Kind::CreateAuthChallenge => "CreateAuthChallenge",
            Kind::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Kind::CustomMessage => "CustomMessage",
        }
    }

    fn hook(self, pool: &UserPool) -> Option<&TriggerHook> {
        let t = &pool.config.triggers;
        match self {
            Kind::PreSignUp => t.pre_sign_up.as_ref(),
            Kind::PostConfirmation => t.post_confirmation.as_ref(),
            Kind::PreAuthentication => t.pre_authentication.as_ref(),
            Kind::PostAuthentication => t.post_authentication.as_ref(),
            Kind::UserMigration => t.user_migration.as_ref(),
            Kind::DefineAuthChallenge => t.define_auth_challenge.as_ref(),
            Kind::CreateAuthChallenge => t.create_auth_challenge.as_ref(),
            Kind::VerifyAuthChallengeResponse => t.verify_auth_challenge_response.as_ref(),
            Kind::CustomMessage => t.custom_message.as_ref(),
        }
    }
}

/// What PreSignUp decided for a new user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SignUpVerdict {
    /// Confirm the user at once (no confirmation code).
    pub auto_confirm: bool,
    /// Mark the e-mail address verified.
    pub verify_email: bool,
    /// Mark the phone number verified.
    pub verify_phone: bool,
}

/// A new user as PreSignUp decided: confirmed, and the e-mail address or phone number it
/// has marked verified (Cognito marks only an attribute the user has).
pub(crate) fn apply_verdict(user: &mut User, v: SignUpVerdict) {
    if v.auto_confirm && user.status == UserStatus::Unconfirmed {
        user.status = UserStatus::Confirmed;
    }
    for (wanted, attr) in [(v.verify_email, "email"), (v.verify_phone, "phone_number")] {
        if wanted && user.attributes.contains_key(attr) {
            user.attributes
                .insert(format!("{attr}_verified"), "true".into());
        }
    }
}

/// The placeholder of the code in a CustomMessage template (Cognito's `codeParameter`).
pub(crate) const CODE_PARAMETER: &str = "{####}";
/// The placeholder of the username (AdminCreateUser's invitation).
pub(crate) const USERNAME_PARAMETER: &str = "{username}";
/// Longest message a CustomMessage hook may write, in bytes.
const MAX_MESSAGE_BYTES: usize = 20_000;

/// Why a code is sent, for CustomMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageSource {
    SignUp,
    ForgotPassword,
    VerifyUserAttribute,
    AdminCreateUser,
    /// A sign-in's second factor by SMS or email.
    Authentication,
}

/// What a CustomMessage hook wrote: templates holding [`CODE_PARAMETER`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Message {
    pub sms: Option<String>,
    pub email: Option<String>,
    pub subject: Option<String>,
}

fn parse_message(r: &Value) -> Result<Message, Invalid> {
    let text = |name: &str, needs_code: bool| -> Result<Option<String>, Invalid> {
        match r.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() > MAX_MESSAGE_BYTES => Err(Invalid(format!(
                "{name} is longer than {MAX_MESSAGE_BYTES} bytes"
            ))),
            Some(Value::String(s)) if needs_code && !s.contains(CODE_PARAMETER) => Err(Invalid(
                format!("{name} must contain the code parameter {CODE_PARAMETER}"),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Invalid(format!("{name} must be a string"))),
        }
    };
    Ok(Message {
        sms: text("smsMessage", true)?,
        email: text("emailMessage", true)?,
        subject: text("emailSubject", false)?,
    })
}

/// What DefineAuthChallenge decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Sign the user in.
    IssueTokens,
    /// End the sign-in.
    Fail,
    /// Ask a (CUSTOM_CHALLENGE) challenge.
    Challenge,
}

/// A challenge CreateAuthChallenge made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MadeChallenge {
    /// Shown to the user (ChallengeParameters).
    pub public: BTreeMap<String, String>,
    /// Kept for the check, sealed in the session.
    pub private: BTreeMap<String, String>,
    /// Recorded in the history DefineAuthChallenge sees.
    pub metadata: String,
}

/// Most bytes of a made challenge's parameters and metadata (they travel in the session).
const MAX_CHALLENGE_BYTES: usize = 4096;

/// A user the UserMigration hook vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MigratedUser {
    /// The attributes the hook gave (checked against the schema by the caller).
    pub attributes: Vec<(String, String)>,
    /// CONFIRMED (the password it was shown is the user's) or RESET_REQUIRED.
    pub status: UserStatus,
}

/// Why UserMigration is asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MigrationSource<'a> {
    /// A sign-in with this password.
    Authentication { password: &'a str },
    /// ForgotPassword.
    ForgotPassword,
}

/// Where a user was created from, for PreSignUp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignUpSource {
    /// SignUp.
    SignUp,
    /// AdminCreateUser.
    AdminCreateUser,
    /// The first sign-in of an identity provider's user.
    ExternalProvider,
}

/// Why PostConfirmation is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfirmSource {
    /// ConfirmSignUp or AdminConfirmSignUp.
    SignUp,
    /// ConfirmForgotPassword.
    ForgotPassword,
}

/// A hook's answer that is not of its trigger's shape.
struct Invalid(String);

/// A user as triggers see it: the attributes, with `sub` and `cognito:user_status`.
pub(crate) fn user_attributes(user: &User) -> Value {
    let mut m: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    m.insert("sub".into(), user.sub.clone().into());
    m.insert("cognito:user_status".into(), user.status.name().into());
    Value::Object(m)
}

tokio::task_local! {
    /// The ClientMetadata of the call being served, and whether that call is InitiateAuth.
    static CLIENT_METADATA: (BTreeMap<String, String>, bool);
}

/// Most bytes of names and values a call's ClientMetadata may carry.
const MAX_CLIENT_METADATA_BYTES: usize = 16 * 1024;

/// Serve `call` with the request's ClientMetadata for the triggers it fires (a
/// request-scoped value, so that it need not be threaded through every sign-in step). As in
/// Cognito, InitiateAuth's goes to PreAuthentication and UserMigration only, as their
/// `validationData`; every other call's goes to its triggers' `clientMetadata`.
///
/// `call` is boxed: a sign-in's future is several KB, and an `async fn` holding it by value
/// keeps it twice (as its argument and as what it awaits) and copies it between the two.
pub(crate) async fn with_client_metadata<T>(
    metadata: BTreeMap<String, String>,
    initiate_auth: bool,
    call: std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AppError>> + Send + '_>>,
) -> Result<T, AppError> {
    let bytes: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_CLIENT_METADATA_BYTES {
        return Err(AppError::invalid(format!(
            "ClientMetadata may carry at most {MAX_CLIENT_METADATA_BYTES} bytes"
        )));
    }
    CLIENT_METADATA.scope((metadata, initiate_auth), call).await
}

/// The `clientMetadata` of a trigger the call being served fires.
fn call_metadata() -> Value {
    CLIENT_METADATA
        .try_with(|(m, initiate)| if *initiate { json!({}) } else { strings(m) })
        .unwrap_or_else(|_| json!({}))
}

/// The `validationData` of PreAuthentication and UserMigration: InitiateAuth's
/// ClientMetadata.
fn call_validation_data() -> Value {
    CLIENT_METADATA
        .try_with(|(m, initiate)| if *initiate { strings(m) } else { json!({}) })
        .unwrap_or_else(|_| json!({}))
}

fn strings(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect(),
    )
}

fn flag(response: &Value, name: &str) -> Result<bool, Invalid> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Invalid(format!("{name} must be a boolean, not {other}"))),
    }
}

impl Hooks {
    /// Run trigger `kind` of `pool`, if set, and read its answer's `response` with
    /// `parse`. `Ok(None)`: not set, or failed open.
    #[allow(clippy::too_many_arguments)]
    async fn run<T>(
        &self,
        pool: &UserPool,
        kind: Kind,
        source: &str,
        user_name: &str,
        client_id: Option<&str>,
        request: Value,
        parse: impl FnOnce(&Value) -> Result<T, Invalid>,
    ) -> Result<Option<T>, AppError> {
        let Some(hook) = kind.hook(pool) else {
            return Ok(None);
        };
        let event = json!({
            "version": "1",
            "triggerSource": source,
            "region": "local",
            "userPoolId": pool.id,
            "userName": user_name,
            "callerContext": {"awsSdkVersion": "signet", "clientId": client_id},
            "request": request,
            "response": {},
        });
        let name = kind.name();
        let failure = match self.invoke(pool, &hook.url, hook.timeout_ms, &event).await {
            Ok(answer) => {
                let response = match answer.get("response") {
                    None | Some(Value::Null) => json!({}),
                    Some(r) if r.is_object() => r.clone(),
                    Some(_) => json!(null),
                };
                let parsed = if response.is_object() {
                    parse(&response)
                } else {
                    Err(Invalid("response must be an object".into()))
                };
                match parsed {
                    Ok(v) => return Ok(Some(v)),
                    Err(Invalid(e)) => {
                        AppError::InvalidLambdaResponse(format!("Invalid {name} response: {e}."))
                    }
                }
            }
            Err(HookError::Refused(m)) => {
                return Err(AppError::UserLambdaValidation(format!(
                    "{name} failed with error {m}."
                )))
            }
            Err(HookError::Failed(e)) => {
                AppError::HookFailed(format!("{name} failed with error {e}."))
            }
        };
        if hook.fail_open {
            tracing::warn!(pool = %pool.id, "{name} hook failed, going on without it: {failure}");
            Ok(None)
        } else {
            tracing::warn!(pool = %pool.id, "{name} hook failed, refusing: {failure}");
            Err(failure)
        }
    }

    /// Run a trigger whose answer says nothing but yes (2xx) or no (4xx).
    async fn tell(
        &self,
        pool: &UserPool,
        kind: Kind,
        source: &str,
        user_name: &str,
        client_id: Option<&str>,
        request: Value,
    ) -> Result<(), AppError> {
        self.run(
            pool,
            kind,
            source,
            user_name,
            client_id,
            request,
            |_| Ok(()),
        )
        .await
        .map(|_| ())
    }

    /// PreSignUp for `user`, about to be created: refuse, or confirm and verify at once.
    pub(crate) async fn pre_sign_up(
        &self,
        pool: &UserPool,
        source: SignUpSource,
        user: &User,
        client_id: Option<&str>,
        validation_data: &BTreeMap<String, String>,
        client_metadata: &BTreeMap<String, String>,
    ) -> Result<SignUpVerdict, AppError> {
        let source = match source {
            SignUpSource::SignUp => "PreSignUp_SignUp",
            SignUpSource::AdminCreateUser => "PreSignUp_AdminCreateUser",
            SignUpSource::ExternalProvider => "PreSignUp_ExternalProvider",
        };
        let request = json!({
            "userAttributes": user_attributes(user),
            "validationData": strings(validation_data),
            "clientMetadata": strings(client_metadata),
        });
        let verdict = self
            .run(
                pool,
                Kind::PreSignUp,
                source,
                &user.username,
                client_id,
                request,
                |r| {
                    Ok(SignUpVerdict {
                        auto_confirm: flag(r, "autoConfirmUser")?,
                        verify_email: flag(r, "autoVerifyEmail")?,
                        verify_phone: flag(r, "autoVerifyPhone")?,
                    })
                },
            )
            .await?;
        Ok(verdict.unwrap_or_default())
    }

    /// PostConfirmation: `user` (as it is now) was confirmed.
    pub(crate) async fn post_confirmation(
        &self,
        pool: &UserPool,
        source: ConfirmSource,
        user: &User,
        client_id: Option<&str>,
    ) -> Result<(), AppError> {
        let source = match source {
            ConfirmSource::SignUp => "PostConfirmation_ConfirmSignUp",
            ConfirmSource::ForgotPassword => "PostConfirmation_ConfirmForgotPassword",
        };
        let request =
            json!({"userAttributes": user_attributes(user), "clientMetadata": call_metadata()});
        self.tell(
            pool,
            Kind::PostConfirmation,
            source,
            &user.username,
            client_id,
            request,
        )
        .await
    }

    /// PreAuthentication: `user` (None: unknown, asked only when the pool hides which
    /// users exist) is about to have its password checked.
    pub(crate) async fn pre_authentication(
        &self,
        pool: &UserPool,
        user_name: &str,
        user: Option<&User>,
        client_id: &str,
    ) -> Result<(), AppError> {
        let mut request = json!({
            "userAttributes": user.map(user_attributes).unwrap_or_else(|| json!({})),
            "validationData": call_validation_data(),
        });
        if pool.config.prevent_user_existence_errors {
            request["userNotFound"] = user.is_none().into();
        }
        self.tell(
            pool,
            Kind::PreAuthentication,
            "PreAuthentication_Authentication",
            user_name,
            Some(client_id),
            request,
        )
        .await
    }

    /// PostAuthentication: `user` passed every factor; tokens follow unless it refuses.
    pub(crate) async fn post_authentication(
        &self,
        pool: &UserPool,
        user: &User,
        client_id: &str,
    ) -> Result<(), AppError> {
        let request = json!({
            "userAttributes": user_attributes(user),
            "newDeviceUsed": false,
            "clientMetadata": call_metadata(),
        });
        self.tell(
            pool,
            Kind::PostAuthentication,
            "PostAuthentication_Authentication",
            &user.username,
            Some(client_id),
            request,
        )
        .await
    }

    /// DefineAuthChallenge: what comes next, given the challenges answered so far. `user`
    /// None: unknown to the pool (asked only when the pool hides which users exist).
    pub(crate) async fn define_auth_challenge(
        &self,
        pool: &UserPool,
        user_name: &str,
        user: Option<&User>,
        client_id: &str,
        answered: &[ChallengeResult],
    ) -> Result<Next, AppError> {
        let request = json!({
            "userAttributes": user.map(user_attributes).unwrap_or_else(|| json!({})),
            "session": history(answered),
            "clientMetadata": call_metadata(),
            "userNotFound": user.is_none(),
        });
        let next = self
            .run(
                pool,
                Kind::DefineAuthChallenge,
                "DefineAuthChallenge_Authentication",
                user_name,
                Some(client_id),
                request,
                parse_define,
            )
            .await?;
        // Failed open: no decision is no sign-in.
        Ok(next.unwrap_or(Next::Fail))
    }

    /// CreateAuthChallenge: the next CUSTOM_CHALLENGE.
    pub(crate) async fn create_auth_challenge(
        &self,
        pool: &UserPool,
        user_name: &str,
        user: Option<&User>,
        client_id: &str,
        answered: &[ChallengeResult],
    ) -> Result<Option<MadeChallenge>, AppError> {
        let request = json!({
            "userAttributes": user.map(user_attributes).unwrap_or_else(|| json!({})),
            "challengeName": "CUSTOM_CHALLENGE",
            "session": history(answered),
            "clientMetadata": call_metadata(),
            "userNotFound": user.is_none(),
        });
        self.run(
            pool,
            Kind::CreateAuthChallenge,
            "CreateAuthChallenge_Authentication",
            user_name,
            Some(client_id),
            request,
            parse_create,
        )
        .await
    }

    /// VerifyAuthChallengeResponse: whether `answer` is right (failed open: it is not).
    pub(crate) async fn verify_auth_challenge(
        &self,
        pool: &UserPool,
        user: &User,
        client_id: &str,
        private: &BTreeMap<String, String>,
        answer: &str,
    ) -> Result<bool, AppError> {
        let request = json!({
            "userAttributes": user_attributes(user),
            "privateChallengeParameters": strings(private),
            "challengeAnswer": answer,
            "clientMetadata": call_metadata(),
            "userNotFound": false,
        });
        let right = self
            .run(
                pool,
                Kind::VerifyAuthChallengeResponse,
                "VerifyAuthChallengeResponse_Authentication",
                &user.username,
                Some(client_id),
                request,
                |r| flag(r, "answerCorrect"),
            )
            .await?;
        Ok(right.unwrap_or(false))
    }

    /// CustomMessage: the message (and e-mail subject) to send a code in; `Ok(None)`: no
    /// hook, or it failed open (the sender composes its own). The hook sees placeholders,
    /// never the code.
    pub(crate) async fn custom_message(
        &self,
        pool: &UserPool,
        source: MessageSource,
        user: &User,
        client_id: Option<&str>,
    ) -> Result<Option<Message>, AppError> {
        let trigger = match source {
            MessageSource::SignUp => "CustomMessage_SignUp",
            MessageSource::ForgotPassword => "CustomMessage_ForgotPassword",
            MessageSource::VerifyUserAttribute => "CustomMessage_VerifyUserAttribute",
            MessageSource::AdminCreateUser => "CustomMessage_AdminCreateUser",
            MessageSource::Authentication => "CustomMessage_Authentication",
        };
        let username_parameter =
            (source == MessageSource::AdminCreateUser).then_some(USERNAME_PARAMETER);
        let request = json!({
            "userAttributes": user_attributes(user),
            "codeParameter": CODE_PARAMETER,
            "usernameParameter": username_parameter,
            "clientMetadata": call_metadata(),
        });
        self.run(
            pool,
            Kind::CustomMessage,
            trigger,
            &user.username,
            client_id,
            request,
            parse_message,
        )
        .await
    }

    /// Whether the pool asks a hook about users it does not have.
    pub(crate) fn migrates(pool: &UserPool) -> bool {
        pool.config.triggers.user_migration.is_some()
    }

    /// UserMigration for `user_name`, unknown to the pool: the user the hook vouches for,
    /// or `None` (no hook, it knows no such user, or it failed open).
    pub(crate) async fn user_migration(
        &self,
        pool: &UserPool,
        source: MigrationSource<'_>,
        user_name: &str,
        client_id: &str,
    ) -> Result<Option<MigratedUser>, AppError> {
        let (trigger, request) = match source {
            MigrationSource::Authentication { password } => (
                "UserMigration_Authentication",
                json!({
                    "password": password,
                    "validationData": call_validation_data(),
                    "clientMetadata": call_metadata(),
                }),
            ),
            MigrationSource::ForgotPassword => (
                "UserMigration_ForgotPassword",
                json!({
                    "validationData": call_validation_data(),
                    "clientMetadata": call_metadata(),
                }),
            ),
        };
        let forgot = matches!(source, MigrationSource::ForgotPassword);
        let answer = self
            .run(
                pool,
                Kind::UserMigration,
                trigger,
                user_name,
                Some(client_id),
                request,
                |r| parse_migration(r, forgot),
            )
            .await;
        match answer {
            Ok(a) => Ok(a.flatten()),
            // "No such user, or not this password": the caller answers as for any unknown
            // user, so the hook's refusal tells a guesser nothing more.
            Err(AppError::UserLambdaValidation(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One answered challenge (an entry of the triggers' `session`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ChallengeResult {
    pub name: String,
    pub result: bool,
    pub metadata: String,
}

/// The triggers' `session`: the challenges answered so far.
fn history(h: &[ChallengeResult]) -> Value {
    h.iter()
        .map(|r| {
            json!({"challengeName": r.name, "challengeResult": r.result,
                "challengeMetadata": r.metadata})
        })
        .collect()
}

fn string_map(r: &Value, name: &str) -> Result<BTreeMap<String, String>, Invalid> {
    match r.get(name) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(Invalid(format!("{name}.{k} must be a string"))),
            })
            .collect(),
        Some(_) => Err(Invalid(format!("{name} must be an object"))),
    }
}

fn parse_define(r: &Value) -> Result<Next, Invalid> {
    if flag(r, "failAuthentication")? {
        return Ok(Next::Fail);
    }
    if flag(r, "issueTokens")? {
        return Ok(Next::IssueTokens);
    }
    match r.get("challengeName").and_then(Value::as_str) {
        Some("CUSTOM_CHALLENGE") => Ok(Next::Challenge),
        Some(other) => Err(Invalid(format!(
            "challengeName {other} is not offered (CUSTOM_CHALLENGE is)"
        ))),
        None => Err(Invalid(
            "neither issueTokens, failAuthentication nor challengeName".into(),
        )),
    }
}

fn parse_create(r: &Value) -> Result<MadeChallenge, Invalid> {
    let made = MadeChallenge {
        public: string_map(r, "publicChallengeParameters")?,
        private: string_map(r, "privateChallengeParameters")?,
        metadata: match r.get("challengeMetadata") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(Invalid("challengeMetadata must be a string".into())),
        },
    };
    let bytes: usize = made
        .public
        .iter()
        .chain(made.private.iter())
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>()
        + made.metadata.len();
    if bytes > MAX_CHALLENGE_BYTES {
        return Err(Invalid(format!(
            "the challenge carries {bytes} bytes, more than {MAX_CHALLENGE_BYTES}"
        )));
    }
    Ok(made)
}

/// A UserMigration answer: no `userAttributes` means the hook knows no such user.
fn parse_migration(r: &Value, forgot: bool) -> Result<Option<MigratedUser>, Invalid> {
    let attrs = match r.get("userAttributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(Invalid("userAttributes must be an object".into())),
    };
    let mut attributes = Vec::with_capacity(attrs.len());
    for (k, v) in attrs {
        // Signet assigns these; a hook may not.
        if k == "sub" || k.starts_with("cognito:") || k == "username" {
            continue;
        }
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => return Err(Invalid(format!("userAttributes.{k} must be a string"))),
        };
        attributes.push((k.clone(), v));
    }
    let status = match r.get("finalUserStatus").and_then(Value::as_str) {
        // Without the password (ForgotPassword) the user can only reset.
        _ if forgot => UserStatus::ResetRequired,
        None | Some("CONFIRMED") => UserStatus::Confirmed,
        Some("RESET_REQUIRED") => UserStatus::ResetRequired,
        Some(other) => {
            return Err(Invalid(format!(
                "finalUserStatus must be CONFIRMED or RESET_REQUIRED, not {other}"
            )))
        }
    };
    if let Some(a) = r.get("messageAction").and_then(Value::as_str) {
        if a != "SUPPRESS" && a != "RESEND" {
            return Err(Invalid(format!("messageAction {a} is not SUPPRESS")));
        }
    }
    Ok(Some(MigratedUser { attributes, status }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_answers() {
        let ok = json!({"userAttributes": {"email": "a@example.com", "email_verified": "true",
            "sub": "chosen-by-hook", "cognito:user_status": "X"}});
        let m = parse_migration(&ok, false).ok().unwrap().unwrap();
        assert_eq!(
            m.attributes,
            vec![
                ("email".to_string(), "a@example.com".to_string()),
                ("email_verified".to_string(), "true".to_string())
            ]
        );
        assert_eq!(m.status, UserStatus::Confirmed);
        // ForgotPassword can only lead to a reset.
        let m = parse_migration(&ok, true).ok().unwrap().unwrap();
        assert_eq!(m.status, UserStatus::ResetRequired);
        assert!(parse_migration(&json!({}), false).ok().unwrap().is_none());
        assert!(parse_migration(&json!({"userAttributes": []}), false).is_err());
        let bad = json!({"userAttributes": {}, "finalUserStatus": "ARCHIVED"});
        assert!(parse_migration(&bad, false).is_err());
    }

    #[test]
    fn flags_are_booleans() {
        let r = json!({"autoConfirmUser": true, "autoVerifyEmail": null});
        assert!(flag(&r, "autoConfirmUser").ok().unwrap());
        assert!(!flag(&r, "autoVerifyEmail").ok().unwrap());
        assert!(!flag(&r, "autoVerifyPhone").ok().unwrap());
        assert!(flag(&json!({"autoConfirmUser": "true"}), "autoConfirmUser").is_err());
    }
}
