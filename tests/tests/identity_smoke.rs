//! The enhanced flow in one pass: a user-pool login → GetId → GetCredentialsForIdentity →
//! Authorize, across two gateways.

mod support;

use signet_proto::v1 as pb;
use signet_testkit::{identity_client, sts_client};
use support::identity::*;
use support::pools::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_pool_login_to_credentials_to_authorize() {
    let env = Env::start().await;
    let alice = user_pool_login(&env.a, "alice").await;
    let pool = identity_pool(&env.a, &[(&alice.provider, &alice.client_id)], false).await;
    let read = r#"{"Statement":[{"Effect":"Allow","Action":"orders:Get*","Resource":"arn:orders:::${signet:sub}/*"}]}"#;
    let arn = role(
        &env.a,
        "reader",
        &trust_identity_pool(&pool, "authenticated"),
        &[("read", read)],
    )
    .await;
    set_roles(&env.a, &pool, Some(&arn), None).await;

    let l = logins(&[(&alice.provider, &alice.id_token)]);
    let id = identity_client(&env.a)
        .await
        .get_id(pb::GetIdRequest {
            identity_pool_id: pool.clone(),
            logins: l.clone(),
        })
        .await
        .expect("GetId")
        .into_inner()
        .identity_id;
    assert!(id.starts_with("local:"), "{id}");
    let creds = identity_client(&env.b)
        .await
        .get_credentials_for_identity(pb::GetCredentialsForIdentityRequest {
            identity_id: id.clone(),
            logins: l,
            custom_role_arn: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("{}: {}", exception(&e), e.message()))
        .into_inner()
        .credentials
        .expect("credentials");
    let claims = claims_of(&creds.session_token);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["role"], arn.as_str());
    assert_eq!(claims["akid"], creds.access_key_id.as_str());
    assert_eq!(claims["exp"].as_u64().unwrap() * 1000, creds.expiration);

    let mut sts = sts_client(&env.a).await;
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
