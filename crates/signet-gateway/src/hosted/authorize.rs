//! An authorization request (`/oauth2/authorize`, and the same query carried through the
//! hosted pages), checked in RFC 6749 §4.1.2.1's order: until the client and its redirect URI
//! are known to be right, an error is shown to the user and never redirected (an open
//! redirector otherwise); after that, errors go back to the client's redirect URI.

#[cfg(test)]
use crate::pools::redirects::COGNITO_PROVIDER;
use crate::AppError;
use signet_core::{AppClient, OAuthFlow, UserPool};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest `state`, `nonce` or `login_hint` accepted.
const MAX_PARAM_CHARS: usize = 2048;

/// What `prompt` asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// Use the browser's session if it has one, else the sign-in page.
    Default,
    /// Sign in again even with a session (`login`, `select_account`).
    Login,
    /// Never show a page: a session, or `login_required`.
    None,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub(crate) struct Authorize {
    pub pool: Arc<UserPool>,
    pub client: Arc<AppClient>,
    pub redirect_uri: String,
    pub state: Option<String>,
    /// Granted scopes (a subset of the client's), in the order asked.
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    /// S256 code challenge.
    pub challenge: Option<String>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    /// The provider the request names (`identity_provider`, or the one its
    /// `idp_identifier` names), if any.
    pub provider: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug)]
pub(crate) enum AuthorizeError {
    /// Shown to the user, never redirected: the client or the redirect URI is not right.
    Page(String),
    /// Sent back to the (checked) redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
    /// The store could not answer.
    Server(AppError),
}

/// The parameters as they came (a parameter given twice is already refused).
pub(crate) type Params = HashMap<String, String>;

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Check the client and redirect URI; errors here are [`AuthorizeError::Page`].
pub(crate) fn client_and_redirect(
    pool_id: &str,
    client: Result<Arc<AppClient>, AppError>,
    params: &Params,
) -> Result<(Arc<AppClient>, String), AuthorizeError> {
    let client = match client {
        Ok(c) if c.pool_id == pool_id => c,
        Ok(_) | Err(AppError::ResourceNotFound(_) | AppError::NotAuthorized(_)) => {
            return Err(AuthorizeError::Page(
                "The application (client_id) is not known to this user pool.".into(),
            ))
        }
        Err(AppError::InvalidParameter(_)) => {
            return Err(AuthorizeError::Page(
                "The request has no valid client_id.".into(),
            ))
        }
        Err(e) => return Err(AuthorizeError::Server(e)),
    };
    let redirect = match param(params, "redirect_uri") {
        Some(r) => r.to_string(),
        None => client
            .default_redirect_uri
            .clone()
            .ok_or_else(|| AuthorizeError::Page("The request has no redirect_uri.".into()))?,
    };
    // Exact, byte-for-byte (RFC 9700 §4.1.3): no prefix, no pattern, no normalisation.
    if !client.callback_urls.contains(&redirect) {
        return Err(AuthorizeError::Page(
            "The redirect_uri is not registered for this application.".into(),
        ));
    }
    Ok((client, redirect))
}

/// The rest of the request, once the client and redirect URI are right.
pub(crate) fn rest(
    pool: Arc<UserPool>,
    client: Arc<AppClient>,
    redirect_uri: String,
    params: &Params,
) -> Result<Authorize, AuthorizeError> {
    let state = param(params, "state").map(str::to_string);
    let fail = |error: &'static str, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_string(),
        state: state.clone().filter(|s| s.len() <= MAX_PARAM_CHARS),
    };
    for name in ["state", "nonce", "login_hint"] {
        if param(params, name).is_some_and(|v| v.len() > MAX_PARAM_CHARS) {
            return Err(fail("invalid_request", &format!("{name} is too long")));
        }
    }
    match param(params, "response_type") {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is offered",
            ))
        }
    }
    if !client.oauth_flows.contains(&OAuthFlow::Code) {
        return Err(fail(
            "unauthorized_client",
            "the client may not use the code flow",
        ));
    }
    let scopes: Vec<String> = match param(params, "scope") {
        None => client.oauth_scopes.clone(),
        Some(asked) => {
            let mut out: Vec<String> = Vec::new();
            for s in asked.split(' ').filter(|s| !s.is_empty()) {
                if !client.oauth_scopes.iter().any(|c| c == s) {
                    return Err(fail(
                        "invalid_scope",
                        &format!("the scope {s} is not allowed for this client"),
                    ));
                }
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_string());
                }
            }
            out
        }
    };
    // PKCE (RFC 7636, RFC 9700 §2.1.1): S256 only; required of public clients, who have
    // nothing else to bind the code to.
    let challenge = match (
        param(params, "code_challenge"),
        param(params, "code_challenge_method"),
    ) {
        (None, None) if client.secrets.is_empty() => {
            return Err(fail(
                "invalid_request",
                "a public client must send a PKCE code_challenge (S256)",
            ))
        }
        (None, None) => None,
        (Some(c), Some("S256")) if super::code::valid_challenge(c) => Some(c.to_string()),
        (Some(_), Some("S256")) => {
            return Err(fail(
                "invalid_request",
                "code_challenge is not a S256 value",
            ))
        }
        (None, Some(_)) => return Err(fail("invalid_request", "code_challenge is missing")),
        (Some(_), _) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            ))
        }
    };
    let prompt = match param(params, "prompt") {
        None => Prompt::Default,
        Some(p) => {
            let values: Vec<&str> = p.split(' ').filter(|s| !s.is_empty()).collect();
            if values.contains(&"none") && values.len() > 1 {
                return Err(fail("invalid_request", "prompt=none goes alone"));
            }
            if let Some(v) = values
                .iter()
                .find(|v| !["none", "login", "select_account", "consent"].contains(v))
            {
                return Err(fail(
                    "invalid_request",
                    &format!("prompt value {v} is not supported"),
                ));
            }
            if values.contains(&"none") {
                Prompt::None
            } else if values.contains(&"login") || values.contains(&"select_account") {
                Prompt::Login
            } else {
                // "consent": a user pool's own apps ask no consent; nothing to show.
                Prompt::Default
            }
        }
    };
    // `idp_identifier` was resolved to `identity_provider` by the caller (a store read).
    let provider = param(params, "identity_provider").map(str::to_string);
    if let Some(p) = &provider {
        if !client.identity_providers.iter().any(|c| c == p) {
            return Err(fail(
                "invalid_request",
                &format!("identity provider {p} is not enabled for this client"),
            ));
        }
    }
    if client.identity_providers.is_empty() {
        return Err(fail(
            "invalid_request",
            "the client has no identity provider to sign users in with",
        ));
    }
    Ok(Authorize {
        pool,
        client,
        redirect_uri,
        state,
        scopes,
        nonce: param(params, "nonce").map(str::to_string),
        challenge,
        prompt,
        login_hint: param(params, "login_hint").map(str::to_string),
        provider,
    })
}

