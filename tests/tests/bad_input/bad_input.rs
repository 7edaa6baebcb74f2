//! Bad input through the public gRPC API, as an outside fuzzing review sent it: each
//! request is refused with the exact exception, refusals change nothing, and no error
//! echoes what it was sent. (Wire-level and HTTP cases: `bad_input_wire.rs`; paging of big
//! records: `bad_input_paging.rs`.)

use crate::support::pools::*;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, identity_admin_client, start_gateway, test_gateway_config, TestCluster,
};

const PASSWORD: &str = "Corr3ct-Horse!";

/// One store and one gateway: these tests are about the edge, not replication.
async fn start() -> (TestCluster, GatewayHandle) {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    (cluster, gw)
}

async fn stop(cluster: TestCluster, gw: GatewayHandle) {
    gw.shutdown().await;
    cluster.shutdown().await;
}

/// Assert a refusal's exception name, and that its message stays short and printable.
#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, want: &str, what: &str) {
    let err = r.expect_err(what);
    assert_eq!(exception(&err), want, "{what}: {}", err.message());
    assert!(
        err.message().len() <= 512,
        "{what}: a {} B message",
        err.message().len()
    );
    assert!(
        !err.message().chars().any(char::is_control),
        "{what}: {:?}",
        err.message()
    );
}

fn pool_req(name: &str) -> pb::CreateUserPoolRequest {
    pb::CreateUserPoolRequest {
        pool_name: name.into(),
        auto_verified_attributes: vec!["email".into()],
        ..Default::default()
    }
}

