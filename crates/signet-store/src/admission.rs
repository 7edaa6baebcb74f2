//! Who may be added to the cluster: request checks, and asking the node itself who it is
//! before anything is changed. A request naming an address where no such node answers is
//! refused with membership untouched.

use crate::types::{NodeId, SignetNode};
use signet_proto::store as pb;
use signet_proto::store::cluster_client::ClusterClient;
use std::time::Duration;
use tonic::Status;

/// How long the leader waits for a node to say who it is. A node about to be added is
/// already serving; one that does not answer in this time could not be replicated to.
const IDENTITY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest `host:port` accepted (a DNS name is at most 253 characters).
const MAX_ADDR_LEN: usize = 261;

/// Refuse node id 0: it is protobuf's "unset", so a request that forgot the id would
/// otherwise name node 0, and openraft's default vote names node 0 too.
pub(crate) fn check_node_id(id: NodeId) -> Result<(), Status> {
    if id == 0 {
        return Err(Status::invalid_argument(
            "node_id must be 1 or more (0 is the unset value)",
        ));
    }
    Ok(())
}

/// Refuse an address that is not `host:port` with a non-zero port.
pub(crate) fn check_addr(field: &str, addr: &str) -> Result<(), Status> {
    let bad = |why: &str| Status::invalid_argument(format!("{field}: {why}"));
    if addr.is_empty() {
        return Err(bad("required"));
    }
    if addr.len() > MAX_ADDR_LEN {
        return Err(bad("too long"));
    }
    let authority: http::uri::Authority = addr.parse().map_err(|_| bad("not host:port"))?;
    if addr.contains('@') || authority.host().is_empty() {
        return Err(bad("not host:port"));
    }
    match authority.port_u16() {
        Some(p) if p != 0 => Ok(()),
        _ => Err(bad("needs a port from 1 to 65535")),
    }
}

/// Ask the node at `api_addr` who it is (Cluster.Identity), within [`IDENTITY_TIMEOUT`].
/// A node that does not answer fails the precondition of being added.
pub(crate) async fn identify(
    api_addr: &str,
    transport: &signet_tls::Transport,
) -> Result<pb::NodeInfo, Status> {
    let ask = async {
        let channel = signet_tls::connect(api_addr, transport, IDENTITY_TIMEOUT, IDENTITY_TIMEOUT)
            .await
            .map_err(|e| {
                Status::failed_precondition(format!("cannot reach a node at {api_addr}: {e}"))
            })?;
        let mut client = ClusterClient::new(channel);
        client
            .identity(pb::IdentityRequest {})
            .await
            .map(|r| r.into_inner())
            .map_err(|s| {
                Status::failed_precondition(format!(
                    "{api_addr} did not answer as a Signet store ({:?}: {})",
                    s.code(),
                    s.message()
                ))
            })
    };
    tokio::time::timeout(IDENTITY_TIMEOUT, ask)
        .await
        .map_err(|_| {
            Status::failed_precondition(format!(
                "no node answered at {api_addr} within {IDENTITY_TIMEOUT:?}"
            ))
        })?
}

/// Refuse a node that holds another cluster's state: one whose membership is not empty (a
/// fresh node's is) and does not count `leader` (this cluster's leader, by id and
/// incarnation). Its log and state came from elsewhere — the cluster a backup was restored
/// from, a recovered survivor's old peers — and adding it would mix the two.
fn same_cluster(actual: &pb::NodeInfo, leader: &pb::MemberRef) -> Result<(), Status> {
    if actual.known_members.is_empty() || actual.known_members.contains(leader) {
        return Ok(());
    }
    let theirs: Vec<String> = actual
        .known_members
        .iter()
        .map(|m| format!("{}/{:016x}", m.node_id, m.incarnation))
        .collect();
    Err(Status::failed_precondition(format!(
        "node {} holds the state of another cluster (its members: {}; this leader is          {}/{:016x}): empty its data dir to add it here",
        actual.node_id,
        theirs.join(", "),
        leader.node_id,
        leader.incarnation
    )))
}

/// Check a Join request against what the node at its API address says of itself, and
/// return the member record to add.
pub(crate) async fn confirm_join(
    claimed: &pb::NodeInfo,
    transport: &signet_tls::Transport,
    leader: pb::MemberRef,
) -> Result<SignetNode, Status> {
    check_node_id(claimed.node_id)?;
    check_addr("node.api_addr", &claimed.api_addr)?;
    check_addr("node.raft_addr", &claimed.raft_addr)?;
    let actual = identify(&claimed.api_addr, transport).await?;
    same_cluster(&actual, &leader)?;
    if actual.node_id != claimed.node_id {
        return Err(Status::invalid_argument(format!(
            "{} is node {}, not node {}",
            claimed.api_addr, actual.node_id, claimed.node_id
        )));
    }
    if actual.raft_addr != claimed.raft_addr || actual.api_addr != claimed.api_addr {
        return Err(Status::invalid_argument(format!(
            "node {} advertises raft {} and api {}, not raft {} and api {}",
            actual.node_id, actual.raft_addr, actual.api_addr, claimed.raft_addr, claimed.api_addr
        )));
    }
    if actual.incarnation != claimed.incarnation {
        return Err(Status::failed_precondition(format!(
            "node {} at {} runs on another data dir (incarnation {:016x}) than the request \
             names ({:016x})",
            actual.node_id, claimed.api_addr, actual.incarnation, claimed.incarnation
        )));
    }
    Ok(SignetNode {
        raft_addr: actual.raft_addr,
        api_addr: actual.api_addr,
        incarnation: actual.incarnation,
    })
}

/// Check an AddLearner request against the node at its API address, and return the member
/// record to add (the node's own addresses and incarnation).
pub(crate) async fn confirm_learner(
    id: NodeId,
    api_addr: &str,
    transport: &signet_tls::Transport,
    leader: pb::MemberRef,
) -> Result<SignetNode, Status> {
    check_node_id(id)?;
    check_addr("api_addr", api_addr)?;
    let actual = identify(api_addr, transport).await?;
    same_cluster(&actual, &leader)?;
    if actual.node_id != id {
        return Err(Status::invalid_argument(format!(
            "{api_addr} is node {}, not node {id}",
            actual.node_id
        )));
    }
    check_addr("the node's raft_addr", &actual.raft_addr)?;
    check_addr("the node's api_addr", &actual.api_addr)?;
    Ok(SignetNode {
        raft_addr: actual.raft_addr,
        api_addr: actual.api_addr,
        incarnation: actual.incarnation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "127.0.0.1:7401",
            "signet-store-0.signet:7401",
            "[::1]:7401",
            "a:1",
        ] {
            assert!(check_addr("a", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "user@host:1",
            ":7401",
            "not an address",
            "http://127.0.0.1:7401",
            "127.0.0.1:7401/x",
        ] {
            let e = check_addr("a", bad).expect_err(bad);
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad}");
        }
        assert!(check_addr("a", &format!("{}:1", "h".repeat(300))).is_err());
        assert_eq!(
            check_node_id(0).expect_err("0").code(),
            tonic::Code::InvalidArgument
        );
        assert!(check_node_id(1).is_ok());
    }

    #[tokio::test]
    async fn unreachable_node_fails_the_precondition_quickly() {
        // Port 1 on loopback: nothing listens, the connection is refused.
        let started = std::time::Instant::now();
        let e = identify("127.0.0.1:1", &signet_tls::Transport::Plaintext)
            .await
            .expect_err("nothing listens");
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
        assert!(started.elapsed() <= IDENTITY_TIMEOUT + Duration::from_secs(1));
    }
}
