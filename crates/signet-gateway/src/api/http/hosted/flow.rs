//! The hosted sign-in's redirects: `/oauth2/authorize` (the browser's session, a provider,
//! or the sign-in page), `/logout`, and a provider's answer at `/oauth2/idpresponse`.

use super::{
    cookie, csrf_cookie, form_of, html, params, redirect, refused, server_error, signed_in,
    user_message, PageRequest,
};
use crate::hosted::authorize::{AuthorizeError, Params, Prompt};
use crate::hosted::{pages, query_of};
use crate::Gateway;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

pub(super) async fn authorize((State(gw), Path(pool_id), q, headers): PageRequest) -> Response {
    let p = match params(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let a = match gw.hosted.authorize(&pool_id, &p).await {
        Ok(a) => a,
        Err(e) => return refused(e, false),
    };
    if a.prompt != Prompt::Login {
        let name = gw.hosted.cookies.session_name(&a.pool.id);
        match gw.hosted.session(&a, cookie(&headers, &name)).await {
            Ok(Some(s)) => return redirect(&gw.hosted.issue_code(&a, &s), false, &[]),
            Ok(None) => {}
            Err(e) => return server_error(&e),
        }
    }
    if a.provider
        .as_deref()
        .is_some_and(|p| p != crate::pools::redirects::COGNITO_PROVIDER)
    {
        // Off to the provider; the flow is bound to this browser's CSRF cookie.
        let (csrf, set) = csrf_cookie(&gw, &headers);
        return match gw.hosted.federate(&a, &p, &csrf).await {
            Ok(to) => redirect(&to, false, &set),
            Err(e) if e.http_status().is_server_error() => server_error(&e),
            Err(e) => html(
                StatusCode::BAD_REQUEST,
                pages::error(&user_message(&e)),
                &set,
            ),
        };
    }
    if a.prompt == Prompt::None {
        return refused(
            AuthorizeError::Redirect {
                redirect_uri: a.redirect_uri.clone(),
                error: "login_required",
                description: "the user is not signed in".into(),
                state: a.state.clone(),
            },
            false,
        );
    }
    let to = format!("{}/login?{}", gw.urls.issuer(&a.pool.id), query_of(&p));
    redirect(&to, false, &[])
}

/// `/logout`: the browser's session cookie goes, then to the client's logout URL (or a new
/// sign-in, or a "signed out" page).
pub(super) async fn logout((State(gw), Path(pool_id), q, _headers): PageRequest) -> Response {
    let p = match params(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let name = gw.hosted.cookies.session_name(&pool_id);
    let clear = vec![gw.hosted.cookies.set(&name, "", 0)];
    match gw.hosted.logout(&pool_id, &p).await {
        Ok(Some(to)) if to.starts_with("login?") => {
            let to = format!("{}/{to}", gw.urls.issuer(&pool_id));
            redirect(&to, false, &clear)
        }
        Ok(Some(to)) => redirect(&to, false, &clear),
        Ok(None) => html(StatusCode::OK, pages::signed_out(), &clear),
        Err(e) => refused(e, false),
    }
}

/// `/oauth2/idpresponse`: a provider sends the browser back here.
pub(super) async fn idp_response((State(gw), Path(pool_id), q, headers): PageRequest) -> Response {
    let p = match params(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let csrf = cookie(&headers, &gw.hosted.cookies.csrf_name());
    match gw.hosted.federated_return(&pool_id, &p, csrf).await {
        Ok((a, who)) => signed_in(&gw, &a, &who, vec![], false),
        Err(e) => refused(e, false),
    }
}

/// `/oauth2/idpresponse` by POST (Apple's `response_mode=form_post`): the same answer, sent
/// on as a GET. A cross-site POST carries no `SameSite=Lax` cookie, so the browser's CSRF
/// cookie, which binds the flow to this browser, would be missing here; the GET it is sent
/// to is a top-level navigation, which carries it.
pub(super) async fn idp_form_post(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match form_of(&headers, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let keep: Params = form
        .into_iter()
        .filter(|(k, _)| matches!(k.as_str(), "code" | "state" | "user" | "error"))
        .collect();
    let to = format!(
        "{}/oauth2/idpresponse?{}",
        gw.urls.issuer(&pool_id),
        query_of(&keep)
    );
    redirect(&to, true, &[])
}
