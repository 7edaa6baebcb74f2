//! User export: a pool's users as CSV in the import format, page by page, and import of
//! that file into new pools — with password hashes (users sign in with their old
//! passwords, keep their status, their groups and being disabled) and without (users must
//! reset their passwords). A group missing from the new pool fails the row, not half of it.

use crate::support::imports::*;
use crate::support::pools::*;
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, TestEnv};

const PASSWORD: &str = "Export-Me-123";

/// Every page of `pool_id`'s export, `page` users at a time: (CSV, users, calls).
async fn export_all(
    gw: &signet_gateway::GatewayHandle,
    pool_id: &str,
    hashes: bool,
    page: u32,
) -> (String, u32, usize) {
    let mut a = admin_client(gw).await;
    let (mut csv, mut users, mut calls, mut token) = (String::new(), 0, 0, String::new());
    loop {
        let r = a
            .export_users(admin(pb::ExportUsersRequest {
                user_pool_id: pool_id.into(),
                include_password_hashes: hashes,
                max_results: page,
                next_token: token,
            }))
            .await
            .expect("export users")
            .into_inner();
        calls += 1;
        csv.push_str(&r.csv);
        users += r.users;
        if r.next_token.is_empty() {
            return (csv, users, calls);
        }
        token = r.next_token;
    }
}

/// A pool with groups `g1` and `g2` and a public client: (pool, client).
async fn pool_with_groups(gw: &signet_gateway::GatewayHandle, groups: &[&str]) -> (String, String) {
    let (pool, client) = pool_and_client(gw, false).await;
    let mut a = admin_client(gw).await;
    for g in groups {
        a.create_group(admin(pb::CreateGroupRequest {
            user_pool_id: pool.clone(),
            group_name: g.to_string(),
            ..Default::default()
        }))
        .await
        .expect("create group");
    }
    (pool, client)
}

/// Import `csv` into `pool` through a job; the finished job.
async fn import(
    gw: &signet_gateway::GatewayHandle,
    pool: &str,
    csv: &str,
) -> pb::UserImportJobType {
    let job = create_job(gw, pool).await;
    let (status, answer) = upload(gw, &job, csv).await;
    assert_eq!(status, 200, "{answer}");
    start(gw, pool, &job.job_id).await.expect("start");
    wait_final(gw, pool, &job.job_id).await
}

