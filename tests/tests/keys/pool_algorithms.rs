//! A pool's signing algorithm is its own: EdDSA by default, ES256 or RS256 for relying
//! parties that need them. Tokens carry the pool's algorithm, verify against the JWKS, and
//! Signet's APIs accept them.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_pool_signs_with_its_algorithm() {
    let env = TestEnv::start(3, 2).await;
    for alg in ["EdDSA", "ES256", "RS256"] {
        let mut a = admin_client(env.a()).await;
        let pool = a
            .create_user_pool(admin(pb::CreateUserPoolRequest {
                pool_name: format!("{alg} pool"),
                auto_verified_attributes: vec!["email".into()],
                signing_alg: if alg == "EdDSA" {
                    String::new()
                } else {
                    alg.into()
                },
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
            .user_pool
            .unwrap();
        assert_eq!(pool.signing_alg, alg);
        let client = a
            .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
                user_pool_id: pool.id.clone(),
                client_name: "app".into(),
                explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH".into()],
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
            .user_pool_client
            .unwrap()
            .client_id;
        confirmed_user(
            env.a(),
            &pool.id,
            &client,
            "lee",
            "lee@example.com",
            "Alg0rithm-Test!",
        )
        .await;
        let t = sign_in(env.b(), &client, "lee", "Alg0rithm-Test!").await;
        let header = header_of(&t.id_token);
        assert_eq!(header["alg"], alg);
        let keys = jwks(env.a(), &pool.id).await;
        signet_verify::verify(
            &t.id_token,
            &keys,
            &expected(&pool.id, &client, signet_verify::TokenUse::Id),
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"));
        let me = auth_client(env.a())
            .await
            .get_user(pb::AccessTokenRequest {
                access_token: t.access_token,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(me.username, "lee");
    }
    env.shutdown().await;
}
