//! HTTP surface: JWKS and OIDC discovery per pool, a cluster-wide JWKS, health and
//! readiness; the OAuth endpoints and the user-import upload in their own files.

pub(crate) mod authorize;
pub(crate) mod hosted;
pub(crate) mod import;
pub(crate) mod oauth;
pub(crate) mod oauth_edge;
pub(crate) mod revocations;

use crate::api::serving::Limiter;
use crate::Gateway;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) fn router(gw: Arc<Gateway>, limiter: Arc<Limiter>) -> Router {
    // The shared stack (see `serving`) as a route layer: per-route metrics need the
    // matched route, and an unknown path (404) costs nothing worth limiting.
    let stack = crate::api::serving::stack(
        &limiter,
        gw.metrics.http.clone(),
        crate::metrics::latency::Surface::Http,
    );
    let body_limit = axum::extract::DefaultBodyLimit::max(gw.cfg.serving.max_http_body_bytes);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(cluster_jwks))
        .route("/identity/.well-known/jwks.json", get(cluster_jwks))
        .route(
            "/identity/.well-known/openid-configuration",
            get(identity_discovery),
        )
        .route("/sts/.well-known/jwks.json", get(cluster_jwks))
        .route("/{pool_id}/.well-known/jwks.json", get(pool_jwks))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(discovery),
        )
        .merge(crate::api::http::oauth::routes())
        .merge(crate::api::http::import::routes())
        .merge(crate::api::http::hosted::routes())
        .merge(crate::api::aws::routes())
        .route_layer(stack)
        .merge(crate::api::http::revocations::routes())
        .merge(crate::api::http::authorize::routes())
        .layer(crate::consistency::ConsistencyLayer)
        .layer(body_limit)
        .layer(axum::Extension(limiter))
        .with_state(gw)
}

pub(crate) fn serve(
    gw: Arc<Gateway>,
    limiter: Arc<Limiter>,
    listener: signet_tls::Incoming,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        // With the caller's address, for the rate limits (see `serving`).
        let app = router(gw, limiter).into_make_service_with_connect_info::<Remote>();
        if let Err(e) = axum::serve(Listener(listener), app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("http server stopped: {e}");
        }
    })
}

/// The caller's address, as axum's connect info of an HTTP request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Remote(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Listener>> for Remote {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Listener>) -> Remote {
        Remote(*stream.remote_addr())
    }
}

/// axum's view of the TLS-or-plaintext acceptor shared with the gRPC listener.
struct Listener(signet_tls::Incoming);

impl axum::serve::Listener for Listener {
    type Io = signet_tls::Conn;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.0.accept().await {
            Some(c) => c,
            // The accept task has ended (the server is stopping): wait for the shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.0.local_addr())
    }
}

/// Liveness: answers while the process and its async runtime serve requests. It does not
/// look at the store: restarting gateways cannot bring a store quorum back, and a restarted
/// gateway waits out publish-before-sign again before it can sign.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: 200 "ready", or 503 with the reason (e.g. "no store quorum: …").
async fn readyz(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.not_ready_reason() {
        None => (StatusCode::OK, "ready").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

fn jwks_response(gw: &Gateway, headers: &HeaderMap) -> Response {
    let keys = gw.published.get();
    let max_age = format!("public, max-age={}", gw.cfg.jwks_max_age.as_secs());
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&max_age).expect("ascii header"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&keys.etag).expect("ascii header"),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == keys.etag)
    {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (StatusCode::OK, h, keys.jwks.clone()).into_response()
}

async fn cluster_jwks(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    jwks_response(&gw, &headers)
}

async fn pool_jwks(
    State(gw): State<Arc<Gateway>>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match gw.dir.pool(&pool_id).await {
        Ok(_) => jwks_response(&gw, &headers),
        Err(e) => not_found(e),
    }
}

/// A pool's JWKS or discovery document could not be served: the table's answer (404 for
/// an unknown pool).
fn not_found(e: crate::AppError) -> Response {
    (e.http_status(), axum::Json(e.http_body())).into_response()
}

async fn discovery(State(gw): State<Arc<Gateway>>, Path(pool_id): Path<String>) -> Response {
    let pool = match gw.dir.pool(&pool_id).await {
        Ok(p) => p,
        Err(e) => return not_found(e),
    };
    let issuer = gw.cfg.issuer(&pool.id);
    let doc = serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userInfo"),
        "grant_types_supported": crate::names::GrantType::supported(),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [pool.config.signing_alg],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username", "cognito:groups", "email", "email_verified", "phone_number", "phone_number_verified"],
        "scopes_supported": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
    });
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    (StatusCode::OK, h, axum::Json(doc)).into_response()
}

