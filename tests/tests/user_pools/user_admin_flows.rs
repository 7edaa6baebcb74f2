//! Administrator and self-service flows of user pools, each across both gateways: a user
//! created by an admin sets its password through NEW_PASSWORD_REQUIRED (once per session),
//! ForgotPassword, ChangePassword, disabling and re-enabling, groups in the tokens, and
//! ListUsers filters and pagination.

use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client};
use signet_verify::TokenUse;
use std::collections::BTreeSet;

const PASSWORD: &str = "Corr3ct-Horse!";
const NEW_PASSWORD: &str = "N3w-Battery-Staple!";

fn email(value: &str) -> Vec<pb::AttributeType> {
    vec![pb::AttributeType {
        name: "email".into(),
        value: value.into(),
    }]
}

/// The name of the exception a password sign-in fails with (panics if it succeeds).
async fn sign_in_error(
    gw: &signet_gateway::GatewayHandle,
    client_id: &str,
    username: &str,
    password: &str,
) -> (String, String) {
    let err = auth_client(gw)
        .await
        .initiate_auth(password_auth(client_id, username, password))
        .await
        .expect_err("sign-in must fail");
    (exception(&err), err.message().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_created_user_sets_its_password_through_the_challenge_once() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let mut admin_a = admin_client(env.a()).await;
    const TEMPORARY: &str = "Temp-0rary-pass!";

    let created = admin_a
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.clone(),
            username: "Dana".into(),
            user_attributes: email("dana@example.com"),
            temporary_password: TEMPORARY.into(),
            ..Default::default()
        }))
        .await
        .expect("admin create user")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(created.username, "dana");
    assert_eq!(created.user_status, "FORCE_CHANGE_PASSWORD");
    assert!(created.enabled);

    // The temporary password leads to a challenge, not to tokens.
    let mut on_a = auth_client(env.a()).await;
    let mut on_b = auth_client(env.b()).await;
    let challenge = on_b
        .initiate_auth(password_auth(&client_id, "dana", TEMPORARY))
        .await
        .expect("initiate auth")
        .into_inner();
    assert_eq!(challenge.challenge_name, "NEW_PASSWORD_REQUIRED");
    assert!(!challenge.session.is_empty());
    assert!(challenge.authentication_result.is_none());
    assert_eq!(challenge.challenge_parameters["USER_ID_FOR_SRP"], "dana");
    // A wrong temporary password gets no challenge.
    assert_eq!(
        sign_in_error(env.a(), &client_id, "dana", "Wr0ng-password!")
            .await
            .0,
        "NotAuthorizedException"
    );

    let respond = |session: &str, new_password: &str| pb::RespondToAuthChallengeRequest {
        client_id: client_id.clone(),
        challenge_name: "NEW_PASSWORD_REQUIRED".into(),
        session: session.into(),
        challenge_responses: params(&[("USERNAME", "dana"), ("NEW_PASSWORD", new_password)]),
        client_metadata: Default::default(),
    };
    // Answered on the other gateway: the session is sealed with the cluster's key.
    let tokens = on_a
        .respond_to_auth_challenge(respond(&challenge.session, NEW_PASSWORD))
        .await
        .expect("answer the challenge")
        .into_inner()
        .authentication_result
        .expect("tokens");
    assert!(!tokens.refresh_token.is_empty());
    let keys = jwks(env.b(), &pool_id).await;
    let id = signet_verify::verify(
        &tokens.id_token,
        &keys,
        &expected(&pool_id, &client_id, TokenUse::Id),
    )
    .expect("id token verifies");
    assert_eq!(id["cognito:username"], "dana");
    assert_eq!(id["email"], "dana@example.com");
    assert_eq!(
        id["sub"],
        created
            .attributes
            .iter()
            .find(|a| a.name == "sub")
            .unwrap()
            .value
            .as_str()
    );

    // The same session cannot set a password twice.
    let err = on_b
        .respond_to_auth_challenge(respond(&challenge.session, "An0ther-pass!"))
        .await
        .expect_err("a session is single-use");
    assert_eq!(exception(&err), "NotAuthorizedException");

    let user = admin_a
        .admin_get_user(admin(user_ref(&pool_id, "dana")))
        .await
        .expect("admin get user")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(user.user_status, "CONFIRMED");

    // Only the password set through the challenge works now.
    sign_in(env.b(), &client_id, "dana", NEW_PASSWORD).await;
    for old in [TEMPORARY, "An0ther-pass!"] {
        assert_eq!(
            sign_in_error(env.a(), &client_id, "dana", old).await.0,
            "NotAuthorizedException",
            "password {old}"
        );
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_resets_it_with_the_emailed_code() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "erin",
        "erin@example.com",
        PASSWORD,
    )
    .await;

    let mut on_b = auth_client(env.b()).await;
    let delivery = on_b
        .forgot_password(pb::ClientUserRequest {
            client_id: client_id.clone(),
            username: "Erin".into(),
            ..Default::default()
        })
        .await
        .expect("forgot password")
        .into_inner()
        .code_delivery_details
        .expect("delivery");
    assert_eq!(delivery.destination, "e***@e***.com");
    assert_eq!(delivery.attribute_name, "email");
    assert_eq!(delivery.delivery_medium, "EMAIL");

    let code = outbox_code(env.a(), &pool_id, "erin", "reset").await;
    assert_eq!(code.len(), 6);
    auth_client(env.a())
        .await
        .confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
            client_id: client_id.clone(),
            username: "erin".into(),
            confirmation_code: code,
            password: NEW_PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect("confirm forgot password");

    sign_in(env.b(), &client_id, "erin", NEW_PASSWORD).await;
    assert_eq!(
        sign_in_error(env.a(), &client_id, "erin", PASSWORD).await.0,
        "NotAuthorizedException"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_needs_the_previous_one() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "frank",
        "frank@example.com",
        PASSWORD,
    )
    .await;
    let tokens = sign_in(env.a(), &client_id, "frank", PASSWORD).await;

    let change = |previous: &str| pb::ChangePasswordRequest {
        access_token: tokens.access_token.clone(),
        previous_password: previous.into(),
        proposed_password: NEW_PASSWORD.into(),
    };
    let mut on_b = auth_client(env.b()).await;
    let err = on_b
        .change_password(change("Wr0ng-previous!"))
        .await
        .expect_err("wrong previous password");
    assert_eq!(exception(&err), "NotAuthorizedException");
    // Nothing changed.
    sign_in(env.a(), &client_id, "frank", PASSWORD).await;

    on_b.change_password(change(PASSWORD))
        .await
        .expect("change password");
    sign_in(env.a(), &client_id, "frank", NEW_PASSWORD).await;
    assert_eq!(
        sign_in_error(env.b(), &client_id, "frank", PASSWORD)
            .await
            .0,
        "NotAuthorizedException"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_can_neither_sign_in_nor_use_its_tokens() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "gina",
        "gina@example.com",
        PASSWORD,
    )
    .await;
    let tokens = sign_in(env.a(), &client_id, "gina", PASSWORD).await;
    let mut admin_a = admin_client(env.a()).await;

    admin_a
        .admin_disable_user(admin(user_ref(&pool_id, "gina")))
        .await
        .expect("disable");
    let user = admin_a
        .admin_get_user(admin(user_ref(&pool_id, "gina")))
        .await
        .expect("admin get user")
        .into_inner()
        .user
        .expect("user");
    assert!(!user.enabled);

    for gw in [env.a(), env.b()] {
        let (name, message) = sign_in_error(gw, &client_id, "gina", PASSWORD).await;
        assert_eq!(name, "NotAuthorizedException");
        assert_eq!(message, "User is disabled.");
        let mut auth = auth_client(gw).await;
        let err = auth
            .initiate_auth(refresh_auth(&client_id, &tokens.refresh_token))
            .await
            .expect_err("refresh of a disabled user");
        assert_eq!(exception(&err), "NotAuthorizedException");
        let err = auth
            .get_user(pb::AccessTokenRequest {
                access_token: tokens.access_token.clone(),
            })
            .await
            .expect_err("access token of a disabled user");
        assert_eq!(exception(&err), "NotAuthorizedException");
    }

    admin_a
        .admin_enable_user(admin(user_ref(&pool_id, "gina")))
        .await
        .expect("enable");
    let fresh = sign_in(env.b(), &client_id, "gina", PASSWORD).await;
    let me = auth_client(env.a())
        .await
        .get_user(pb::AccessTokenRequest {
            access_token: fresh.access_token,
        })
        .await
        .expect("get user after re-enabling")
        .into_inner();
    assert_eq!(me.username, "gina");
    env.shutdown().await;
}

