//! Verifying the tokens of a logins map (provider name → token) against an identity pool:
//! Signet user pools (the gateway's own key set), external OIDC providers (their JWKS over
//! HTTP, cached) and Signet's own identity tokens (`signet-identity`). Every check is the
//! strict one of `signet-verify`.

use crate::directory::Directory;
use crate::tokens::Tokens;
use crate::urls::Urls;
use crate::urls::IDENTITY_PROVIDER;
use crate::AppError;
use serde_json::{Map, Value};
use signet_core::{IdentityPool, LoginProvider};
use signet_verify::{Expected, TokenUse, VerifyError};
use std::collections::BTreeMap;

/// Most logins one call may carry.
pub(crate) const MAX_LOGINS: usize = 10;

/// Leeway for other providers' clocks.
const LEEWAY_S: u64 = 30;

/// A login whose token passed every check.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedLogin {
    /// Provider name (the key of the logins map).
    pub provider: String,
    /// `sub` of the token.
    pub subject: String,
    /// The token's audience (the client it was issued to), if a single one.
    pub audience: Option<String>,
    /// All claims.
    pub claims: Map<String, Value>,
}

fn invalid(provider: &str, e: VerifyError) -> AppError {
    match e {
        VerifyError::Expired => {
            AppError::NotAuthorized(format!("Invalid login token. Token expired: {provider}"))
        }
        VerifyError::KeysUnavailable(m) => {
            AppError::ExternalService(format!("keys of {provider} unavailable: {m}"))
        }
        other => AppError::NotAuthorized(format!(
            "Invalid login token for provider {provider}: {other}"
        )),
    }
}

/// The logins feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Logins {
    dir: Directory,
    tokens: Tokens,
    urls: Urls,
    allow_loopback_http: bool,
    /// JWKS caches of external OIDC providers, by JWKS URL.
    oidc: crate::outbound::ExternalKeys,
    /// Calls to Facebook's and Amazon's token-checking APIs.
    http: crate::outbound::OutboundClient,
}

impl Logins {
    /// Built by the composition root.
    pub(crate) fn new(
        dir: Directory,
        tokens: Tokens,
        urls: Urls,
        allow_loopback_http: bool,
        oidc: crate::outbound::ExternalKeys,
    ) -> Logins {
        Logins {
            dir,
            tokens,
            urls,
            allow_loopback_http,
            oidc,
            http: crate::outbound::client(),
        }
    }
}

