//! Review findings on user attributes: the schema's rules (`mutable`, data types) hold on
//! every write path, the user's own and the admin's.

use crate::review_support::*;
use crate::support::identity::claims_of;
use crate::support::pools::sign_in;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, auth_client};

const PASSWORD: &str = "Corr3ct-Horse!";
const INVALID: &str = "InvalidParameterException";

/// A pool with `custom:tenant` (String, immutable) and `custom:age` (Number, mutable) that
/// verifies e-mail, and a public client: (pool id, client id).
async fn schema_pool(gw: &signet_gateway::GatewayHandle) -> (String, String) {
    pool_with_client(
        gw,
        pb::CreateUserPoolRequest {
            pool_name: "schema".into(),
            auto_verified_attributes: vec!["email".into()],
            schema: vec![
                pb::SchemaAttributeType {
                    name: "custom:tenant".into(),
                    attribute_data_type: "String".into(),
                    mutable: false,
                    ..Default::default()
                },
                pb::SchemaAttributeType {
                    name: "custom:age".into(),
                    attribute_data_type: "Number".into(),
                    mutable: true,
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
    )
    .await
}

/// An immutable attribute set at creation cannot be changed or removed afterwards, by the
/// user (UpdateUserAttributes, DeleteUserAttributes) or by an admin; the stored value and
/// the next ID token keep it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_attribute_is_changed_or_deleted_after_creation() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = schema_pool(gw).await;
    verified_admin_user(gw, &pool, "tina", &[("custom:tenant", "acme")], PASSWORD).await;
    let tokens = sign_in(gw, &client, "tina", PASSWORD).await;
    assert_eq!(claims_of(&tokens.id_token)["custom:tenant"], "acme");

    let mut auth = auth_client(gw).await;
    let mut adm = admin_client(gw).await;
    let mut observed = Vec::new();
    let r = auth
        .update_user_attributes(pb::UpdateUserAttributesRequest {
            access_token: tokens.access_token.clone(),
            user_attributes: vec![attr("custom:tenant", "globex")],
        })
        .await;
    observed.push(("UpdateUserAttributes custom:tenant=globex", outcome(&r)));
    let r = adm
        .admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "tina".into(),
            user_attributes: vec![attr("custom:tenant", "initech")],
        }))
        .await;
    observed.push((
        "AdminUpdateUserAttributes custom:tenant=initech",
        outcome(&r),
    ));
    let r = auth
        .delete_user_attributes(pb::DeleteUserAttributesRequest {
            access_token: tokens.access_token.clone(),
            user_attribute_names: vec!["custom:tenant".into()],
        })
        .await;
    observed.push(("DeleteUserAttributes custom:tenant", outcome(&r)));
    let r = adm
        .admin_delete_user_attributes(admin(pb::AdminDeleteUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "tina".into(),
            user_attribute_names: vec!["custom:tenant".into()],
        }))
        .await;
    observed.push(("AdminDeleteUserAttributes custom:tenant", outcome(&r)));

    let stored = admin_attributes(gw, &pool, "tina").await;
    observed.push((
        "AdminGetUser custom:tenant",
        format!("{:?}", stored.get("custom:tenant")),
    ));
    let again = sign_in(gw, &client, "tina", PASSWORD).await;
    observed.push((
        "next ID token custom:tenant",
        claims_of(&again.id_token)["custom:tenant"].to_string(),
    ));
    assert_eq!(
        observed,
        vec![
            ("UpdateUserAttributes custom:tenant=globex", INVALID.into()),
            (
                "AdminUpdateUserAttributes custom:tenant=initech",
                INVALID.into()
            ),
            ("DeleteUserAttributes custom:tenant", INVALID.into()),
            ("AdminDeleteUserAttributes custom:tenant", INVALID.into()),
            ("AdminGetUser custom:tenant", format!("{:?}", Some("acme"))),
            ("next ID token custom:tenant", "\"acme\"".into()),
        ]
    );
    env.shutdown().await;
}

/// A Number attribute takes numbers only, at sign-up and in UpdateUserAttributes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_attribute_accepts_text() {
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (pool, client) = schema_pool(gw).await;
    let mut auth = auth_client(gw).await;
    let sign_up = |username: &str, age: &str| pb::SignUpRequest {
        client_id: client.clone(),
        username: username.into(),
        password: PASSWORD.into(),
        user_attributes: vec![
            attr("email", &format!("{username}@example.com")),
            attr("custom:age", age),
        ],
        ..Default::default()
    };
    let mut observed = Vec::new();
    let r = auth.sign_up(sign_up("abe", "abc")).await;
    observed.push(("SignUp custom:age=abc", outcome(&r)));
    let r = auth.sign_up(sign_up("ben", "42")).await;
    observed.push(("SignUp custom:age=42", outcome(&r)));

    verified_admin_user(gw, &pool, "cid", &[], PASSWORD).await;
    let tokens = sign_in(gw, &client, "cid", PASSWORD).await;
    let update = |age: &str| pb::UpdateUserAttributesRequest {
        access_token: tokens.access_token.clone(),
        user_attributes: vec![attr("custom:age", age)],
    };
    let r = auth.update_user_attributes(update("abc")).await;
    observed.push(("UpdateUserAttributes custom:age=abc", outcome(&r)));
    let r = auth.update_user_attributes(update("42")).await;
    observed.push(("UpdateUserAttributes custom:age=42", outcome(&r)));
    let stored = admin_attributes(gw, &pool, "cid").await;
    observed.push((
        "AdminGetUser custom:age",
        format!("{:?}", stored.get("custom:age")),
    ));
    assert_eq!(
        observed,
        vec![
            ("SignUp custom:age=abc", INVALID.to_string()),
            ("SignUp custom:age=42", "OK".into()),
            ("UpdateUserAttributes custom:age=abc", INVALID.into()),
            ("UpdateUserAttributes custom:age=42", "OK".into()),
            ("AdminGetUser custom:age", format!("{:?}", Some("42"))),
        ]
    );
    env.shutdown().await;
}
