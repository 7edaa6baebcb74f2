//! Cluster time: the wall-clock time that a majority of the voters' clocks have reached.
//!
//! The leader makes two kinds of decisions from a wall clock: which proposals it accepts
//! (a command's clock must be near the store's, [`crate::MAX_PROPOSER_SKEW`]), and what
//! housekeeping it proposes (retire keys whose lease lapsed, drop retired keys after their
//! overlap, purge expired refresh families and revoked tokens). With the leader's own clock,
//! one store whose clock runs a day ahead would refuse every correct gateway while it leads,
//! and drop keys (and with them, tokens that are still valid) a day early.
//!
//! So the leader decides from the clocks of a majority instead. Every Raft reply carries the
//! answering store's wall clock ([`CLOCK_METADATA`]); the sender keeps, per peer, the offset
//! of that clock from its own, measured against the round trip (the reply was made some
//! time within it, so the offset is known to within half the round trip). From the offsets
//! of the voters heard from recently, and its own clock, a node computes:
//! * [`ClusterClock::agreed_ms`], a time no later than what a majority of the voters'
//!   clocks read: at least a majority of voters are at it or past it. Destructive
//!   housekeeping waits for this time, so it needs a majority of clocks ahead to act early,
//!   and is deferred (never done on one clock alone) while the node has not heard from a
//!   majority.
//! * [`ClusterClock::median_ms`], the middle voter's clock, the reference for a proposer's
//!   clock. Without a majority of samples (an older peer that sends no clock, a node that
//!   has just started), the node's own clock stands in, as before cluster time existed.
//!
//! What this does not protect against: a majority of the stores' clocks wrong in the same
//! direction (then the majority's time is wrong and so are the decisions). A single store's
//! clock, leader or not, ahead or behind, changes no decision by more than the spread of
//! the others. Applying the log never reads a clock (DESIGN §3): everything here only
//! decides what is proposed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Raft reply metadata: the answering store's wall clock, Unix milliseconds.
pub(crate) const CLOCK_METADATA: &str = "x-signet-clock-ms";

/// A peer's clock sample older than this no longer counts: a peer not heard from for this
/// long is not known to be in step any more (heartbeats come every few hundred ms).
pub const SAMPLE_TTL: Duration = Duration::from_secs(5);

/// Wall-clock time in Unix ms.
pub(crate) fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One measurement of a peer's clock against ours.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Their clock minus ours, ms (midpoint of the round trip).
    offset_ms: i64,
    /// Half the round trip: the offset is right to within this.
    error_ms: i64,
    /// When it was taken (monotonic: a jump of our wall clock does not make it fresh).
    at: Instant,
}

/// The latest clock sample of every peer this node has sent a Raft message to.
#[derive(Clone, Default)]
pub struct ClockSamples(Arc<Mutex<HashMap<u64, Sample>>>);

impl ClockSamples {
    /// Record `peer`'s clock `theirs_ms`, read from a reply to a call sent at wall time
    /// `sent_ms` that took `rtt`.
    pub(crate) fn record(&self, peer: u64, sent_ms: u64, rtt: Duration, theirs_ms: u64) {
        let half = (rtt.as_millis() / 2) as i64;
        let sample = Sample {
            offset_ms: theirs_ms as i64 - (sent_ms as i64 + half),
            error_ms: half,
            at: Instant::now(),
        };
        self.0
            .lock()
            .expect("clock samples lock")
            .insert(peer, sample);
    }

    /// For each voter: (lowest, middle) estimate of its clock now, given ours is `now`;
    /// voters without a fresh sample are left out. `me` is this node.
    fn estimates(&self, me: u64, voters: &[u64], now: u64) -> Vec<(u64, u64)> {
        self.estimates_at(me, voters, now, Instant::now())
    }

    /// [`Self::estimates`] as of monotonic time `at` (tests look ahead of now).
    fn estimates_at(&self, me: u64, voters: &[u64], now: u64, at: Instant) -> Vec<(u64, u64)> {
        let samples = self.0.lock().expect("clock samples lock");
        voters
            .iter()
            .filter_map(|v| {
                if *v == me {
                    return Some((now, now));
                }
                let s = samples
                    .get(v)
                    .filter(|s| at.saturating_duration_since(s.at) < SAMPLE_TTL)?;
                let mid = now as i64 + s.offset_ms;
                Some(((mid - s.error_ms).max(0) as u64, mid.max(0) as u64))
            })
            .collect()
    }
}

/// The k-th largest of `values` (1-based), where k is a majority of `voters`; None when
/// fewer than a majority are known.
fn majority_point(mut values: Vec<u64>, voters: usize) -> Option<u64> {
    let majority = voters / 2 + 1;
    if voters == 0 || values.len() < majority {
        return None;
    }
    values.sort_unstable_by(|a, b| b.cmp(a));
    Some(values[majority - 1])
}

/// The time a majority of `voters` agree has been reached, from this node's clock `now`
/// and the samples: None without fresh samples from a majority.
pub(crate) fn agreed(samples: &ClockSamples, me: u64, voters: &[u64], now: u64) -> Option<u64> {
    let lows = samples
        .estimates(me, voters, now)
        .into_iter()
        .map(|(low, _)| low)
        .collect();
    majority_point(lows, voters.len())
}

