//! Arguments of `signet cluster …`: membership and status of the store cluster.

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct Endpoint {
    /// API address of any store node.
    #[arg(long, default_value = "127.0.0.1:7401", env = "SIGNET_ENDPOINT")]
    pub endpoint: String,
}

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Leader, term, members, last applied index and per-member lag, as JSON.
    Status(Endpoint),
    /// Add the node listening at --api-addr as a learner.
    AddLearner {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
        /// API address of the node to add.
        #[arg(long)]
        api_addr: String,
    },
    /// Promote a learner to voter.
    Promote {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
    },
    /// Build a snapshot on the node at --endpoint now; with --purge, also drop its log up
    /// to the snapshot (do it on the leader before adding a node to a large cluster).
    Snapshot {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        purge: bool,
    },
    /// Write a consistent, checksummed backup of the whole store to --out while it keeps
    /// taking writes: the leader's snapshot once it holds every write acknowledged before
    /// the call. It holds password hashes and secrets: keep it like the data dirs. Start a
    /// new cluster from it with `signet store --restore FILE --init`.
    Backup {
        #[command(flatten)]
        endpoint: Endpoint,
        /// The file to write (never overwritten; written as FILE.partial, checked, renamed).
        #[arg(long, required_unless_present = "out_dir", conflicts_with = "out_dir")]
        out: Option<PathBuf>,
        /// Write `signet-<UTC time>-<index>.backup` into this directory instead (for a
        /// schedule, like the chart's CronJob).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// With --out-dir: then delete all but the newest N `signet-*.backup` files there.
        #[arg(long, requires = "out_dir", value_parser = clap::value_parser!(u32).range(1..))]
        keep: Option<u32>,
    },
    /// Remove every member whose node id is above --to, highest first, one at a time: run
    /// it before a StatefulSet of stores scales down to --to pods (a no-op when none is).
    Shrink {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Members to keep: node ids 1..=to.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        to: u64,
    },
    /// Remove a voter or learner from the cluster (needs a quorum of the voters).
    Remove {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        node_id: u64,
    },
    /// OFFLINE, on a stopped store: make this node the only voter of a new cluster that
    /// keeps its whole log, when the cluster has lost quorum for good (see the README's
    /// runbook). Stop every other member for good first; add members again afterwards.
    ForceNewCluster {
        /// The stopped node's id.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        node_id: u64,
        /// The stopped node's data dir (`<dev data dir>/store` for `signet dev`).
        #[arg(long)]
        data_dir: PathBuf,
        /// Only report what the node holds (last log id, membership) and what would change.
        #[arg(long)]
        dry_run: bool,
    },
}
