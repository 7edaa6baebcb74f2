//! Offline recovery of a cluster that has lost quorum for good (like etcd's
//! `--force-new-cluster`): rewrite one stopped survivor's membership to itself alone, so it
//! elects itself at its next start, keeps every entry of its log, and the operator adds new
//! members from there.
//!
//! How it fits openraft 0.9: at start-up the effective membership is the last membership
//! entry in the log after the last applied one, else the state machine's
//! (`StorageHelper::get_membership`). So the recovery appends one membership entry, voters =
//! {this node}, after the last entry, and nothing else is rewritten:
//! * its log id is `(term, this node, last index + 1)`, with `term` above every term in the
//!   vote and the log. No other node can hold an entry of that leader id (leader ids
//!   include the node id, and this node never led in that term), so the log matching
//!   property holds against any log the entry will ever be compared with;
//! * the vote is raised to that term, voted for this node and not committed, saved before
//!   the entry: the node starts as a follower of a one-voter membership, campaigns at
//!   `term + 1`, wins with its own vote, and its first entry as leader commits the whole log,
//!   the recovery entry included. Entries the old cluster had not committed become committed
//!   (there is nobody left to decide otherwise), which is why the operator recovers from the
//!   survivor with the longest log;
//! * the node gets a new incarnation (written before the log): members of the old cluster
//!   still address it by the old one, so if one comes back with its old data the recovered
//!   node refuses its votes and appends instead of being pulled back into the old membership.
//!
//! The log (raft-log) and the state machine (sled) both lock their files, so the recovery
//! fails while the node runs.

use crate::identity::NodeIdentity;
use crate::log_store::LogStore;
use crate::state_machine::StateMachineStore;
use crate::types::{Entry, LogId, NodeId, SignetNode, StoredMembership, TypeConfig};
use crate::StoreError;
use openraft::{CommittedLeaderId, EntryPayload, Membership, Vote};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What [`force_new_cluster`] found in a data dir and what it wrote (or would write).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// The node whose data dir this is.
    pub node_id: NodeId,
    /// Voters of the membership found (both halves of a joint config).
    pub previous_voters: Vec<NodeId>,
    /// Learners of the membership found.
    pub previous_learners: Vec<NodeId>,
    /// Log id of the membership found (`None` if it came from a snapshot without one).
    pub previous_membership_log_id: Option<String>,
    /// Last log id of this node's log before the recovery: compare it across survivors and
    /// recover the one whose log is longest (highest term, then highest index).
    pub last_log_id: Option<String>,
    /// Entries after the last one this node knows was committed; the recovered node
    /// commits them.
    pub uncommitted_entries: u64,
    /// Log id of the membership entry written (or to be written, on a dry run).
    pub membership_log_id: Option<String>,
    /// The node's incarnation from now on (hex), if it changed.
    pub incarnation: Option<String>,
    /// Whether anything was written: false on a dry run, and when the node already is the
    /// only member.
    pub changed: bool,
}

