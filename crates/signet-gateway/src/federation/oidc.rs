//! The round trip to a provider (authorization code flow, with PKCE towards the provider
//! too): the redirect out, and on return the code exchanged. OpenID Connect providers (OIDC,
//! Google): the ID token verified (the provider's JWKS, issuer, audience = our client id
//! there, expiry, the nonce of this sign-in) and the user info merged. OAuth 2.0 providers
//! (Facebook, Login with Amazon): the user from their user-info API with the access token.

use super::Federation;
use crate::AppError;
use bytes::Bytes;
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use signet_core::{IdentityProvider, ProviderType};
use signet_verify::{Expected, TokenUse};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Seal purpose of the state sent to a provider.
const STATE_PURPOSE: &str = "federation-state";
/// How long a browser may stay at the provider.
const STATE_TTL_MS: u64 = 10 * 60 * 1000;
/// How long a discovery document is trusted.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);
/// Leeway for the provider's clock.
const LEEWAY_S: u64 = 60;

/// Where a provider's endpoints are.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub issuer: String,
    pub authorize: String,
    pub token: String,
    pub jwks: String,
    pub userinfo: Option<String>,
}

/// What travels to the provider and back in `state` (sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FlowState {
    pub v: u8,
    pub pool: String,
    pub provider: String,
    /// The authorization request the browser came with.
    pub params: BTreeMap<String, String>,
    pub nonce: String,
    pub verifier: String,
    /// SHA-256 of the browser's CSRF cookie: the flow ends only in the browser it began in.
    pub browser: String,
    pub exp_ms: u64,
}

/// What a provider said about the user.
#[derive(Debug, Clone)]
pub(crate) struct ProviderUser {
    pub subject: String,
    pub claims: Map<String, Value>,
}

/// Whether the provider speaks OpenID Connect (an ID token) rather than plain OAuth 2.0.
fn is_oidc(p: &IdentityProvider) -> bool {
    matches!(
        p.provider_type,
        ProviderType::Oidc | ProviderType::Google | ProviderType::SignInWithApple
    )
}

fn is_apple(p: &IdentityProvider) -> bool {
    p.provider_type == ProviderType::SignInWithApple
}

fn browser_hash(csrf_cookie: &str) -> String {
    hex::encode(signet_crypto::sha256(csrf_cookie.as_bytes()))
}

fn start_again() -> AppError {
    AppError::NotAuthorized("The sign-in could not be completed: start again.".into())
}

fn failed(provider: &str, m: impl std::fmt::Display) -> AppError {
    AppError::NotAuthorized(format!("Sign-in with {provider} failed: {m}"))
}

impl Federation {
    /// The provider's endpoints: the ones its details name, the rest from its discovery
    /// document (whose issuer must be the configured one).
    async fn endpoints(&self, p: &IdentityProvider) -> Result<Endpoints, AppError> {
        if !is_oidc(p) {
            // Facebook, Login with Amazon: OAuth 2.0 endpoints (their defaults were filled
            // in when the provider was written), no ID token.
            let d = |k: &str| p.details.get(k).cloned().unwrap_or_default();
            return Ok(Endpoints {
                issuer: String::new(),
                authorize: d("authorize_url"),
                token: d("token_url"),
                jwks: String::new(),
                userinfo: Some(d("attributes_url")),
            });
        }
        let issuer = p
            .details
            .get("oidc_issuer")
            .cloned()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string();
        let given = |k: &str| p.details.get(k).cloned();
        if let (Some(a), Some(t), Some(j)) = (
            given("authorize_url"),
            given("token_url"),
            given("jwks_uri"),
        ) {
            return Ok(Endpoints {
                issuer,
                authorize: a,
                token: t,
                jwks: j,
                userinfo: given("attributes_url"),
            });
        }
        let cached = self
            .discovered
            .lock()
            .expect("discovery lock")
            .get(&issuer)
            .filter(|(at, _)| at.elapsed() < DISCOVERY_TTL)
            .map(|(_, e)| e.clone());
        let found = match cached {
            Some(e) => e,
            None => {
                let e = self.discover(&p.name, &issuer).await?;
                self.discovered
                    .lock()
                    .expect("discovery lock")
                    .insert(issuer.clone(), (Instant::now(), e.clone()));
                e
            }
        };
        Ok(Endpoints {
            issuer,
            authorize: given("authorize_url").unwrap_or(found.authorize),
            token: given("token_url").unwrap_or(found.token),
            jwks: given("jwks_uri").unwrap_or(found.jwks),
            userinfo: given("attributes_url").or(found.userinfo),
        })
    }

