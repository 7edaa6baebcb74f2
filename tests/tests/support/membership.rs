//! Membership helpers: node records for Join, the leader's view of the membership, refusals.

use super::{create_user, get_user, POOL};
use signet_core::Outcome;
use signet_proto::store::NodeInfo;
use signet_store::{ClientError, NodeId, ServerState, StoreClient, StoreNode};
use signet_testkit::{wait_for, TestCluster};
use std::collections::BTreeSet;
use std::time::Duration;

/// The record a node sends in its Join.
pub fn info(node: &StoreNode) -> NodeInfo {
    NodeInfo {
        node_id: node.id(),
        raft_addr: node.info().raft_addr.clone(),
        api_addr: node.info().api_addr.clone(),
        incarnation: node.info().incarnation,
        known_members: vec![],
    }
}

/// The node of the report: nothing listens at its addresses.
pub fn ghost() -> NodeInfo {
    NodeInfo {
        node_id: 7,
        raft_addr: "127.0.0.1:1".into(),
        api_addr: "127.0.0.1:1".into(),
        incarnation: 7,
        known_members: vec![],
    }
}

/// (voters, learners) as the current leader sees them: the running node that leads in the
/// highest term (nodes that are not members never lead, and know no leader).
pub async fn membership(cluster: &TestCluster) -> (BTreeSet<NodeId>, BTreeSet<NodeId>) {
    let m = wait_for("a leader", Duration::from_secs(15), || {
        cluster
            .running()
            .into_iter()
            .map(|id| cluster.node(id).raft().metrics().borrow().clone())
            .filter(|m| m.state == ServerState::Leader)
            .max_by_key(|m| m.current_term)
    })
    .await;
    let membership = m.membership_config.membership();
    (
        membership.voter_ids().collect(),
        membership.learner_ids().collect(),
    )
}

/// A set of node ids.
pub fn ids(v: &[NodeId]) -> BTreeSet<NodeId> {
    v.iter().copied().collect()
}

/// The refusal of `r`, checked to carry `code`; returns the message.
pub fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>, code: tonic::Code) -> String {
    match r {
        Err(ClientError::Refused { code: c, message }) if c == code => message,
        other => panic!("expected a {code:?} refusal, got {other:?}"),
    }
}

/// A write and a linearizable read of it both succeed.
pub async fn writes_and_reads(client: &StoreClient, username: &str) {
    let w = client
        .write(create_user(POOL, username))
        .await
        .expect("write");
    assert_eq!(w.outcome, Outcome::Applied, "{username}");
    let u = get_user(client, POOL, username).await.expect("read back");
    assert_eq!(u.sub, format!("sub-{username}"));
}
