//! The enhanced flow in one pass: a user-pool login → GetId → GetCredentialsForIdentity →
//! Authorize, across two gateways.

use crate::support::identity::*;
use signet_proto::v1 as pb;
use signet_testkit::sts_client;
use signet_testkit::TestEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_pool_login_to_credentials_to_authorize() {
    let env = TestEnv::start(3, 2).await;
    let alice = user_pool_login(env.a(), "alice").await;
    let pool = identity_pool(env.a(), &[(&alice.provider, &alice.client_id)], false).await;
    let read = r#"{"Statement":[{"Effect":"Allow","Action":"orders:Get*","Resource":"arn:orders:::${signet:sub}/*"}]}"#;
    let arn = identity_role(env.a(), "reader", &pool, "authenticated", &[("read", read)]).await;
    set_roles(env.a(), &pool, Some(&arn), None).await;

    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let id = ok("GetId", get_id(env.a(), &pool, &l).await);
    assert!(id.starts_with("local:"), "{id}");
    let creds = ok(
        "GetCredentialsForIdentity",
        credentials(env.b(), &id, &l).await,
    );
    let claims = claims_of(&creds.session_token);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["role"], arn.as_str());
    assert_eq!(claims["akid"], creds.access_key_id.as_str());
    assert_eq!(claims["exp"].as_u64().unwrap() * 1000, creds.expiration);

    let mut sts = sts_client(env.a()).await;
    let ask = |resource: String| pb::AuthorizeRequest {
        session_token: creds.session_token.clone(),
        access_key_id: creds.access_key_id.clone(),
        action: "orders:GetOrder".into(),
        resource,
        context: Default::default(),
    };
    let yes = sts
        .authorize(ask(format!("arn:orders:::{id}/1")))
        .await
        .expect("authorize")
        .into_inner();
    assert!(yes.allowed);
    assert_eq!(
        (yes.decision.as_str(), yes.policy_name.as_str()),
        ("Allow", "read")
    );
    let no = sts
        .authorize(ask("arn:orders:::local:someone-else/1".into()))
        .await
        .expect("authorize")
        .into_inner();
    assert!(!no.allowed);
    assert_eq!(no.decision, "ImplicitDeny");
    env.shutdown().await;
}
