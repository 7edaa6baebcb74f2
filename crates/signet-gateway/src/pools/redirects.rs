//! The hosted sign-in's settings of an app client: callback and logout URLs, the default
//! redirect, the identity providers. Checked once here, on Create and Update alike; the
//! hosted pages then compare a request's `redirect_uri` with these byte for byte.

use crate::AppError;
use signet_core::OAuthFlow;

/// Most callback (and logout) URLs a client holds (Cognito's limit).
pub const MAX_REDIRECT_URLS: usize = 100;
/// Longest callback or logout URL (Cognito's limit).
pub const MAX_REDIRECT_CHARS: usize = 1024;
/// The pool's own users on the hosted pages (Cognito's name).
pub const COGNITO_PROVIDER: &str = "COGNITO";

/// Schemes no browser should be sent to with a code: they run or read what follows.
const FORBIDDEN_SCHEMES: [&str; 7] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "about",
    "blob",
    "filesystem",
];

/// Whether a URL may receive users from the hosted pages: absolute, no fragment (RFC 6749
/// §3.1.2), no user-info, and `https`; `http` only to this machine (RFC 8252 §7.3:
/// loopback redirects of native apps and development); or an app's own scheme (RFC 8252
/// §7.1, e.g. `com.example.app:/cb`) other than the ones a browser would execute.
pub(crate) fn check_redirect_url(what: &str, raw: &str) -> Result<(), AppError> {
    let bad = |why: &str| AppError::invalid(format!("{what}: {raw:?} {why}"));
    if raw.is_empty() || raw.len() > MAX_REDIRECT_CHARS {
        return Err(bad(&format!(
            "must be 1 to {MAX_REDIRECT_CHARS} characters"
        )));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or control characters"));
    }
    let url = url::Url::parse(raw).map_err(|_| bad("is not an absolute URL"))?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err(bad("must not contain a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain user information"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => match url.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => Err(bad("must use https (http only for localhost)")),
        },
        s if FORBIDDEN_SCHEMES.contains(&s) => Err(bad("uses a forbidden scheme")),
        _ => Ok(()),
    }
}

/// The hosted sign-in settings as given, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct HostedInput {
    /// Callback URLs.
    pub callback_urls: Vec<String>,
    /// Logout URLs.
    pub logout_urls: Vec<String>,
    /// Default redirect URI (empty: none).
    pub default_redirect_uri: String,
    /// Identity providers (`COGNITO`, provider names).
    pub identity_providers: Vec<String>,
}

/// The hosted sign-in settings, checked: each list bounded and without repeats, every URL
/// acceptable, the default one of the callbacks, and the `code` flow given callbacks and
/// identity providers to use (else the client could start sign-ins that end nowhere).
pub(crate) fn check_hosted(
    input: &HostedInput,
    flows: &[OAuthFlow],
    known_providers: &[String],
) -> Result<(), AppError> {
    for (what, list) in [
        ("CallbackURLs", &input.callback_urls),
        ("LogoutURLs", &input.logout_urls),
    ] {
        if list.len() > MAX_REDIRECT_URLS {
            return Err(AppError::invalid(format!(
                "{what} has at most {MAX_REDIRECT_URLS} entries ({} given)",
                list.len()
            )));
        }
        for (i, u) in list.iter().enumerate() {
            check_redirect_url(what, u)?;
            if list[..i].contains(u) {
                return Err(AppError::invalid(format!("{what}: {u} is given twice")));
            }
        }
    }
    if !input.default_redirect_uri.is_empty()
        && !input.callback_urls.contains(&input.default_redirect_uri)
    {
        return Err(AppError::invalid(
            "DefaultRedirectURI must be one of the CallbackURLs",
        ));
    }
    for (i, p) in input.identity_providers.iter().enumerate() {
        if p != COGNITO_PROVIDER && !known_providers.contains(p) {
            return Err(AppError::invalid(format!(
                "SupportedIdentityProviders: {p} is not an identity provider of the pool"
            )));
        }
        if input.identity_providers[..i].contains(p) {
            return Err(AppError::invalid(format!(
                "SupportedIdentityProviders: {p} is given twice"
            )));
        }
    }
    if flows.contains(&OAuthFlow::Code) {
        if input.callback_urls.is_empty() {
            return Err(AppError::invalid(
                "the code flow needs at least one callback URL",
            ));
        }
        if input.identity_providers.is_empty() {
            return Err(AppError::invalid(
                "the code flow needs SupportedIdentityProviders (COGNITO for the pool's own users)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls_follow_rfc_8252_and_refuse_what_a_browser_would_run() {
        for ok in [
            "https://app.example.com/cb",
            "https://app.example.com/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080/",
            "http://[::1]/cb",
            "com.example.app:/oauth2redirect",
            "myapp://callback",
        ] {
            check_redirect_url("CallbackURLs", ok).expect(ok);
        }
        for bad in [
            "",
            "/relative/cb",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "https://app.example.com/c b",
            "http://localhost.evil.example/cb",
        ] {
            assert!(check_redirect_url("CallbackURLs", bad).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_REDIRECT_CHARS));
        assert!(check_redirect_url("CallbackURLs", &long).is_err());
    }

    #[test]
    fn the_code_flow_needs_callbacks_and_providers_and_the_default_is_a_callback() {
        let mut h = HostedInput {
            callback_urls: vec!["https://a.example/cb".into()],
            identity_providers: vec![COGNITO_PROVIDER.into()],
            ..HostedInput::default()
        };
        check_hosted(&h, &[OAuthFlow::Code], &[]).unwrap();
        h.default_redirect_uri = "https://a.example/other".into();
        assert!(check_hosted(&h, &[OAuthFlow::Code], &[]).is_err());
        h.default_redirect_uri = "https://a.example/cb".into();
        check_hosted(&h, &[OAuthFlow::Code], &[]).unwrap();
        h.identity_providers.push("Corp".into());
        assert!(check_hosted(&h, &[OAuthFlow::Code], &[]).is_err());
        check_hosted(&h, &[OAuthFlow::Code], &["Corp".into()]).unwrap();
        let none = HostedInput::default();
        assert!(check_hosted(&none, &[OAuthFlow::Code], &[]).is_err());
        check_hosted(&none, &[OAuthFlow::ClientCredentials], &[]).unwrap();
        let twice = HostedInput {
            callback_urls: vec!["https://a.example/cb".into(), "https://a.example/cb".into()],
            ..HostedInput::default()
        };
        assert!(check_hosted(&twice, &[], &[]).is_err());
    }
}