/// The middle voter's clock (the median; of an even number, the lower middle): what a
/// majority's clocks are at or past, by the estimates' midpoints.
pub(crate) fn median(samples: &ClockSamples, me: u64, voters: &[u64], now: u64) -> Option<u64> {
    let mids = samples
        .estimates(me, voters, now)
        .into_iter()
        .map(|(_, mid)| mid)
        .collect();
    majority_point(mids, voters.len())
}

/// A node's view of cluster time: its samples and the current voters.
#[derive(Clone)]
pub struct ClusterClock {
    pub(crate) samples: ClockSamples,
    pub(crate) raft: crate::types::Raft,
    pub(crate) me: u64,
}

impl ClusterClock {
    fn voters(&self) -> Vec<u64> {
        self.raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .voter_ids()
            .collect()
    }

    /// A time a majority of the voters' clocks have reached (None until this node has
    /// heard from a majority recently): what housekeeping decides with.
    pub fn agreed_ms(&self) -> Option<u64> {
        agreed(&self.samples, self.me, &self.voters(), wall_ms())
    }

    /// The middle voter's clock, or this node's own when it has not heard from a majority:
    /// what a proposer's clock is compared with.
    pub fn median_ms(&self) -> u64 {
        self.known_median_ms().unwrap_or_else(wall_ms)
    }

    /// The middle voter's clock, when this node has heard from a majority.
    pub fn known_median_ms(&self) -> Option<u64> {
        median(&self.samples, self.me, &self.voters(), wall_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const DAY: i64 = 86_400_000;

    /// Samples as if peer `id` answered a call sent at NOW with a 10 ms round trip, with
    /// its clock `off` ms from ours.
    fn samples(peers: &[(u64, i64)]) -> ClockSamples {
        let s = ClockSamples::default();
        for (id, off) in peers {
            s.record(
                *id,
                NOW,
                Duration::from_millis(10),
                (NOW as i64 + 5 + off) as u64,
            );
        }
        s
    }

    #[test]
    fn a_leader_a_day_ahead_decides_with_the_others_time() {
        // We are node 1, a day ahead: the others are a day behind us.
        let s = samples(&[(2, -DAY), (3, -DAY + 40)]);
        let agreed = agreed(&s, 1, &[1, 2, 3], NOW).unwrap();
        // The later of the two others, less half the round trip.
        assert_eq!(agreed as i64, NOW as i64 - DAY + 40 - 5);
        let median = median(&s, 1, &[1, 2, 3], NOW).unwrap();
        assert_eq!(median as i64, NOW as i64 - DAY + 40);
    }

    #[test]
    fn a_leader_behind_or_a_follower_ahead_changes_nothing() {
        // Node 1 an hour behind the other two: cluster time is theirs (the earlier one).
        let s = samples(&[(2, 3_600_000), (3, 3_600_020)]);
        assert_eq!(agreed(&s, 1, &[1, 2, 3], NOW), Some(NOW + 3_600_000 - 5));
        // One follower a day ahead: cluster time is ours (known exactly, unlike a peer's).
        let s = samples(&[(2, DAY), (3, 0)]);
        assert_eq!(agreed(&s, 1, &[1, 2, 3], NOW), Some(NOW));
        assert_eq!(median(&s, 1, &[1, 2, 3], NOW), Some(NOW));
    }

    #[test]
    fn without_a_majority_of_samples_there_is_no_agreed_time() {
        let s = samples(&[(2, 0)]);
        assert!(agreed(&s, 1, &[1, 2, 3], NOW).is_some(), "2 of 3");
        assert_eq!(agreed(&s, 1, &[1, 2, 3, 4, 5], NOW), None, "2 of 5");
        assert_eq!(agreed(&samples(&[]), 1, &[1, 2, 3], NOW), None);
        // A single voter is its own majority (signet dev).
        assert_eq!(agreed(&samples(&[]), 1, &[1], NOW), Some(NOW));
        // Samples of non-voters (a learner, a removed node) do not count.
        let s = samples(&[(7, 0), (8, 0)]);
        assert_eq!(agreed(&s, 1, &[1, 2, 3], NOW), None);
    }

    #[test]
    fn five_voters_need_three_clocks_at_the_time() {
        // Two of five clocks a day ahead (us and one other): cluster time stays true.
        let s = samples(&[(2, DAY), (3, -DAY), (4, -DAY), (5, -DAY)]);
        let t = agreed(&s, 1, &[1, 2, 3, 4, 5], NOW).unwrap() as i64;
        assert_eq!(t, NOW as i64 - DAY - 5);
    }

    #[test]
    fn a_stale_sample_does_not_count() {
        let s = samples(&[(2, 0), (3, 0)]);
        assert_eq!(s.estimates_at(1, &[1, 2, 3], NOW, Instant::now()).len(), 3);
        // Seen from SAMPLE_TTL later, only our own clock is known.
        let later = Instant::now() + SAMPLE_TTL;
        assert_eq!(s.estimates_at(1, &[1, 2, 3], NOW, later), vec![(NOW, NOW)]);
    }
}
