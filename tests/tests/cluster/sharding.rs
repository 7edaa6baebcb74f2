//! Two store groups behind one gateway (deploy/SHARDING.md): each pool's state lives in the
//! group it is placed on, every call about it is routed there, and a command routed with a
//! stale placement is refused by the group instead of being applied in the wrong place.

use crate::support::identity::PASSWORD;
use crate::support::local_users;
use crate::support::pools::{
    confirmed_user, exception, public_client, refresh_auth, sign_in, user_ref,
};
use signet_core::{
    Command, CreateUser, Outcome, PlacePool, Placement, Query, QueryResult, Rejection, Routed,
    User, UserStatus,
};
use signet_proto::v1 as pb;
use signet_store::{ReadConsistency, StoreClient};
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway_groups, test_gateway_config, TestCluster,
};
use std::time::Duration;

async fn placement(directory: &StoreClient, pool: &str) -> Option<Placement> {
    let q = Query::GetPlacement {
        pool_id: pool.into(),
    };
    match directory
        .read(&q, ReadConsistency::Linearizable)
        .await
        .unwrap()
        .0
    {
        QueryResult::Placement(p) => p,
        other => panic!("placement answered {other:?}"),
    }
}

async fn has_pool(group: &StoreClient, pool: &str) -> bool {
    let q = Query::GetUserPool {
        pool_id: pool.into(),
    };
    matches!(
        group
            .read(&q, ReadConsistency::Linearizable)
            .await
            .unwrap()
            .0,
        QueryResult::UserPool(Some(_))
    )
}

fn place(pool: &str, group: u32, epoch: u64) -> Command {
    Command::PlacePool(PlacePool {
        pool_id: pool.into(),
        placement: Placement {
            group,
            epoch,
            frozen: false,
        },
    })
}

