//! `signet token …`: what an end user's app does, against a gateway's public `UserPoolAuth`
//! API (sign-up, confirmation, sign-in, refresh, recovery, self-service), what a service
//! does (`client-credentials`: a token for the app client itself), plus `decode` to look
//! inside a token. Answers are printed as JSON on stdout.

use super::connect;
use crate::cli::token::{MfaFactorArgs, OnOff, TokenArgs, TokenCommand};
use crate::input::Stdin;
use crate::jwt_inspect;
use crate::output::emit;
use crate::proto_json as pj;
use crate::rpc::{answer, attributes};
use anyhow::Context;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::collections::HashMap;
use tonic::transport::Channel;

/// The app client named by --client-id, with its optional secret.
struct App {
    client_id: String,
    client_secret: Option<String>,
}

impl App {
    /// `needed`: whether the command names the client (self-service calls carry only the
    /// access token). A secret given as `-` is read from stdin.
    fn new(args: &TokenArgs, needed: bool) -> anyhow::Result<App> {
        let client_id = match &args.client_id {
            Some(id) => id.clone(),
            None if needed => anyhow::bail!("--client-id (or SIGNET_CLIENT_ID) is required"),
            None => String::new(),
        };
        let client_secret = args
            .client_secret
            .clone()
            .map(|s| Stdin::default().value(s))
            .transpose()?;
        Ok(App {
            client_id,
            client_secret,
        })
    }

    /// SECRET_HASH for `username`, empty when the client has no secret.
    fn secret_hash(&self, username: &str) -> String {
        self.client_secret
            .as_deref()
            .map(|s| signet_gateway::secret_hash(s, username, &self.client_id))
            .unwrap_or_default()
    }

    /// Auth parameters plus SECRET_HASH when needed.
    fn params(&self, username: Option<&str>, pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(u) = username.filter(|_| self.client_secret.is_some()) {
            m.insert("SECRET_HASH".into(), self.secret_hash(u));
        }
        m
    }
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    if let TokenCommand::Decode {
        token,
        verify_with_jwks,
        issuer,
        leeway,
    } = &args.command
    {
        let check = match (verify_with_jwks, issuer) {
            (Some(jwks), Some(iss)) => Some(jwt_inspect::Check {
                jwks_source: jwks.clone(),
                issuer: iss.clone(),
                client_id: args.client_id.clone(),
                leeway_s: *leeway,
            }),
            _ => None,
        };
        let out = jwt_inspect::decode(token, check).await?;
        if out["verified"] != true {
            use std::io::Write;
            // stdout stays pure JSON; the human reading the terminal still gets the warning.
            let _ = writeln!(
                std::io::stderr(),
                "signet: decoded only, NOT verified (add --verify-with-jwks URL --issuer ISS)"
            );
        }
        return emit(&out);
    }
    if let TokenCommand::TotpNow { secret } = &args.command {
        return emit(&super::mfa::totp_now(secret)?);
    }
    let needs_client = !matches!(
        args.command,
        TokenCommand::Whoami { .. }
            | TokenCommand::SignOut { .. }
            | TokenCommand::TotpSetup { .. }
            | TokenCommand::TotpVerify { username: None, .. }
            | TokenCommand::MfaPreference { .. }
    );
    let app = App::new(&args, needs_client)?;
    let mut c = UserPoolAuthClient::new(connect(&args.gateway).await?);
    let out = call(&mut c, &app, args.command).await?;
    emit(&out)
}

