//! AddCustomAttributes: a pool's schema grows (names get `custom:`), users already in the
//! pool are untouched and can be given the new attribute; a name taken, a required custom
//! attribute or more than fifty are refused.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, TestEnv};

fn attr(name: &str) -> pb::SchemaAttributeType {
    pb::SchemaAttributeType {
        name: name.into(),
        attribute_data_type: "String".into(),
        mutable: true,
        required: false,
        max_length: Some(16),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_attribute_added_later_can_be_set_on_existing_users() {
    let env = TestEnv::start(1, 2).await;
    let (pool, client) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool,
        &client,
        "cara",
        "cara@example.com",
        "Custom-Passw0rd!",
    )
    .await;
    let mut a = admin_client(env.a()).await;
    let set_plan = |v: &str| {
        admin(pb::AdminUpdateUserAttributesRequest {
            user_pool_id: pool.clone(),
            username: "cara".into(),
            user_attributes: vec![pb::AttributeType {
                name: "custom:plan".into(),
                value: v.into(),
            }],
        })
    };
    let before = a.admin_update_user_attributes(set_plan("gold")).await;
    assert!(before.is_err(), "no such attribute yet");

    a.add_custom_attributes(admin(pb::AddCustomAttributesRequest {
        user_pool_id: pool.clone(),
        custom_attributes: vec![attr("plan")],
    }))
    .await
    .expect("AddCustomAttributes");
    let described = admin_client(env.b())
        .await
        .describe_user_pool(admin(pb::UserPoolRef {
            user_pool_id: pool.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .user_pool
        .unwrap();
    assert!(
        described
            .schema_attributes
            .iter()
            .any(|s| s.name == "custom:plan"),
        "{described:?}"
    );
    a.admin_update_user_attributes(set_plan("gold"))
        .await
        .expect("the new attribute on an existing user");
    let cara = a
        .admin_get_user(admin(user_ref(&pool, "cara")))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(cara
        .attributes
        .iter()
        .any(|x| x.name == "custom:plan" && x.value == "gold"));

    let refused = |e: tonic::Status| (exception(&e), e.message().to_string());
    let e = a
        .add_custom_attributes(admin(pb::AddCustomAttributesRequest {
            user_pool_id: pool.clone(),
            custom_attributes: vec![attr("custom:plan")],
        }))
        .await
        .expect_err("taken");
    assert_eq!(
        refused(e),
        (
            "InvalidParameterException".to_string(),
            "Existing attribute already has name custom:plan.".to_string()
        )
    );
    let mut required = attr("tier");
    required.required = true;
    let e = a
        .add_custom_attributes(admin(pb::AddCustomAttributesRequest {
            user_pool_id: pool.clone(),
            custom_attributes: vec![required],
        }))
        .await
        .expect_err("required");
    assert_eq!(exception(&e), "InvalidParameterException");
    // 49 more fill the pool's fifty; one more is refused.
    a.add_custom_attributes(admin(pb::AddCustomAttributesRequest {
        user_pool_id: pool.clone(),
        custom_attributes: (0..49).map(|i| attr(&format!("a{i}"))).collect(),
    }))
    .await
    .expect("up to fifty");
    let e = a
        .add_custom_attributes(admin(pb::AddCustomAttributesRequest {
            user_pool_id: pool.clone(),
            custom_attributes: vec![attr("one_more")],
        }))
        .await
        .expect_err("the fifty-first");
    assert_eq!(exception(&e), "InvalidParameterException");
}
