//! Store cluster tests with the in-process testkit: replication, leader kill and handover,
//! partitions, restart from disk, snapshot catch-up, the Watch stream, housekeeping and
//! membership changes.
//!
//! One test binary per topic (tests/tests/<topic>/main.rs): the shared helpers and every
//! heavy dependency are compiled and linked once per topic, not once per file.

#[path = "../support/mod.rs"]
mod support;

mod backup_restore;
mod clock_skew;
mod faults;
mod in_process;
mod leader_handover;
mod leader_kill;
mod membership;
mod membership_recovery;
mod membership_safety;
mod partition;
mod purge_expired;
mod read_index;
mod read_your_writes;
mod replaced_stores;
mod restart;
mod sharding;
mod slow_link;
mod smoke;
mod snapshot_catchup;
mod watch;
