//! Helpers shared by the cluster tests: commands with recognisable payloads and reads.
#![allow(dead_code)]

pub mod browser;
pub mod child_server;
pub mod clients;
pub mod hooks;
pub mod http;
pub mod identity;
pub mod imports;
pub mod jws;
pub mod membership;
pub mod oauth;
pub mod openid_provider;
pub mod pools;
pub mod saml_idp;
pub mod upstream_idp;

use signet_core::{
    Command, CreateUser, CreateUserPool, Query, QueryResult, User, UserPool, UserStatus,
};
use signet_store::{ReadConsistency, StoreClient, StoreNode};
use signet_testkit::LoadWrite;

pub const POOL: &str = "eu-test_pool1";

pub fn create_pool(id: &str) -> Command {
    Command::CreateUserPool(CreateUserPool {
        pool: UserPool::new(id, "test pool", 1),
    })
}

/// A user whose sub is derived from its name, so a test can check it came from this write.
pub fn create_user(pool: &str, username: &str) -> Command {
    Command::CreateUser(CreateUser {
        pool_id: pool.to_string(),
        user: User::new(
            format!("sub-{username}"),
            username,
            UserStatus::Confirmed,
            1,
        ),
    })
}

/// Every user of `pool` on one node, read from its local state machine.
pub fn local_users(node: &StoreNode, pool: &str) -> Vec<User> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let q = Query::ListUsers {
            pool_id: pool.to_string(),
            after: after.clone(),
            limit: 1000,
        };
        let QueryResult::Users(page) = node.state_machine().query(&q).expect("query") else {
            panic!("unexpected result type");
        };
        if page.is_empty() {
            return out;
        }
        after = page.last().map(|u| u.username.clone());
        out.extend(page);
    }
}

/// Linearizable lookup of one user through the client.
pub async fn get_user(client: &StoreClient, pool: &str, username: &str) -> Option<User> {
    let q = Query::GetUser {
        pool_id: pool.to_string(),
        username: username.to_string(),
    };
    match client
        .read(&q, ReadConsistency::Linearizable)
        .await
        .expect("read")
        .0
    {
        QueryResult::User(u) => u,
        other => panic!("unexpected {other:?}"),
    }
}

/// A load write (see [`signet_testkit::spawn_writers`]): user `username` of `pool`, keyed by
/// its username, with its sub (`sub-{username}`) as the payload that shows it came from
/// this write.
pub fn user_write(pool: &str, username: &str) -> LoadWrite {
    LoadWrite {
        key: username.to_string(),
        payload: format!("sub-{username}"),
        command: create_user(pool, username),
    }
}

/// The users of `pool` on one node as (username, sub): what [`user_write`]s left there.
pub fn user_rows(node: &StoreNode, pool: &str) -> Vec<(String, String)> {
    local_users(node, pool)
        .into_iter()
        .map(|u| (u.username, u.sub))
        .collect()
}