impl Logins {
    /// Who a Facebook or Login with Amazon access token belongs to, asked of the provider
    /// (as Cognito does): the token must have been issued to the pool's app. Facebook:
    /// `/app` names the app, `/me` the user; Amazon: `/auth/o2/tokeninfo` names both.
    async fn social_subject(
        &self,
        provider: &str,
        app_id: &str,
        endpoint: Option<&str>,
        token: &str,
    ) -> Result<String, AppError> {
        let refused = |why: &str| {
            AppError::NotAuthorized(format!(
                "Invalid login token for provider {provider}: {why}"
            ))
        };
        if token.is_empty() || token.len() > 4096 {
            return Err(refused("malformed"));
        }
        let enc = url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>();
        let get = async |url: String| -> Result<Value, AppError> {
            let req = http::Request::get(&url)
                .header(http::header::ACCEPT, "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .map_err(|e| AppError::ExternalService(e.to_string()))?;
            let (status, body) =
                crate::outbound::provider_call(&self.http, req, self.allow_loopback_http)
                    .await
                    .map_err(AppError::ExternalService)?;
            if status.is_server_error() {
                return Err(AppError::ExternalService(format!(
                    "{provider} answered {status}"
                )));
            }
            if !status.is_success() {
                return Err(refused("the provider does not accept it"));
            }
            serde_json::from_slice(&body).map_err(|_| refused("the provider's answer is not JSON"))
        };
        let text = |v: &Value, k: &str| match &v[k] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let (issued_to, subject) = if provider == "graph.facebook.com" {
            let base = endpoint
                .unwrap_or("https://graph.facebook.com")
                .trim_end_matches('/');
            let app = get(format!("{base}/app?access_token={enc}")).await?;
            let me = get(format!("{base}/me?fields=id&access_token={enc}")).await?;
            (text(&app, "id"), text(&me, "id"))
        } else {
            let base = endpoint
                .unwrap_or("https://api.amazon.com")
                .trim_end_matches('/');
            let info = get(format!("{base}/auth/o2/tokeninfo?access_token={enc}")).await?;
            (text(&info, "aud"), text(&info, "user_id"))
        };
        if issued_to.as_deref() != Some(app_id) {
            return Err(refused("it was issued to another app"));
        }
        subject
            .filter(|s| !s.is_empty() && s.len() <= 255 && !s.contains('\0'))
            .ok_or_else(|| refused("the provider names no user"))
    }

    async fn verify_login(
        &self,
        pool: &IdentityPool,
        provider: &str,
        token: &str,
    ) -> Result<VerifiedLogin, AppError> {
        let claims = if provider == IDENTITY_PROVIDER {
            let expected = Expected {
                issuer: self.urls.identity_issuer(),
                token_use: TokenUse::Identity,
                clients: Some(vec![pool.id.clone()]),
                leeway_s: 0,
            };
            self.tokens
                .verify_own(token, &expected)
                .map_err(|e| invalid(provider, e))?
        } else {
            // `idp.example/` and `idp.example` name one provider; the canonical name (no
            // trailing slash) is what identities are linked under.
            let wanted = provider.trim_end_matches('/');
            let Some(p) = pool.providers.iter().find(|p| p.name() == wanted) else {
                return Err(AppError::NotAuthorized(format!(
                    "Invalid login token. Provider {provider} is not configured for this identity pool."
                )));
            };
            match p {
                LoginProvider::UserPool { issuer, client_ids } => {
                    let expected = Expected {
                        issuer: issuer.clone(),
                        token_use: TokenUse::Id,
                        clients: Some(client_ids.clone()),
                        leeway_s: 0,
                    };
                    let claims = self
                        .tokens
                        .verify_own(token, &expected)
                        .map_err(|e| invalid(provider, e))?;
                    // A deleted user pool's tokens log nobody in.
                    let pool_id = issuer.rsplit('/').next().unwrap_or_default();
                    let user_pool = self.dir.pool(pool_id).await.map_err(|_| {
                        AppError::NotAuthorized(format!(
                            "Invalid login token: user pool {pool_id} no longer exists"
                        ))
                    })?;
                    self.tokens.check_id_token_user(&user_pool, &claims)
                        .await
                        .map_err(|e| {
                            e.or_answer(|_| {
                                AppError::NotAuthorized(format!(
                                    "Invalid login token for provider {provider}: the user is disabled or signed out"
                                ))
                            })
                        })?;
                    claims
                }
                LoginProvider::Social {
                    provider: name,
                    app_id,
                    endpoint,
                } => {
                    let subject = self
                        .social_subject(name, app_id, endpoint.as_deref(), token)
                        .await?;
                    let mut claims = Map::new();
                    claims.insert("sub".into(), Value::String(subject));
                    claims.insert("aud".into(), Value::String(app_id.clone()));
                    claims
                }
                LoginProvider::Oidc {
                    issuer,
                    jwks_url,
                    client_ids,
                } => {
                    let expected = Expected {
                        issuer: issuer.clone(),
                        token_use: TokenUse::Oidc,
                        clients: Some(client_ids.clone()),
                        leeway_s: LEEWAY_S,
                    };
                    self.oidc
                        .keys(jwks_url, self.allow_loopback_http)?
                        .verify(token, &expected)
                        .await
                        .map_err(|e| invalid(provider, e))?
                }
            }
        };
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && !s.contains('\0') && s.len() <= 255)
            .ok_or_else(|| {
                AppError::NotAuthorized(format!("Invalid login token for {provider}: no sub"))
            })?
            .to_string();
        let audience = claims
            .get("aud")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(VerifiedLogin {
            provider: provider.trim_end_matches('/').to_string(),
            subject,
            audience,
            claims,
        })
    }

    /// Verify every login of a call (in provider order). The developer provider is refused
    /// here: only an admin may vouch for developer user ids.
    pub(crate) async fn verify_logins(
        &self,
        pool: &IdentityPool,
        logins: &BTreeMap<String, String>,
    ) -> Result<Vec<VerifiedLogin>, AppError> {
        if logins.len() > MAX_LOGINS {
            return Err(AppError::invalid(format!(
                "at most {MAX_LOGINS} logins per call"
            )));
        }
        let mut out = Vec::with_capacity(logins.len());
        for (provider, token) in logins {
            if pool.developer_provider.as_deref() == Some(provider.as_str()) {
                return Err(AppError::NotAuthorized(format!(
                    "Logins of the developer provider {provider} need GetOpenIdTokenForDeveloperIdentity"
                )));
            }
            out.push(self.verify_login(pool, provider, token).await?);
        }
        Ok(out)
    }
}
