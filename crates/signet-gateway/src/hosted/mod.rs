//! The hosted sign-in (Cognito's hosted UI): `/oauth2/authorize` with the authorization code
//! flow and PKCE, the sign-in, challenge, sign-up and password-reset pages, the browser's
//! session, `/logout`, and the code's exchange at the token endpoint.
//!
//! Every step is the same use case the APIs run (password checks with their lockout and
//! hooks, MFA, sign-up, codes), entered for a page: a sign-in that completes yields a
//! browser session and a one-time code instead of tokens, and the tokens come from the
//! code, at the token endpoint, bound to the client, its redirect URI and the PKCE verifier.

pub(crate) mod authorize;
pub(crate) mod browser;
pub(crate) mod code;
pub(crate) mod pages;

use crate::auth::{for_hosted_page, Auth, AuthOutcome, SignedIn};
use crate::clock::SharedClock;
use crate::directory::{Dead, Directory, TokenUser, UserCheckError};
use crate::federation::FlowState;
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::oauth::{ClientAuth, OAuth, OAuthError, TokenResponse};
use crate::secrets::ClientSecrets;
use crate::signup::{SignUpResult, Signup, TriggerInput};
use crate::store::Store;
use crate::tokens::{Continuation, Tokens};
use crate::AppError;
use authorize::{Authorize, AuthorizeError, Params};
use browser::{BrowserSession, Cookies};
use code::{CodePayload, CODE_PURPOSE, CODE_TTL_MS};
use signet_core::{Command, RevokeRefreshFamily, StartRefreshFamily};
use signet_crypto::Sealer;
use std::collections::BTreeMap;

/// An authorization request's parameters as a query string (sorted, so a page's links are
/// stable).
pub(crate) fn query_of(params: &Params) -> String {
    let mut pairs: Vec<(&String, &String)> = params.iter().collect();
    pairs.sort();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A use case's error as the page shows it (a server error stays one).
fn page_error(e: AppError) -> AuthorizeError {
    match e {
        e if e.http_status().is_server_error() => AuthorizeError::Server(e),
        e => AuthorizeError::Page(e.to_string()),
    }
}

/// The hosted sign-in feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Hosted {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    sealer: Sealer,
    secrets: ClientSecrets,
    auth: Auth,
    signup: Signup,
    oauth: OAuth,
    tokens: Tokens,
    pub(crate) federation: crate::federation::Federation,
    pub(crate) cookies: Cookies,
}

