//! Delay faults on the links between stores (`slow-leader`, `slow-network`), made by the
//! link proxy every store's Raft traffic then goes through (`crate::proxied`): the kernel
//! here has no netem.
//!
//! How much: the stores' election timeout is 500–1000 ms and their heartbeat 100 ms
//! (`signet_store::StoreConfig::new`). A slow leader is delayed 100–400 ms each way: more
//! than a heartbeat, so its appends and heartbeats all come late (openraft 0.9 gives an
//! append no longer than a heartbeat interval to answer), but never longer than the
//! shortest election timeout, so the followers still hear it in time and it is not simply
//! a partition. A slow network is delayed 20–50 ms each way with up to ±20 ms of jitter:
//! round trips of about the heartbeat interval, which stretch every commit without
//! stopping the cluster.

use super::nemesis::Rng;
use crate::cli::chaos::Fault;
use crate::procs::LocalCluster;
use anyhow::Context;
use signet_chaos::proxy::Delay;

/// The delay a fault puts on the links it slows, each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Slow(pub(super) Delay);

impl Slow {
    /// The delay of `fault`, drawn by the seed (None for other kinds, which draw nothing:
    /// their runs keep the schedule they had).
    pub(super) fn draw(fault: Fault, rng: &mut Rng) -> Option<Slow> {
        match fault {
            Fault::SlowLeader => Some(Slow(Delay {
                ms: 100 + 50 * rng.below(7),
                jitter_ms: 0,
            })),
            Fault::SlowNetwork => Some(Slow(Delay {
                ms: 20 + 10 * rng.below(4),
                jitter_ms: 10 + 10 * rng.below(2),
            })),
            _ => None,
        }
    }

    /// As the report shows it, after the target.
    pub(super) fn describe(&self) -> String {
        match self.0.jitter_ms {
            0 => format!("+{} ms each way", self.0.ms),
            j => format!("+{} ± {j} ms each way", self.0.ms),
        }
    }
}

/// Whether any of `faults` delays links (the stores' Raft traffic then goes through the
/// link proxy).
pub fn needs_proxy(faults: &[Fault]) -> bool {
    faults
        .iter()
        .any(|f| matches!(f, Fault::SlowLeader | Fault::SlowNetwork))
}

fn proxy(cluster: &LocalCluster) -> anyhow::Result<signet_chaos::proxy::ProxyHandle> {
    Ok(cluster
        .proxy
        .as_ref()
        .context("delay faults need the stores behind the link proxy")?
        .handle())
}

/// Slow every link of store `node` both ways (`slow-leader`), or every link
/// (`slow-network`), by `slow`.
pub(super) fn inject(
    cluster: &LocalCluster,
    fault: Fault,
    node: usize,
    slow: Option<Slow>,
) -> anyhow::Result<()> {
    let Slow(delay) = slow.context("a delay fault without its delay")?;
    let p = proxy(cluster)?;
    match fault {
        Fault::SlowLeader => {
            for other in (0..cluster.ids.len()).filter(|&o| o != node) {
                p.delay(node, other, delay);
                p.delay(other, node, delay);
            }
        }
        _ => p.delay_all(delay),
    }
    Ok(())
}

/// Take every delay away.
pub(super) fn heal(cluster: &LocalCluster) -> anyhow::Result<()> {
    proxy(cluster)?.heal();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_below_an_election_timeout_and_vary_with_the_seed() {
        let election_min = signet_store::StoreConfig::new(1, "unused")
            .election_timeout
            .0;
        let mut leader = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let mut rng = Rng::new(seed);
            let Some(Slow(d)) = Slow::draw(Fault::SlowLeader, &mut rng) else {
                panic!("slow-leader draws a delay");
            };
            assert!((100..=400).contains(&d.ms), "{d:?}");
            assert!(u128::from(d.ms) < election_min.as_millis());
            leader.insert(d.ms);
            let Some(Slow(n)) = Slow::draw(Fault::SlowNetwork, &mut rng) else {
                panic!("slow-network draws a delay");
            };
            assert!(n.ms >= n.jitter_ms && n.ms + n.jitter_ms <= 70, "{n:?}");
        }
        assert!(leader.len() >= 5, "{leader:?}");
        let mut rng = Rng::new(1);
        assert_eq!(Slow::draw(Fault::KillLeader, &mut rng), None);
        assert_eq!(
            rng.below(1 << 40),
            Rng::new(1).below(1 << 40),
            "nothing drawn"
        );
    }
}
