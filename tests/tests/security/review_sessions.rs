//! Review findings on sessions: a sign-out ends a rotating refresh chain that a thief keeps
//! advancing, and password changes and resets revoke the tokens issued before them.

use crate::review_support::*;
use crate::support::pools::{
    confirmed_user, exception, outbox_code, pool_and_client, refresh_auth, sign_in,
};
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client, wait_for};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "Corr3ct-Horse!";
const NEW_PASSWORD: &str = "N3w-Battery-Staple!";
const NOT_AUTHORIZED: &str = "NotAuthorizedException";

/// One refresh of the thief's loop.
struct Refresh {
    /// Started after the victim's GlobalSignOut had returned.
    after_sign_out: bool,
    /// The access token it obtained, or the refusal ("{exception}: {message}").
    outcome: Result<String, String>,
}

/// The victim signs in; a thief holding the refresh token refreshes in a loop with the
/// newest rotated token while the victim signs out everywhere. Every refresh started after
/// the sign-out returned must be refused, and every access token the thief obtained
/// (including from a refresh in flight during the sign-out) must be refused by GetUser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_refresh_chain_survives_global_sign_out() {
    const TRIALS: usize = 8;
    /// Refreshes the thief makes once the sign-out has returned, before stopping.
    const AFTER: usize = 3;
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, true).await;
    confirmed_user(gw, &pool, &client, "vera", "vera@example.com", PASSWORD).await;

    let mut violations = Vec::new();
    for trial in 0..TRIALS {
        let tokens = sign_in(gw, &client, "vera", PASSWORD).await;
        let signed_out = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let thief = {
            let (signed_out, done) = (signed_out.clone(), done.clone());
            let mut auth = auth_client(gw).await;
            let client = client.clone();
            let mut rt = tokens.refresh_token.clone();
            tokio::spawn(async move {
                let mut log = Vec::new();
                let mut after = 0;
                // Bounded, in case the victim never gets to sign out.
                for _ in 0..5_000 {
                    let after_sign_out = signed_out.load(Ordering::SeqCst);
                    let outcome = match auth.initiate_auth(refresh_auth(&client, &rt)).await {
                        Ok(r) => {
                            let t = r.into_inner().authentication_result.expect("tokens");
                            assert!(!t.refresh_token.is_empty(), "rotation gives a new token");
                            rt = t.refresh_token;
                            Ok(t.access_token)
                        }
                        Err(e) => Err(format!("{}: {}", exception(&e), e.message())),
                    };
                    log.push(Refresh {
                        after_sign_out,
                        outcome,
                    });
                    done.fetch_add(1, Ordering::SeqCst);
                    if after_sign_out {
                        after += 1;
                        if after == AFTER {
                            break;
                        }
                    }
                }
                log
            })
        };
        // Let the loop run a little (a different number of refreshes each trial), then sign
        // out while it keeps going.
        let before = 3 + trial;
        wait_for(
            "the thief's first refreshes",
            Duration::from_secs(20),
            || (done.load(Ordering::SeqCst) >= before).then_some(()),
        )
        .await;
        auth_client(gw)
            .await
            .global_sign_out(pb::AccessTokenRequest {
                access_token: tokens.access_token.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("GlobalSignOut: {}: {}", exception(&e), e.message()));
        signed_out.store(true, Ordering::SeqCst);
        let log = thief.await.expect("thief task");

        for (i, r) in log.iter().enumerate().take(before) {
            assert!(
                r.outcome.is_ok(),
                "trial {trial}: refresh #{i}, before the sign-out: {:?}",
                r.outcome
            );
        }
        for (i, r) in log.iter().enumerate() {
            match &r.outcome {
                Ok(_) if r.after_sign_out => violations.push(format!(
                    "trial {trial}: refresh #{i}, started after GlobalSignOut returned, succeeded"
                )),
                Err(e) if r.after_sign_out && !e.starts_with(&format!("{NOT_AUTHORIZED}:")) => {
                    violations.push(format!(
                        "trial {trial}: refresh #{i} after the sign-out refused with {e}"
                    ))
                }
                _ => {}
            }
        }
        for (i, r) in log.iter().enumerate() {
            if let Ok(access) = &r.outcome {
                let answer = outcome(&get_user(gw, access).await);
                if answer != NOT_AUTHORIZED {
                    violations.push(format!(
                        "trial {trial}: access token of refresh #{i} (after sign-out started: {}) \
                         answered by GetUser with {answer}",
                        r.after_sign_out
                    ));
                }
            }
        }
        assert!(
            log.iter().filter(|r| r.after_sign_out).count() == AFTER,
            "trial {trial}: the thief stopped early"
        );
    }
    assert_eq!(violations, Vec::<String>::new());
    env.shutdown().await;
}

