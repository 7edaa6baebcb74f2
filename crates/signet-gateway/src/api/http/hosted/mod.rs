//! The hosted sign-in over HTTP, per pool under its issuer: `GET /oauth2/authorize`, the
//! pages `login`, `challenge`, `signup`, `confirm`, `forgotPassword`,
//! `confirmForgotPassword` (GET shows, POST submits), and `GET /logout`. Thin: parse, check
//! the form's origin and CSRF field, call `hosted`, render or redirect.

use crate::auth::{AuthOutcome, SignedIn};
use crate::hosted::authorize::{Authorize, AuthorizeError, Params};
use crate::hosted::{browser, pages, query_of};
use crate::{AppError, Gateway};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

mod flow;
mod forms;
mod saml;

use flow::{authorize, idp_form_post, idp_response, logout};
use forms::{
    challenge_post, confirm_forgot_page, confirm_forgot_post, confirm_page, confirm_post,
    forgot_page, forgot_post, login_page, login_post, signup_page, signup_post,
};

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/{pool_id}/oauth2/authorize", get(authorize))
        .route("/{pool_id}/login", get(login_page).post(login_post))
        .route("/{pool_id}/challenge", axum::routing::post(challenge_post))
        .route("/{pool_id}/signup", get(signup_page).post(signup_post))
        .route("/{pool_id}/confirm", get(confirm_page).post(confirm_post))
        .route(
            "/{pool_id}/forgotPassword",
            get(forgot_page).post(forgot_post),
        )
        .route(
            "/{pool_id}/confirmForgotPassword",
            get(confirm_forgot_page).post(confirm_forgot_post),
        )
        .route("/{pool_id}/logout", get(logout))
        .route(
            "/{pool_id}/oauth2/idpresponse",
            get(idp_response).post(idp_form_post),
        )
        .route("/{pool_id}/saml2/metadata", get(saml::metadata))
        .route(
            "/{pool_id}/saml2/idpresponse",
            get(saml::idp_return)
                .post(saml::idp_post)
                .layer(axum::extract::DefaultBodyLimit::max(saml::MAX_SAML_FORM)),
        )
}

/// What every page handler receives.
type PageRequest = (State<Arc<Gateway>>, Path<String>, RawQuery, HeaderMap);

/// Headers of every page: never cached, never framed, no referrer (the query carries the
/// request's state), no script at all.
fn page_headers(h: &mut HeaderMap) {
    let fixed = [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: under it browsers send `Origin: null` with the pages' own form
        // posts (Fetch §3.2.5), which the origin check must refuse. `same-origin` still
        // gives other sites (the app's callback included) no referrer.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    ];
    for (k, v) in fixed {
        h.insert(k, HeaderValue::from_static(v));
    }
}

fn with_cookies(h: &mut HeaderMap, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
}

fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut h = HeaderMap::new();
    page_headers(&mut h);
    with_cookies(&mut h, cookies);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    (status, h, body).into_response()
}

/// Send the browser on: 302 from a GET, 303 from a POST (so it follows with a GET).
fn redirect(to: &str, post: bool, cookies: &[String]) -> Response {
    let mut h = HeaderMap::new();
    page_headers(&mut h);
    with_cookies(&mut h, cookies);
    match HeaderValue::from_str(to) {
        Ok(v) => {
            h.insert(header::LOCATION, v);
            let status = if post {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FOUND
            };
            (status, h).into_response()
        }
        Err(_) => html(
            StatusCode::BAD_REQUEST,
            pages::error("The redirect address is not valid."),
            &[],
        ),
    }
}

fn refused(e: AuthorizeError, post: bool) -> Response {
    match e {
        AuthorizeError::Page(m) => html(StatusCode::BAD_REQUEST, pages::error(&m), &[]),
        AuthorizeError::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => {
            let mut q = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &state {
                q.push(("state", s));
            }
            let to = crate::hosted::authorize::with_query(&redirect_uri, &q);
            redirect(&to, post, &[])
        }
        AuthorizeError::Server(e) => server_error(&e),
    }
}