    async fn discover(&self, provider: &str, issuer: &str) -> Result<Endpoints, AppError> {
        let url = format!("{issuer}/.well-known/openid-configuration");
        let req = http::Request::get(&url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| failed(provider, e))?;
        let (status, body) =
            crate::outbound::provider_call(&self.http, req, self.allow_loopback_http)
                .await
                .map_err(AppError::ExternalService)?;
        if !status.is_success() {
            return Err(AppError::ExternalService(format!(
                "{url} answered {status}"
            )));
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|e| AppError::ExternalService(format!("{url}: not JSON: {e}")))?;
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        // OIDC Discovery §4.3: the document's issuer is exactly the one asked about.
        if text("issuer").as_deref().map(|i| i.trim_end_matches('/')) != Some(issuer) {
            return Err(AppError::ExternalService(format!(
                "{url}: the document names another issuer"
            )));
        }
        let need =
            |k: &str| text(k).ok_or_else(|| AppError::ExternalService(format!("{url}: no {k}")));
        Ok(Endpoints {
            issuer: issuer.to_string(),
            authorize: need("authorization_endpoint")?,
            token: need("token_endpoint")?,
            jwks: need("jwks_uri")?,
            userinfo: text("userinfo_endpoint"),
        })
    }

    fn redirect_uri(&self, pool_id: &str) -> String {
        format!("{}/oauth2/idpresponse", self.urls.issuer(pool_id))
    }