/// Discovery for identity-pool OpenID tokens (GetOpenIdToken): relying parties outside
/// Signet find the keys here.
async fn identity_discovery(State(gw): State<Arc<Gateway>>) -> Response {
    let issuer = gw.urls.identity_issuer();
    let doc = serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "amr", "token_use"],
    });
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    (StatusCode::OK, h, axum::Json(doc)).into_response()
}

/// Prometheus text exposition.
async fn metrics(
    State(gw): State<Arc<Gateway>>,
    axum::Extension(limiter): axum::Extension<Arc<Limiter>>,
) -> Response {
    let mut gauges = vec![
        (
            "signet_argon2_queue_depth",
            "Password hashes waiting for a worker.",
            gw.hasher.queue_depth() as f64,
        ),
        (
            "signet_ready",
            "1 when the store has a quorum, the clock is near the stores', signing keys are usable and the caches follow the store.",
            if gw.is_ready() { 1.0 } else { 0.0 },
        ),
        (
            "signet_store_quorum",
            "1 when the store cluster answered the latest linearizable probe read in time.",
            if gw.quorum.is_ok() { 1.0 } else { 0.0 },
        ),
        (
            "signet_store_probe_seconds",
            "Duration of the latest store-quorum probe (the timeout when it got no answer).",
            gw.quorum.took().as_secs_f64(),
        ),
        (
            "signet_clock_offset_seconds",
            "This gateway's clock minus the store cluster's (the middle store clock), from the latest probe.",
            gw.quorum.clock_offset_ms() as f64 / 1000.0,
        ),
        (
            "signet_cache_behind",
            "1 when the change stream trails the leader by more than 2 s.",
            if gw.cache.is_behind() { 1.0 } else { 0.0 },
        ),
    ];
    // Seconds until each certificate this gateway presents expires (alert well before 0;
    // rotated files are picked up without a restart).
    let expiry = |s: &signet_tls::TlsSource| {
        s.not_after()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as f64)
    };
    if let Some(t) = gw.cfg.tls.as_ref().and_then(expiry) {
        gauges.push((
            "signet_tls_public_cert_not_after_seconds",
            "Expiry (Unix time) of the public listeners' TLS certificate.",
            t,
        ));
    }
    if let signet_tls::Transport::Tls { source, .. } = gw.store.client().transport() {
        if let Some(t) = expiry(source) {
            gauges.push((
                "signet_tls_store_client_cert_not_after_seconds",
                "Expiry (Unix time) of the certificate this gateway presents to the stores.",
                t,
            ));
        }
    }
    // The revocation mirror the stream and the edge authorizer answer from (it follows
    // the change stream: signet_cache_behind says when that lags).
    gauges.push((
        "signet_revocations_loaded",
        "1 once this gateway's copy of the revocation log is loaded.",
        if gw.revocations.is_loaded() { 1.0 } else { 0.0 },
    ));
    gauges.push((
        "signet_revocations_last_seq",
        "The last revocation this gateway knows of.",
        gw.revocations.last() as f64,
    ));
    gauges.push((
        "signet_revocations_entries",
        "Revocations this gateway holds (those still affecting unexpired tokens).",
        gw.revocations.len() as f64,
    ));
    gauges.push((
        "signet_requests_in_flight",
        "Public requests in progress (health, readiness and metrics not counted).",
        limiter.in_flight() as f64,
    ));
    let mut body = gw.metrics.render(&gauges);
    limiter.render(&mut body);
    signet_store_client::metrics::header(
        &mut body,
        "signet_audit_events_dropped_total",
        "counter",
        "Audit events dropped because the queue to the store was full.",
    );
    body.push_str(&format!(
        "signet_audit_events_dropped_total {}\n",
        gw.audit.dropped()
    ));
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        body,
    )
        .into_response()
}