fn server_error(e: &AppError) -> Response {
    tracing::warn!("hosted pages: {e}");
    let status = e.http_status();
    let status = if status.is_server_error() {
        status
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    html(
        status,
        pages::error("The sign-in service can not answer now; please try again."),
        &[],
    )
}

/// What a user is told of a refused step: the API's message for the user's own mistakes,
/// nothing of the service's troubles.
fn user_message(e: &AppError) -> String {
    if e.http_status().is_server_error() {
        "The sign-in service can not answer now; please try again.".into()
    } else {
        e.to_string()
    }
}

/// Parse the request's query; a parameter given twice is refused (shown, not redirected).
fn params(q: &RawQuery) -> Result<Params, Box<Response>> {
    crate::api::http::oauth::parse_pairs(q.0.as_deref().unwrap_or("")).map_err(|m| {
        Box::new(html(
            StatusCode::BAD_REQUEST,
            pages::error(&format!("The sign-in link is malformed: {m}.")),
            &[],
        ))
    })
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| browser::cookie_value(v, name))
}

/// The browser's CSRF cookie, or a new one (and the `Set-Cookie` to give it).
fn csrf_cookie(gw: &Gateway, headers: &HeaderMap) -> (String, Vec<String>) {
    let name = gw.hosted.cookies.csrf_name();
    match cookie(headers, &name) {
        Some(c) if !c.is_empty() && c.len() <= 64 => (c.to_string(), vec![]),
        _ => {
            let c = browser::new_csrf_cookie();
            let set = gw.hosted.cookies.set(&name, &c, 24 * 3600);
            (c, vec![set])
        }
    }
}

/// One page of an authorization request being rendered: the checked request, its query,
/// this browser's CSRF field and the cookies to set.
struct View<'a> {
    gw: &'a Gateway,
    a: Authorize,
    query: String,
    csrf: String,
    cookies: Vec<String>,
}

