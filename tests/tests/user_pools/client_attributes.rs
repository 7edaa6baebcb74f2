//! An app client's read and write attribute lists: a client may only write the attributes
//! it lists (at sign-up and in UpdateUserAttributes), and only sees the ones it may read
//! (GetUser, ID token).

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client};

const PASSWORD: &str = "Read-Wr1te!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_read_and_write_only_their_attributes() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;
    let client = admin_client(env.a())
        .await
        .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
            user_pool_id: pool_id.clone(),
            client_name: "narrow".into(),
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
            read_attributes: vec!["email".into(), "email_verified".into()],
            write_attributes: vec!["email".into()],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .user_pool_client
        .unwrap()
        .client_id;
    let mut auth = auth_client(env.a()).await;
    let attr = |n: &str, v: &str| pb::AttributeType {
        name: n.into(),
        value: v.into(),
    };
    let err = auth
        .sign_up(pb::SignUpRequest {
            client_id: client.clone(),
            username: "gina".into(),
            password: PASSWORD.into(),
            user_attributes: vec![attr("email", "gina@example.com"), attr("name", "Gina")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(exception(&err), "NotAuthorizedException");

    confirmed_user(
        env.a(),
        &pool_id,
        &client,
        "gina",
        "gina@example.com",
        PASSWORD,
    )
    .await;
    // An admin may set what the client may not.
    admin_client(env.a())
        .await
        .admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool_id.clone(),
            username: "gina".into(),
            user_attributes: vec![attr("name", "Gina")],
        }))
        .await
        .unwrap();
    let tokens = sign_in(env.a(), &client, "gina", PASSWORD).await;

    let me = auth
        .get_user(pb::AccessTokenRequest {
            access_token: tokens.access_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<String> = me.user_attributes.iter().map(|a| a.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["email", "email_verified", "sub"]);

    let keys = jwks(env.a(), &pool_id).await;
    let id = signet_verify::verify(
        &tokens.id_token,
        &keys,
        &expected(&pool_id, &client, signet_verify::TokenUse::Id),
    )
    .unwrap();
    assert_eq!(id["email"], "gina@example.com");
    assert!(
        id.get("name").is_none(),
        "name is not readable by this client"
    );

    let err = auth
        .update_user_attributes(pb::UpdateUserAttributesRequest {
            access_token: tokens.access_token.clone(),
            user_attributes: vec![attr("name", "Other")],
        })
        .await
        .unwrap_err();
    assert_eq!(exception(&err), "NotAuthorizedException");
    env.shutdown().await;
}
