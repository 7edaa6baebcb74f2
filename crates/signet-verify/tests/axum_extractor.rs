//! `VerifiedToken` in an axum router whose state provides the `Verifier` through `FromRef`.
#![cfg(feature = "axum")]

mod common;

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use common::{expected, key, token, within, JwksServer};
use serde_json::Value;
use signet_verify::{JwksCache, JwksOptions, VerifiedToken, Verifier};
use std::sync::Arc;
use tower::ServiceExt;

#[derive(Clone)]
struct AppState {
    verifier: Verifier,
    greeting: &'static str,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.verifier.clone()
    }
}

async fn whoami(
    axum::extract::State(state): axum::extract::State<AppState>,
    VerifiedToken(claims): VerifiedToken,
) -> String {
    format!("{} {}", state.greeting, claims.sub().unwrap_or("?"))
}

fn app(url: &str) -> Router {
    let cache = Arc::new(JwksCache::new(url, JwksOptions::default()).unwrap());
    Router::new()
        .route("/whoami", get(whoami))
        .with_state(AppState {
            verifier: Verifier::new(cache, expected()),
            greeting: "hello",
        })
}

async fn call(app: &Router, authorization: Option<&str>) -> Response<Body> {
    let mut req = Request::get("/whoami");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(resp: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec()
}

async fn json_error(resp: Response<Body>) -> Value {
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    serde_json::from_slice(&body(resp).await).unwrap()
}

#[tokio::test]
async fn handlers_see_only_verified_claims() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let app = app(&server.url);

        let resp = call(&app, None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(json_error(resp).await["error"], "missing_token");

        let resp = call(&app, Some("Bearer not.a.jwt")).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        let err = json_error(resp).await;
        assert_eq!(err["error"], "invalid_token");
        assert!(err["error_description"]
            .as_str()
            .unwrap()
            .contains("malformed"));

        // Signed by a key the issuer never published.
        let resp = call(&app, Some(&format!("Bearer {}", token(&key(), "u1")))).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            json_error(resp).await["error_description"],
            "unknown signing key"
        );

        let resp = call(&app, Some(&format!("Bearer {}", token(&k1, "alice")))).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(body(resp).await, b"hello alice");
        assert_eq!(
            server.requests(),
            1,
            "the first fetch served every later token"
        );
    })
    .await
}

#[tokio::test]
async fn unreachable_keys_are_503() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        drop(listener);
        let resp = call(&app(&url), Some(&format!("Bearer {}", token(&key(), "u1")))).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json_error(resp).await["error"], "temporarily_unavailable");
    })
    .await
}

#[tokio::test]
async fn a_verifier_can_be_the_whole_state() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let cache = Arc::new(JwksCache::new(&server.url, JwksOptions::default()).unwrap());
        let app = Router::new()
            .route(
                "/sub",
                get(|VerifiedToken(c): VerifiedToken| async move { c["sub"].to_string() }),
            )
            .with_state(Verifier::new(cache, expected()));
        let req = Request::get("/sub")
            .header("authorization", format!("Bearer {}", token(&k1, "bob")))
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(body(resp).await, br#""bob""#);
    })
    .await
}
