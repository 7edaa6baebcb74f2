//! OAuth 2.0 over HTTP, per pool: `POST {issuer}/oauth2/token` (RFC 6749:
//! client_credentials, authorization_code and refresh_token; client_secret_basic and client_secret_post),
//! `POST {issuer}/oauth2/revoke` (RFC 7009), `POST {issuer}/oauth2/introspect` (RFC 7662)
//! and `GET|POST {issuer}/oauth2/userInfo` (OIDC). Errors are RFC 6749 §5.2 JSON.

use crate::names::{GrantType, WireName};
use crate::oauth::{ClientAuth, OAuthError, TokenResponse};
use crate::{AppError, Gateway};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/{pool_id}/oauth2/token", post(token))
        .route("/{pool_id}/oauth2/revoke", post(revoke))
        .route("/{pool_id}/oauth2/introspect", post(introspect))
        .route("/{pool_id}/oauth2/userInfo", get(user_info).post(user_info))
        .layer(crate::api::http::oauth_edge::OAuthEdgeLayer)
}

/// Headers every token-endpoint answer carries (RFC 6749 §5.1).
fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An RFC 6749 §5.2 error answer (with a Basic challenge if the client used Basic).
pub(crate) fn error_response(e: &OAuthError, basic: bool) -> Response {
    let (_, status) = e.answer();
    if let OAuthError::Server(err) = e {
        tracing::warn!("oauth endpoint: {err}");
    }
    let mut h = HeaderMap::new();
    no_store(&mut h);
    match e {
        OAuthError::InvalidClient(_) if basic => {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"signet\""),
            );
        }
        OAuthError::InvalidToken(_) => {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        OAuthError::Server(AppError::TooManyRequests(m)) => {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::api::serving::retry_hint(m)),
            );
        }
        _ => {}
    }
    (status, h, axum::Json(e.body())).into_response()
}

fn json_ok(v: Value) -> Response {
    let mut h = HeaderMap::new();
    no_store(&mut h);
    (StatusCode::OK, h, axum::Json(v)).into_response()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_val(*b.get(i + 1)?)?;
                let lo = hex_val(*b.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parse a form body; a parameter given twice is an error (RFC 6749 §3.2).
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let bad = |m: &str| OAuthError::InvalidRequest(m.to_string());
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(bad("the body must be application/x-www-form-urlencoded"));
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(bad("request body too large"));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
    parse_pairs(text).map_err(OAuthError::InvalidRequest)
}

/// `name=value&…` (a form body or a query string) decoded; a parameter given twice is an
/// error (RFC 6749 §3.1, §3.2).
pub(crate) fn parse_pairs(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            form_decode(k).ok_or("bad percent-encoding")?,
            form_decode(v).ok_or("bad percent-encoding")?,
        );
        if out.insert(k.clone(), v).is_some() {
            return Err(format!("parameter {k} given more than once"));
        }
    }
    Ok(out)
}

/// The client's credentials: HTTP Basic (client_secret_basic) or the body
/// (client_secret_post, or a public client's bare client_id) — never both. Returns them
/// and whether Basic was used.
fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(ClientAuth, bool), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..6)
                .filter(|p| p.eq_ignore_ascii_case("basic "))
                .map(|_| v[6..].trim())
        });
    match basic {
        Some(b64) => {
            if form.contains_key("client_secret") {
                return Err(OAuthError::InvalidRequest(
                    "use one client authentication method, not two".into(),
                ));
            }
            let failed = || OAuthError::InvalidClient("Malformed Basic credentials.".into());
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| failed())?;
            let raw = String::from_utf8(raw).map_err(|_| failed())?;
            let (id, secret) = raw.split_once(':').ok_or_else(failed)?;
            let (id, secret) = (
                form_decode(id).ok_or_else(failed)?,
                form_decode(secret).ok_or_else(failed)?,
            );
            if form.get("client_id").is_some_and(|c| *c != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Basic credentials".into(),
                ));
            }
            Ok((
                ClientAuth {
                    client_id: id,
                    secret: Some(secret),
                },
                true,
            ))
        }
        None => Ok((
            ClientAuth {
                client_id: form.get("client_id").cloned().unwrap_or_default(),
                secret: form.get("client_secret").cloned(),
            },
            false,
        )),
    }
}

/// The token endpoint's success body (RFC 6749 §5.1), written straight from the tokens
/// (no `Value` in between), its members in the order `json!` gave them (sorted).
#[derive(serde::Serialize)]
struct TokenBody {
    access_token: String,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    token_type: &'static str,
}

fn token_ok(t: TokenResponse) -> Response {
    let mut h = HeaderMap::new();
    no_store(&mut h);
    let body = TokenBody {
        access_token: t.access_token,
        expires_in: t.expires_in,
        id_token: t.id_token,
        refresh_token: t.refresh_token,
        scope: t.scope,
        token_type: "Bearer",
    };
    (StatusCode::OK, h, axum::Json(body)).into_response()
}

/// What the form endpoints (token, revoke, introspect) receive: the gateway, the pool id
/// of the path, the headers and the body.
type FormRequest = (State<Arc<Gateway>>, Path<String>, HeaderMap, Bytes);

