//! Review findings on app clients: a disabled client is refused on every path that names
//! it (and its users' tokens stop working), and token introspection answers only the
//! token's own client.

use crate::review_support::*;
use crate::support::oauth::*;
use crate::support::pools::{
    confirmed_user, exception, outbox_code, params, password_auth, pool_and_client, refresh_auth,
    sign_in,
};
use serde_json::json;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client};

const PASSWORD: &str = "Corr3ct-Horse!";
const NEW_PASSWORD: &str = "N3w-Battery-Staple!";
const NOT_AUTHORIZED: &str = "NotAuthorizedException";

/// `grant_type=refresh_token` at the token endpoint for a public client.
async fn token_endpoint_refresh(
    gw: &signet_gateway::GatewayHandle,
    pool: &str,
    client: &str,
    refresh_token: &str,
) -> Reply {
    post_form(
        &url(gw, pool, "token"),
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Once UpdateUserPoolClient disables a client, every call naming it is refused, and the
/// access tokens issued to it before stop working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_app_client_keeps_working() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = pool_and_client(gw, false).await;
    let mut auth = auth_client(gw).await;
    let mut adm = admin_client(gw).await;

    // Before: a signed-in user with tokens and a pending reset code, two unconfirmed users
    // with pending codes, and an admin-created user in NEW_PASSWORD_REQUIRED. (Each call
    // below has its own precondition, so that none of them fails for another reason when
    // an earlier one is wrongly accepted.)
    confirmed_user(gw, &pool, &client, "ann", "ann@example.com", PASSWORD).await;
    let tokens = sign_in(gw, &client, "ann", PASSWORD).await;
    auth.forgot_password(pb::ClientUserRequest {
        client_id: client.clone(),
        username: "ann".into(),
        ..Default::default()
    })
    .await
    .expect("ForgotPassword before");
    let reset_code = outbox_code(gw, &pool, "ann", "reset").await;
    for name in ["bo", "bea"] {
        auth.sign_up(pb::SignUpRequest {
            client_id: client.clone(),
            username: name.into(),
            password: PASSWORD.into(),
            user_attributes: vec![attr("email", &format!("{name}@example.com"))],
            ..Default::default()
        })
        .await
        .expect("SignUp before");
    }
    let confirm_code = outbox_code(gw, &pool, "bo", "confirm").await;
    adm.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.clone(),
        username: "cy".into(),
        user_attributes: vec![attr("email", "cy@example.com")],
        temporary_password: "Temp-Pa55word!".into(),
        message_action: "SUPPRESS".into(),
    }))
    .await
    .expect("AdminCreateUser");
    let challenge = auth
        .initiate_auth(password_auth(&client, "cy", "Temp-Pa55word!"))
        .await
        .expect("temporary password")
        .into_inner();
    assert_eq!(challenge.challenge_name, "NEW_PASSWORD_REQUIRED");
    let r = token_endpoint_refresh(gw, &pool, &client, &tokens.refresh_token).await;
    assert_eq!(r.status, 200, "token endpoint before: {}", r.body);

    let updated = adm
        .update_user_pool_client(admin(pb::UpdateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_id: client.clone(),
            disabled: Some(true),
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("disable client: {}: {}", exception(&e), e.message()))
        .into_inner()
        .user_pool_client
        .expect("client");
    assert!(updated.disabled);
    assert_eq!(
        updated.explicit_auth_flows.len(),
        4,
        "flows kept (the four of support::pools::public_client): {updated:?}"
    );

    // The change may take a moment to reach the gateway's client cache.
    let first = until_refused(crate::review_support::PROPAGATION, || {
        let mut auth = auth.clone();
        let req = password_auth(&client, "ann", PASSWORD);
        async move { auth.initiate_auth(req).await }
    })
    .await;
    let mut observed = vec![("InitiateAuth USER_PASSWORD_AUTH", outcome(&first))];
    let r = auth
        .initiate_auth(refresh_auth(&client, &tokens.refresh_token))
        .await;
    observed.push(("InitiateAuth REFRESH_TOKEN_AUTH", outcome(&r)));
    let r = get_user(gw, &tokens.access_token).await;
    observed.push(("GetUser with an access token of the client", outcome(&r)));
    let r = token_endpoint_refresh(gw, &pool, &client, &tokens.refresh_token).await;
    let oauth = if r.status == 200 {
        "200".to_string()
    } else {
        format!("{} {}", r.status, r.json()["error"].as_str().unwrap_or("?"))
    };
    observed.push(("POST /oauth2/token", oauth));
    let r = auth
        .sign_up(pb::SignUpRequest {
            client_id: client.clone(),
            username: "dee".into(),
            password: PASSWORD.into(),
            user_attributes: vec![attr("email", "dee@example.com")],
            ..Default::default()
        })
        .await;
    observed.push(("SignUp", outcome(&r)));
    let r = auth
        .confirm_sign_up(pb::ConfirmSignUpRequest {
            client_id: client.clone(),
            username: "bo".into(),
            confirmation_code: confirm_code,
            ..Default::default()
        })
        .await;
    observed.push(("ConfirmSignUp", outcome(&r)));
    let r = auth
        .resend_confirmation_code(pb::ClientUserRequest {
            client_id: client.clone(),
            username: "bea".into(),
            ..Default::default()
        })
        .await;
    observed.push(("ResendConfirmationCode", outcome(&r)));
    let r = auth
        .confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
            client_id: client.clone(),
            username: "ann".into(),
            confirmation_code: reset_code,
            password: NEW_PASSWORD.into(),
            ..Default::default()
        })
        .await;
    observed.push(("ConfirmForgotPassword", outcome(&r)));
    let r = auth
        .forgot_password(pb::ClientUserRequest {
            client_id: client.clone(),
            username: "ann".into(),
            ..Default::default()
        })
        .await;
    observed.push(("ForgotPassword", outcome(&r)));
    let r = auth
        .respond_to_auth_challenge(pb::RespondToAuthChallengeRequest {
            client_id: client.clone(),
            challenge_name: "NEW_PASSWORD_REQUIRED".into(),
            session: challenge.session.clone(),
            challenge_responses: params(&[("USERNAME", "cy"), ("NEW_PASSWORD", NEW_PASSWORD)]),
            client_metadata: Default::default(),
        })
        .await;
    observed.push(("RespondToAuthChallenge", outcome(&r)));
    let r = auth
        .revoke_token(pb::RevokeTokenRequest {
            token: tokens.refresh_token.clone(),
            client_id: client.clone(),
            ..Default::default()
        })
        .await;
    observed.push(("RevokeToken", outcome(&r)));

    let mut want: Vec<(&str, String)> = observed
        .iter()
        .map(|(what, _)| (*what, NOT_AUTHORIZED.to_string()))
        .collect();
    want[3].1 = "401 invalid_client".into();
    assert_eq!(observed, want);
    env.shutdown().await;
}