/// Make the stopped node `node_id` whose data is in `data_dir` the only voter of a new
/// cluster holding its whole log (see the module docs). With `dry_run`, only report.
pub fn force_new_cluster(
    data_dir: &Path,
    node_id: NodeId,
    dry_run: bool,
) -> Result<Recovery, StoreError> {
    let mut identity = NodeIdentity::load(data_dir, node_id)?.ok_or_else(|| {
        StoreError::DataDir(format!(
            "{} has no node.json: not a store's data dir",
            data_dir.display()
        ))
    })?;
    let running = |e: String| {
        StoreError::DataDir(format!(
            "{e} (is the node still running? stop it before recovering)"
        ))
    };
    let log = LogStore::open(&data_dir.join("raft-log"))
        .map_err(|e| running(format!("open the raft log: {e}")))?;
    let sm = StateMachineStore::open(data_dir).map_err(|e| running(e.to_string()))?;
    let applied = sm
        .last_applied()
        .map_err(|e| StoreError::DataDir(e.to_string()))?;
    let (vote, purged, last) = log.state();
    let committed = log.committed();
    let previous = effective_membership(&log, &sm, purged, last, applied)?;
    let membership = previous.membership();
    let me = membership.get_node(&node_id).cloned().ok_or_else(|| {
        StoreError::Membership(format!(
            "node {node_id} is not a member of the membership in its log ({membership:?}): \
             recover from a node that is"
        ))
    })?;
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    let learners: Vec<NodeId> = membership.learner_ids().collect();
    let alone = voters == BTreeSet::from([node_id])
        && learners.is_empty()
        && membership.get_joint_config().len() == 1;
    let mut report = Recovery {
        node_id,
        previous_voters: voters.into_iter().collect(),
        previous_learners: learners,
        previous_membership_log_id: previous.log_id().map(|l| l.to_string()),
        last_log_id: last.map(|l| l.to_string()),
        uncommitted_entries: last
            .map_or(0, |l| l.index)
            .saturating_sub(committed.map_or(0, |c| c.index)),
        membership_log_id: None,
        incarnation: None,
        changed: false,
    };
    if alone {
        return Ok(report);
    }

    // The entry goes after the log, or after the state machine if a snapshot install left
    // it ahead of the log: openraft purges the log up to the applied id at start-up, which
    // would drop an entry placed before it.
    let base = match (last, applied) {
        (Some(l), Some(a)) if a.index > l.index => Some(a),
        (l, a) => l.or(a),
    };
    let term = vote
        .map_or(0, |v| v.leader_id.term)
        .max(base.map_or(0, |b| b.leader_id.term))
        + 1;
    let log_id = LogId::new(
        CommittedLeaderId::new(term, node_id),
        base.map_or(0, |b| b.index + 1),
    );
    report.membership_log_id = Some(log_id.to_string());
    if dry_run {
        return Ok(report);
    }

    identity.renew(data_dir)?;
    let node = SignetNode {
        incarnation: identity.incarnation,
        ..me
    };
    let entry = Entry {
        log_id,
        payload: EntryPayload::<TypeConfig>::Membership(Membership::new(
            vec![BTreeSet::from([node_id])],
            BTreeMap::from([(node_id, node)]),
        )),
    };
    let write = || -> std::io::Result<()> {
        if let Some(b) = base.filter(|_| base != last) {
            log.purge_recovery(&b)?;
        }
        log.append_recovery(Vote::new(term, node_id), &entry)
    };
    write().map_err(|e| StoreError::io("write the recovery entry", e))?;
    report.incarnation = Some(format!("{:016x}", identity.incarnation));
    report.changed = true;
    tracing::warn!(
        node_id,
        membership_log_id = %log_id,
        "membership forced to this node alone; add members again once it leads"
    );
    Ok(report)
}