async fn call(
    c: &mut UserPoolAuthClient<Channel>,
    app: &App,
    cmd: TokenCommand,
) -> anyhow::Result<Value> {
    let client_id = app.client_id.clone();
    Ok(match cmd {
        TokenCommand::SignUp {
            username,
            password,
            attrs,
        } => {
            let r = answer(
                c.sign_up(pb::SignUpRequest {
                    client_id,
                    secret_hash: app.secret_hash(&username),
                    username,
                    password,
                    user_attributes: attributes(&attrs),
                    ..Default::default()
                })
                .await,
            )?;
            json!({
                "user_confirmed": r.user_confirmed,
                "user_sub": r.user_sub,
                "code_delivery_details": pj::delivery(r.code_delivery_details.as_ref()),
            })
        }
        TokenCommand::Confirm { username, code } => {
            answer(
                c.confirm_sign_up(pb::ConfirmSignUpRequest {
                    client_id,
                    secret_hash: app.secret_hash(&username),
                    username: username.clone(),
                    confirmation_code: code,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            json!({ "username": username, "confirmed": true })
        }
        TokenCommand::SignIn { username, password } => {
            let auth_parameters = app.params(
                Some(&username),
                &[("USERNAME", &username), ("PASSWORD", &password)],
            );
            let r = answer(
                c.initiate_auth(pb::InitiateAuthRequest {
                    client_id,
                    auth_flow: "USER_PASSWORD_AUTH".into(),
                    auth_parameters,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            pj::auth(&r)
        }
        TokenCommand::NewPassword {
            username,
            session,
            password,
        } => {
            let challenge_responses = app.params(
                Some(&username),
                &[("USERNAME", &username), ("NEW_PASSWORD", &password)],
            );
            let r = answer(
                c.respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
                    client_id,
                    challenge_name: "NEW_PASSWORD_REQUIRED".into(),
                    session,
                    challenge_responses,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            pj::auth(&r)
        }
        TokenCommand::Refresh {
            refresh_token,
            username,
        } => {
            anyhow::ensure!(
                app.client_secret.is_none() || username.is_some(),
                "--username is required with --client-secret (SECRET_HASH covers the username)"
            );
            let auth_parameters =
                app.params(username.as_deref(), &[("REFRESH_TOKEN", &refresh_token)]);
            let r = answer(
                c.initiate_auth(pb::InitiateAuthRequest {
                    client_id,
                    auth_flow: "REFRESH_TOKEN_AUTH".into(),
                    auth_parameters,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            pj::auth(&r)
        }
        TokenCommand::ForgotPassword { username } => {
            let r = answer(
                c.forgot_password(pb::ClientUserRequest {
                    client_id,
                    secret_hash: app.secret_hash(&username),
                    username,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            json!({ "code_delivery_details": pj::delivery(r.code_delivery_details.as_ref()) })
        }
        TokenCommand::ConfirmForgotPassword {
            username,
            code,
            password,
        } => {
            answer(
                c.confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
                    client_id,
                    secret_hash: app.secret_hash(&username),
                    username: username.clone(),
                    confirmation_code: code,
                    password,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            json!({ "username": username, "password_reset": true })
        }
        TokenCommand::Whoami { access_token } => {
            let r = answer(c.get_user(pb::AccessTokenRequest { access_token }).await)?;
            json!({
                "username": r.username,
                "attributes": pj::attributes(&r.user_attributes),
                "preferred_mfa_setting": r.preferred_mfa_setting,
                "user_mfa_setting_list": r.user_mfa_setting_list,
            })
        }
        TokenCommand::TotpSetup { holder } => super::mfa::totp_setup(c, holder).await?,
        TokenCommand::TotpVerify {
            holder,
            code,
            device_name,
            username,
        } => {
            let verified = super::mfa::totp_verify(c, holder, code, device_name).await?;
            match username {
                // Answer MFA_SETUP with the session the verification returned.
                Some(username) => {
                    let challenge_responses =
                        app.params(Some(&username), &[("USERNAME", &username)]);
                    let r = answer(
                        c.respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
                            client_id,
                            challenge_name: "MFA_SETUP".into(),
                            session: verified.session,
                            challenge_responses,
                            client_metadata: Default::default(),
                        })
                        .await,
                    )?;
                    pj::auth(&r)
                }
                None if verified.session.is_empty() => json!({ "status": verified.status }),
                None => json!({ "status": verified.status, "session": verified.session }),
            }
        }
        TokenCommand::MfaCode {
            username,
            session,
            code,
            challenge,
        } => {
            let parameter = format!("{challenge}_CODE");
            let challenge_responses = app.params(
                Some(&username),
                &[("USERNAME", &username), (parameter.as_str(), &code)],
            );
            let r = answer(
                c.respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
                    client_id,
                    challenge_name: challenge,
                    session,
                    challenge_responses,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            pj::auth(&r)
        }
        TokenCommand::SelectMfa {
            username,
            session,
            factor,
        } => {
            let challenge_responses = app.params(
                Some(&username),
                &[("USERNAME", &username), ("ANSWER", &factor)],
            );
            let r = answer(
                c.respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
                    client_id,
                    challenge_name: "SELECT_MFA_TYPE".into(),
                    session,
                    challenge_responses,
                    client_metadata: Default::default(),
                })
                .await,
            )?;
            pj::auth(&r)
        }
        TokenCommand::MfaPreference {
            access_token,
            factors,
        } => {
            let m = MfaSettings::from_args(factors)?;
            answer(
                c.set_user_mfa_preference(pb::SetUserMfaPreferenceRequest {
                    access_token,
                    software_token_mfa_settings: m.totp,
                    sms_mfa_settings: m.sms,
                    email_mfa_settings: m.email,
                })
                .await,
            )?;
            m.summary()
        }
        TokenCommand::TotpNow { .. } => anyhow::bail!("totp-now needs no gateway"),
        TokenCommand::SignOut { access_token } => {
            answer(
                c.global_sign_out(pb::AccessTokenRequest { access_token })
                    .await,
            )?;
            json!({ "signed_out": true })
        }
        TokenCommand::ClientCredentials { pool, scope } => {
            let client_secret = app.client_secret.clone().context(
                "--client-secret (or SIGNET_CLIENT_SECRET) is required: client_credentials \
                 authenticates the client by its secret",
            )?;
            let r = answer(
                c.issue_client_token(pb::IssueClientTokenRequest {
                    user_pool_id: pool,
                    client_id,
                    client_secret,
                    scope: scope.unwrap_or_default(),
                })
                .await,
            )?;
            pj::client_token(&r)
        }
        TokenCommand::Decode { .. } => anyhow::bail!("decode needs no gateway"),
    })
}

/// The settings SetUserMFAPreference (or the admin's) sends for `--totp/--sms/--email`.
pub(crate) struct MfaSettings {
    pub totp: Option<pb::MfaSettingsType>,
    pub sms: Option<pb::MfaSettingsType>,
    pub email: Option<pb::MfaSettingsType>,
}

impl MfaSettings {
    pub(crate) fn from_args(a: MfaFactorArgs) -> anyhow::Result<MfaSettings> {
        let on = [a.totp, a.sms, a.email]
            .iter()
            .filter(|f| **f == Some(OnOff::On))
            .count();
        if on == 0 && [a.totp, a.sms, a.email].iter().all(Option::is_none) {
            anyhow::bail!("name a factor: --totp, --sms or --email (on or off)");
        }
        if a.preferred && on != 1 {
            anyhow::bail!("--preferred needs exactly one factor turned on in the same call");
        }
        let one = |f: Option<OnOff>| {
            f.map(|f| pb::MfaSettingsType {
                enabled: f == OnOff::On,
                preferred_mfa: f == OnOff::On && a.preferred,
            })
        };
        Ok(MfaSettings {
            totp: one(a.totp),
            sms: one(a.sms),
            email: one(a.email),
        })
    }

    /// What was set, for the command's output.
    pub(crate) fn summary(&self) -> Value {
        let show = |s: &Option<pb::MfaSettingsType>| {
            s.map(|s| json!({ "enabled": s.enabled, "preferred": s.preferred_mfa }))
        };
        let mut out = serde_json::Map::new();
        for (name, s) in [
            ("software_token_mfa", &self.totp),
            ("sms_mfa", &self.sms),
            ("email_otp", &self.email),
        ] {
            if let Some(v) = show(s) {
                out.insert(name.into(), v);
            }
        }
        Value::Object(out)
    }
}