/// The common course of the token, revoke and introspect endpoints: parse the form,
/// authenticate the client, then `call` with both; its success goes through `ok`, an error
/// becomes an RFC 6749 §5.2 answer (with a Basic challenge if the client used Basic).
async fn with_client<T>(
    headers: &HeaderMap,
    body: &[u8],
    call: impl AsyncFnOnce(&HashMap<String, String>, &ClientAuth) -> Result<T, OAuthError>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    let mut basic = false;
    let result = async {
        let form = parse_form(headers, body)?;
        let (auth, b) = client_auth(headers, &form)?;
        basic = b;
        call(&form, &auth).await
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => error_response(&e, basic),
    }
}

/// The `token` parameter revoke and introspect require.
fn token_param(form: &HashMap<String, String>) -> Result<&str, OAuthError> {
    form.get("token")
        .map(String::as_str)
        .ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))
}

async fn token((State(gw), Path(pool_id), headers, body): FormRequest) -> Response {
    let grant = async |form: &HashMap<String, String>, auth: &ClientAuth| {
        gw.rates
            .client(crate::RateClass::Token, &auth.client_id)
            .map_err(|wait| OAuthError::Server(crate::api::serving::rate_exceeded(wait)))?;
        let grant_type = form
            .get("grant_type")
            .ok_or_else(|| OAuthError::InvalidRequest("grant_type is required".into()))?;
        match GrantType::from_wire(grant_type) {
            Some(GrantType::ClientCredentials) => {
                let scope = form.get("scope").map(String::as_str);
                gw.oauth.client_credentials(&pool_id, auth, scope).await
            }
            Some(GrantType::AuthorizationCode) => {
                let code = form
                    .get("code")
                    .ok_or_else(|| OAuthError::InvalidRequest("code is required".into()))?;
                let redirect = form.get("redirect_uri").map(String::as_str);
                let verifier = form.get("code_verifier").map(String::as_str);
                gw.hosted
                    .code_grant(&pool_id, auth, code, redirect, verifier)
                    .await
            }
            Some(GrantType::RefreshToken) => {
                let rt = form.get("refresh_token").ok_or_else(|| {
                    OAuthError::InvalidRequest("refresh_token is required".into())
                })?;
                gw.oauth.refresh_grant(&pool_id, auth, rt).await
            }
            None => Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {grant_type} is not supported"
            ))),
        }
    };
    with_client(&headers, &body, grant, token_ok).await
}

async fn revoke((State(gw), Path(pool_id), headers, body): FormRequest) -> Response {
    let call = async |form: &HashMap<String, String>, auth: &ClientAuth| {
        gw.oauth.revoke(&pool_id, auth, token_param(form)?).await
    };
    with_client(&headers, &body, call, |()| {
        let mut h = HeaderMap::new();
        no_store(&mut h);
        (StatusCode::OK, h).into_response()
    })
    .await
}

async fn introspect((State(gw), Path(pool_id), headers, body): FormRequest) -> Response {
    let call = async |form: &HashMap<String, String>, auth: &ClientAuth| {
        gw.oauth
            .introspect(&pool_id, auth, token_param(form)?)
            .await
    };
    with_client(&headers, &body, call, json_ok).await
}

async fn user_info(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = signet_verify::bearer_token(&headers) else {
        return error_response(
            &OAuthError::InvalidToken("A bearer access token is required.".into()),
            false,
        );
    };
    match gw.oauth.user_info(&pool_id, token).await {
        Ok(v) => json_ok(v),
        Err(e) => error_response(&e, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(ct: &str, body: &str) -> Result<HashMap<String, String>, OAuthError> {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        parse_form(&h, body.as_bytes())
    }

    #[test]
    fn forms_decode_and_refuse_repeats_and_other_types() {
        let f = form(
            "application/x-www-form-urlencoded; charset=UTF-8",
            "grant_type=client_credentials&scope=api%2Fread+api%2Fwrite",
        )
        .unwrap();
        assert_eq!(f["scope"], "api/read api/write");
        assert_eq!(f["grant_type"], "client_credentials");
        assert!(matches!(
            form("application/x-www-form-urlencoded", "a=1&a=2"),
            Err(OAuthError::InvalidRequest(m)) if m.contains("more than once")
        ));
        assert!(matches!(
            form("application/json", "{}"),
            Err(OAuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            form("application/x-www-form-urlencoded", "a=%G1"),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn basic_and_post_credentials_but_never_both() {
        let mut h = HeaderMap::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {b64}").parse().unwrap(),
        );
        let (auth, basic) = client_auth(&h, &HashMap::new()).unwrap();
        assert!(basic);
        assert_eq!(auth.client_id, "my client");
        assert_eq!(auth.secret.as_deref(), Some("s:cret"));
        let both: HashMap<String, String> = [("client_secret".to_string(), "x".to_string())].into();
        assert!(matches!(
            client_auth(&h, &both),
            Err(OAuthError::InvalidRequest(_))
        ));
        let post: HashMap<String, String> = [
            ("client_id".to_string(), "c".to_string()),
            ("client_secret".to_string(), "s".to_string()),
        ]
        .into();
        let (auth, basic) = client_auth(&HeaderMap::new(), &post).unwrap();
        assert!(!basic);
        assert_eq!(
            (auth.client_id.as_str(), auth.secret.as_deref()),
            ("c", Some("s"))
        );
    }
}
