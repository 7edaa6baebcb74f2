//! USER_SRP_AUTH with a client nobody here wrote: pycognito's AWSSRP (PyPI), over boto3's
//! cognito-idp client and AWS JSON 1.1, signs in through a gateway other than the one the
//! user signed up on; a wrong password is refused
//! (and counted towards the lockout, like a wrong USER_PASSWORD_AUTH); a user whose
//! password predates SRP has no verifier until a USER_PASSWORD_AUTH sign-in derives one;
//! a changed password voids the old one's verifier.
//!
//! The Python part needs python3 with its venv module; its first run installs pinned
//! packages from PyPI into target/cognito-srp-venv.

use crate::support::clients::python_client;
use crate::support::pools::*;
use signet_core::{Command, CreateUser, User, UserStatus};
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, TestEnv};

const PASSWORD: &str = "Srp-Passw0rd!";

/// pycognito's USER_SRP_AUTH against `gw`: the tokens, or the error it reported.
async fn pycognito(
    gw: &GatewayHandle,
    pool: &str,
    client: &str,
    user: &str,
    password: &str,
) -> Result<serde_json::Value, String> {
    let args: Vec<String> = [
        format!("http://{}", gw.http_addr()),
        pool.into(),
        client.into(),
        user.into(),
        password.into(),
    ]
    .into();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        python_client("cognito_srp_sign_in.py", &args)
    })
    .await
    .unwrap();
    match out["tokens"].is_object() {
        true => Ok(out["tokens"].clone()),
        false => Err(out["error"].as_str().unwrap_or("").to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycognito_signs_in_with_srp_and_a_wrong_password_is_counted() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(env.a(), &pool, &client, "sam", "sam@example.com", PASSWORD).await;
    assert!(
        stored_user(&env, &pool, "sam").await.srp.is_some(),
        "sign-up made a verifier"
    );

    let tokens = pycognito(env.b(), &pool, &client, "sam", PASSWORD)
        .await
        .expect("pycognito signs in");
    let access = tokens["AccessToken"].as_str().unwrap().to_string();
    let me = auth_client(env.a())
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: access,
        })
        .await
        .expect("the access token works on the other gateway")
        .into_inner();
    assert_eq!(me.username, "sam");
    let keys = jwks(env.a(), &pool).await;
    signet_verify::verify(
        tokens["IdToken"].as_str().unwrap(),
        &keys,
        &expected(&pool, &client, signet_verify::TokenUse::Id),
    )
    .expect("the ID token verifies");

    let before = stored_user(&env, &pool, "sam").await.failed_sign_ins;
    let e = pycognito(env.a(), &pool, &client, "sam", "Wrong-Passw0rd!")
        .await
        .expect_err("a wrong password");
    assert!(e.contains("Incorrect username or password"), "{e}");
    assert_eq!(
        stored_user(&env, &pool, "sam").await.failed_sign_ins,
        before + 1
    );
    // An unknown user is answered the same way (the pool hides whether users exist).
    let e = pycognito(env.a(), &pool, &client, "nobody", PASSWORD)
        .await
        .expect_err("an unknown user");
    assert!(e.contains("Incorrect username or password"), "{e}");
    // A right SRP sign-in clears the count.
    pycognito(env.a(), &pool, &client, "sam", PASSWORD)
        .await
        .expect("signs in again");
    assert_eq!(stored_user(&env, &pool, "sam").await.failed_sign_ins, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_from_before_srp_gets_a_verifier_at_the_next_password_sign_in() {
    let env = TestEnv::start(3, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    // A user as an older Signet (or an import) left it: an argon2 hash, no verifier.
    let mut user = User::new("sub-olga", "olga", UserStatus::Confirmed, 1);
    user.password_hash = Some(
        signet_crypto::PasswordHasher::new(
            signet_testkit::test_gateway_config().password,
            1,
            4,
            std::time::Duration::from_secs(10),
        )
        .hash(PASSWORD)
        .await
        .unwrap(),
    );
    env.cluster()
        .client()
        .write(Command::CreateUser(CreateUser {
            pool_id: pool.clone(),
            user,
        }))
        .await
        .unwrap();
    let e = pycognito(env.a(), &pool, &client, "olga", PASSWORD)
        .await
        .expect_err("no verifier yet");
    assert!(e.contains("Incorrect username or password"), "{e}");
    // USER_PASSWORD_AUTH shows the password once: the verifier is derived from it.
    sign_in(env.b(), &client, "olga", PASSWORD).await;
    assert!(stored_user(&env, &pool, "olga").await.srp.is_some());
    pycognito(env.a(), &pool, &client, "olga", PASSWORD)
        .await
        .expect("SRP after the derivation");

    // An admin sets a new password: the old one's verifier is gone with it.
    admin_client(env.a())
        .await
        .admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
            user_pool_id: pool.clone(),
            username: "olga".into(),
            password: "Newer-Passw0rd!".into(),
            permanent: true,
        }))
        .await
        .unwrap();
    let e = pycognito(env.b(), &pool, &client, "olga", PASSWORD)
        .await
        .expect_err("the old password");
    assert!(e.contains("Incorrect username or password"), "{e}");
    pycognito(env.b(), &pool, &client, "olga", "Newer-Passw0rd!")
        .await
        .expect("the new password");
}