impl Hosted {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        sealer: Sealer,
        secrets: ClientSecrets,
        auth: Auth,
        signup: Signup,
        oauth: OAuth,
        tokens: Tokens,
        federation: crate::federation::Federation,
        public_url: &str,
    ) -> Hosted {
        Hosted {
            store,
            dir,
            clock,
            sealer,
            secrets,
            auth,
            signup,
            oauth,
            tokens,
            federation,
            cookies: Cookies::new(public_url),
        }
    }

    /// The `_csrf` form field for a browser's CSRF cookie.
    pub(crate) fn csrf_field(&self, cookie: &str) -> String {
        browser::csrf_field(&self.sealer, cookie)
    }

    /// Whether a form's `_csrf` field belongs to the browser's CSRF cookie.
    pub(crate) fn csrf_ok(&self, cookie: Option<&str>, field: Option<&str>) -> bool {
        browser::csrf_ok(&self.sealer, cookie, field)
    }

    /// Check an authorization request (see [`authorize`]).
    pub(crate) async fn authorize(
        &self,
        pool_id: &str,
        params: &Params,
    ) -> Result<Authorize, AuthorizeError> {
        let pool = match self.dir.pool(pool_id).await {
            Ok(p) => p,
            Err(AppError::ResourceNotFound(_) | AppError::InvalidParameter(_)) => {
                return Err(AuthorizeError::Page(
                    "This user pool does not exist.".into(),
                ))
            }
            Err(e) => return Err(AuthorizeError::Server(e)),
        };
        let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
        let client = match crate::validate::client_id(client_id) {
            Ok(()) => self.dir.active_client(client_id).await,
            Err(e) => Err(e),
        };
        let (client, redirect) = authorize::client_and_redirect(&pool.id, client, params)?;
        // `idp_identifier` names a provider through the pool's identifiers.
        let mut params = params.clone();
        if let (None, Some(id)) = (
            params.get("identity_provider"),
            params.get("idp_identifier").cloned(),
        ) {
            match self.federation.provider_by_identifier(&pool.id, &id).await {
                Ok(p) => {
                    params.insert("identity_provider".into(), p.name);
                }
                Err(AppError::ResourceNotFound(_) | AppError::InvalidParameter(_)) => {
                    return Err(AuthorizeError::Redirect {
                        redirect_uri: redirect,
                        error: "invalid_request",
                        description: format!("idp_identifier {id} names no identity provider"),
                        state: params.get("state").cloned(),
                    })
                }
                Err(e) => return Err(AuthorizeError::Server(e)),
            }
        }
        authorize::rest(pool, client, redirect, &params)
    }

    /// Where to send the browser to sign in at the request's provider.
    pub(crate) async fn federate(
        &self,
        a: &Authorize,
        params: &Params,
        csrf_cookie: &str,
    ) -> Result<String, AppError> {
        let name = a.provider.as_deref().unwrap_or_default();
        let p = self.federation.describe_provider(&a.pool.id, name).await?;
        // The request comes back without its provider: checked again, then signed in.
        let params: BTreeMap<String, String> = params
            .iter()
            .filter(|(k, _)| *k != "identity_provider" && *k != "idp_identifier")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.federation
            .start(&p, &params, a.login_hint.as_deref(), csrf_cookie)
            .await
    }

    /// A provider's answer at `/oauth2/idpresponse`: the request the browser left with,
    /// checked again, and the pool's user the provider vouched for.
    pub(crate) async fn federated_return(
        &self,
        pool_id: &str,
        query: &Params,
        csrf_cookie: Option<&str>,
    ) -> Result<(Authorize, SignedIn), AuthorizeError> {
        let page = page_error;
        let state = query
            .get("state")
            .ok_or_else(|| AuthorizeError::Page("The provider sent no state back.".into()))?;
        let (s, a) = self.resume(pool_id, state, csrf_cookie).await?;
        let back = |error: &'static str, description: String| AuthorizeError::Redirect {
            redirect_uri: a.redirect_uri.clone(),
            error,
            description,
            state: a.state.clone(),
        };
        if let Some(e) = query.get("error") {
            let error = match e.as_str() {
                "access_denied" => "access_denied",
                "temporarily_unavailable" => "temporarily_unavailable",
                _ => "server_error",
            };
            return Err(back(error, format!("{} answered {e}", s.provider)));
        }
        let code = query
            .get("code")
            .ok_or_else(|| back("server_error", format!("{} sent no code", s.provider)))?;
        let p = self
            .federation
            .describe_provider(pool_id, &s.provider)
            .await
            .map_err(page)?;
        let apple_user = query.get("user").map(String::as_str);
        let who = self
            .federation
            .finish(&p, &s, code, apple_user)
            .await
            .map_err(page)?;
        let signed = self
            .federation
            .user_for(&a.pool, &p, &who)
            .await
            .map_err(page)?;
        Ok((a, signed))
    }

    /// A flow coming back from a provider: its state (this pool's, unexpired, this
    /// browser's) and the authorization request it left with, checked again.
    async fn resume(
        &self,
        pool_id: &str,
        state: &str,
        csrf_cookie: Option<&str>,
    ) -> Result<(FlowState, Authorize), AuthorizeError> {
        let s = self
            .federation
            .open_state(pool_id, state, csrf_cookie)
            .map_err(page_error)?;
        let params: Params = s.params.clone().into_iter().collect();
        let a = self.authorize(pool_id, &params).await?;
        Ok((s, a))
    }

    /// A SAML IdP's POST to `/saml2/idpresponse`: the Response checked and its assertion
    /// spent; the sealed answer the browser takes to the GET.
    pub(crate) async fn saml_post(
        &self,
        pool_id: &str,
        saml_response: &str,
        relay_state: &str,
    ) -> Result<String, AuthorizeError> {
        self.federation
            .saml_post(pool_id, saml_response, relay_state)
            .await
            .map_err(page_error)
    }

    /// The GET after a SAML IdP's POST: the flow's browser checked, then the pool's user
    /// the IdP vouched for.
    pub(crate) async fn saml_return(
        &self,
        pool_id: &str,
        sealed_result: &str,
        csrf_cookie: Option<&str>,
    ) -> Result<(Authorize, SignedIn), AuthorizeError> {
        let (state, who) = self
            .federation
            .saml_result(sealed_result)
            .map_err(page_error)?;
        let (s, a) = self.resume(pool_id, &state, csrf_cookie).await?;
        let p = self
            .federation
            .describe_provider(pool_id, &s.provider)
            .await
            .map_err(page_error)?;
        let signed = self
            .federation
            .user_for(&a.pool, &p, &who)
            .await
            .map_err(page_error)?;
        Ok((a, signed))
    }

    /// The pool's SAML service-provider metadata.
    pub(crate) async fn sp_metadata(&self, pool_id: &str) -> Result<String, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        Ok(self.federation.sp_metadata(&pool.id))
    }

    /// The browser's session for this request's pool, if it has one that still stands for
    /// its user (the one user check: exists, enabled, not signed out since).
    pub(crate) async fn session(
        &self,
        a: &Authorize,
        cookie: Option<&str>,
    ) -> Result<Option<BrowserSession>, AppError> {
        let Some(s) = cookie
            .and_then(|c| browser::open_session(&self.sealer, c, &a.pool.id, self.clock.now_ms()))
        else {
            return Ok(None);
        };
        let who = TokenUser {
            username: s.username.clone(),
            sub: s.sub.clone(),
            client_id: a.client.client_id.clone(),
            signed_in_ms: s.iat_ms,
        };
        match self.dir.live_user(&a.pool, &who).await {
            Ok(_) => Ok(Some(s)),
            Err(UserCheckError::Dead(_)) => Ok(None),
            Err(UserCheckError::Other(e)) => Err(e),
        }
    }

    /// A new browser session for a completed sign-in; returns it and its cookie value.
    pub(crate) fn start_session(&self, pool_id: &str, who: &SignedIn) -> (BrowserSession, String) {
        let now = self.clock.now_ms();
        let s = BrowserSession {
            v: 1,
            pool: pool_id.to_string(),
            sub: who.sub.clone(),
            username: who.username.clone(),
            iat_ms: now,
            exp_ms: now + browser::SESSION_TTL_MS,
        };
        let sealed = browser::seal_session(&self.sealer, &s);
        (s, sealed)
    }

    /// The authorization code for a request and the browser's signed-in user; and the URL to
    /// send the browser to with it.
    pub(crate) fn issue_code(&self, a: &Authorize, s: &BrowserSession) -> String {
        let now = self.clock.now_ms();
        let payload = CodePayload {
            v: 1,
            pool: a.pool.id.clone(),
            client: a.client.client_id.clone(),
            redirect_uri: a.redirect_uri.clone(),
            sub: s.sub.clone(),
            username: s.username.clone(),
            scope: a.scopes.join(" "),
            nonce: a.nonce.clone(),
            challenge: a.challenge.clone(),
            // The family's time is the sign-in's: a sign-out after it ends the family.
            fam: crate::ids::new_family_id(s.iat_ms),
            auth_time: s.iat_ms / 1000,
            exp_ms: now + CODE_TTL_MS,
        };
        let code = self.sealer.seal(
            CODE_PURPOSE,
            &serde_json::to_vec(&payload).expect("code serialises"),
        );
        let mut q = vec![("code", code.as_str())];
        if let Some(st) = &a.state {
            q.push(("state", st));
        }
        authorize::with_query(&a.redirect_uri, &q)
    }

    /// Username and password from the sign-in page.
    pub(crate) async fn sign_in(
        &self,
        a: &Authorize,
        username: &str,
        password: &str,
    ) -> Result<AuthOutcome, AppError> {
        let r = for_hosted_page(
            self.auth
                .password_on_hosted_page(&a.pool, &a.client, username, password),
        )
        .await;
        self.setup_on_page(r).await
    }

    /// MFA_SETUP on a page: the authenticator's key is made at once (AssociateSoftwareToken
    /// with the sign-in's session) to be shown, with the session that verifies it.
    async fn setup_on_page(
        &self,
        r: Result<AuthOutcome, AppError>,
    ) -> Result<AuthOutcome, AppError> {
        match r? {
            AuthOutcome::Challenge {
                name: Challenge::MfaSetup,
                session,
                ..
            } => {
                let (key, next) = self
                    .auth
                    .associate_software_token(None, Some(&session))
                    .await?;
                let session = next.ok_or_else(|| {
                    AppError::Internal("associating during sign-in gave no session".into())
                })?;
                Ok(AuthOutcome::Challenge {
                    name: Challenge::MfaSetup,
                    session,
                    parameters: BTreeMap::from([("SECRET_CODE".to_string(), key)]),
                })
            }
            other => Ok(other),
        }
    }

    /// An answer to a challenge page.
    pub(crate) async fn answer(
        &self,
        a: &Authorize,
        challenge: &str,
        session: &str,
        answer: &str,
    ) -> Result<AuthOutcome, AppError> {
        let challenge = Challenge::parse(challenge)?;
        if challenge == Challenge::MfaSetup {
            // The app's first code verifies the key; the verified session completes it.
            let verified = self
                .auth
                .verify_software_token(None, Some(session), answer, "Authenticator")
                .await?
                .ok_or_else(|| {
                    AppError::Internal("verifying during sign-in gave no session".into())
                })?;
            let r = for_hosted_page(self.auth.answer_on_hosted_page(
                &a.client,
                Challenge::MfaSetup,
                &verified,
                &BTreeMap::new(),
            ))
            .await;
            return self.setup_on_page(r).await;
        }
        let key = match challenge {
            Challenge::NewPasswordRequired => "NEW_PASSWORD",
            Challenge::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA_CODE",
            Challenge::SmsMfa => "SMS_MFA_CODE",
            Challenge::EmailOtp => "EMAIL_OTP_CODE",
            Challenge::SelectMfaType => "ANSWER",
            _ => {
                return Err(AppError::invalid(
                    "this challenge is not answered on a page",
                ))
            }
        };
        let responses = BTreeMap::from([(key.to_string(), answer.to_string())]);
        let r = for_hosted_page(
            self.auth
                .answer_on_hosted_page(&a.client, challenge, session, &responses),
        )
        .await;
        self.setup_on_page(r).await
    }

    /// The attributes the sign-up page asks for: the pool's required ones and those it
    /// verifies by code (where the confirmation code goes), except one that is the username.
    pub(crate) fn sign_up_attributes(&self, a: &Authorize) -> Vec<String> {
        let c = &a.pool.config;
        let mut out: Vec<String> = Vec::new();
        let wanted = c
            .schema
            .iter()
            .filter(|s| s.required)
            .map(|s| &s.name)
            .chain(c.auto_verified_attributes.iter());
        for name in wanted {
            if !out.contains(name) && !c.username_attributes.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }

    fn secret_hash(&self, a: &Authorize, username: &str) -> Option<String> {
        self.secrets.own_secret_hash(&a.client, username)
    }

    /// The sign-up page's form.
    pub(crate) async fn sign_up(
        &self,
        a: &Authorize,
        username: &str,
        password: &str,
        attributes: &[(String, String)],
    ) -> Result<SignUpResult, AppError> {
        let hash = self.secret_hash(a, username);
        self.signup
            .sign_up(
                &a.client.client_id,
                hash.as_deref(),
                username,
                password,
                attributes,
                &TriggerInput::default(),
            )
            .await
    }

    /// The confirmation page's form.
    pub(crate) async fn confirm(
        &self,
        a: &Authorize,
        username: &str,
        code: &str,
    ) -> Result<(), AppError> {
        let hash = self.secret_hash(a, username);
        self.signup
            .confirm_sign_up(&a.client.client_id, hash.as_deref(), username, code)
            .await
    }

    /// The forgot-password page's form.
    pub(crate) async fn forgot(&self, a: &Authorize, username: &str) -> Result<(), AppError> {
        let hash = self.secret_hash(a, username);
        self.signup
            .forgot_password(&a.client.client_id, hash.as_deref(), username)
            .await
            .map(|_| ())
    }

    /// The reset page's form.
    pub(crate) async fn confirm_forgot(
        &self,
        a: &Authorize,
        username: &str,
        code: &str,
        password: &str,
    ) -> Result<(), AppError> {
        let hash = self.secret_hash(a, username);
        self.signup
            .confirm_forgot_password(
                &a.client.client_id,
                hash.as_deref(),
                username,
                code,
                password,
            )
            .await
    }

    /// `/logout`: where to send the browser once its session cookie is gone. With
    /// `logout_uri`, it must be one of the client's logout URLs; with `redirect_uri` and
    /// `response_type`, a new sign-in starts (the authorization request's own checks).
    pub(crate) async fn logout(
        &self,
        pool_id: &str,
        params: &Params,
    ) -> Result<Option<String>, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_string());
        let Some(client_id) = params.get("client_id") else {
            return Ok(None);
        };
        if let Some(uri) = params.get("logout_uri") {
            let client = match self.dir.active_client(client_id).await {
                Ok(c) if c.pool_id == pool_id => c,
                Ok(_) | Err(AppError::ResourceNotFound(_) | AppError::NotAuthorized(_)) => {
                    return Err(page("The application (client_id) is not known."))
                }
                Err(AppError::InvalidParameter(_)) => return Err(page("Bad client_id.")),
                Err(e) => return Err(AuthorizeError::Server(e)),
            };
            if !client.logout_urls.iter().any(|u| u == uri) {
                return Err(page(
                    "The logout_uri is not registered for this application.",
                ));
            }
            return Ok(Some(uri.clone()));
        }
        self.authorize(pool_id, params).await?;
        Ok(Some(format!("login?{}", query_of(params))))
    }

    /// `grant_type=authorization_code` at the token endpoint (RFC 6749 §4.1.3, RFC 7636
    /// §4.6): the client authenticates (a public one names itself), the code opens, is
    /// unexpired and was made for this pool, client and redirect URI, the verifier answers
    /// its challenge, the user still stands — and only then is the code spent, once,
    /// through the log. A code presented again revokes the family the first exchange began.
    pub(crate) async fn code_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.oauth.authenticate_client(pool_id, auth).await?;
        let bad = |m: &str| OAuthError::InvalidGrant(m.to_string());
        if !client.oauth_flows.contains(&signet_core::OAuthFlow::Code) {
            return Err(OAuthError::UnauthorizedClient(
                "The client may not use the authorization_code grant.".into(),
            ));
        }
        let p: CodePayload = self
            .sealer
            .open(CODE_PURPOSE, code)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| bad("The authorization code is not valid."))?;
        if p.pool != pool_id || p.client != client.client_id {
            return Err(bad("The authorization code was issued to another client."));
        }
        if self.clock.now_ms() >= p.exp_ms {
            return Err(bad("The authorization code has expired."));
        }
        // RFC 6749 §4.1.3: the same redirect_uri as the authorization request; Cognito
        // asks for it always, and so do we (the code was always bound to one).
        if redirect_uri != Some(p.redirect_uri.as_str()) {
            return Err(bad(
                "redirect_uri does not match the authorization request.",
            ));
        }
        if !code::pkce_answers(p.challenge.as_deref(), verifier) {
            return Err(bad("The code_verifier does not match the code_challenge."));
        }
        let pool = self.dir.pool(pool_id).await?;
        let who = TokenUser {
            username: p.username.clone(),
            sub: p.sub.clone(),
            client_id: client.client_id.clone(),
            signed_in_ms: crate::ids::family_time_ms(&p.fam)
                .ok_or_else(|| bad("The authorization code is not valid."))?,
        };
        let view = self.dir.live_user(&pool, &who).await.map_err(|e| match e {
            UserCheckError::Dead(Dead::Disabled) => bad("User is disabled."),
            UserCheckError::Dead(_) => bad("The authorization code is no longer valid."),
            UserCheckError::Other(e) => OAuthError::Server(e),
        })?;
        let expires_at_ms = crate::ids::family_time_ms(&p.fam).unwrap_or_default()
            + client.validity.refresh_s * 1000;
        let spent = self
            .store
            .write(Command::StartRefreshFamily(StartRefreshFamily {
                family_id: p.fam.clone(),
                expires_at_ms,
            }))
            .await;
        match spent {
            Ok(_) => {}
            Err(AppError::NotAuthorized(_)) => {
                // A replay (RFC 6749 §4.1.2, RFC 9700 §4.5): whoever holds this code again
                // may have stolen it; what the first exchange issued is revoked.
                self.store
                    .write(Command::RevokeRefreshFamily(RevokeRefreshFamily {
                        family_id: p.fam.clone(),
                        expires_at_ms,
                    }))
                    .await?;
                return Err(bad("The authorization code has been used."));
            }
            Err(e) => return Err(OAuthError::Server(e)),
        }
        let r = self
            .tokens
            .issue(
                &pool,
                &client,
                &view.user,
                &view.groups,
                Some(Continuation {
                    family: p.fam,
                    generation: 0,
                    expires_at_ms,
                    auth_time: p.auth_time,
                    rotate: true,
                    scope: Some(p.scope),
                    nonce: p.nonce,
                }),
                Trigger::HostedAuth,
                None,
            )
            .await?;
        Ok(TokenResponse {
            id_token: r.has_id_token().then(|| r.id_token.clone()),
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            expires_in: r.expires_in,
            scope: None,
        })
    }
}
