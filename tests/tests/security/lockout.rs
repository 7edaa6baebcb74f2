//! Cluster-wide lockout: failed password sign-ins are counted through the log, so failures
//! spread over two gateways add up; after five, even the right password is refused until
//! the (doubling) lockout passes, and a success clears the count. With user existence
//! hidden, a locked account answers exactly like a wrong password.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, wait_for, wait_for_async};
use std::time::Duration;

const PASSWORD: &str = "Right-Passw0rd!";

async fn confirmed_user(env: &TestEnv, pool: &str, name: &str) {
    let mut a = admin_client(env.a()).await;
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.into(),
        username: name.into(),
        temporary_password: "Temp-Passw0rd!".into(),
        message_action: "SUPPRESS".into(),
        ..Default::default()
    }))
    .await
    .unwrap();
    a.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool.into(),
        username: name.into(),
        password: PASSWORD.into(),
        permanent: true,
    }))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_two_gateways_lock_the_account_cluster_wide() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(&env, &pool, "dave").await;
    let sign_in = |pw: &str| pb::InitiateAuthRequest {
        client_id: client.clone(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: params(&[("USERNAME", "dave"), ("PASSWORD", pw)]),
        client_metadata: Default::default(),
    };
    let mut on_a = auth_client(env.a()).await;
    let mut on_b = auth_client(env.b()).await;
    for i in 0..5 {
        let gw = if i % 2 == 0 { &mut on_a } else { &mut on_b };
        let err = gw
            .initiate_auth(sign_in("Wrong-Passw0rd!"))
            .await
            .unwrap_err();
        assert_eq!(exception(&err), "NotAuthorizedException");
        // Failures are recorded in the background; wait for each to land.
        let n = i + 1;
        wait_for_async("failure recorded", Duration::from_secs(10), || async {
            (stored_user(&env, &pool, "dave").await.failed_sign_ins == n).then_some(())
        })
        .await;
    }
    let locked = stored_user(&env, &pool, "dave").await;
    assert!(locked.locked_until_ms > 0);

    // Locked: the right password is refused, with the same answer as a wrong one.
    let err = on_b.initiate_auth(sign_in(PASSWORD)).await.unwrap_err();
    assert_eq!(exception(&err), "NotAuthorizedException");
    assert_eq!(err.message(), "Incorrect username or password.");

    // After the lockout (1 s for the first), the right password works and clears the count.
    wait_for("lockout to pass", Duration::from_secs(10), || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        (now > locked.locked_until_ms + 50).then_some(())
    })
    .await;
    let ok = on_a
        .initiate_auth(sign_in(PASSWORD))
        .await
        .expect("sign in after lockout");
    assert!(ok.into_inner().authentication_result.is_some());
    let cleared = stored_user(&env, &pool, "dave").await;
    assert_eq!((cleared.failed_sign_ins, cleared.locked_until_ms), (0, 0));
    env.shutdown().await;
}