pub(crate) use crate::urls::with_query;

#[cfg(test)]
mod tests {
    use super::*;

    fn client(secret: bool) -> Arc<AppClient> {
        let mut c: AppClient = serde_json::from_value(serde_json::json!({
            "client_id": "c1", "pool_id": "p1", "name": "web",
            "created_at_ms": 0, "updated_at_ms": 0,
        }))
        .unwrap();
        c.oauth_flows = vec![OAuthFlow::Code];
        c.oauth_scopes = vec!["openid".into(), "email".into()];
        c.callback_urls = vec!["https://app.example/cb".into()];
        c.identity_providers = vec![COGNITO_PROVIDER.into()];
        if secret {
            c.secrets = vec![serde_json::from_value(serde_json::json!({
                "id": "s", "hash": "h", "sealed": "x", "created_at_ms": 0
            }))
            .unwrap()];
        }
        Arc::new(c)
    }

    fn pool() -> Arc<UserPool> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "id": "p1", "name": "p", "created_at_ms": 0, "updated_at_ms": 0,
                "config": {}
            }))
            .unwrap(),
        )
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn a_wrong_client_or_redirect_is_shown_never_redirected() {
        let p = params(&[("redirect_uri", "https://app.example/cb/../evil")]);
        assert!(matches!(
            client_and_redirect("p1", Ok(client(false)), &p),
            Err(AuthorizeError::Page(_))
        ));
        let p = params(&[("redirect_uri", "https://app.example/cb")]);
        assert!(matches!(
            client_and_redirect("p2", Ok(client(false)), &p),
            Err(AuthorizeError::Page(_))
        ));
        assert!(matches!(
            client_and_redirect("p1", Err(AppError::ResourceNotFound("x".into())), &p),
            Err(AuthorizeError::Page(_))
        ));
        // No redirect_uri and no default: shown.
        assert!(matches!(
            client_and_redirect("p1", Ok(client(false)), &params(&[])),
            Err(AuthorizeError::Page(_))
        ));
        let (_, r) = client_and_redirect("p1", Ok(client(false)), &p).unwrap();
        assert_eq!(r, "https://app.example/cb");
    }

    fn error_of(r: Result<Authorize, AuthorizeError>) -> &'static str {
        match r {
            Err(AuthorizeError::Redirect { error, .. }) => error,
            Err(other) => panic!("not a redirect: {other:?}"),
            Ok(_) => "ok",
        }
    }

    #[test]
    fn public_clients_need_s256_pkce_and_nothing_else_passes_for_it() {
        let run = |c: Arc<AppClient>, p: &[(&str, &str)]| {
            error_of(rest(pool(), c, "https://app.example/cb".into(), &params(p)))
        };
        let code = ("response_type", "code");
        assert_eq!(run(client(false), &[code]), "invalid_request");
        assert_eq!(
            run(
                client(false),
                &[
                    code,
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "plain")
                ]
            ),
            "invalid_request"
        );
        assert_eq!(
            run(client(false), &[code, ("code_challenge", CHALLENGE)]),
            "invalid_request"
        );
        assert_eq!(
            run(
                client(false),
                &[
                    code,
                    ("code_challenge", "short"),
                    ("code_challenge_method", "S256")
                ]
            ),
            "invalid_request"
        );
        assert_eq!(
            run(
                client(false),
                &[
                    code,
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256")
                ]
            ),
            "ok"
        );
        // A confidential client may go without (its secret binds the code).
        assert_eq!(run(client(true), &[code]), "ok");
        assert_eq!(
            run(client(true), &[("response_type", "token")]),
            "unsupported_response_type"
        );
        assert_eq!(
            run(client(true), &[code, ("scope", "openid phone")]),
            "invalid_scope"
        );
        assert_eq!(
            run(client(true), &[code, ("prompt", "none login")]),
            "invalid_request"
        );
        assert_eq!(
            run(client(true), &[code, ("identity_provider", "Google")]),
            "invalid_request",
            "a provider the client does not offer"
        );
    }

    #[test]
    fn parameters_are_added_to_the_redirect_uri_query() {
        assert_eq!(
            with_query(
                "https://a.example/cb?x=1",
                &[("code", "a b"), ("state", "s&t")]
            ),
            "https://a.example/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