    /// Where to send the browser to sign in at `provider`, for the authorization request
    /// `params` of a browser whose CSRF cookie is `csrf_cookie`.
    pub(crate) async fn start(
        &self,
        p: &IdentityProvider,
        params: &BTreeMap<String, String>,
        login_hint: Option<&str>,
        csrf_cookie: &str,
    ) -> Result<String, AppError> {
        let state = FlowState {
            v: 1,
            pool: p.pool_id.clone(),
            provider: p.name.clone(),
            params: params.clone(),
            nonce: signet_crypto::random_hex_id(),
            verifier: signet_crypto::random_token::<32>(),
            browser: browser_hash(csrf_cookie),
            exp_ms: self.clock.now_ms() + STATE_TTL_MS,
        };
        if p.provider_type == ProviderType::Saml {
            return self.saml_start(p, state);
        }
        let e = self.endpoints(p).await?;
        crate::outbound::check_outbound_url(&e.authorize, self.allow_loopback_http)
            .map_err(|err| AppError::ExternalService(format!("{}: {err}", e.authorize)))?;
        let sealed = self.seal_state(&state);
        let challenge = signet_crypto::pkce_s256(&state.verifier);
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", p.details["client_id"].as_str()),
            ("scope", p.details["authorize_scopes"].as_str()),
            ("state", sealed.as_str()),
        ];
        if is_apple(p) {
            // Apple posts its answer when it shares a name or e-mail (and takes no PKCE).
            q.push(("response_mode", "form_post"));
        } else {
            q.push(("code_challenge", challenge.as_str()));
            q.push(("code_challenge_method", "S256"));
        }
        if is_oidc(p) {
            q.push(("nonce", state.nonce.as_str()));
        }
        let redirect = self.redirect_uri(&p.pool_id);
        q.push(("redirect_uri", redirect.as_str()));
        if let Some(h) = login_hint {
            q.push(("login_hint", h));
        }
        Ok(crate::urls::with_query(&e.authorize, &q))
    }

    /// The flow state sealed, to travel through the provider.
    pub(crate) fn seal_state(&self, state: &FlowState) -> String {
        self.sealer.seal(
            STATE_PURPOSE,
            &serde_json::to_vec(state).expect("state serialises"),
        )
    }

    /// Open a flow state: this pool's, unexpired (whichever browser brings it: see
    /// [`Federation::open_state`]).
    pub(crate) fn open_state_unbound(
        &self,
        pool_id: &str,
        state: &str,
    ) -> Result<FlowState, AppError> {
        let s: FlowState = self
            .sealer
            .open(STATE_PURPOSE, state)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(start_again)?;
        if s.pool != pool_id || self.clock.now_ms() >= s.exp_ms {
            return Err(start_again());
        }
        Ok(s)
    }

    /// Open the state a provider sent back: this pool, unexpired, the same browser.
    pub(crate) fn open_state(
        &self,
        pool_id: &str,
        state: &str,
        csrf_cookie: Option<&str>,
    ) -> Result<FlowState, AppError> {
        let bad = start_again;
        let s = self.open_state_unbound(pool_id, state)?;
        let same_browser = csrf_cookie.is_some_and(|c| {
            signet_crypto::constant_time_eq(browser_hash(c).as_bytes(), s.browser.as_bytes())
        });
        if !same_browser {
            return Err(bad());
        }
        Ok(s)
    }

    /// The provider's code exchanged at its token endpoint: the answer (access token, and
    /// for OpenID Connect the ID token). OpenID Connect clients authenticate with HTTP Basic
    /// (RFC 6749 §2.3.1); Facebook and Amazon take the secret in the body.
    async fn exchange(
        &self,
        p: &IdentityProvider,
        e: &Endpoints,
        s: &FlowState,
        code: &str,
    ) -> Result<Value, AppError> {
        let client_id = p.details["client_id"].clone();
        let redirect = self.redirect_uri(&p.pool_id);
        let secret = if is_apple(p) {
            Some(self.apple_client_secret(p)?)
        } else {
            self.detail(p, "client_secret")
        };
        let basic = secret.clone().filter(|_| is_oidc(p) && !is_apple(p));
        // Built in one go: the serializer may not live across an await (it is not Send).
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", &redirect);
            if !is_apple(p) {
                form.append_pair("code_verifier", &s.verifier);
            }
            if basic.is_none() {
                form.append_pair("client_id", &client_id);
                if let Some(secret) = &secret {
                    form.append_pair("client_secret", secret);
                }
            }
            form.finish()
        };
        let mut req = http::Request::post(&e.token)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        if let Some(secret) = basic {
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&client_id),
                enc(&secret)
            ));
            req = req.header(http::header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| failed(&p.name, err))?;
        let (status, body) =
            crate::outbound::provider_call(&self.http, req, self.allow_loopback_http)
                .await
                .map_err(AppError::ExternalService)?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = answer["error"].as_str().unwrap_or("refused");
            return Err(failed(
                &p.name,
                format!("its token endpoint answered {status} ({why})"),
            ));
        }
        Ok(answer)
    }

    /// Sign in with Apple's client secret: an ES256 JWT from the team, for the Services ID,
    /// signed with the team's key (five minutes: one is made for each exchange).
    fn apple_client_secret(&self, p: &IdentityProvider) -> Result<String, AppError> {
        let pem = self
            .detail(p, "private_key")
            .ok_or_else(|| failed(&p.name, "its private key can not be opened"))?;
        let key_id = p.details.get("key_id").cloned().unwrap_or_default();
        let key = signet_crypto::SigningKeyPair::es256_from_pkcs8_pem(&pem, &key_id)
            .map_err(|e| failed(&p.name, e))?;
        let now = self.clock.now_ms() / 1000;
        let claims = serde_json::json!({
            "iss": p.details.get("team_id"),
            "iat": now,
            "exp": now + 300,
            "aud": super::providers::APPLE_ISSUER,
            "sub": p.details["client_id"],
        });
        key.sign(&claims).map_err(|e| failed(&p.name, e))
    }

    /// The provider's code exchanged and who the user is there: from the ID token (checked)
    /// for OpenID Connect, from the user-info API for Facebook and Amazon. `apple_user`: the
    /// `user` field Apple posts at a user's first sign-in (a name: unsigned, so only names
    /// are taken from it, never an e-mail).
    pub(crate) async fn finish(
        &self,
        p: &IdentityProvider,
        s: &FlowState,
        code: &str,
        apple_user: Option<&str>,
    ) -> Result<ProviderUser, AppError> {
        let e = self.endpoints(p).await?;
        let answer = self.exchange(p, &e, s, code).await?;
        if !is_oidc(p) {
            return self.oauth_user(p, &e, &answer).await;
        }
        let client_id = p.details["client_id"].clone();
        let id_token = answer["id_token"]
            .as_str()
            .ok_or_else(|| failed(&p.name, "no ID token came back"))?;
        let expected = Expected {
            issuer: e.issuer.clone(),
            token_use: TokenUse::Oidc,
            clients: Some(vec![client_id.clone()]),
            leeway_s: LEEWAY_S,
        };
        let mut claims = self
            .keys
            .keys(&e.jwks, self.allow_loopback_http)?
            .verify(id_token, &expected)
            .await
            .map_err(|err| failed(&p.name, format!("its ID token is not valid: {err}")))?;
        // OIDC Core §3.1.3.7: the nonce of this request, or a replayed token.
        if claims.get("nonce").and_then(Value::as_str) != Some(s.nonce.as_str()) {
            return Err(failed(
                &p.name,
                "its ID token is not for this sign-in (nonce)",
            ));
        }
        // With several audiences, `azp` names the client the token was for.
        if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
            if azp != client_id {
                return Err(failed(
                    &p.name,
                    "its ID token was issued to another client (azp)",
                ));
            }
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && v.len() <= 255 && !v.contains('\0'))
            .ok_or_else(|| failed(&p.name, "its ID token has no subject"))?
            .to_string();
        if let (Some(url), Some(access)) = (&e.userinfo, answer["access_token"].as_str()) {
            let info = self.user_info(p, url, access).await?;
            // OIDC Core §5.3.2: the user info is about the same subject, or it is ignored.
            if info.get("sub").and_then(Value::as_str) == Some(subject.as_str()) {
                for (k, v) in info {
                    claims.entry(k).or_insert(v);
                }
            }
        }
        if let (true, Some(u)) = (is_apple(p), apple_user) {
            let u: Value = serde_json::from_str(u).unwrap_or(Value::Null);
            let first = u["name"]["firstName"].as_str().unwrap_or_default();
            let last = u["name"]["lastName"].as_str().unwrap_or_default();
            let bounded = |v: &str| v.len() <= 256 && !v.chars().any(char::is_control);
            if bounded(first) && bounded(last) && !(first.is_empty() && last.is_empty()) {
                claims.insert("given_name".into(), first.into());
                claims.insert("family_name".into(), last.into());
                claims.insert("name".into(), format!("{first} {last}").trim().into());
            }
        }
        Ok(ProviderUser { subject, claims })
    }

    /// Facebook's `/me` (`id`) or Amazon's `/user/profile` (`user_id`), with the access
    /// token the exchange gave: the subject and the claims.
    async fn oauth_user(
        &self,
        p: &IdentityProvider,
        e: &Endpoints,
        answer: &Value,
    ) -> Result<ProviderUser, AppError> {
        let access = answer["access_token"]
            .as_str()
            .ok_or_else(|| failed(&p.name, "no access token came back"))?;
        let url = e.userinfo.clone().unwrap_or_default();
        let mut claims = self.user_info(p, &url, access).await?;
        let id_field = match p.provider_type {
            ProviderType::Facebook => "id",
            _ => "user_id",
        };
        let subject = claims
            .get(id_field)
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|v| !v.is_empty() && v.len() <= 255 && !v.contains('\0'))
            .ok_or_else(|| failed(&p.name, format!("its user info has no {id_field}")))?;
        claims.insert("sub".into(), Value::String(subject.clone()));
        Ok(ProviderUser { subject, claims })
    }

    async fn user_info(
        &self,
        p: &IdentityProvider,
        url: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, AppError> {
        let post = p
            .details
            .get("attributes_request_method")
            .map(String::as_str)
            == Some("POST");
        let req = if post {
            http::Request::post(url)
        } else {
            http::Request::get(url)
        }
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {access_token}"),
        )
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::new()))
        .map_err(|e| failed(&p.name, e))?;
        let (status, body) =
            crate::outbound::provider_call(&self.http, req, self.allow_loopback_http)
                .await
                .map_err(AppError::ExternalService)?;
        if !status.is_success() {
            return Err(failed(&p.name, format!("its user info answered {status}")));
        }
        serde_json::from_slice(&body).map_err(|_| failed(&p.name, "its user info is not JSON"))
    }
}
