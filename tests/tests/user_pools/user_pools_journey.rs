//! The user journey across gateways: SignUp on A, code from the outbox, ConfirmSignUp on B,
//! InitiateAuth on A, tokens verified against the JWKS fetched over HTTP from B with every
//! claim checked, REFRESH_TOKEN_AUTH on B, GlobalSignOut, then refresh refused on both.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{auth_client, TEST_PUBLIC_URL};
use signet_verify::{Expected, KeySet, TokenUse};

const PASSWORD: &str = "Corr3ct-Horse!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_confirm_sign_in_refresh_sign_out_across_gateways() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let mut on_a = auth_client(env.a()).await;
    let mut on_b = auth_client(env.b()).await;

    // SignUp on A: a confirmation code goes to the (masked) e-mail.
    let signed = on_a
        .sign_up(pb::SignUpRequest {
            client_id: client_id.clone(),
            username: "Alice".into(),
            password: PASSWORD.into(),
            user_attributes: vec![pb::AttributeType {
                name: "email".into(),
                value: "alice@example.com".into(),
            }],
            ..Default::default()
        })
        .await
        .expect("sign up")
        .into_inner();
    assert!(!signed.user_confirmed);
    let delivery = signed.code_delivery_details.expect("code sent");
    assert_eq!(delivery.destination, "a***@e***.com");
    assert_eq!(delivery.attribute_name, "email");

    // Not confirmed yet: sign-in says so (after checking the password).
    let auth = |user: &str, pw: &str| pb::InitiateAuthRequest {
        client_id: client_id.clone(),
        auth_flow: "USER_PASSWORD_AUTH".into(),
        auth_parameters: params(&[("USERNAME", user), ("PASSWORD", pw)]),
        client_metadata: Default::default(),
    };
    let err = on_a
        .initiate_auth(auth("alice", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(exception(&err), "UserNotConfirmedException");

    // The code, read from the outbox through B, confirms on B.
    let code = outbox_code(env.b(), &pool_id, "alice", "confirm").await;
    assert_eq!(code.len(), 6);
    on_b.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id: client_id.clone(),
        username: "ALICE".into(),
        confirmation_code: code.clone(),
        ..Default::default()
    })
    .await
    .expect("confirm");

    // Sign in on A (the username is canonicalised: any case works).
    let tokens = on_a
        .initiate_auth(auth("aLiCe", PASSWORD))
        .await
        .expect("sign in")
        .into_inner()
        .authentication_result
        .expect("tokens");
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 3600);
    assert!(!tokens.refresh_token.is_empty());

    // Verify against the JWKS served over HTTP by B.
    let path = format!("/{pool_id}/.well-known/jwks.json");
    let (status, headers, body) =
        crate::support::http::get(&env.b().http_addr().to_string(), &path, &[]).await;
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "cache-control" && v.contains("max-age=1")));
    let etag = headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone())
        .expect("etag");
    let (status, _, _) = crate::support::http::get(
        &env.b().http_addr().to_string(),
        &path,
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(status, 304);
    let jwks: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut keys = KeySet::new();
    for k in jwks["keys"].as_array().unwrap() {
        keys.insert_jwk(&k.to_string()).unwrap();
    }
    // Both gateways published keys for three algorithms.
    assert_eq!(keys.len(), 6);
    let issuer = format!("{TEST_PUBLIC_URL}/{pool_id}");
    let expect = |token_use| Expected {
        issuer: issuer.clone(),
        token_use,
        clients: Some(vec![client_id.clone()]),
        leeway_s: 5,
    };
    let id = signet_verify::verify(&tokens.id_token, &keys, &expect(TokenUse::Id))
        .expect("id token verifies");
    let access = signet_verify::verify(&tokens.access_token, &keys, &expect(TokenUse::Access))
        .expect("access token verifies");
    assert_eq!(id["sub"], signed.user_sub.as_str());
    assert_eq!(id["aud"], client_id.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["token_use"], "id");
    assert!(id["jti"].as_str().is_some_and(|j| j.len() == 32));
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert_eq!(
        id["exp"].as_u64().unwrap() - id["iat"].as_u64().unwrap(),
        3600
    );
    assert!(id.get("cognito:groups").is_none());
    assert_eq!(access["client_id"], client_id.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(access["auth_time"], id["auth_time"]);
    // An ID token is not an access token, nor the reverse.
    assert!(signet_verify::verify(&tokens.id_token, &keys, &expect(TokenUse::Access)).is_err());
    assert!(signet_verify::verify(&tokens.access_token, &keys, &expect(TokenUse::Id)).is_err());

    // GetUser on B with the access token from A.
    let me = on_b
        .get_user(pb::AccessTokenRequest {
            access_token: tokens.access_token.clone(),
        })
        .await
        .expect("get user")
        .into_inner();
    assert_eq!(me.username, "alice");
    assert!(me
        .user_attributes
        .iter()
        .any(|a| a.name == "email_verified" && a.value == "true"));

    // The code was single-use.
    let err = on_a
        .confirm_sign_up(pb::ConfirmSignUpRequest {
            client_id: client_id.clone(),
            username: "alice".into(),
            confirmation_code: code,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(exception(&err), "NotAuthorizedException");

    // Refresh on B.
    let refresh = |token: &str| pb::InitiateAuthRequest {
        client_id: client_id.clone(),
        auth_flow: "REFRESH_TOKEN_AUTH".into(),
        auth_parameters: params(&[("REFRESH_TOKEN", token)]),
        client_metadata: Default::default(),
    };
    let refreshed = on_b
        .initiate_auth(refresh(&tokens.refresh_token))
        .await
        .expect("refresh")
        .into_inner()
        .authentication_result
        .expect("tokens");
    assert!(
        refreshed.refresh_token.is_empty(),
        "no rotation: no new refresh token"
    );
    let again =
        signet_verify::verify(&refreshed.access_token, &keys, &expect(TokenUse::Access)).unwrap();
    assert_ne!(again["jti"], access["jti"]);
    assert_eq!(again["origin_jti"], access["origin_jti"]);
    assert_eq!(again["auth_time"], access["auth_time"]);

    // GlobalSignOut: refresh refused on both gateways, and the old access token too.
    on_a.global_sign_out(pb::AccessTokenRequest {
        access_token: refreshed.access_token.clone(),
    })
    .await
    .expect("global sign out");
    for gw in [&mut on_a, &mut on_b] {
        let err = gw
            .initiate_auth(refresh(&tokens.refresh_token))
            .await
            .unwrap_err();
        assert_eq!(exception(&err), "NotAuthorizedException");
        let err = gw
            .get_user(pb::AccessTokenRequest {
                access_token: tokens.access_token.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(exception(&err), "NotAuthorizedException");
    }
    env.shutdown().await;
}
