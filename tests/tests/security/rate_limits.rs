//! Rate limits, attacked through the public API on two gateways: guesses from one address
//! over its sign-in budget are refused at once (TooManyRequestsException with
//! `retry-after`, the password never checked: the lockout's count is untouched) and touch neither other classes nor the
//! other gateway; sign-ups through one app
//! client over its budget are refused while another client goes on; the OAuth token
//! endpoint answers 429 with `Retry-After` per address and per client; /metrics counts
//! the refusals.

use crate::support::oauth::{
    basic, create_client, machine_client_request, orders_api, post_form, url, READ,
};
use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{auth_client, TestEnv};

const PASSWORD: &str = "Corr3ct-Horse!";

fn budgets(c: &mut signet_gateway::GatewayConfig) {
    for spec in [
        "sign-in.address=1/min,burst=3",
        "sign-up.client=1/h,burst=2",
        "token.address=1/h,burst=4",
        "token.client=1/h,burst=2",
    ] {
        c.serving.rate.set(spec).expect(spec);
    }
}

fn retry_after(e: &tonic::Status) -> u64 {
    e.metadata()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no retry-after on {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_per_address_and_per_client() {
    let env = TestEnv::start_with(1, 2, budgets).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(env.a(), &pool, &client, "vic", "vic@example.com", PASSWORD).await;
    let mut a = auth_client(env.a()).await;

    // Sign-in: the burst of three (right or wrong) passes, the fourth is refused at once.
    // confirmed_user spent one sign-in call (ConfirmSignUp) on gateway a.
    for _ in 0..2 {
        let e = a
            .initiate_auth(password_auth(&client, "vic", "Wr0ng-Password!"))
            .await
            .expect_err("wrong password");
        assert_eq!(exception(&e), "NotAuthorizedException");
    }
    let e = a
        .initiate_auth(password_auth(&client, "vic", PASSWORD))
        .await
        .expect_err("over the budget");
    assert_eq!(exception(&e), "TooManyRequestsException");
    assert_eq!(e.code(), tonic::Code::ResourceExhausted);
    assert!((1..=60).contains(&retry_after(&e)), "{}", retry_after(&e));
    // Refused before the password was looked at: the right password would have cleared
    // the two failures the wrong guesses left.
    assert_eq!(stored_user(&env, &pool, "vic").await.failed_sign_ins, 2);

    // The other gateway keeps its own budget (the lockout saw two wrong guesses only).
    sign_in(env.b(), &client, "vic", PASSWORD).await;

    // Sign-up has a budget of its own, per client: the second (vic's was the first)
    // passes from this address although its sign-in budget is spent; the third is
    // refused; another client of the pool goes on.
    let sign_up = |client: String, name: &'static str| pb::SignUpRequest {
        client_id: client,
        username: name.into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    a.sign_up(sign_up(client.clone(), "xia"))
        .await
        .expect("second sign-up");
    let e = a
        .sign_up(sign_up(client.clone(), "yan"))
        .await
        .expect_err("over the client's budget");
    assert_eq!(exception(&e), "TooManyRequestsException");
    assert!(
        retry_after(&e) > 1000,
        "an hour's budget: {}",
        retry_after(&e)
    );
    let other = public_client(env.a(), &pool, false).await;
    a.sign_up(sign_up(other, "yan"))
        .await
        .expect("another client has its own budget");

    // The token endpoint: per client (two), then per address (four in all).
    orders_api(env.a(), &pool).await;
    let mut creds = Vec::new();
    for _ in 0..2 {
        let c = create_client(env.a(), machine_client_request(&pool, &[READ], 0))
            .await
            .expect("machine client");
        creds.push(basic(&c.client_id, &c.client_secret));
    }
    let token = |auth: String| {
        let url = url(env.b(), &pool, "token");
        async move {
            post_form(
                &url,
                &[("authorization", auth.as_str())],
                &[("grant_type", "client_credentials"), ("scope", READ)],
            )
            .await
        }
    };
    for _ in 0..2 {
        assert_eq!(token(creds[0].clone()).await.status, 200);
    }
    let r = token(creds[0].clone()).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s > 1000),
        "{:?}",
        r.header("retry-after")
    );
    assert_eq!(token(creds[1].clone()).await.status, 200);
    // The fifth call from this address (the refused one counted too) is over its budget:
    // refused by the stack before the client is looked at.
    let r = token(creds[1].clone()).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());

    // Both surfaces counted what their stacks refused.
    let metrics = reqwest_get(&format!("http://{}/metrics", env.b().http_addr())).await;
    assert!(
        metrics.contains("signet_requests_rate_limited_total{surface=\"http\"} 1"),
        "{metrics}"
    );
    let metrics = reqwest_get(&format!("http://{}/metrics", env.a().http_addr())).await;
    assert!(
        metrics.contains("signet_requests_rate_limited_total{surface=\"grpc\"} 1"),
        "{metrics}"
    );
    env.shutdown().await;
}

async fn reqwest_get(url: &str) -> String {
    crate::support::oauth::http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}
