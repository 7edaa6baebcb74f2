//! The nemesis: one fault at a time on the stores, the links between them or the
//! gateways, drawn by the seed, each healed before the next; and the wait for the stores
//! to converge afterwards. On a local cluster the tool injects the faults itself; on an
//! attached one (`super::attach`) the user's commands do.

use super::endpoints::Endpoints;
use crate::cli::chaos::{Fault, RunArgs};
use crate::procs::LocalCluster;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use signet_chaos::strictfs::{Disk, DiskFaults};
use signet_store::StoreClient;
use std::time::{Duration, Instant};

/// How far `skew-leader` moves the leader's clock: two days, more than a retired key
/// stays published (the longest token lifetime, a day, plus leeway).
const STORE_SKEW_S: i64 = 2 * 86_400;

/// Share of the packets `lossy-leader` drops on the leader's links.
const LOSS_PERCENT: u8 = 30;

/// The disk of `slow-disk`.
const SLOW: DiskFaults = DiskFaults {
    write_delay_ms: 20,
    sync_delay_ms: 100,
    full: false,
    sync_fails: false,
};

/// A small deterministic generator (xorshift): the same seed, the same faults (and the
/// same register operations).
pub(super) struct Rng(u64);

impl Rng {
    /// The seed goes through splitmix64 first: xorshift's first outputs from seeds that
    /// differ in a few low bits are alike, and 20 runs with seeds 401–420 drew 11
    /// skew-gateway faults and no wipe-store.
    pub(super) fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
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
    /// What it hit: `store-N`, `gateway-N`, or the stores cut off (`store-1,store-3`).
    pub target: String,
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
            "target": self.target,
            "was_leader": self.was_leader,
            "at_ms": self.at_ns / 1_000_000,
            "for_ms": (self.healed_ns - self.at_ns) / 1_000_000,
            "first_ack_after_ms": first_ack.map(|t| (t - self.at_ns) as f64 / 1e6),
        })
    }
}

fn store_client(e: &Endpoints) -> StoreClient {
    e.store_client(Duration::from_secs(2), Duration::from_secs(2))
}

/// The current leader's index (`ids`: each store's node id), asked of the nodes in turn
/// (None while there is none).
async fn leader(e: &Endpoints, ids: &[u64]) -> Option<usize> {
    let client = store_client(e);
    for api in &e.stores {
        if let Ok(s) = client.status_of(api).await {
            if let Some(id) = s.leader_id {
                return ids.iter().position(|&i| i == id);
            }
        }
    }
    None
}

/// What the nemesis acts on: a cluster it started (it injects the faults itself) or one it
/// is attached to (the user's commands do).
pub(super) trait Nodes {
    /// Where the stores and gateways answer now.
    fn endpoints(&self) -> Endpoints;
    /// Each store's node id, by index.
    fn ids(&self) -> Vec<u64>;
    /// Put `hit` in place.
    async fn inject(&mut self, hit: &Hit) -> anyhow::Result<()>;
    /// Undo `hit`.
    async fn heal(&mut self, hit: &Hit) -> anyhow::Result<()>;
}

impl Nodes for LocalCluster {
    fn endpoints(&self) -> Endpoints {
        Endpoints::local(self)
    }

    fn ids(&self) -> Vec<u64> {
        self.ids.clone()
    }

    async fn inject(&mut self, hit: &Hit) -> anyhow::Result<()> {
        hit.inject(self).await
    }

    async fn heal(&mut self, hit: &Hit) -> anyhow::Result<()> {
        hit.heal(self).await
    }
}

/// The fault kinds to draw from, dealt like cards: each kind once, in an order the seed
/// shuffles, before any comes again, so that a short run covers every kind asked for.
struct Deck {
    kinds: Vec<Fault>,
    left: Vec<Fault>,
}

