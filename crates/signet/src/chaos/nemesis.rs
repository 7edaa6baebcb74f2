//! The nemesis: one fault at a time on the store nodes, drawn by the seed, each healed
//! before the next; and the wait for the stores to converge afterwards.

use crate::cli::chaos::{Fault, RunArgs};
use crate::procs::LocalCluster;
use serde_json::{json, Value};
use signet_store::StoreClient;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift): the same seed, the same faults (and the
/// same register operations).
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// A number in `0..n`.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One injected fault.
pub struct Injected {
    pub fault: Fault,
    /// Store index (0-based).
    pub node: usize,
    pub was_leader: bool,
    /// Start and end, nanoseconds from the run's start.
    pub at_ns: u64,
    pub healed_ns: u64,
}

impl Injected {
    /// As the report shows it, with how long until the first acknowledged sign-up that
    /// was asked for after the fault began (`acks`: (invoked, completed) of every one).
    pub fn to_json(&self, acks: &[(u64, u64)]) -> Value {
        let first_ack = acks
            .iter()
            .filter(|(invoked, _)| *invoked >= self.at_ns)
            .map(|(_, completed)| *completed)
            .min();
        json!({
            "fault": format!("{:?}", self.fault),
            "node": format!("store-{}", self.node + 1),
            "was_leader": self.was_leader,
            "at_ms": self.at_ns / 1_000_000,
            "for_ms": (self.healed_ns - self.at_ns) / 1_000_000,
            "first_ack_after_ms": first_ack.map(|t| (t - self.at_ns) as f64 / 1e6),
        })
    }
}

fn store_client(cluster: &LocalCluster) -> StoreClient {
    StoreClient::with_timeouts(
        cluster.addrs.iter().map(|(_, api)| api.clone()).collect(),
        Duration::from_secs(2),
        Duration::from_secs(2),
    )
}

/// The current leader's index, asked of the nodes in turn (None while there is none).
async fn leader(cluster: &LocalCluster) -> Option<usize> {
    let client = store_client(cluster);
    for (_, api) in &cluster.addrs {
        if let Ok(s) = client.status_of(api).await {
            if let Some(id) = s.leader_id {
                return Some(id as usize - 1);
            }
        }
    }
    None
}

/// Inject faults until the run's duration is over; every fault is healed on return.
pub async fn run(
    cluster: &mut LocalCluster,
    a: &RunArgs,
    seed: u64,
    start: Instant,
) -> anyhow::Result<Vec<Injected>> {
    let mut rng = Rng::new(seed);
    let end = start + Duration::from_secs(a.duration_s);
    let mut done = Vec::new();
    loop {
        let next = Instant::now() + Duration::from_millis(a.fault_every_ms);
        if next + Duration::from_millis(a.fault_for_ms) > end {
            tokio::time::sleep_until(end.into()).await;
            return Ok(done);
        }
        tokio::time::sleep_until(next.into()).await;
        let fault = a.faults[rng.below(a.faults.len() as u64) as usize];
        let random = rng.below(cluster.stores.len() as u64) as usize;
        let current = leader(cluster).await;
        let node = match fault {
            Fault::KillLeader | Fault::PauseLeader => current.unwrap_or(random),
            Fault::KillStore | Fault::PauseStore => random,
        };
        let at_ns = start.elapsed().as_nanos() as u64;
        crate::chaos::say(&format!(
            "{:.1} s: {fault:?} store-{}{}",
            at_ns as f64 / 1e9,
            node + 1,
            if current == Some(node) {
                " (leader)"
            } else {
                ""
            }
        ));
        let hold = Duration::from_millis(a.fault_for_ms);
        match fault {
            Fault::KillStore | Fault::KillLeader => {
                cluster.stores.remove(node).kill().await?;
                tokio::time::sleep(hold).await;
                let back = cluster.restart_store(node).await?;
                cluster.stores.insert(node, back);
            }
            Fault::PauseStore | Fault::PauseLeader => {
                cluster.stores[node].pause(true);
                tokio::time::sleep(hold).await;
                cluster.stores[node].pause(false);
            }
        }
        done.push(Injected {
            fault,
            node,
            was_leader: current == Some(node),
            at_ns,
            healed_ns: start.elapsed().as_nanos() as u64,
        });
    }
}

/// Each store's applied index once they agree and stop moving (or as they are when
/// `within` runs out; 0 for a node that did not answer).
pub async fn converged(cluster: &LocalCluster, within: Duration) -> Vec<u64> {
    let client = store_client(cluster);
    let deadline = Instant::now() + within;
    let mut last: Vec<u64> = Vec::new();
    loop {
        let mut now = Vec::new();
        for (_, api) in &cluster.addrs {
            now.push(client.status_of(api).await.map_or(0, |s| s.last_applied));
        }
        let agree = now.windows(2).all(|w| w[0] == w[1]) && !now.contains(&0);
        if (agree && now == last) || Instant::now() > deadline {
            return now;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
