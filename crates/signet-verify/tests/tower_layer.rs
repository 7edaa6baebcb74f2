//! `RequireToken` in front of a trivial tower service, and in front of a real tonic server.
#![cfg(feature = "tonic")]

mod common;

use common::{expected, key, token, within, JwksServer};
use http::{Request, Response};
use signet_verify::{Claims, JwksCache, JwksOptions, RequireToken};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::body::Body;
use tower::{service_fn, Layer, ServiceExt};

/// The inner service counts its calls and echoes the `sub` it found in the extensions.
fn echo(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<Body>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send {
    service_fn(move |req: Request<Body>| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let mut resp = Response::new(Body::empty());
            if let Some(claims) = req.extensions().get::<Claims>() {
                let sub = claims.sub().unwrap_or("?").parse().unwrap();
                resp.headers_mut().insert("x-sub", sub);
            }
            Ok::<_, Infallible>(resp)
        }
    })
}

fn request(authorization: Option<&str>) -> Request<Body> {
    let mut req =
        Request::post("/signet.test.Echo/Call").header("content-type", "application/grpc");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.body(Body::empty()).unwrap()
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn only_requests_with_a_valid_token_reach_the_inner_service() {
    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let cache = Arc::new(JwksCache::new(&server.url, JwksOptions::default()).unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = RequireToken::new(cache, expected()).layer(echo(calls.clone()));

        let resp = svc.clone().oneshot(request(None)).await.unwrap();
        assert_eq!(resp.status(), 200, "gRPC errors travel in headers");
        assert_eq!(header(&resp, "grpc-status"), Some("16"));
        assert!(header(&resp, "grpc-message").unwrap().contains("missing"));
        assert_eq!(header(&resp, "content-type"), Some("application/grpc"));

        let resp = svc
            .clone()
            .oneshot(request(Some("Bearer not.a.jwt")))
            .await
            .unwrap();
        assert_eq!(header(&resp, "grpc-status"), Some("16"));

        let wrong_client = k1
            .sign(&serde_json::json!({
                "sub": "u1", "iss": common::ISS, "client_id": "c2", "token_use": "access",
                "exp": common::now() + 600,
            }))
            .unwrap();
        let resp = svc
            .clone()
            .oneshot(request(Some(&format!("Bearer {wrong_client}"))))
            .await
            .unwrap();
        assert_eq!(header(&resp, "grpc-status"), Some("16"));
        assert!(header(&resp, "grpc-message").unwrap().contains("audience"));

        let basic = format!("Basic {}", token(&k1, "u1"));
        let resp = svc.clone().oneshot(request(Some(&basic))).await.unwrap();
        assert_eq!(header(&resp, "grpc-status"), Some("16"));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "refused before the inner service"
        );

        let good = format!("Bearer {}", token(&k1, "u1"));
        let resp = svc.clone().oneshot(request(Some(&good))).await.unwrap();
        assert_eq!(header(&resp, "grpc-status"), None);
        assert_eq!(header(&resp, "x-sub"), Some("u1"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await
}

#[tokio::test]
async fn unreachable_keys_are_unavailable_not_unauthenticated() {
    within(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        drop(listener);
        let cache = Arc::new(JwksCache::new(&url, JwksOptions::default()).unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = RequireToken::new(cache, expected()).layer(echo(calls.clone()));
        let good = format!("Bearer {}", token(&key(), "u1"));
        let resp = svc.oneshot(request(Some(&good))).await.unwrap();
        assert_eq!(header(&resp, "grpc-status"), Some("14"));
        assert!(!header(&resp, "grpc-message").unwrap().contains("127.0.0.1"));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    })
    .await
}

#[tokio::test]
async fn a_tonic_server_behind_the_layer() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    within(async {
        let k1 = key();
        let server = JwksServer::start(&[&k1]).await;
        let cache = Arc::new(JwksCache::new(&server.url, JwksOptions::default()).unwrap());
        let (_reporter, health) = tonic_health::server::health_reporter();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .layer(RequireToken::new(cache, expected()))
                .add_service(health)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);

        let err = client
            .check(HealthCheckRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);

        let mut req = tonic::Request::new(HealthCheckRequest::default());
        let bearer = format!("Bearer {}", token(&k1, "u1"));
        req.metadata_mut()
            .insert("authorization", bearer.parse().unwrap());
        let resp = client.check(req).await.unwrap().into_inner();
        assert_eq!(
            resp.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    })
    .await
}
