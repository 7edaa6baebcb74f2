//! Each layer of the serving stack against a stand-in service.

use super::*;
use std::convert::Infallible;
use tower::{Layer, Service, ServiceExt};

fn limiter(max_in_flight: usize, timeout_ms: u64) -> Arc<Limiter> {
    Arc::new(Limiter::new(ServingLimits {
        max_in_flight,
        request_timeout: Duration::from_millis(timeout_ms),
        ..ServingLimits::default()
    }))
}

/// A service that answers 200 once `gate` has a permit for it (a closed gate holds
/// every request; `add_permits` opens it).
fn gated(
    gate: Arc<Semaphore>,
) -> impl Service<
    http::Request<()>,
    Response = http::Response<axum::body::Body>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |_req: http::Request<()>| {
        let gate = gate.clone();
        async move {
            let _pass = gate.acquire().await.expect("gate open");
            Ok::<_, Infallible>(http::Response::new(axum::body::Body::from("done")))
        }
    })
}

fn req(path: &str) -> http::Request<()> {
    http::Request::builder().uri(path).body(()).unwrap()
}

#[tokio::test]
async fn shedding_refuses_at_once_beyond_the_budget_and_frees_slots() {
    let lim = limiter(2, 60_000);
    let gate = Arc::new(Semaphore::new(0));
    let svc = ShedLayer {
        limiter: lim.clone(),
        surface: Surface::Http,
    }
    .layer(gated(gate.clone()));
    let held: Vec<_> = (0..2)
        .map(|_| tokio::spawn(svc.clone().oneshot(req("/x"))))
        .collect();
    while lim.in_flight() < 2 {
        tokio::task::yield_now().await;
    }
    let started = std::time::Instant::now();
    let refused = svc.clone().oneshot(req("/x")).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(100), "not queued");
    assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()[http::header::RETRY_AFTER], "1");
    let body = http_body_util::BodyExt::collect(refused.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // Probes are not counted against the budget: one passes while it is spent.
    let probe = tokio::spawn(svc.clone().oneshot(req("/readyz")));
    assert_eq!(lim.in_flight(), 2);
    gate.add_permits(3);
    for h in held {
        assert_eq!(h.await.unwrap().unwrap().status(), http::StatusCode::OK);
    }
    assert_eq!(probe.await.unwrap().unwrap().status(), http::StatusCode::OK);
    assert_eq!(lim.counts()[1], ("http", 1, 0));
    // The slots came back: the next request is served.
    assert_eq!(lim.in_flight(), 0);
    gate.add_permits(1);
    let next = svc.clone().oneshot(req("/x")).await.unwrap();
    assert_eq!(next.status(), http::StatusCode::OK);
}

#[tokio::test]
async fn grpc_refusals_carry_status_and_exception_name() {
    let lim = limiter(0, 60_000);
    let svc = ShedLayer {
        limiter: lim.clone(),
        surface: Surface::Grpc,
    }
    .layer(tower::service_fn(|_req: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(tonic::body::Body::default()))
    }));
    let res = svc
        .oneshot(req("/signet.v1.UserPoolAuth/InitiateAuth"))
        .await
        .unwrap();
    let status = tonic::Status::from_header_map(res.headers()).expect("grpc-status");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        crate::exception_name(&status).as_deref(),
        Some("TooManyRequestsException")
    );
    assert_eq!(lim.counts()[0], ("grpc", 1, 0));
}

#[tokio::test]
async fn timeout_answers_and_drops_the_work() {
    /// Set when the handler's future is dropped (its work cancelled).
    struct Dropped(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let lim = limiter(8, 50);
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = dropped.clone();
    let svc = TimeoutLayer {
        limiter: lim.clone(),
        surface: Surface::Grpc,
        timeout: Duration::from_millis(50),
    }
    .layer(tower::service_fn(move |_req: http::Request<()>| {
        let guard = Dropped(flag.clone());
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(http::Response::new(tonic::body::Body::default()))
        }
    }));
    let started = std::time::Instant::now();
    let res = svc
        .oneshot(req("/signet.v1.UserPoolAuth/GetUser"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the handler's work was dropped"
    );
    let status = tonic::Status::from_header_map(res.headers()).expect("grpc-status");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    assert_eq!(
        crate::exception_name(&status).as_deref(),
        Some("RequestTimeoutException")
    );
    assert_eq!(lim.counts()[0], ("grpc", 0, 1));
}