/// Two confidential clients of one pool: each sees only its own tokens as active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_shows_any_clients_tokens() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let pool = new_pool(gw, "introspection").await;
    orders_api(gw, &pool).await;
    // A: client_credentials and password sign-in (admin flow), with a secret.
    let a = create_client(
        gw,
        pb::CreateUserPoolClientRequest {
            explicit_auth_flows: vec![
                "ALLOW_ADMIN_USER_PASSWORD_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            ..machine_client_request(&pool, &[READ], 900)
        },
    )
    .await
    .unwrap_or_else(|e| panic!("client A: {}: {}", exception(&e), e.message()));
    let b = create_client(gw, machine_client_request(&pool, &[READ], 900))
        .await
        .unwrap_or_else(|e| panic!("client B: {}: {}", exception(&e), e.message()));
    let (a_basic, b_basic) = (
        basic(&a.client_id, &a.client_secret),
        basic(&b.client_id, &b.client_secret),
    );
    let introspect = async |auth: &str, token: &str| {
        let r = post_form(
            &url(gw, &pool, "introspect"),
            &[("authorization", auth)],
            &[("token", token)],
        )
        .await;
        assert_eq!(r.status, 200, "introspection: {}", r.body);
        r.json()
    };

    let r = post_form(
        &url(gw, &pool, "token"),
        &[("authorization", &a_basic)],
        &[("grant_type", "client_credentials"), ("scope", READ)],
    )
    .await;
    assert_eq!(r.status, 200, "client_credentials for A: {}", r.body);
    let a_token = r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();

    let by_a = introspect(&a_basic, &a_token).await;
    assert_eq!(
        (&by_a["active"], &by_a["client_id"], &by_a["scope"]),
        (&json!(true), &json!(a.client_id), &json!(READ)),
        "A's token introspected by A: {by_a}"
    );

    let (_, user_tokens) = admin_signed_in(gw, &pool, &a.client_id, &a.client_secret, "uma").await;
    assert_eq!(
        outcome(&get_user(gw, &user_tokens.access_token).await),
        "OK",
        "the user's access token is valid"
    );

    let observed = vec![
        (
            "A's client_credentials token, introspected by B",
            introspect(&b_basic, &a_token).await,
        ),
        (
            "a user's access token issued to A, introspected by B",
            introspect(&b_basic, &user_tokens.access_token).await,
        ),
    ];
    assert_eq!(
        observed,
        vec![
            (
                "A's client_credentials token, introspected by B",
                json!({"active": false})
            ),
            (
                "a user's access token issued to A, introspected by B",
                json!({"active": false})
            ),
        ]
    );
    env.shutdown().await;
}