/// After AdminResetUserPassword, ChangePassword, ConfirmForgotPassword and
/// AdminSetUserPassword, the access and refresh tokens issued before are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_changes_leave_earlier_tokens_valid() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    let mut auth = auth_client(gw).await;
    let mut adm = admin_client(gw).await;
    let user_ref = |username: &str| pb::UserRef {
        user_pool_id: pool.clone(),
        username: username.into(),
    };

    let mut observed = Vec::new();
    let mut want = Vec::new();
    for op in [
        "AdminResetUserPassword",
        "ChangePassword",
        "ConfirmForgotPassword",
        "AdminSetUserPassword",
    ] {
        let username = op.to_lowercase();
        // Signed up and confirmed: the e-mail is verified (AdminResetUserPassword needs it).
        let email = format!("{username}@example.com");
        confirmed_user(gw, &pool, &client, &username, &email, PASSWORD).await;
        let tokens = sign_in(gw, &client, &username, PASSWORD).await;
        assert_eq!(outcome(&get_user(gw, &tokens.access_token).await), "OK");
        match op {
            "AdminResetUserPassword" => {
                adm.admin_reset_user_password(admin(user_ref(&username)))
                    .await
                    .expect("AdminResetUserPassword");
            }
            "ChangePassword" => {
                auth.change_password(pb::ChangePasswordRequest {
                    access_token: tokens.access_token.clone(),
                    previous_password: PASSWORD.into(),
                    proposed_password: NEW_PASSWORD.into(),
                })
                .await
                .expect("ChangePassword");
            }
            "ConfirmForgotPassword" => {
                auth.forgot_password(pb::ClientUserRequest {
                    client_id: client.clone(),
                    username: username.clone(),
                    ..Default::default()
                })
                .await
                .expect("ForgotPassword");
                let code = outbox_code(gw, &pool, &username, "reset").await;
                auth.confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
                    client_id: client.clone(),
                    username: username.clone(),
                    confirmation_code: code,
                    password: NEW_PASSWORD.into(),
                    ..Default::default()
                })
                .await
                .expect("ConfirmForgotPassword");
            }
            "AdminSetUserPassword" => {
                adm.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
                    user_pool_id: pool.clone(),
                    username: username.clone(),
                    password: NEW_PASSWORD.into(),
                    permanent: true,
                }))
                .await
                .expect("AdminSetUserPassword");
            }
            _ => unreachable!(),
        }
        let r = get_user(gw, &tokens.access_token).await;
        observed.push((op, "GetUser with the earlier access token", outcome(&r)));
        let r = auth
            .initiate_auth(refresh_auth(&client, &tokens.refresh_token))
            .await;
        observed.push((
            op,
            "REFRESH_TOKEN_AUTH with the earlier refresh token",
            outcome(&r),
        ));
        want.push((
            op,
            "GetUser with the earlier access token",
            NOT_AUTHORIZED.to_string(),
        ));
        want.push((
            op,
            "REFRESH_TOKEN_AUTH with the earlier refresh token",
            NOT_AUTHORIZED.to_string(),
        ));
    }
    assert_eq!(observed, want);
    env.shutdown().await;
}