impl View<'_> {
    fn frame(&self) -> pages::Frame<'_> {
        let cognito = crate::pools::redirects::COGNITO_PROVIDER;
        // The buttons: this request, through the provider.
        let base: Vec<(String, String)> = crate::api::http::oauth::parse_pairs(&self.query)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "identity_provider" && k != "idp_identifier")
            .collect();
        let providers = self
            .a
            .client
            .identity_providers
            .iter()
            .filter(|p| *p != cognito)
            .map(|p| {
                let mut q: Params = base.iter().cloned().collect();
                q.insert("identity_provider".into(), p.clone());
                (p.clone(), format!("oauth2/authorize?{}", query_of(&q)))
            })
            .collect();
        pages::Frame {
            pool_name: &self.a.pool.name,
            query: &self.query,
            csrf: &self.csrf,
            providers,
            native: self
                .a
                .client
                .identity_providers
                .iter()
                .any(|p| p == cognito),
            ui: self.a.pool.config.ui.as_ref(),
            sign_up: !self.a.pool.config.admin_create_user_only,
        }
    }

    fn show(&self, status: StatusCode, body: String) -> Response {
        html(status, body, &self.cookies)
    }

    /// The sign-in completed: a browser session, a code, and back to the client.
    fn signed_in(&self, who: &SignedIn) -> Response {
        signed_in(self.gw, &self.a, who, self.cookies.clone(), true)
    }

    /// Where a sign-in step leads: the client (signed in), a challenge page, or back to the
    /// page it came from with the reason.
    fn outcome(
        &self,
        r: Result<AuthOutcome, AppError>,
        again: impl FnOnce(&str) -> String,
    ) -> Response {
        match r {
            Ok(AuthOutcome::SignedIn(who)) => self.signed_in(&who),
            Ok(AuthOutcome::Challenge {
                name,
                session,
                parameters,
            }) => {
                use crate::names::WireName;
                let name = name.wire();
                let page = match name {
                    "NEW_PASSWORD_REQUIRED"
                    | "SOFTWARE_TOKEN_MFA"
                    | "SMS_MFA"
                    | "EMAIL_OTP"
                    | "SELECT_MFA_TYPE" => {
                        let options: Vec<String> = parameters
                            .get("MFAS_CAN_CHOOSE")
                            .and_then(|v| serde_json::from_str(v).ok())
                            .unwrap_or_default();
                        let prompt = match parameters.get("CODE_DELIVERY_DESTINATION") {
                            Some(d) => format!("We sent a code to {d}."),
                            None if name == "SOFTWARE_TOKEN_MFA" => {
                                "Enter the code from your authenticator app.".into()
                            }
                            None => String::new(),
                        };
                        pages::challenge(&self.frame(), name, &session, &options, &prompt, None)
                    }
                    "MFA_SETUP" => {
                        let key = parameters.get("SECRET_CODE").map(String::as_str);
                        pages::mfa_setup(&self.frame(), &session, key.unwrap_or(""), None)
                    }
                    // Custom challenges need an app, not a form.
                    _ => pages::error(
                        "This account needs a sign-in step the hosted pages do not offer.",
                    ),
                };
                self.show(StatusCode::OK, page)
            }
            Ok(AuthOutcome::Tokens(_)) => server_error(&AppError::Internal(
                "a hosted sign-in ended in tokens".into(),
            )),
            Err(e) if e.http_status().is_server_error() => server_error(&e),
            Err(e) => self.show(StatusCode::BAD_REQUEST, again(&user_message(&e))),
        }
    }

    /// A form's step that leads to another page: `next` when it went through, the same
    /// page again (`again`, with the reason) when the user got something wrong, the error
    /// page when the service could not answer.
    fn step<T>(
        &self,
        r: Result<T, AppError>,
        next: impl FnOnce(&pages::Frame<'_>, T) -> String,
        again: impl FnOnce(&pages::Frame<'_>, &str) -> String,
    ) -> Response {
        match r {
            Ok(v) => self.show(StatusCode::OK, next(&self.frame(), v)),
            Err(e) if e.http_status().is_server_error() => server_error(&e),
            Err(e) => self.show(
                StatusCode::BAD_REQUEST,
                again(&self.frame(), &user_message(&e)),
            ),
        }
    }
}

/// A page shown by GET for an authorization request (`render` gets its frame).
async fn page(
    (State(gw), Path(pool_id), q, headers): PageRequest,
    render: impl FnOnce(&View<'_>, &pages::Frame<'_>) -> String,
) -> Response {
    match begin(&gw, &pool_id, &q, &headers, None).await {
        Ok(v) => {
            let body = render(&v, &v.frame());
            v.show(StatusCode::OK, body)
        }
        Err(r) => *r,
    }
}

/// A sign-in completed (on a page, or at a provider): a browser session, a code, and back
/// to the client.
fn signed_in(
    gw: &Gateway,
    a: &Authorize,
    who: &SignedIn,
    mut cookies: Vec<String>,
    post: bool,
) -> Response {
    let (session, sealed) = gw.hosted.start_session(&a.pool.id, who);
    let name = gw.hosted.cookies.session_name(&a.pool.id);
    cookies.push(
        gw.hosted
            .cookies
            .set(&name, &sealed, browser::SESSION_TTL_MS / 1000),
    );
    let to = gw.hosted.issue_code(a, &session);
    redirect(&to, post, &cookies)
}

/// Check the request (query) and, for a POST, that the form came from our own page: the
/// page's view.
async fn begin<'a>(
    gw: &'a Gateway,
    pool_id: &str,
    q: &RawQuery,
    headers: &HeaderMap,
    form: Option<&HashMap<String, String>>,
) -> Result<View<'a>, Box<Response>> {
    let p = params(q)?;
    let post = form.is_some();
    let a = gw
        .hosted
        .authorize(pool_id, &p)
        .await
        .map_err(|e| Box::new(refused(e, post)))?;
    let (csrf_cookie, set) = csrf_cookie(gw, headers);
    if let Some(form) = form {
        if !same_origin(gw, headers)
            || !gw.hosted.csrf_ok(
                Some(csrf_cookie.as_str()).filter(|_| set.is_empty()),
                form.get("_csrf").map(String::as_str),
            )
        {
            return Err(Box::new(html(
                StatusCode::FORBIDDEN,
                pages::form_refused(&query_of(&p)),
                &set,
            )));
        }
    }
    Ok(View {
        gw,
        csrf: gw.hosted.csrf_field(&csrf_cookie),
        a,
        query: query_of(&p),
        cookies: set,
    })
}

/// A form post must come from our own origin when the browser says where it came from
/// (`Origin`; all current browsers send it on POST).
fn same_origin(gw: &Gateway, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let ours = url::Url::parse(gw.urls.public_url())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    origin == ours
}

fn form_of(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Box<Response>> {
    form_of_sized(headers, body, 16 * 1024)
}

fn form_of_sized(
    headers: &HeaderMap,
    body: &[u8],
    max: usize,
) -> Result<HashMap<String, String>, Box<Response>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok_type = ct.split(';').next().is_some_and(|m| {
        m.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    let text = std::str::from_utf8(body)
        .ok()
        .filter(|_| ok_type && body.len() <= max);
    text.ok_or(())
        .and_then(|t| crate::api::http::oauth::parse_pairs(t).map_err(|_| ()))
        .map_err(|()| {
            Box::new(html(
                StatusCode::BAD_REQUEST,
                pages::error("The form could not be read."),
                &[],
            ))
        })
}

fn text<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}