fn user_in(pool: &str, name: &str) -> Command {
    Command::CreateUser(CreateUser {
        pool_id: pool.into(),
        user: User::new(format!("sub-{name}"), name, UserStatus::Confirmed, 1),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gateway_routes_each_pool_to_its_group() {
    signet_testkit::init_logging();
    let a = TestCluster::start(1).await;
    let b = TestCluster::start(1).await;
    let (ga, gb) = (a.client(), b.client());
    let gw = start_gateway_groups(vec![ga.clone(), gb.clone()], test_gateway_config()).await;
    let mut adm = admin_client(&gw).await;

    // New pools are spread over the groups by their (random) ids: make pools until each
    // group has one. Each lands on one group with even odds, so 40 tries all on one side
    // would happen once in 2^39 runs.
    let (mut on_a, mut on_b) = (None, None);
    for i in 0..40 {
        let pool = adm
            .create_user_pool(admin(pb::CreateUserPoolRequest {
                pool_name: format!("sharded-{i}"),
                auto_verified_attributes: vec!["email".into()],
                ..Default::default()
            }))
            .await
            .expect("create pool")
            .into_inner()
            .user_pool
            .expect("pool")
            .id;
        let p = placement(&ga, &pool)
            .await
            .expect("every new pool is placed");
        assert_eq!((p.epoch, p.frozen), (1, false));
        // The owning group has its own row, the same as the directory's.
        assert_eq!(placement(groups(&ga, &gb, p.group), &pool).await, Some(p));
        match p.group {
            0 => on_a = on_a.or(Some(pool)),
            1 => on_b = on_b.or(Some(pool)),
            g => panic!("pool placed on group {g} of 2"),
        }
        if on_a.is_some() && on_b.is_some() {
            break;
        }
    }
    let (p1, p2) = (on_a.expect("a pool on A"), on_b.expect("a pool on B"));
    assert!(has_pool(&ga, &p1).await && !has_pool(&gb, &p1).await);
    assert!(has_pool(&gb, &p2).await && !has_pool(&ga, &p2).await);

    // The same journey in each pool through the one gateway: a client (found again by its
    // id alone on public calls), sign-up with a code from the outbox, confirmation,
    // sign-in, refresh, admin reads and a group.
    for (pool, name) in [(&p1, "alice"), (&p2, "bob")] {
        let client = public_client(&gw, pool, false).await;
        let email = format!("{name}@example.com");
        let sub = confirmed_user(&gw, pool, &client, name, &email, PASSWORD).await;
        let tokens = sign_in(&gw, &client, name, PASSWORD).await;
        let refreshed = auth_client(&gw)
            .await
            .initiate_auth(refresh_auth(&client, &tokens.refresh_token))
            .await
            .unwrap_or_else(|e| panic!("refresh in {pool}: {}", exception(&e)))
            .into_inner()
            .authentication_result
            .expect("tokens");
        assert!(!refreshed.access_token.is_empty());
        let user = adm
            .admin_get_user(admin(user_ref(pool, name)))
            .await
            .expect("AdminGetUser")
            .into_inner()
            .user
            .expect("user");
        let sub_of = |u: &pb::UserType| {
            u.attributes
                .iter()
                .find(|a| a.name == "sub")
                .map(|a| a.value.clone())
        };
        assert_eq!(sub_of(&user).as_deref(), Some(sub.as_str()));
        adm.create_group(admin(pb::CreateGroupRequest {
            user_pool_id: pool.to_string(),
            group_name: "staff".into(),
            ..Default::default()
        }))
        .await
        .expect("CreateGroup");
        adm.admin_add_user_to_group(admin(pb::UserGroupRef {
            user_pool_id: pool.to_string(),
            username: name.into(),
            group_name: "staff".into(),
        }))
        .await
        .expect("AdminAddUserToGroup");
        let listed = adm
            .list_users(admin(pb::ListUsersRequest {
                user_pool_id: pool.to_string(),
                ..Default::default()
            }))
            .await
            .expect("ListUsers")
            .into_inner()
            .users;
        assert_eq!(listed.len(), 1, "{pool}");
        assert_eq!(sub_of(&listed[0]).as_deref(), Some(sub.as_str()));
    }

    // Each group holds its own pool's users and nothing of the other's.
    let (node_a, node_b) = (a.node(a.running()[0]), b.node(b.running()[0]));
    let names = |users: Vec<User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(local_users(node_a, &p1)), ["alice"]);
    assert_eq!(names(local_users(node_b, &p2)), ["bob"]);
    assert!(local_users(node_b, &p1).is_empty());
    assert!(local_users(node_a, &p2).is_empty());

    // Listing pools gathers every group's.
    let listed: Vec<String> = adm
        .list_user_pools(admin(pb::ListRequest {
            max_results: 60,
            ..Default::default()
        }))
        .await
        .expect("ListUserPools")
        .into_inner()
        .user_pools
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert!(listed.contains(&p1) && listed.contains(&p2), "{listed:?}");
    assert!(
        listed.windows(2).all(|w| w[0] < w[1]),
        "in id order: {listed:?}"
    );

    // A command sent to the wrong group, or with a stale epoch, is refused and changes
    // nothing there.
    let routed = |group, epoch, cmd| {
        Command::Routed(Routed {
            group,
            epoch,
            command: Box::new(cmd),
        })
    };
    let w = gb
        .write(routed(1, 1, user_in(&p1, "mallory")))
        .await
        .unwrap();
    assert_eq!(
        w.outcome,
        Outcome::Rejected(Rejection::WrongGroup { epoch: 0 })
    );
    let w = ga
        .write(routed(0, 2, user_in(&p1, "mallory")))
        .await
        .unwrap();
    assert_eq!(
        w.outcome,
        Outcome::Rejected(Rejection::WrongGroup { epoch: 1 })
    );
    let w = ga
        .write(routed(1, 1, user_in(&p1, "mallory")))
        .await
        .unwrap();
    assert_eq!(
        w.outcome,
        Outcome::Rejected(Rejection::WrongGroup { epoch: 1 })
    );
    assert_eq!(names(local_users(node_a, &p1)), ["alice"]);
    assert!(local_users(node_b, &p1).is_empty());

    // B takes P2 at a new epoch before the directory says so (the first step of a move's
    // hand-over): the gateway's placement is stale, B refuses what it routes, and the
    // caller is told to retry — nothing is applied anywhere.
    assert_eq!(
        gb.write(place(&p2, 1, 2)).await.unwrap().outcome,
        Outcome::Applied
    );
    let create_carol = || {
        admin(pb::AdminCreateUserRequest {
            user_pool_id: p2.clone(),
            username: "carol".into(),
            temporary_password: "Temp-Passw0rd!".into(),
            message_action: "SUPPRESS".into(),
            ..Default::default()
        })
    };
    let refused = adm
        .admin_create_user(create_carol())
        .await
        .expect_err("routed with epoch 1 where B owns P2 at epoch 2");
    assert!(refused.message().contains("moved"), "{}", refused.message());
    assert_eq!(names(local_users(node_b, &p2)), ["bob"]);
    // The directory flips: the gateway's next call reads the new placement and succeeds.
    assert_eq!(
        ga.write(place(&p2, 1, 2)).await.unwrap().outcome,
        Outcome::Applied
    );
    adm.admin_create_user(create_carol())
        .await
        .unwrap_or_else(|e| panic!("after the flip: {}: {}", exception(&e), e.message()));
    assert_eq!(names(local_users(node_b, &p2)), ["bob", "carol"]);
    assert!(local_users(node_a, &p2).is_empty());

    // Audit events were written to each pool's own group.
    let audit = |pool: &str, user: &str| Query::ListAuditEvents {
        pool_id: pool.into(),
        username: user.into(),
        before: None,
        limit: 50,
    };
    let events = |node: &signet_store::StoreNode, q: &Query| match node
        .state_machine()
        .query(q)
        .expect("query")
    {
        QueryResult::AuditEvents(e) => e.len(),
        other => panic!("audit answered {other:?}"),
    };
    signet_testkit::wait_for("audit events in B", Duration::from_secs(10), || {
        (events(node_b, &audit(&p2, "bob")) > 0).then_some(())
    })
    .await;
    assert_eq!(events(node_a, &audit(&p2, "bob")), 0);
    signet_testkit::wait_for("audit events in A", Duration::from_secs(10), || {
        (events(node_a, &audit(&p1, "alice")) > 0).then_some(())
    })
    .await;
    assert_eq!(events(node_b, &audit(&p1, "alice")), 0);

    gw.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}

fn groups<'a>(a: &'a StoreClient, b: &'a StoreClient, group: u32) -> &'a StoreClient {
    if group == 0 {
        a
    } else {
        b
    }
}