fn custom(name: &str, data_type: &str) -> pb::SchemaAttributeType {
    pb::SchemaAttributeType {
        name: name.into(),
        attribute_data_type: data_type.into(),
        mutable: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_checked_alike_on_create_and_update() {
    let (cluster, gw) = start().await;
    let (pool_id, client_id) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    let big = "n".repeat(200_000);
    for bad in [
        "",
        big.as_str(),
        "a\0b",
        "a\r\nb",
        "a\u{1b}[31mb",
        "a\u{202e}b",
    ] {
        let what = format!("pool name {:?}", &bad[..bad.len().min(8)]);
        refused(
            a.create_user_pool(admin(pool_req(bad))).await,
            "InvalidParameterException",
            &format!("create, {what}"),
        );
        refused(
            a.update_user_pool(admin(pb::UpdateUserPoolRequest {
                user_pool_id: pool_id.clone(),
                pool_name: Some(bad.into()),
                ..Default::default()
            }))
            .await,
            "InvalidParameterException",
            &format!("update, {what}"),
        );
        if bad.is_empty() {
            continue; // An empty client name in an update keeps the current one.
        }
        refused(
            a.update_user_pool_client(admin(pb::UpdateUserPoolClientRequest {
                user_pool_id: pool_id.clone(),
                client_id: client_id.clone(),
                client_name: Some(bad.into()),
                ..Default::default()
            }))
            .await,
            "InvalidParameterException",
            &format!("update client, {what}"),
        );
        refused(
            a.create_user_import_job(admin(pb::CreateUserImportJobRequest {
                user_pool_id: pool_id.clone(),
                job_name: bad.into(),
            }))
            .await,
            "InvalidParameterException",
            &format!("job, {what}"),
        );
    }
    // Nothing of it was kept.
    let pool = a
        .describe_user_pool(admin(pb::UserPoolRef {
            user_pool_id: pool_id.clone(),
        }))
        .await
        .expect("describe")
        .into_inner()
        .user_pool
        .expect("pool");
    assert_eq!(pool.name, "journey");

    // Roles: the description has one check too (at most 1000 characters, no controls).
    let mut ia = identity_admin_client(&gw).await;
    let trust = crate::support::identity::trust_identity_pool("local:none", "authenticated");
    ia.create_role(admin(pb::CreateRoleRequest {
        role_name: "reader".into(),
        assume_role_policy_document: trust,
        description: "reads".into(),
        max_session_duration: 0,
    }))
    .await
    .expect("create role");
    for bad in [big.as_str(), &"d".repeat(1001), "line\nbreak"] {
        refused(
            ia.update_role(admin(pb::UpdateRoleRequest {
                role_name: "reader".into(),
                description: Some(bad.into()),
                ..Default::default()
            }))
            .await,
            "InvalidParameterException",
            "update role description",
        );
    }
    stop(cluster, gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_usernames_and_control_characters_are_refused() {
    let (cluster, gw) = start().await;
    let (pool_id, _) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    let create = |username: &str| {
        admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.clone(),
            username: username.into(),
            temporary_password: PASSWORD.into(),
            message_action: "SUPPRESS".into(),
            ..Default::default()
        })
    };
    a.admin_create_user(create("alice")).await.expect("alice");
    for bad in [
        "a\u{200b}lice",
        "\u{feff}alice",
        "alice\u{202e}",
        "al\u{ad}ice",
        "alice\u{e0041}",
    ] {
        refused(
            a.admin_create_user(create(bad)).await,
            "InvalidParameterException",
            &format!("username {bad:?}"),
        );
    }
    let users = a
        .list_users(admin(pb::ListUsersRequest {
            user_pool_id: pool_id.clone(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .users;
    assert_eq!(users.len(), 1, "only alice: {users:?}");

    for bad in [
        "ops\r\nSet-Cookie: x",
        "ops\u{1b}[2J",
        "ops\u{200b}",
        "o ps",
        "",
    ] {
        refused(
            a.create_group(admin(pb::CreateGroupRequest {
                user_pool_id: pool_id.clone(),
                group_name: bad.into(),
                ..Default::default()
            }))
            .await,
            "InvalidParameterException",
            &format!("group {bad:?}"),
        );
    }
    stop(cluster, gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_do_not_echo_what_they_were_sent() {
    let (cluster, gw) = start().await;
    let (pool_id, _) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    let huge = format!("local_{}", "x".repeat(200_000));
    let err = a
        .describe_user_pool(admin(pb::UserPoolRef {
            user_pool_id: huge.clone(),
        }))
        .await
        .expect_err("a 200 KB id");
    assert_eq!(
        exception(&err),
        "InvalidParameterException",
        "{}",
        err.message()
    );
    assert!(err.message().len() <= 512);
    assert!(
        err.details().len() <= 1024,
        "{} B of details",
        err.details().len()
    );
    for bad in ["us-east-1_a\r\nb", "nounderscore", "local_x\u{0}"] {
        refused(
            a.describe_user_pool(admin(pb::UserPoolRef {
                user_pool_id: bad.into(),
            }))
            .await,
            "InvalidParameterException",
            &format!("pool id {bad:?}"),
        );
    }
    refused(
        a.describe_user_pool_client(admin(pb::ClientRef {
            user_pool_id: pool_id.clone(),
            client_id: "c".repeat(200_000),
        }))
        .await,
        "InvalidParameterException",
        "a 200 KB client id",
    );
    // A message that quotes input escapes control characters rather than carrying them.
    let err = a
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.clone(),
            username: "bob".into(),
            user_attributes: vec![pb::AttributeType {
                name: format!("custom:\r\n\u{1b}[31m{}", "y".repeat(100_000)),
                value: "v".into(),
            }],
            ..Default::default()
        }))
        .await
        .expect_err("unknown attribute");
    assert_eq!(exception(&err), "InvalidParameterException");
    assert!(
        err.message().contains("\\u{d}\\u{a}\\u{1b}"),
        "{}",
        err.message()
    );
    assert!(err.message().len() <= 512 && err.message().ends_with('…'));
    stop(cluster, gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_and_clients_hold_bounded_checked_lists() {
    let (cluster, gw) = start().await;
    let mut a = admin_client(&gw).await;
    let with_schema = |schema: Vec<pb::SchemaAttributeType>| {
        admin(pb::CreateUserPoolRequest {
            schema,
            ..pool_req("schema")
        })
    };
    let many = |n: usize| {
        (0..n)
            .map(|i| custom(&format!("custom:a{i}"), "String"))
            .collect()
    };
    refused(
        a.create_user_pool(with_schema(many(10_000))).await,
        "InvalidParameterException",
        "10,000 schema entries",
    );
    refused(
        a.create_user_pool(with_schema(many(51))).await,
        "InvalidParameterException",
        "51 custom attributes",
    );
    refused(
        a.create_user_pool(with_schema(vec![custom("custom:n", "Numbr")]))
            .await,
        "InvalidParameterException",
        "an unknown attribute data type",
    );
    refused(
        a.create_user_pool(with_schema(vec![custom("custom:n", "Number"); 2]))
            .await,
        "InvalidParameterException",
        "an attribute twice",
    );
    refused(
        a.create_user_pool(admin(pb::CreateUserPoolRequest {
            auto_verified_attributes: vec!["email".into(); 10_000],
            ..pool_req("dup")
        }))
        .await,
        "InvalidParameterException",
        "auto_verified_attributes repeated",
    );
    let pool = a
        .create_user_pool(with_schema(many(50)))
        .await
        .expect("50 custom attributes")
        .into_inner()
        .user_pool
        .expect("pool");

    // Client read/write attributes: the pool's attributes, each once.
    let client = |read: Vec<String>, write: Vec<String>| pb::CreateUserPoolClientRequest {
        user_pool_id: pool.id.clone(),
        client_name: "web".into(),
        read_attributes: read,
        write_attributes: write,
        ..Default::default()
    };
    let unknown: Vec<String> = (0..10_000).map(|i| format!("x{i}")).collect();
    for (what, read, write) in [
        ("10,000 unknown names", unknown, vec![]),
        ("NUL", vec!["\0".to_string()], vec![]),
        ("a path", vec![], vec!["../../etc/passwd".to_string()]),
        (
            "an undefined custom one",
            vec!["custom:a50".to_string()],
            vec![],
        ),
        (
            "a repeat",
            vec!["email".to_string(), "email".to_string()],
            vec![],
        ),
    ] {
        refused(
            a.create_user_pool_client(admin(client(read.clone(), write.clone())))
                .await,
            "InvalidParameterException",
            &format!("create: {what}"),
        );
    }
    let ok = a
        .create_user_pool_client(admin(client(
            vec!["email".into(), "custom:a49".into()],
            vec!["custom:a0".into()],
        )))
        .await
        .expect("known attributes")
        .into_inner()
        .user_pool_client
        .expect("client");
    refused(
        a.update_user_pool_client(admin(pb::UpdateUserPoolClientRequest {
            user_pool_id: pool.id.clone(),
            client_id: ok.client_id.clone(),
            write_attributes: vec!["../../etc/passwd".into()],
            ..Default::default()
        }))
        .await,
        "InvalidParameterException",
        "update: a path",
    );
    stop(cluster, gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_calls_on_a_missing_pool_are_resource_not_found() {
    let (cluster, gw) = start().await;
    let mut a = admin_client(&gw).await;
    let missing = "local_DoesNotExist1".to_string();
    let in_pool = || {
        admin(pb::ListInPoolRequest {
            user_pool_id: missing.clone(),
            ..Default::default()
        })
    };
    const NF: &str = "ResourceNotFoundException";
    refused(
        a.list_user_pool_clients(in_pool()).await,
        NF,
        "ListUserPoolClients",
    );
    refused(a.list_groups(in_pool()).await, NF, "ListGroups");
    refused(
        a.list_resource_servers(in_pool()).await,
        NF,
        "ListResourceServers",
    );
    refused(
        a.list_users(admin(pb::ListUsersRequest {
            user_pool_id: missing.clone(),
            ..Default::default()
        }))
        .await,
        NF,
        "ListUsers",
    );
    refused(
        a.list_users_in_group(admin(pb::ListUsersInGroupRequest {
            user_pool_id: missing.clone(),
            group_name: "g".into(),
            ..Default::default()
        }))
        .await,
        NF,
        "ListUsersInGroup",
    );
    refused(
        a.list_user_import_jobs(admin(pb::ListUserImportJobsRequest {
            user_pool_id: missing.clone(),
            ..Default::default()
        }))
        .await,
        NF,
        "ListUserImportJobs",
    );
    let mut ia = identity_admin_client(&gw).await;
    refused(
        ia.list_identities(admin(pb::ListIdentitiesRequest {
            identity_pool_id: "local:00000000-0000-4000-8000-000000000000".into(),
            ..Default::default()
        }))
        .await,
        NF,
        "ListIdentities",
    );
    stop(cluster, gw).await;
}

async fn user_status(gw: &GatewayHandle, pool_id: &str, username: &str) -> String {
    admin_client(gw)
        .await
        .admin_get_user(admin(pb::UserRef {
            user_pool_id: pool_id.into(),
            username: username.into(),
        }))
        .await
        .expect("get user")
        .into_inner()
        .user
        .expect("user")
        .user_status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_admin_reset_changes_nothing_and_a_reset_ends_sessions() {
    let (cluster, gw) = start().await;
    let (pool_id, client_id) = pool_and_client(&gw, false).await;
    let mut a = admin_client(&gw).await;
    let user = |u: &str| pb::UserRef {
        user_pool_id: pool_id.clone(),
        username: u.into(),
    };
    // No e-mail or phone at all: nowhere to send a reset code.
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool_id.clone(),
        username: "nomail".into(),
        temporary_password: PASSWORD.into(),
        message_action: "SUPPRESS".into(),
        ..Default::default()
    }))
    .await
    .expect("create");
    a.admin_set_user_password(admin(pb::AdminSetUserPasswordRequest {
        user_pool_id: pool_id.clone(),
        username: "nomail".into(),
        password: PASSWORD.into(),
        permanent: true,
    }))
    .await
    .expect("set password");
    assert_eq!(user_status(&gw, &pool_id, "nomail").await, "CONFIRMED");
    refused(
        a.admin_reset_user_password(admin(user("nomail"))).await,
        "InvalidParameterException",
        "reset without a verified contact",
    );
    assert_eq!(
        user_status(&gw, &pool_id, "nomail").await,
        "CONFIRMED",
        "the error changed nothing"
    );
    sign_in(&gw, &client_id, "nomail", PASSWORD).await;

    // With a verified e-mail: the reset goes through and ends the user's sessions.
    confirmed_user(
        &gw,
        &pool_id,
        &client_id,
        "ann",
        "ann@example.com",
        PASSWORD,
    )
    .await;
    let tokens = sign_in(&gw, &client_id, "ann", PASSWORD).await;
    a.admin_reset_user_password(admin(user("ann")))
        .await
        .expect("reset");
    assert_eq!(user_status(&gw, &pool_id, "ann").await, "RESET_REQUIRED");
    let err = signet_testkit::auth_client(&gw)
        .await
        .initiate_auth(refresh_auth(&client_id, &tokens.refresh_token))
        .await
        .expect_err("a refresh token from before the reset");
    assert_eq!(
        exception(&err),
        "NotAuthorizedException",
        "{}",
        err.message()
    );
    stop(cluster, gw).await;
}