fn names(groups: &[pb::GroupType]) -> Vec<String> {
    groups.iter().map(|g| g.group_name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_appear_in_tokens_in_precedence_order() {
    const ADMIN_ROLE: &str = "arn:aws:iam::1:role/admin";
    const STAFF_ROLE: &str = "arn:aws:iam::1:role/staff";
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    confirmed_user(
        env.a(),
        &pool_id,
        &client_id,
        "hank",
        "hank@example.com",
        PASSWORD,
    )
    .await;
    let mut admin_a = admin_client(env.a()).await;
    let mut admin_b = admin_client(env.b()).await;
    admin_a
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.clone(),
            username: "ivy".into(),
            message_action: "SUPPRESS".into(),
            ..Default::default()
        }))
        .await
        .expect("create ivy");

    // Created (and joined) in the opposite order of their precedence.
    for (name, precedence, role) in [("staff", 5, STAFF_ROLE), ("admins", 1, ADMIN_ROLE)] {
        let g = admin_a
            .create_group(admin(pb::CreateGroupRequest {
                user_pool_id: pool_id.clone(),
                group_name: name.into(),
                description: format!("the {name}"),
                role_arn: role.into(),
                precedence: Some(precedence),
            }))
            .await
            .expect("create group")
            .into_inner()
            .group
            .expect("group");
        assert_eq!(g.precedence, Some(precedence));
        assert_eq!(g.role_arn, role);
    }
    let membership = |user: &str, group: &str| {
        admin(pb::UserGroupRef {
            user_pool_id: pool_id.clone(),
            username: user.into(),
            group_name: group.into(),
        })
    };
    for (user, group) in [("hank", "staff"), ("hank", "admins"), ("ivy", "staff")] {
        admin_b
            .admin_add_user_to_group(membership(user, group))
            .await
            .expect("add to group");
    }

    let keys = jwks(env.a(), &pool_id).await;
    let claims = |tokens: &pb::AuthenticationResultType| {
        let id = signet_verify::verify(
            &tokens.id_token,
            &keys,
            &expected(&pool_id, &client_id, TokenUse::Id),
        )
        .expect("id token verifies");
        let access = signet_verify::verify(
            &tokens.access_token,
            &keys,
            &expected(&pool_id, &client_id, TokenUse::Access),
        )
        .expect("access token verifies");
        (id, access)
    };
    let tokens = sign_in(env.b(), &client_id, "hank", PASSWORD).await;
    let (id, access) = claims(&tokens);
    for c in [&id, &access] {
        assert_eq!(c["cognito:groups"], serde_json::json!(["admins", "staff"]));
        assert_eq!(c["cognito:preferred_role"], ADMIN_ROLE);
    }
    assert_eq!(
        id["cognito:roles"],
        serde_json::json!([ADMIN_ROLE, STAFF_ROLE])
    );

    // The admin views agree with each other and with the tokens.
    let groups_of = |user: &str| admin(user_ref(&pool_id, user));
    let hank_groups = admin_a
        .admin_list_groups_for_user(groups_of("hank"))
        .await
        .expect("groups of hank")
        .into_inner()
        .groups;
    assert_eq!(names(&hank_groups), ["admins", "staff"]);
    assert_eq!(hank_groups[0].role_arn, ADMIN_ROLE);
    let ivy_groups = admin_b
        .admin_list_groups_for_user(groups_of("ivy"))
        .await
        .expect("groups of ivy")
        .into_inner()
        .groups;
    assert_eq!(names(&ivy_groups), ["staff"]);
    let members = |group: &str| {
        admin(pb::ListUsersInGroupRequest {
            user_pool_id: pool_id.clone(),
            group_name: group.into(),
            limit: 60,
            ..Default::default()
        })
    };
    let member_names = |users: Vec<pb::UserType>| -> BTreeSet<String> {
        users.into_iter().map(|u| u.username).collect()
    };
    let in_admins = admin_a
        .list_users_in_group(members("admins"))
        .await
        .expect("members of admins")
        .into_inner();
    assert_eq!(
        member_names(in_admins.users),
        BTreeSet::from(["hank".to_string()])
    );
    let in_staff = admin_a
        .list_users_in_group(members("staff"))
        .await
        .expect("members of staff")
        .into_inner();
    assert_eq!(
        member_names(in_staff.users),
        BTreeSet::from(["hank".to_string(), "ivy".to_string()])
    );

    // Leaving a group shows in the next sign-in's tokens.
    admin_a
        .admin_remove_user_from_group(membership("hank", "admins"))
        .await
        .expect("remove from group");
    let tokens = sign_in(env.a(), &client_id, "hank", PASSWORD).await;
    let (id, access) = claims(&tokens);
    for c in [&id, &access] {
        assert_eq!(c["cognito:groups"], serde_json::json!(["staff"]));
        assert_eq!(c["cognito:preferred_role"], STAFF_ROLE);
    }
    let hank_groups = admin_b
        .admin_list_groups_for_user(groups_of("hank"))
        .await
        .expect("groups of hank")
        .into_inner()
        .groups;
    assert_eq!(names(&hank_groups), ["staff"]);
    let in_admins = admin_b
        .list_users_in_group(members("admins"))
        .await
        .expect("members of admins")
        .into_inner();
    assert!(in_admins.users.is_empty());
    env.shutdown().await;
}