async fn groups_of(gw: &signet_gateway::GatewayHandle, pool: &str, user: &str) -> Vec<String> {
    let mut names: Vec<String> = admin_client(gw)
        .await
        .admin_list_groups_for_user(admin(user_ref(pool, user)))
        .await
        .expect("groups of")
        .into_inner()
        .groups
        .into_iter()
        .map(|g| g.group_name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_pool_imports_into_new_pools_with_and_without_password_hashes() {
    let env = TestEnv::start(1, 1).await;
    let gw = env.a();
    let (pool, client) = pool_with_groups(gw, &["g1", "g2"]).await;
    let mut a = admin_client(gw).await;
    for (name, groups) in [("alice", &["g1", "g2"][..]), ("bob", &["g2"][..])] {
        confirmed_user(
            gw,
            &pool,
            &client,
            name,
            &format!("{name}@example.com"),
            PASSWORD,
        )
        .await;
        for g in groups {
            a.admin_add_user_to_group(admin(pb::UserGroupRef {
                user_pool_id: pool.clone(),
                username: name.into(),
                group_name: g.to_string(),
            }))
            .await
            .expect("add to group");
        }
    }
    // A display name with a comma and quotes: the CSV quotes it.
    a.admin_update_user_attributes(admin(pb::AdminUpdateUserAttributesRequest {
        user_pool_id: pool.clone(),
        username: "alice".into(),
        user_attributes: vec![pb::AttributeType {
            name: "name".into(),
            value: "Alice \"Al\" Smith, PhD".into(),
        }],
    }))
    .await
    .expect("name");
    a.admin_disable_user(admin(user_ref(&pool, "bob")))
        .await
        .expect("disable bob");
    // Carol has a temporary password only: she must reset wherever she is imported.
    a.admin_create_user(admin(pb::AdminCreateUserRequest {
        user_pool_id: pool.clone(),
        username: "carol".into(),
        user_attributes: vec![
            pb::AttributeType {
                name: "email".into(),
                value: "carol@example.com".into(),
            },
            pb::AttributeType {
                name: "email_verified".into(),
                value: "true".into(),
            },
        ],
        temporary_password: "Temp-Pass-123".into(),
        message_action: "SUPPRESS".into(),
    }))
    .await
    .expect("carol");

    // Page by page or in one call: the same file.
    let (one_call, users, calls) = export_all(gw, &pool, true, 1000).await;
    assert_eq!((users, calls), (3, 1));
    // A full page names a next one: the fourth call answers the end.
    let (paged, users, calls) = export_all(gw, &pool, true, 1).await;
    assert_eq!((users, calls), (3, 4));
    assert_eq!(paged, one_call);
    let lines: Vec<&str> = one_call.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{one_call}");
    assert!(lines[0].starts_with("name,given_name,"), "{}", lines[0]);
    assert!(lines[0].ends_with(
        "cognito:mfa_enabled,cognito:username,signet:password_hash,signet:status,signet:enabled,signet:groups"
    ));
    assert!(
        lines[1].starts_with("\"Alice \"\"Al\"\" Smith, PhD\","),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",alice,\"$argon2id$"), "{}", lines[1]);
    assert!(lines[1].ends_with(",CONFIRMED,true,g1 g2"), "{}", lines[1]);
    assert!(lines[2].ends_with(",CONFIRMED,false,g2"), "{}", lines[2]);
    assert!(lines[3].contains(",carol,"), "{}", lines[3]);
    let (no_hashes, _, _) = export_all(gw, &pool, false, 1000).await;
    assert!(!no_hashes.contains("$argon2"), "{no_hashes}");
    assert!(one_call.matches("$argon2id$").count() >= 2);

    // With hashes: alice signs in with her password, in her groups; bob stays disabled;
    // carol must reset.
    let (moved, moved_client) = pool_with_groups(gw, &["g1", "g2"]).await;
    let job = import(gw, &moved, &one_call).await;
    assert_eq!(
        (job.status.as_str(), job.imported_users, job.failed_users),
        ("Succeeded", 3, 0),
        "{job:?}"
    );
    let tokens = sign_in(gw, &moved_client, "alice", PASSWORD).await;
    assert!(!tokens.id_token.is_empty());
    assert_eq!(groups_of(gw, &moved, "alice").await, ["g1", "g2"]);
    assert_eq!(groups_of(gw, &moved, "bob").await, ["g2"]);
    let users = all_users(gw, &moved).await;
    let find = |n: &str| users.iter().find(|u| u.username == n).unwrap().clone();
    assert!(!find("bob").enabled);
    assert_eq!(find("carol").user_status, "RESET_REQUIRED");
    let name = find("alice")
        .attributes
        .into_iter()
        .find(|a| a.name == "name")
        .unwrap()
        .value;
    assert_eq!(name, "Alice \"Al\" Smith, PhD");
    let refused = signet_testkit::auth_client(gw)
        .await
        .initiate_auth(password_auth(&moved_client, "bob", PASSWORD))
        .await
        .expect_err("bob is disabled");
    assert_eq!(exception(&refused), "NotAuthorizedException");

    // Without hashes: everyone must reset.
    let (reset, _) = pool_with_groups(gw, &["g1", "g2"]).await;
    let job = import(gw, &reset, &no_hashes).await;
    assert_eq!(job.imported_users, 3, "{job:?}");
    assert!(all_users(gw, &reset)
        .await
        .iter()
        .all(|u| u.user_status == "RESET_REQUIRED"));

    // A group the new pool lacks: that row fails whole, the others import.
    let (partial, _) = pool_with_groups(gw, &["g2"]).await;
    let job = import(gw, &partial, &one_call).await;
    assert_eq!((job.imported_users, job.failed_users), (2, 1), "{job:?}");
    assert!(
        job.row_errors
            .iter()
            .any(|e| e.reason.contains("group g1 does not exist")),
        "{job:?}"
    );
    let left: Vec<String> = all_users(gw, &partial)
        .await
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert!(!left.contains(&"alice".to_string()), "{left:?}");
    env.shutdown().await;
}
