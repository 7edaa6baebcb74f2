//! Security rules of DESIGN §8 for user pools: no user enumeration (same answer, similar
//! latency), fast RESOURCE_EXHAUSTED when password hashing is saturated (without disturbing
//! the store), pool isolation, and admin APIs closed without admin credentials.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, channel};
use signet_verify::{TokenUse, VerifyError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

const PASSWORD: &str = "Corr3ct-Horse!";

// The tests of this file run one at a time (with the rest of the binary, see
// `crate::SERIAL`): two of them measure latencies, which a neighbour hashing passwords on
// the same two cores would distort.
use crate::SERIAL;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_and_wrong_passwords_look_the_same() {
    const ROUNDS: usize = 15;
    let _serial = SERIAL.lock().await;
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "uma",
        "uma@example.com",
        PASSWORD,
    )
    .await;
    let mut auth = auth_client(env.a()).await;

    let mut attempt = async |username: &str| {
        let t = Instant::now();
        let err = auth
            .initiate_auth(password_auth(&client_id, username, "Wr0ng-password!"))
            .await
            .expect_err("wrong credentials");
        (
            t.elapsed(),
            exception(&err),
            err.code(),
            err.message().to_string(),
        )
    };
    // Warm up both paths (connections, caches) before measuring.
    for _ in 0..2 {
        attempt("uma").await;
        attempt("nobody").await;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let (t_known, name_k, code_k, msg_k) = attempt("uma").await;
        let (t_unknown, name_u, code_u, msg_u) = attempt(&format!("nobody-{i}")).await;
        assert_eq!(name_k, "NotAuthorizedException");
        assert_eq!(
            (name_u, code_u, msg_u),
            (name_k, code_k, msg_k),
            "an unknown user is answered like a wrong password"
        );
        known.push(t_known);
        unknown.push(t_unknown);
    }
    let (mk, mu) = (median(known.clone()), median(unknown.clone()));
    let (lo, hi) = (mk.min(mu), mk.max(mu));
    let gap = (hi - lo).as_secs_f64() / lo.as_secs_f64();
    assert!(
        gap < 0.20,
        "median latency: wrong password {mk:?}, unknown user {mu:?} ({:.0} % apart)\n\
         wrong password: {known:?}\nunknown user: {unknown:?}",
        gap * 100.0
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturated_hashing_refuses_fast_without_disturbing_the_store() {
    const N: usize = 40;
    let _serial = SERIAL.lock().await;
    let env = TestEnv::start_with(3, 2, |c| {
        c.hash_workers = 1;
        c.hash_queue = 2;
        c.hash_queue_deadline = Duration::from_secs(2);
    })
    .await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "walt",
        "walt@example.com",
        PASSWORD,
    )
    .await;
    // Walt's burst of wrong guesses locks him out; Xena shows the gateway serves afterwards.
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "xena",
        "xena@example.com",
        PASSWORD,
    )
    .await;
    let leader = env.cluster().wait_leader(Duration::from_secs(5)).await;
    let term = |id| {
        env.cluster()
            .node(id)
            .raft()
            .metrics()
            .borrow()
            .current_term
    };
    let term_before = term(leader);

    let auth = auth_client(env.a()).await;
    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let mut auth = auth.clone();
            let barrier = barrier.clone();
            // Wrong passwords of a real user and of unknown ones: both cost one hash.
            let username = if i % 2 == 0 {
                "walt".to_string()
            } else {
                format!("ghost-{i}")
            };
            let request = password_auth(&client_id, &username, "Wr0ng-password!");
            tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let res = auth.initiate_auth(request).await;
                (t.elapsed(), res.map(|_| ()))
            })
        })
        .collect();
    let mut refused = Vec::new();
    let mut answered = 0;
    for t in tasks {
        let (took, res) = t.await.expect("task");
        let err = res.expect_err("every password is wrong");
        match exception(&err).as_str() {
            "TooManyRequestsException" => {
                assert_eq!(err.code(), tonic::Code::ResourceExhausted);
                refused.push(took);
            }
            "NotAuthorizedException" => answered += 1,
            other => panic!("unexpected {other}: {err:?}"),
        }
    }
    eprintln!(
        "{} refused (slowest {:?}), {answered} answered",
        refused.len(),
        refused.iter().max()
    );
    assert!(
        refused.len() >= 30,
        "{} of {N} refused, {answered} answered",
        refused.len()
    );
    let slowest = refused.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_millis(500),
        "refusals must be fast; slowest {slowest:?} of {refused:?}"
    );

    // The overload stayed in the gateway: same leader, same term.
    let leader_after = env.cluster().wait_leader(Duration::from_secs(5)).await;
    assert_eq!(leader_after, leader);
    assert_eq!(term(leader_after), term_before);
    // And the gateway serves again once the burst is over.
    sign_in(env.a(), &client_id, "xena", PASSWORD).await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_accepts_nothing_from_another_pool() {
    let _serial = SERIAL.lock().await;
    let env = TestEnv::start(3, 2).await;
    let (pool_a, client_a) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_a,
        &client_a,
        "vera",
        "vera@example.com",
        PASSWORD,
    )
    .await;
    let tokens = sign_in(env.a(), &client_a, "vera", PASSWORD).await;
    let mut on_b = auth_client(env.b()).await;
    let me = on_b
        .get_user(pb::AccessTokenRequest {
            access_token: tokens.access_token.clone(),
        })
        .await
        .expect("A's access token works for A")
        .into_inner();
    assert_eq!(me.username, "vera");

    let (pool_b, client_b) = pool_and_client(env.b(), false).await;
    // A relying party of pool B takes the issuer from B's discovery document and the keys
    // from B's JWKS.
    let (status, _, body) = crate::support::http::get(
        &env.b().http_addr().to_string(),
        &format!("/{pool_b}/.well-known/openid-configuration"),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let discovery: serde_json::Value = serde_json::from_str(&body).unwrap();
    let issuer_b = discovery["issuer"].as_str().expect("issuer").to_string();
    assert_eq!(issuer_b, expected(&pool_b, &client_b, TokenUse::Id).issuer);
    let keys_b = jwks(env.b(), &pool_b).await;
    for (token, token_use) in [
        (&tokens.access_token, TokenUse::Access),
        (&tokens.id_token, TokenUse::Id),
    ] {
        for clients in [Some(vec![client_b.clone()]), None] {
            let expect_b = signet_verify::Expected {
                issuer: issuer_b.clone(),
                token_use,
                clients,
                leeway_s: 5,
            };
            assert_eq!(
                signet_verify::verify(token, &keys_b, &expect_b).unwrap_err(),
                VerifyError::WrongIssuer
            );
        }
        // The keys are right; only the pool is wrong.
        signet_verify::verify(token, &keys_b, &expected(&pool_a, &client_a, token_use))
            .expect("valid for pool A");
    }

    // A's refresh token presented with B's client.
    for gw in [env.a(), env.b()] {
        let err = auth_client(gw)
            .await
            .initiate_auth(refresh_auth(&client_b, &tokens.refresh_token))
            .await
            .expect_err("A's refresh token at B's client");
        assert_eq!(exception(&err), "NotAuthorizedException");
    }
    // B's client cannot revoke it either: it still works at A's client afterwards.
    let revoke = on_b
        .revoke_token(pb::RevokeTokenRequest {
            token: tokens.refresh_token.clone(),
            client_id: client_b.clone(),
            ..Default::default()
        })
        .await;
    assert!(revoke.is_err(), "B's client revoked a token of A");
    on_b.initiate_auth(refresh_auth(&client_a, &tokens.refresh_token))
        .await
        .expect("A's refresh token still works at A's client");

    // A's user does not exist in B, through the public or the admin flow.
    let err = on_b
        .initiate_auth(password_auth(&client_b, "vera", PASSWORD))
        .await
        .expect_err("A's user at B's client");
    assert_eq!(exception(&err), "NotAuthorizedException");
    let mut admin_b = admin_client(env.b()).await;
    let err = admin_b
        .admin_get_user(admin(pb::UserRef {
            user_pool_id: pool_b.clone(),
            username: "vera".into(),
        }))
        .await
        .expect_err("A's user in B");
    assert_eq!(exception(&err), "UserNotFoundException");
    // B's pool id with A's client.
    let err = admin_b
        .admin_initiate_auth(admin(pb::AdminInitiateAuthRequest {
            user_pool_id: pool_b.clone(),
            client_id: client_a.clone(),
            auth_flow: "ADMIN_USER_PASSWORD_AUTH".into(),
            auth_parameters: params(&[("USERNAME", "vera"), ("PASSWORD", PASSWORD)]),
            client_metadata: Default::default(),
        }))
        .await
        .expect_err("A's client named in pool B");
    assert_eq!(exception(&err), "ResourceNotFoundException");
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_apis_require_the_admin_secret() {
    let _serial = SERIAL.lock().await;
    let env = TestEnv::start(3, 2).await;
    let mut raw = UserPoolAdminClient::new(channel(env.a()).await);
    let create = || pb::CreateUserPoolRequest {
        pool_name: "sneaky".into(),
        ..Default::default()
    };
    let with_auth = |value: &str| {
        let mut r = tonic::Request::new(create());
        r.metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
        r
    };
    let attempts = [
        ("no credentials", tonic::Request::new(create())),
        ("wrong secret", with_auth("Bearer not-the-admin-secret")),
        (
            "the secret without the Bearer scheme",
            with_auth(signet_testkit::TEST_ADMIN_SECRET),
        ),
        ("an empty bearer", with_auth("Bearer ")),
    ];
    for (what, request) in attempts {
        let err = raw.create_user_pool(request).await.expect_err(what);
        assert_eq!(err.code(), tonic::Code::Unauthenticated, "{what}");
        assert_eq!(exception(&err), "NotAuthorizedException", "{what}");
    }
    // Reading the outbox (codes!) is an admin call too.
    let (pool_id, _) = pool_and_client(env.a(), false).await;
    let err = raw
        .list_outbox(tonic::Request::new(pb::UserPoolRef {
            user_pool_id: pool_id.clone(),
        }))
        .await
        .expect_err("outbox without credentials");
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(exception(&err), "NotAuthorizedException");

    // None of the refused calls created anything.
    let pools = admin_client(env.b())
        .await
        .list_user_pools(admin(pb::ListRequest {
            max_results: 60,
            ..Default::default()
        }))
        .await
        .expect("list pools with credentials")
        .into_inner()
        .user_pools;
    let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["journey"]);
    env.shutdown().await;
}
