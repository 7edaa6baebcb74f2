//! Who may call what on a store's listeners when they speak mutual TLS (DESIGN §1: the
//! internal planes are closed). A store reachable by anyone is a token-forging machine:
//! whoever can write `publish_key` can mint tokens for every pool.

use signet_tls::{Access, Role, Rule};

const STORES: &[Role] = &[Role::Store];
const ANY: &[Role] = &[Role::Store, Role::Gateway, Role::Operator];
const CLIENTS: &[Role] = &[Role::Gateway, Role::Operator];
const OPERATORS: &[Role] = &[Role::Operator];
const STORES_AND_OPERATORS: &[Role] = &[Role::Store, Role::Operator];

/// The Raft listener: only other stores append, vote and install snapshots.
const RAFT: &[Rule] = &[("/signet.store.v1.Raft/", STORES)];

/// The API listener.
const API: &[Rule] = &[
    // Reads and writes of the state: gateways do them for their callers, operators for
    // tools (`signet bench scale`, tests). Stores never do (followers redirect).
    ("/signet.store.v1.Store/", CLIENTS),
    // Who is who and who leads: harmless and needed by everyone to find the leader.
    ("/signet.store.v1.Cluster/Status", ANY),
    ("/signet.store.v1.Cluster/Identity", ANY),
    ("/grpc.health.v1.Health/", ANY),
    // The API's own schema (gRPC reflection): nothing a member of the cluster may not know.
    ("/grpc.reflection.v1.ServerReflection/", ANY),
    ("/grpc.reflection.v1alpha.ServerReflection/", ANY),
    // A starting store joins itself (the chart's pods do, through the headless Service);
    // Join only ever adds a reachable node that catches up as a learner first.
    ("/signet.store.v1.Cluster/Join", STORES_AND_OPERATORS),
    // A stopping leader asks its successor to campaign.
    (
        "/signet.store.v1.Cluster/StartElection",
        STORES_AND_OPERATORS,
    ),
    // Everything else (add learner, promote, remove, snapshot) is an operator's decision.
    ("/signet.store.v1.Cluster/", OPERATORS),
];

/// The access table of the Raft listener.
pub(crate) fn raft(enforce: bool) -> Access {
    if enforce {
        Access::rules(RAFT)
    } else {
        Access::open()
    }
}

/// The access table of the API listener.
pub(crate) fn api(enforce: bool) -> Access {
    if enforce {
        Access::rules(API)
    } else {
        Access::open()
    }
}
