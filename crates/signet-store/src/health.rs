//! gRPC health of a store node: SERVING means "this node can serve a linearizable read now"
//! (or, on a follower, redirect it to a leader that can). Knowing a leader is not enough: a
//! leader cut off from its followers keeps believing it leads (openraft 0.9 never steps
//! down on its own), and every read-index round it starts fails.

use crate::types::{NodeId, Raft, SignetNode};
use openraft::{RaftMetrics, ServerState};
use std::time::Duration;
use tokio::sync::watch;

/// Services whose status this node reports (the empty name is the whole server).
const SERVICES: [&str; 2] = ["", "signet.store.v1.Store"];

/// The health service of a node and its reporter, NOT_SERVING until [`report`] has judged.
/// (tonic-health starts the server's status at SERVING: a check already waiting in the
/// listener's backlog could otherwise be answered SERVING before the first judgement.)
pub(crate) async fn service() -> (
    tonic_health::server::HealthReporter,
    tonic_health::pb::health_server::HealthServer<impl tonic_health::pb::health_server::Health>,
) {
    let (reporter, service) = tonic_health::server::health_reporter();
    for s in SERVICES {
        reporter
            .set_service_status(s, tonic_health::ServingStatus::NotServing)
            .await;
    }
    (reporter, service)
}

/// Whether a node with these metrics can serve linearizable reads. `heard_from_leader` is
/// how long ago a follower last accepted a message from its leader (None if never);
/// `stale` is how old a leader's last quorum acknowledgement, or a follower's last word
/// from its leader, may be. Returns why not, if not.
pub(crate) fn assess(
    m: &RaftMetrics<NodeId, SignetNode>,
    heard_from_leader: Option<Duration>,
    stale: Duration,
) -> Result<(), String> {
    let Some(leader) = m.current_leader else {
        return Err("no leader known".into());
    };
    if m.state == ServerState::Leader {
        // Measured by openraft from the last AppendEntries (heartbeats included) answered
        // by a quorum; a single voter acknowledges itself.
        return match m.millis_since_quorum_ack {
            Some(ms) if Duration::from_millis(ms) <= stale => Ok(()),
            Some(ms) => Err(format!(
                "leader without a quorum acknowledgement for {ms} ms"
            )),
            None => Err("leader not yet acknowledged by a quorum".into()),
        };
    }
    match heard_from_leader {
        Some(d) if d <= stale => Ok(()),
        Some(d) => Err(format!(
            "leader {leader} not heard from for {} ms",
            d.as_millis()
        )),
        None => Err(format!("leader {leader} not heard from yet")),
    }
}

/// Whether this node can serve linearizable reads now (the one judgement behind gRPC
/// health and the ops listener's `/readyz`). None once Raft has stopped.
pub(crate) async fn judge(raft: &Raft, stale: Duration) -> Option<Result<(), String>> {
    let m = raft.metrics().borrow().clone();
    judge_with(raft, &m, stale).await
}

async fn judge_with(
    raft: &Raft,
    m: &RaftMetrics<NodeId, SignetNode>,
    stale: Duration,
) -> Option<Result<(), String>> {
    // A follower's vote is touched by every message its leader sends (heartbeats too).
    let heard = if m.state == ServerState::Leader || m.current_leader.is_none() {
        None
    } else {
        raft.with_raft_state(|st| st.vote_last_modified())
            .await
            .ok()?
            .map(|t| t.elapsed())
    };
    Some(assess(m, heard, stale))
}

/// Report health at every change of role or leader and at least every `tick`: a leader
/// that loses its quorum changes neither, so time alone must be able to turn it
/// NOT_SERVING. (Waking on every metrics change would mean every write on a busy node.)
pub(crate) async fn report(
    raft: Raft,
    health: tonic_health::server::HealthReporter,
    tick: Duration,
    stale: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut metrics = raft.metrics();
    let mut serving: Option<bool> = None;
    loop {
        let m = metrics.borrow_and_update().clone();
        let Some(verdict) = judge_with(&raft, &m, stale).await else {
            return; // Raft stopped.
        };
        if serving != Some(verdict.is_ok()) {
            let status = match &verdict {
                Ok(()) => tonic_health::ServingStatus::Serving,
                Err(why) if serving.is_some() => {
                    tracing::warn!(node_id = m.id, "store health NOT_SERVING: {why}");
                    tonic_health::ServingStatus::NotServing
                }
                // At start, before the first election: expected, not worth a warning.
                Err(why) => {
                    tracing::info!(node_id = m.id, "store health NOT_SERVING: {why}");
                    tonic_health::ServingStatus::NotServing
                }
            };
            if verdict.is_ok() {
                tracing::info!(node_id = m.id, "store health SERVING");
            }
            for s in SERVICES {
                health.set_service_status(s, status).await;
            }
            serving = Some(verdict.is_ok());
        }
        let role = (m.state, m.current_leader);
        let role_changed = async {
            metrics
                .wait_for(|m| (m.state, m.current_leader) != role)
                .await
                .is_ok()
        };
        tokio::select! {
            alive = role_changed => if !alive { return },
            _ = tokio::time::sleep(tick) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(
        state: ServerState,
        leader: Option<NodeId>,
        ack: Option<u64>,
    ) -> RaftMetrics<NodeId, SignetNode> {
        let mut m = RaftMetrics::new_initial(1);
        m.state = state;
        m.current_leader = leader;
        m.millis_since_quorum_ack = ack;
        m
    }

    #[test]
    fn serving_needs_a_recent_quorum_or_a_recent_leader() {
        let stale = Duration::from_millis(1000);
        let ms = Duration::from_millis;
        // Leader: judged by its quorum acknowledgement alone.
        assert!(assess(
            &metrics(ServerState::Leader, Some(1), Some(40)),
            None,
            stale
        )
        .is_ok());
        assert!(assess(
            &metrics(ServerState::Leader, Some(1), Some(1000)),
            None,
            stale
        )
        .is_ok());
        let e = assess(
            &metrics(ServerState::Leader, Some(1), Some(1001)),
            None,
            stale,
        );
        assert_eq!(
            e.unwrap_err(),
            "leader without a quorum acknowledgement for 1001 ms"
        );
        assert!(assess(
            &metrics(ServerState::Leader, Some(1), None),
            Some(ms(0)),
            stale
        )
        .is_err());
        // Follower: a known leader heard from recently.
        let f = metrics(ServerState::Follower, Some(2), None);
        assert!(assess(&f, Some(ms(200)), stale).is_ok());
        assert_eq!(
            assess(&f, Some(ms(1500)), stale).unwrap_err(),
            "leader 2 not heard from for 1500 ms"
        );
        assert!(assess(&f, None, stale).is_err());
        // Nobody known: never serving.
        let c = metrics(ServerState::Candidate, None, None);
        assert_eq!(
            assess(&c, Some(ms(0)), stale).unwrap_err(),
            "no leader known"
        );
    }
}