/// The membership openraft will start with: the last membership entry in the log after the
/// applied index, else the state machine's.
fn effective_membership(
    log: &LogStore,
    sm: &StateMachineStore,
    purged: Option<LogId>,
    last: Option<LogId>,
    applied: Option<LogId>,
) -> Result<StoredMembership, StoreError> {
    const STEP: u64 = 64;
    let first = purged
        .map_or(0, |p| p.index + 1)
        .max(applied.map_or(0, |a| a.index + 1));
    let mut end = last.map_or(0, |l| l.index + 1);
    while end > first {
        let start = end.saturating_sub(STEP).max(first);
        let entries = log
            .read_range(start, end)
            .map_err(|e| StoreError::io("read the raft log", e))?;
        if let Some(e) = entries.iter().rev().find_map(|e| match &e.payload {
            EntryPayload::Membership(m) => Some(StoredMembership::new(Some(e.log_id), m.clone())),
            _ => None,
        }) {
            return Ok(e);
        }
        end = start;
    }
    let m = sm
        .applied_membership()
        .map_err(|e| StoreError::DataDir(e.to_string()))?;
    if m.membership().nodes().next().is_none() {
        return Err(StoreError::Membership(
            "this node holds no membership: it never joined a cluster".into(),
        ));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, Raft, StoreConfig, StoreNode};
    use openraft::ChangeMembers;
    use std::time::Duration;
    use tokio::net::TcpListener;

    async fn start(dir: &Path) -> StoreNode {
        let mut c = StoreConfig::new(1, dir);
        c.heartbeat = Duration::from_millis(50);
        c.election_timeout = (Duration::from_millis(300), Duration::from_millis(600));
        // The lock of the previous run's files can outlive its kill by a moment.
        for _ in 0..100 {
            let raft = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let api = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            match StoreNode::start(c.clone(), raft, api).await {
                Ok(n) => return n,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("node did not start on {}", dir.display());
    }

    async fn write(raft: &Raft) -> Option<u64> {
        let w = tokio::time::timeout(Duration::from_secs(1), raft.client_write(Batch(vec![])));
        w.await.ok()?.ok().map(|r| r.log_id.index)
    }

    fn voters(raft: &Raft) -> (Vec<NodeId>, usize) {
        let m = raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        (membership.voter_ids().collect(), membership.nodes().count())
    }

    /// The defect this exists for, reproduced with openraft's raw calls (the Cluster API no
    /// longer allows it): a one-voter cluster promotes an unreachable node, the joint config
    /// never commits and nothing else can. The recovery brings it back with its log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bricked_single_voter_is_recovered_with_its_log() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("n1");
        let node = start(&dir).await;
        node.initialize_single_if_new().await.expect("init");
        node.wait_for_leader(Duration::from_secs(10))
            .await
            .expect("leader");
        let before = write(node.raft()).await.expect("write before");
        let ghost = SignetNode {
            raft_addr: "127.0.0.1:1".into(),
            api_addr: "127.0.0.1:1".into(),
            incarnation: 7,
        };
        node.raft()
            .add_learner(7, ghost, false)
            .await
            .expect("learner");
        let promote = node
            .raft()
            .change_membership(ChangeMembers::AddVoterIds([7].into()), false);
        assert!(
            tokio::time::timeout(Duration::from_secs(2), promote)
                .await
                .is_err(),
            "the joint config committed without node 7"
        );
        assert_eq!(
            write(node.raft()).await,
            None,
            "a write committed without quorum"
        );
        let old_incarnation = node.info().incarnation;

        // While the node runs, its files are locked.
        let busy = force_new_cluster(&dir, 1, false).expect_err("node is running");
        assert!(busy.to_string().contains("still running"), "{busy}");
        node.kill().await;

        let dry = force_new_cluster(&dir, 1, true).expect("dry run");
        assert_eq!(dry.previous_voters, vec![1, 7]);
        assert!(!dry.changed && dry.incarnation.is_none());
        assert!(dry.uncommitted_entries >= 1, "{dry:?}");
        let done = force_new_cluster(&dir, 1, false).expect("recover");
        assert!(done.changed);
        assert_eq!(done.membership_log_id, dry.membership_log_id);
        let new_incarnation = u64::from_str_radix(done.incarnation.as_deref().expect("inc"), 16)
            .expect("hex incarnation");
        assert_ne!(new_incarnation, old_incarnation);

        let node = start(&dir).await;
        assert_eq!(node.info().incarnation, new_incarnation);
        let leader = node
            .wait_for_leader(Duration::from_secs(10))
            .await
            .expect("leader");
        assert_eq!(leader, 1);
        let after = write(node.raft()).await.expect("write after recovery");
        assert!(after > before + 2, "{after} vs {before}");
        assert_eq!(voters(node.raft()), (vec![1], 1));
        let m = node
            .raft()
            .wait(Some(Duration::from_secs(5)))
            .applied_index_at_least(Some(after), "the write after recovery applied")
            .await
            .expect("applied");
        let recovery_index = m
            .membership_config
            .log_id()
            .expect("membership log id")
            .index;
        assert!(recovery_index > before && recovery_index < after, "{m:?}");
        let me = m.membership_config.membership().get_node(&1).cloned();
        assert_eq!(me.map(|n| n.incarnation), Some(new_incarnation));
        node.kill().await;

        // Recovering a node that is already alone changes nothing.
        let again = force_new_cluster(&dir, 1, false).expect("second recovery");
        assert!(
            !again.changed && again.membership_log_id.is_none(),
            "{again:?}"
        );
        assert_eq!(again.previous_voters, vec![1]);
    }

    #[test]
    fn refuses_a_dir_that_is_not_a_store() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let e = force_new_cluster(tmp.path(), 1, false).expect_err("empty dir");
        assert!(e.to_string().contains("node.json"), "{e}");
    }
}
