//! SAML 2.0 at the pool's issuer: `GET /saml2/metadata` (our service-provider metadata, for
//! the IdP's admin), and `/saml2/idpresponse`, the assertion consumer service: the IdP's
//! POST (checked and spent there, see `federation::saml`) is sent on by a 303 to the GET,
//! the top-level navigation that carries the browser's `SameSite=Lax` cookies.

use super::{cookie, form_of_sized, html, params, redirect, refused, server_error, signed_in};
use crate::hosted::authorize::AuthorizeError;
use crate::hosted::pages;
use crate::Gateway;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The largest form a SAML IdP may post (a base64 Response of up to 256 KiB).
pub(super) const MAX_SAML_FORM: usize = 512 * 1024;

pub(super) async fn metadata(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
) -> Response {
    match gw.hosted.sp_metadata(&pool_id).await {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) if e.http_status().is_server_error() => server_error(&e),
        Err(_) => (StatusCode::NOT_FOUND, "This user pool does not exist.\n").into_response(),
    }
}

/// The IdP's POST (HTTP-POST binding): `SAMLResponse` and `RelayState`.
pub(super) async fn idp_post(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = match form_of_sized(&headers, &body, MAX_SAML_FORM) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let (Some(response), Some(relay)) = (form.get("SAMLResponse"), form.get("RelayState")) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "The identity provider's answer is incomplete (SAMLResponse, RelayState).",
            ),
            &[],
        );
    };
    match gw.hosted.saml_post(&pool_id, response, relay).await {
        Ok(sealed) => {
            let to = crate::urls::with_query(
                &format!("{}/saml2/idpresponse", gw.urls.issuer(&pool_id)),
                &[("result", sealed.as_str())],
            );
            redirect(&to, true, &[])
        }
        Err(e) => refused(e, true),
    }
}

/// The GET the POST sends the browser to.
pub(super) async fn idp_return(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
    q: RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = match params(&q) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(result) = p.get("result") else {
        return refused(
            AuthorizeError::Page("The sign-in could not be completed: start again.".into()),
            false,
        );
    };
    let csrf = cookie(&headers, &gw.hosted.cookies.csrf_name());
    match gw.hosted.saml_return(&pool_id, result, csrf).await {
        Ok((a, who)) => signed_in(&gw, &a, &who, vec![], false),
        Err(e) => refused(e, false),
    }
}
