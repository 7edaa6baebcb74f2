//! A few huge records must not break a listing for everyone. The pools here are written
//! to the store directly, as a store written before pools were bounded may hold them
//! (the API now refuses a schema this size); ListUserPools must still page through all of
//! them, each page under the store's reply cap.

use signet_core::{AttributeType, Command, CreateUserPool, SchemaAttribute, UserPool};
use signet_proto::v1 as pb;
use signet_testkit::{admin, admin_client, start_gateway, test_gateway_config, TestCluster};

/// A pool record of about 1 MB: 10,000 schema entries.
fn huge_pool(i: usize) -> UserPool {
    let mut pool = UserPool::new(format!("local_Huge{i:02}"), format!("huge {i}"), 1);
    pool.config.schema = (0..10_000)
        .map(|n| SchemaAttribute {
            name: format!("custom:attribute_{n:05}"),
            data_type: AttributeType::String,
            mutable: true,
            required: false,
            max_length: Some(2048),
        })
        .collect();
    pool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_user_pools_pages_through_huge_pools() {
    let cluster = TestCluster::start(1).await;
    let gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let store = cluster.client();
    // Six pools of ~1 MB: more than the 4 MiB a reply may carry, were they one page.
    const HUGE: usize = 6;
    let one = serde_json::to_vec(&huge_pool(0)).expect("json").len();
    assert!(one * HUGE > signet_store::MAX_REPLY_BYTES, "{one} B a pool");
    for i in 0..HUGE {
        store
            .write(Command::CreateUserPool(CreateUserPool {
                pool: huge_pool(i),
            }))
            .await
            .expect("write a huge pool");
    }
    let mut a = admin_client(&gw).await;
    let (mut seen, mut next, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = a
            .list_user_pools(admin(pb::ListRequest {
                max_results: 60,
                next_token: next.clone(),
            }))
            .await
            .unwrap_or_else(|e| panic!("page {pages}: {:?} {}", e.code(), e.message()))
            .into_inner();
        pages += 1;
        seen.extend(page.user_pools.into_iter().map(|p| p.id));
        if page.next_token.is_empty() {
            break;
        }
        next = page.next_token;
        assert!(pages <= HUGE + 1, "the listing does not end");
    }
    let want: Vec<String> = (0..HUGE).map(|i| huge_pool(i).id).collect();
    assert_eq!(seen, want, "every pool once, in order, over {pages} pages");
    assert!(pages > 1, "cut by size, not by count");
    gw.shutdown().await;
    cluster.shutdown().await;
}
