//! `GET /revocations?after=N&wait=S`: the revocation stream as a long poll (see
//! `signet_verify::revocation` for the format and the follower). Open like the JWKS: the
//! entries name pools, clients and keys, and only hashes of users, tokens and sign-ins.
//!
//! Served outside the shared stack: a held poll is a parked future, not work, and must not
//! take one of the in-flight slots real requests need (held polls have their own bound).

use crate::Gateway;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use signet_verify::revocation::MAX_POLL_WAIT;
use std::sync::Arc;
use std::time::Duration;

/// How long a poll from ahead of this gateway's position waits for this gateway to catch
/// up before it is answered as a reset (another gateway may be a few milliseconds ahead).
const CATCH_UP: Duration = Duration::from_secs(2);

pub(crate) fn routes() -> Router<Arc<Gateway>> {
    Router::new().route("/revocations", get(poll))
}

#[derive(Debug, Deserialize)]
struct Poll {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait: u64,
}

async fn poll(State(gw): State<Arc<Gateway>>, Query(p): Query<Poll>) -> Response {
    let feed = &gw.revocations;
    if !feed.is_loaded() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "revocations not loaded yet",
        )
            .into_response();
    }
    if p.after > feed.last() {
        feed.wait_reach(p.after, CATCH_UP).await;
    }
    let wait = Duration::from_secs(p.wait).min(MAX_POLL_WAIT);
    if p.after == feed.last() && !wait.is_zero() {
        // Past the bound on held polls, answer at once: the follower asks again.
        if let Ok(_held) = feed.held.try_acquire() {
            feed.wait_past(p.after, wait).await;
        }
    }
    let now = gw.cfg.clock.now_ms();
    feed.prune(now);
    let mut resp = Json(feed.page(p.after, now)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