impl Deck {
    fn new(kinds: &[Fault]) -> Deck {
        let mut unique: Vec<Fault> = Vec::new();
        for k in kinds {
            if !unique.contains(k) {
                unique.push(*k);
            }
        }
        Deck {
            kinds: unique,
            left: Vec::new(),
        }
    }

    /// The next kind (None when there are none: a run without faults).
    fn draw(&mut self, rng: &mut Rng) -> Option<Fault> {
        if self.left.is_empty() {
            self.left = self.kinds.clone();
        }
        if self.left.is_empty() {
            return None;
        }
        Some(
            self.left
                .swap_remove(rng.below(self.left.len() as u64) as usize),
        )
    }
}

/// One fault on its target.
pub(super) struct Hit {
    pub(super) fault: Fault,
    /// The store it hits (0-based).
    pub(super) node: usize,
    /// The gateway it hits (0-based).
    pub(super) gateway: usize,
    /// The stores cut off by `partition-minority`.
    pub(super) minority: Vec<usize>,
    /// The clock offset of `skew-gateway`, seconds.
    skew_s: i64,
    /// The delay of `slow-*`.
    slow: Option<super::slow::Slow>,
}

/// Offset of `skew-gateway`: twice what the store leader accepts of a proposer's clock.
fn skew_s(rng: &mut Rng) -> i64 {
    let s = 2 * signet_store::MAX_PROPOSER_SKEW.as_secs() as i64;
    if rng.below(2) == 0 {
        s
    } else {
        -s
    }
}

impl Hit {
    fn disk(cluster: &LocalCluster, index: usize) -> anyhow::Result<Disk> {
        cluster
            .disk(index)?
            .context("disk faults need the stores on the strict disk")
    }

    /// Restart store `index` if it stopped by itself (a store stops when its disk fails
    /// it), after undoing what it had not synced when `lost`; clear the disk's faults first.
    async fn restart_if_ended(
        cluster: &mut LocalCluster,
        index: usize,
        lost: bool,
    ) -> anyhow::Result<()> {
        let disk = Self::disk(cluster, index)?;
        disk.set_faults(DiskFaults::default())?;
        if cluster.stores[index].ended() {
            cluster.stores.remove(index);
            if lost {
                disk.power_loss()?;
            }
            let back = cluster.restart_store(index).await?;
            cluster.stores.insert(index, back);
        }
        Ok(())
    }