/// Five users (created by an admin, nothing sent): alice, alina, bob, bobby, carol.
async fn five_users(gw: &signet_gateway::GatewayHandle, pool_id: &str) -> BTreeSet<String> {
    let mut a = admin_client(gw).await;
    let users = [
        ("alice", "alice@example.com"),
        ("alina", "alina@example.org"),
        ("bob", "bob@example.com"),
        ("bobby", "bobby@example.com"),
        // "ali" inside the address, not at its start.
        ("carol", "c.ali@example.com"),
    ];
    for (name, mail) in users {
        a.admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.into(),
            username: name.into(),
            user_attributes: email(mail),
            message_action: "SUPPRESS".into(),
            ..Default::default()
        }))
        .await
        .expect("admin create user");
    }
    users.iter().map(|(n, _)| n.to_string()).collect()
}

fn list(
    pool_id: &str,
    filter: &str,
    limit: u32,
    token: &str,
) -> tonic::Request<pb::ListUsersRequest> {
    admin(pb::ListUsersRequest {
        user_pool_id: pool_id.into(),
        filter: filter.into(),
        limit,
        pagination_token: token.into(),
        attributes_to_get: vec![],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_filters_by_exact_value_and_prefix() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;
    five_users(env.a(), &pool_id).await;
    let mut on_b = admin_client(env.b()).await;
    let cases = [
        (r#"email ^= "ali""#, vec!["alice", "alina"]),
        (r#"username = "bob""#, vec!["bob"]),
    ];

    // With an explicit page size of 60 (Cognito's maximum)…
    for (filter, want) in &cases {
        let page = on_b
            .list_users(list(&pool_id, filter, 60, ""))
            .await
            .expect("list users")
            .into_inner();
        let mut got: Vec<String> = page.users.iter().map(|u| u.username.clone()).collect();
        got.sort();
        assert_eq!(&got, want, "filter {filter} with limit 60");
        assert!(
            page.pagination_token.is_empty(),
            "filter {filter}: one page"
        );
    }
    // …and without one: Cognito's default page size is its maximum, 60.
    for (filter, want) in &cases {
        let page = on_b
            .list_users(list(&pool_id, filter, 0, ""))
            .await
            .expect("list users")
            .into_inner();
        let mut got: Vec<String> = page.users.iter().map(|u| u.username.clone()).collect();
        got.sort();
        assert_eq!(&got, want, "filter {filter} without a limit");
        assert!(
            page.pagination_token.is_empty(),
            "filter {filter} without a limit: one page"
        );
    }
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_pages_with_limit_and_token() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;
    let all = five_users(env.a(), &pool_id).await;
    let mut on_b = admin_client(env.b()).await;

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = String::new();
    loop {
        assert!(sizes.len() < 10, "pagination does not end: {sizes:?}");
        let page = on_b
            .list_users(list(&pool_id, "", 2, &token))
            .await
            .expect("list users")
            .into_inner();
        sizes.push(page.users.len());
        seen.extend(page.users.into_iter().map(|u| u.username));
        if page.pagination_token.is_empty() {
            break;
        }
        token = page.pagination_token;
    }
    assert_eq!(sizes, [2, 2, 1], "three pages of at most 2");
    let distinct: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(distinct, all);
    env.shutdown().await;
}

/// A pool that reserves sign-up to administrators refuses SignUp over gRPC (the one
/// sign-up path every front calls), before any user exists; the admin still creates users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_for_admin_created_users_only_refuses_sign_up() {
    let env = TestEnv::start(1, 1).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let mut a = admin_client(env.a()).await;
    let updated = a
        .update_user_pool(admin(pb::UpdateUserPoolRequest {
            user_pool_id: pool_id.clone(),
            admin_create_user_only: Some(true),
            ..Default::default()
        }))
        .await
        .expect("update pool")
        .into_inner()
        .user_pool
        .expect("pool");
    assert!(updated.admin_create_user_only);
    let refused = auth_client(env.a())
        .await
        .sign_up(pb::SignUpRequest {
            client_id: client_id.clone(),
            username: "mallory".into(),
            password: "Correct-Horse-9!".into(),
            ..Default::default()
        })
        .await
        .expect_err("sign-up is reserved to admins");
    assert_eq!(exception(&refused), "NotAuthorizedException");
    let lookup = a.admin_get_user(admin(user_ref(&pool_id, "mallory"))).await;
    assert_eq!(
        exception(&lookup.expect_err("no user")),
        "UserNotFoundException"
    );
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool_id.clone(),
        username: "staffer".into(),
        message_action: "SUPPRESS".into(),
        ..Default::default()
    }))
    .await
    .expect("the admin still creates users");
    env.shutdown().await;
}
