//! The hosted pages' forms: sign-in, the second-factor and new-password step, sign-up, the
//! confirmation code, and the password reset. Each GET shows its form for the authorization
//! request in the query; each POST is checked (origin, CSRF field) before anything else,
//! runs the use case, and shows the next page or the same one with the reason.

use super::{begin, form_of, page, text, PageRequest};
use crate::{AppError, Gateway};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

use crate::hosted::pages;

/// What a form's POST handler receives.
type FormPost = (
    State<Arc<Gateway>>,
    Path<String>,
    RawQuery,
    HeaderMap,
    Bytes,
);

/// Parse a posted form and check that it came from our page: the form and the page's view.
macro_rules! posted {
    ($gw:expr, $pool_id:expr, $q:expr, $headers:expr, $body:expr) => {{
        let form = match form_of(&$headers, &$body) {
            Ok(f) => f,
            Err(r) => return *r,
        };
        match begin(&$gw, &$pool_id, &$q, &$headers, Some(&form)).await {
            Ok(v) => (form, v),
            Err(r) => return *r,
        }
    }};
}

pub(super) async fn login_page(r: PageRequest) -> Response {
    page(r, |v, f| {
        let hint = v.a.login_hint.clone().unwrap_or_default();
        pages::sign_in(f, &hint, None, None)
    })
    .await
}

pub(super) async fn login_post((State(gw), Path(pool_id), q, headers, body): FormPost) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let username = text(&form, "username");
    let r = gw
        .hosted
        .sign_in(&v.a, username, text(&form, "password"))
        .await;
    match r {
        Err(AppError::UserNotConfirmed) => v.show(
            StatusCode::OK,
            pages::confirm(
                &v.frame(),
                username,
                Some("Your account is not confirmed yet: enter the code we sent you."),
                None,
            ),
        ),
        Err(AppError::PasswordResetRequired) => v.show(
            StatusCode::OK,
            pages::forgot(&v.frame(), Some("Your password must be reset.")),
        ),
        r => v.outcome(r, |m| pages::sign_in(&v.frame(), username, Some(m), None)),
    }
}

pub(super) async fn challenge_post(
    (State(gw), Path(pool_id), q, headers, body): FormPost,
) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let (name, session) = (text(&form, "challenge"), text(&form, "session"));
    let r = gw
        .hosted
        .answer(&v.a, name, session, text(&form, "answer"))
        .await;
    v.outcome(r, |m| match name {
        "MFA_SETUP" => pages::mfa_setup(&v.frame(), session, text(&form, "key"), Some(m)),
        _ => pages::challenge(&v.frame(), name, session, &[], "", Some(m)),
    })
}

pub(super) async fn signup_page(r: PageRequest) -> Response {
    page(r, |v, f| {
        // A pool that reserves sign-up to admins offers no form (its POST is refused too).
        if !f.sign_up {
            return pages::sign_in(
                f,
                "",
                Some("SignUp is not permitted for this user pool"),
                None,
            );
        }
        let attrs: Vec<(String, String)> =
            v.gw.hosted
                .sign_up_attributes(&v.a)
                .into_iter()
                .map(|n| (n, String::new()))
                .collect();
        pages::sign_up(f, &attrs, "", None)
    })
    .await
}

pub(super) async fn signup_post(
    (State(gw), Path(pool_id), q, headers, body): FormPost,
) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let username = text(&form, "username");
    let attrs: Vec<(String, String)> = gw
        .hosted
        .sign_up_attributes(&v.a)
        .into_iter()
        .map(|n| {
            let value = text(&form, &format!("attr:{n}")).to_string();
            (n, value)
        })
        .collect();
    let given: Vec<(String, String)> = attrs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .cloned()
        .collect();
    let r = gw
        .hosted
        .sign_up(&v.a, username, text(&form, "password"), &given)
        .await;
    v.step(
        r,
        |f, r| match r.confirmed {
            true => pages::sign_in(f, username, None, Some("Your account is ready: sign in.")),
            false => {
                let notice = r
                    .delivery
                    .map(|d| format!("We sent a confirmation code to {}.", d.destination));
                pages::confirm(f, username, notice.as_deref(), None)
            }
        },
        |f, m| pages::sign_up(f, &attrs, username, Some(m)),
    )
}

pub(super) async fn confirm_page(r: PageRequest) -> Response {
    page(r, |_, f| pages::confirm(f, "", None, None)).await
}

pub(super) async fn confirm_post(
    (State(gw), Path(pool_id), q, headers, body): FormPost,
) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let username = text(&form, "username");
    let r = gw.hosted.confirm(&v.a, username, text(&form, "code")).await;
    v.step(
        r,
        |f, ()| {
            pages::sign_in(
                f,
                username,
                None,
                Some("Your account is confirmed: sign in."),
            )
        },
        |f, m| pages::confirm(f, username, None, Some(m)),
    )
}

pub(super) async fn forgot_page(r: PageRequest) -> Response {
    page(r, |_, f| pages::forgot(f, None)).await
}

pub(super) async fn forgot_post(
    (State(gw), Path(pool_id), q, headers, body): FormPost,
) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let username = text(&form, "username");
    let r = gw.hosted.forgot(&v.a, username).await;
    v.step(
        r,
        |f, ()| {
            pages::confirm_forgot(
                f,
                username,
                Some("If the account exists, we sent it a code."),
                None,
            )
        },
        |f, m| pages::forgot(f, Some(m)),
    )
}

pub(super) async fn confirm_forgot_page(r: PageRequest) -> Response {
    page(r, |_, f| pages::confirm_forgot(f, "", None, None)).await
}

pub(super) async fn confirm_forgot_post(
    (State(gw), Path(pool_id), q, headers, body): FormPost,
) -> Response {
    let (form, v) = posted!(gw, pool_id, q, headers, body);
    let username = text(&form, "username");
    let r = gw
        .hosted
        .confirm_forgot(&v.a, username, text(&form, "code"), text(&form, "password"))
        .await;
    v.step(
        r,
        |f, ()| {
            pages::sign_in(
                f,
                username,
                None,
                Some("Your password is changed: sign in."),
            )
        },
        |f, m| pages::confirm_forgot(f, username, None, Some(m)),
    )
}