    /// Set store `node`'s clock `offset_s` off and wait until it reads so (its Status
    /// says its clock): libfaketime reads the offset file again within about 2 s.
    async fn set_store_clock(&self, cluster: &LocalCluster, offset_s: i64) -> anyhow::Result<()> {
        let file = cluster.clock_file(cluster.ids[self.node])?;
        signet_chaos::clock::set_offset(&file, offset_s).map_err(anyhow::Error::msg)?;
        let client = store_client(&Endpoints::local(cluster));
        let api = &cluster.addrs[self.node].1;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ours = signet_chaos::clock::now_ms() as i64;
            if let Ok(s) = client.status_of(api).await {
                if (s.clock_ms as i64 - ours - offset_s * 1000).abs() < 60_000 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "store-{}'s clock did not move to {offset_s:+} s",
                    cluster.ids[self.node]
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn net(cluster: &LocalCluster) -> anyhow::Result<&crate::netns::Network> {
        cluster
            .net
            .as_ref()
            .context("link faults need the stores' own network")
    }

    async fn inject(&self, cluster: &mut LocalCluster) -> anyhow::Result<()> {
        match self.fault {
            Fault::KillStore | Fault::KillLeader | Fault::WipeStore => {
                cluster.stores.remove(self.node).kill().await
            }
            Fault::PauseStore | Fault::PauseLeader => {
                cluster.stores[self.node].pause(true);
                Ok(())
            }
            Fault::KillGateway => cluster.gateways.remove(self.gateway).kill().await,
            Fault::PauseGateway => {
                cluster.gateways[self.gateway].pause(true);
                Ok(())
            }
            Fault::SkewGateway => {
                cluster.gateways.remove(self.gateway).kill().await?;
                let env = crate::procs::skewed_clock(self.skew_s)?;
                let skewed = cluster.restart_gateway_skewed(self.gateway, &env).await?;
                cluster.gateways.insert(self.gateway, skewed);
                Ok(())
            }
            Fault::SkewLeader => {
                self.set_store_clock(cluster, STORE_SKEW_S * self.skew_s.signum())
                    .await
            }
            Fault::PartitionLeader => Self::net(cluster)?.isolate(&[self.node]),
            Fault::PartitionMinority => Self::net(cluster)?.isolate(&self.minority),
            Fault::MuteLeader => Self::net(cluster)?.mute(self.node),
            Fault::LossyLeader => Self::net(cluster)?.lossy(self.node, LOSS_PERCENT),
            Fault::PowerLossLeader => {
                cluster.stores.remove(self.node).kill().await?;
                Self::disk(cluster, self.node)?.power_loss()?;
                Ok(())
            }
            Fault::PowerLossAll => {
                for s in std::mem::take(&mut cluster.stores) {
                    s.kill().await?;
                }
                for i in 0..cluster.ids.len() {
                    Self::disk(cluster, i)?.power_loss()?;
                }
                Ok(())
            }
            Fault::SlowDisk => Ok(Self::disk(cluster, self.node)?.set_faults(SLOW)?),
            Fault::DiskFull => Ok(Self::disk(cluster, self.node)?.set_faults(DiskFaults {
                full: true,
                ..Default::default()
            })?),
            Fault::SyncErrors => Ok(Self::disk(cluster, self.node)?.set_faults(DiskFaults {
                sync_fails: true,
                ..Default::default()
            })?),
            Fault::SlowLeader | Fault::SlowNetwork => {
                super::slow::inject(cluster, self.fault, self.node, self.slow)
            }
        }
    }

    async fn heal(&self, cluster: &mut LocalCluster) -> anyhow::Result<()> {
        match self.fault {
            Fault::KillStore | Fault::KillLeader => {
                let back = cluster.restart_store(self.node).await?;
                cluster.stores.insert(self.node, back);
            }
            Fault::WipeStore => {
                let client = store_client(&Endpoints::local(cluster));
                let new = cluster.replace_wiped_store(self.node, &client).await?;
                cluster.stores.insert(self.node, new);
            }
            Fault::PauseStore | Fault::PauseLeader => cluster.stores[self.node].pause(false),
            Fault::KillGateway => {
                let back = cluster.restart_gateway(self.gateway).await?;
                cluster.gateways.insert(self.gateway, back);
            }
            Fault::SkewGateway => {
                cluster.gateways.remove(self.gateway).kill().await?;
                let back = cluster.restart_gateway(self.gateway).await?;
                cluster.gateways.insert(self.gateway, back);
            }
            Fault::PauseGateway => cluster.gateways[self.gateway].pause(false),
            Fault::SkewLeader => self.set_store_clock(cluster, 0).await?,
            Fault::PartitionLeader
            | Fault::PartitionMinority
            | Fault::MuteLeader
            | Fault::LossyLeader => Self::net(cluster)?.heal()?,
            Fault::PowerLossLeader => {
                let back = cluster.restart_store(self.node).await?;
                cluster.stores.insert(self.node, back);
            }
            Fault::PowerLossAll => {
                for i in 0..cluster.ids.len() {
                    let back = cluster.restart_store(i).await?;
                    cluster.stores.push(back);
                }
            }
            Fault::SlowDisk => Self::disk(cluster, self.node)?.set_faults(DiskFaults::default())?,
            Fault::DiskFull => Self::restart_if_ended(cluster, self.node, false).await?,
            Fault::SyncErrors => Self::restart_if_ended(cluster, self.node, true).await?,
            Fault::SlowLeader | Fault::SlowNetwork => super::slow::heal(cluster)?,
        }
        Ok(())
    }
}

/// Whether any of `faults` cuts links between stores (they then need a network of
/// their own).
pub fn needs_network(faults: &[Fault]) -> bool {
    faults.iter().any(|f| {
        matches!(
            f,
            Fault::PartitionLeader
                | Fault::PartitionMinority
                | Fault::MuteLeader
                | Fault::LossyLeader
                | Fault::SlowLeader
        )
    })
}

/// Whether any of `faults` sets the stores' clocks.
pub fn needs_clocks(faults: &[Fault]) -> bool {
    faults.contains(&Fault::SkewLeader)
}

/// Whether any of `faults` needs the stores on the strict disk.
pub fn needs_disk(faults: &[Fault]) -> bool {
    faults.iter().any(|f| {
        matches!(
            f,
            Fault::PowerLossLeader
                | Fault::PowerLossAll
                | Fault::SlowDisk
                | Fault::DiskFull
                | Fault::SyncErrors
        )
    })
}

/// Inject faults until the run's duration is over, each one added to `done` once healed;
/// every fault is healed on return (unless injecting or healing one failed).
pub(super) async fn run(
    cluster: &mut impl Nodes,
    a: &RunArgs,
    seed: u64,
    start: Instant,
    done: &mut Vec<Injected>,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let mut deck = Deck::new(&a.faults);
    let end = start + Duration::from_secs(a.duration_s);
    loop {
        let next = Instant::now() + Duration::from_millis(a.fault_every_ms);
        if next + Duration::from_millis(a.fault_for_ms) > end {
            tokio::time::sleep_until(end.into()).await;
            return Ok(());
        }
        tokio::time::sleep_until(next.into()).await;
        let Some(fault) = deck.draw(&mut rng) else {
            tokio::time::sleep_until(end.into()).await;
            return Ok(());
        };
        let (endpoints, ids) = (cluster.endpoints(), cluster.ids());
        let stores = ids.len();
        let random = rng.below(stores as u64) as usize;
        let gateway = rng.below(endpoints.gateways.len() as u64) as usize;
        let skew_s = skew_s(&mut rng);
        // Drawn last, and only for delay faults: other runs keep their schedules.
        let slow = super::slow::Slow::draw(fault, &mut rng);
        let current = leader(&endpoints, &ids).await;
        let node = match fault {
            Fault::KillLeader
            | Fault::PauseLeader
            | Fault::SkewLeader
            | Fault::PartitionLeader
            | Fault::MuteLeader
            | Fault::LossyLeader
            | Fault::PowerLossLeader
            | Fault::SlowDisk
            | Fault::DiskFull
            | Fault::SyncErrors
            | Fault::SlowLeader => current.unwrap_or(random),
            _ => random,
        };
        // A minority: `node` and the next ones, (n-1)/2 in all.
        let minority: Vec<usize> = (0..(stores - 1) / 2).map(|k| (node + k) % stores).collect();
        let target = match fault {
            Fault::SkewGateway => format!("gateway-{} (clock {skew_s:+} s)", gateway + 1),
            Fault::SkewLeader => format!(
                "store-{} (clock {:+} s)",
                ids[node],
                STORE_SKEW_S * skew_s.signum()
            ),
            Fault::KillGateway | Fault::PauseGateway => format!("gateway-{}", gateway + 1),
            Fault::PartitionMinority => minority
                .iter()
                .map(|&i| format!("store-{}", ids[i]))
                .collect::<Vec<_>>()
                .join(","),
            Fault::PowerLossAll => "every store".to_string(),
            Fault::SlowNetwork => format!(
                "every link ({})",
                slow.map(|s| s.describe()).unwrap_or_default()
            ),
            Fault::SlowLeader => format!(
                "store-{} ({})",
                ids[node],
                slow.map(|s| s.describe()).unwrap_or_default()
            ),
            _ => format!("store-{}", ids[node]),
        };
        let was_leader = match fault {
            Fault::KillGateway | Fault::PauseGateway | Fault::SkewGateway => false,
            Fault::PartitionMinority => current.is_some_and(|l| minority.contains(&l)),
            Fault::PowerLossAll | Fault::SlowNetwork => current.is_some(),
            _ => current == Some(node),
        };
        let hit = Hit {
            fault,
            node,
            gateway,
            minority,
            skew_s,
            slow,
        };
        cluster.inject(&hit).await?;
        // From when the fault is in place (a kill reaped, the rules in), not before.
        let at_ns = start.elapsed().as_nanos() as u64;
        crate::chaos::say(&format!(
            "{:.1} s: {fault:?} {target}{}",
            at_ns as f64 / 1e9,
            if was_leader { " (leader)" } else { "" }
        ));
        tokio::time::sleep(Duration::from_millis(a.fault_for_ms)).await;
        cluster.heal(&hit).await?;
        done.push(Injected {
            fault,
            target,
            was_leader,
            at_ns,
            healed_ns: start.elapsed().as_nanos() as u64,
        });
    }
}

/// Each store's applied index once they agree and stop moving (or as they are when
/// `within` runs out; 0 for a node that did not answer).
pub async fn converged(e: &Endpoints, within: Duration) -> Vec<u64> {
    let client = store_client(e);
    let deadline = Instant::now() + within;
    let mut last: Vec<u64> = Vec::new();
    loop {
        let mut now = Vec::new();
        for api in &e.stores {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dealt(seed: u64, kinds: &[Fault], n: usize) -> Vec<Fault> {
        let (mut rng, mut deck) = (Rng::new(seed), Deck::new(kinds));
        (0..n).map_while(|_| deck.draw(&mut rng)).collect()
    }

    #[test]
    fn neighbouring_seeds_deal_every_kind_about_as_often() {
        let kinds = [
            Fault::KillStore,
            Fault::KillLeader,
            Fault::PauseStore,
            Fault::PauseLeader,
            Fault::WipeStore,
            Fault::KillGateway,
            Fault::PauseGateway,
            Fault::SkewGateway,
            Fault::SkewLeader,
            Fault::PartitionLeader,
            Fault::PartitionMinority,
            Fault::MuteLeader,
            Fault::LossyLeader,
            Fault::PowerLossLeader,
            Fault::PowerLossAll,
            Fault::SlowDisk,
            Fault::DiskFull,
            Fault::SyncErrors,
        ];
        // Twenty runs of seven faults each, seeds in a row, as benches/README's runs: every
        // kind is dealt, none more than three times its share (140 / 18 ≈ 8).
        let mut count = [0; 18];
        for seed in 401..421 {
            for f in dealt(seed, &kinds, 7) {
                count[kinds.iter().position(|k| *k == f).unwrap()] += 1;
            }
        }
        for (k, n) in kinds.iter().zip(count) {
            assert!((1..=24).contains(&n), "{k:?} dealt {n} times: {count:?}");
        }
    }

    #[test]
    fn the_deck_deals_every_kind_once_per_round_in_the_seeds_order() {
        let kinds = [
            Fault::KillStore,
            Fault::KillLeader,
            Fault::PauseLeader,
            Fault::PartitionLeader,
            Fault::MuteLeader,
            Fault::KillGateway,
            Fault::KillStore,
        ];
        let cards = dealt(7, &kinds, 12);
        assert_eq!(cards.len(), 12);
        for round in [&cards[..6], &cards[6..]] {
            for k in &kinds {
                assert_eq!(round.iter().filter(|c| *c == k).count(), 1, "{round:?}");
            }
        }
        assert_eq!(cards, dealt(7, &kinds, 12), "same seed, same order");
        assert_ne!(cards, dealt(8, &kinds, 12), "another seed, another order");
        assert!(dealt(7, &[], 3).is_empty(), "no kinds, no faults");
    }
}
