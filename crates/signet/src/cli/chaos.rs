//! Command-line arguments of `signet chaos` (their `///` comments are the --help text).

use super::TlsArgs;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ChaosArgs {
    #[command(subcommand)]
    pub command: ChaosCommand,
}

#[derive(Subcommand, Debug)]
pub enum ChaosCommand {
    /// Start a local cluster of real `signet store` and `signet gateway` processes (or,
    /// with --attach, use a cluster you run), drive workloads while faults hit the stores,
    /// the links between them and the gateways on a seeded schedule, heal, and check the
    /// recorded histories.
    Run(Box<RunArgs>),
    /// Judge a saved run again (`--dir` of a run: history.jsonl, identities.jsonl,
    /// registers.jsonl, tokens.jsonl, refresh.jsonl, codes.jsonl, lockout.jsonl and
    /// final.json), or histories written by hand or by
    /// another tool; registers.jsonl, if present, is checked for linearizability
    /// (compare-and-set registers per key); tokens.jsonl, if present, against the JWKS
    /// saved in final.json, at the time they were fetched.
    Check(CheckArgs),
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Exit status: 0 no anomaly; 1 anomalies found; 2 bad usage.")]
pub struct CheckArgs {
    /// The run's directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// A workload and its invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Sign users up (AdminCreateUser), each name once: every acknowledged sign-up is
    /// listed exactly once by every gateway, no refused one is, nothing else is.
    SignUps,
    /// Get or create the identity of developer logins from a small set, concurrently
    /// (GetOpenIdTokenForDeveloperIdentity): one identity per login in every answer and
    /// in the final state, asked again through every gateway; no extra identities.
    Identities,
    /// Read (linearizable), write and compare-and-set a few diagnostic registers straight
    /// through the stores' API, values and operations drawn by the seed: every register's
    /// history is linearizable (Wing–Gong search per key).
    Registers,
    /// Key rotation under gateway churn: ask the gateways for client_credentials access
    /// tokens (POST /{pool}/oauth2/token) while they are killed and restarted with new
    /// signing keys: every token a gateway issued verifies against the JWKS of every
    /// gateway until its exp (signature, kid, issuer, client, checked after healing).
    Tokens,
    /// Refresh-token rotation with reuse detection (REFRESH_TOKEN_AUTH on a client with
    /// rotation): two racers present the same token generation through two gateways at
    /// once. At most one presentation per generation gets new tokens; once one was refused
    /// as revoked, no token of that family (the winner's new one included) is accepted,
    /// also when the last tokens are presented again after healing; a family is revoked
    /// only when a generation was reused.
    Refresh,
    /// Password-reset codes spent at most once: ForgotPassword, the code read from the dev
    /// outbox (attached, the gateways need --dev-outbox), three racers redeem it at once through different gateways
    /// (ConfirmForgotPassword), each with a new password. At most one redemption
    /// succeeds; after healing the winner's password signs in and no other does (with no
    /// winner: the old password or an unanswered racer's, exactly one).
    Codes,
    /// Cluster-wide lockout: racers fire wrong passwords for a user at once through
    /// different gateways, then the right one. Never more wrong guesses checked (answered
    /// "incorrect") than the threshold per lockout window (each further one only after
    /// the doubled lockout), and the right password refused while locked.
    Lockout,
}

/// A fault the nemesis can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Fault {
    /// SIGKILL a store node (any, by the seed), restart it on its data after --fault-for-ms.
    KillStore,
    /// SIGKILL the current Raft leader, restart it after --fault-for-ms.
    KillLeader,
    /// SIGSTOP a store node (any), SIGCONT after --fault-for-ms (longer than an election
    /// timeout: the others elect a leader; the paused one returns to a newer term).
    PauseStore,
    /// SIGSTOP the current leader, SIGCONT after --fault-for-ms.
    PauseLeader,
    /// SIGKILL a store node (any) and delete its data directory: its data is lost. After
    /// --fault-for-ms it is replaced as an operator would: removed from the membership and
    /// a new empty node joined under a new id (a wiped node must not return under its old
    /// id: it has forgotten its votes; the stores refuse it).
    WipeStore,
    /// SIGKILL a gateway, restart it on the same ports (a new signing key) after
    /// --fault-for-ms; its clients' calls fail or are unknown meanwhile.
    KillGateway,
    /// SIGSTOP a gateway, SIGCONT after --fault-for-ms.
    PauseGateway,
    /// Restart a gateway with its wall clock 60 s ahead or behind (libfaketime; Debian
    /// package faketime), twice the skew the stores accept of a proposer: it must report
    /// not ready (naming its clock), and its commands that carry a clock (codes, lockouts,
    /// GetId, key retirement) must be refused, never applied with the wrong time; after
    /// --fault-for-ms it restarts on the true clock.
    SkewGateway,
    /// The current leader's wall clock jumps two days ahead or behind (libfaketime, the
    /// offset read from a file the tool rewrites, so the node keeps running and leading);
    /// after --fault-for-ms it jumps back. Two days is more than a retired key's overlap:
    /// a leader deciding on its own clock would refuse every gateway's clocked commands and
    /// drop keys whose tokens are still valid. It must do neither: the stores decide with
    /// cluster time, what a majority of their clocks agree on.
    SkewLeader,
    /// Cut the current leader off from every other store, both ways (the gateways still
    /// reach it): the majority elects a leader; the old one must neither commit nor serve a
    /// linearizable read. Needs root: the stores then run in network namespaces of their
    /// own on a bridge the tool makes (iproute2, iptables).
    PartitionLeader,
    /// Cut a minority of the stores ((n-1)/2 of them, leader or not) off from the
    /// majority, both ways. Needs root, as partition-leader.
    PartitionMinority,
    /// One way: the leader's calls to the other stores are lost, theirs to it and its
    /// answers go through (conntrack-based drop). Needs root, as partition-leader.
    MuteLeader,
    /// Drop 30 % of the packets on every link of the leader, both ways (no netem in the
    /// kernel here, so no added delay). Needs root, as partition-leader.
    LossyLeader,
    /// SIGKILL the leader and lose what its disk had not synced (the strict disk below),
    /// as a power cut would; restart it after --fault-for-ms.
    PowerLossLeader,
    /// Every store loses power at once (SIGKILL, unsynced writes lost); all restart after
    /// --fault-for-ms. Nothing acknowledged may be missing afterwards.
    PowerLossAll,
    /// The leader's disk turns slow: +20 ms per write, +100 ms per sync, for
    /// --fault-for-ms.
    SlowDisk,
    /// The leader's disk is full (writes that grow a file fail with ENOSPC): the store
    /// must stop rather than go on without durability; the others elect a leader. After
    /// --fault-for-ms the disk has room again and the store restarts.
    DiskFull,
    /// The leader's fsyncs fail with EIO: the store must stop; what it had not synced is
    /// lost (after a failed fsync the kernel may drop the dirty pages). After
    /// --fault-for-ms it restarts on a healthy disk.
    SyncErrors,
    /// Every link to and from the current leader is delayed, both ways, by 100–400 ms
    /// (drawn by the seed; more than the 100 ms heartbeat, less than the shortest election
    /// timeout, 500 ms): the leader still reaches the others, late (openraft gives an
    /// append 100 ms, so such a leader commits nothing while its late heartbeats keep the
    /// followers from electing another: writes stall for the fault). The stores' Raft
    /// traffic then goes through a TCP proxy in the tool, which delays it (no netem in the
    /// kernel here). Needs root, as partition-leader: the proxy tells the stores apart by
    /// their addresses in their namespaces.
    SlowLeader,
    /// Every link between stores is delayed, both ways, by 20–50 ms with up to ±20 ms of
    /// jitter (drawn by the seed; bytes keep their order), through the tool's TCP proxy as
    /// slow-leader. Needs no root.
    SlowNetwork,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "\
Workloads (--workloads; the clients are shared out among them, each sign-up, \
identities and tokens client on one gateway, a workload's clients alternating across the \
gateways, each registers client on the stores; a refresh, codes or lockout client races \
itself through two or three gateways): sign-ups, identities, registers, tokens, refresh, \
codes and lockout (see their values below; the default is the first four). Every call is recorded: \
invoked, completed, and its outcome: ok, failed (refused), or unknown (no answer in \
time, a cut connection: it may have happened). The invariants are checked after the \
faults end and every node is back; with the tokens workload, no signing key may have been \
retired while the gateway process holding it kept renewing its lease (key-retirements: the \
local cluster's gateways hold 15 s key leases, so a leader back from a pause or a partition \
with a stale view of the leases would show); every store node must converge to the same \
applied index, and once stopped, stores at the same index must hold the same rows (a \
SHA-256 of each one's state machine, read from its data dir).\n\
Faults (--faults) are dealt like cards: each kind once per round, in the seed's order, \
one at a time, each healed before the next. The cluster's internal planes (Raft, Store, \
Cluster) speak mutual TLS with a CA made for the run in <dir>/pki, as a deployed cluster's \
do: every store has a store certificate naming the address it listens on, the gateways \
gateway certificates, and the tool itself an operator one; before the workloads start, \
each store is checked to refuse plaintext and TLS without a client certificate (the \
report's transport and transport_probe). The gateways' public gRPC and HTTP listeners, \
the face clients see, stay plaintext on loopback. Link faults (partition-*, mute-leader, \
lossy-leader, slow-leader) run each store in a network namespace of its own on a bridge \
the tool makes, and need root, iproute2 and iptables. Delay faults (slow-leader, \
slow-network) send the stores' Raft traffic through a TCP proxy the tool runs (each \
store advertises the proxy's address as its Raft address), which delays each direction \
of a link; without namespaces it cannot tell which store called, so only slow-network \
works there. Clock faults (skew-leader) start every store with an adjustable clock \
(libfaketime, Debian package faketime). Disk faults (power-loss-*, slow-disk, \
disk-full, sync-errors) run each store on a strict disk: an LD_PRELOAD library (built \
with the system C compiler, `cc`) that journals what every write under the store's data \
dir replaces, so that a power loss undoes everything not yet fsynced, and that can slow \
the disk, fill it or fail its syncs.\n\
The report (--json for machines) gives the seed, operations by outcome, faults injected, \
the longest write outage after a fault, the anomalies with the users involved, and \
where the history and the nodes' logs are (they log warnings and errors; set \
SIGNET_CHILD_LOG to a RUST_LOG filter, e.g. info, for more).\n\
Attached (--attach), the tool starts nothing: it drives the stores (--store, in order) \
and gateways (--gateway) you name, and injects each fault kind with the shell command \
you give for it (--fault-command KIND=CMD, run with `sh -c`, at most 120 s), healing it \
with --heal-command KIND=CMD when given (none for, say, a pod its controller restarts). \
Only kinds with a fault command may be in --faults. Which store or gateway a fault hits \
is drawn by the seed as without --attach (*-leader kinds: the leader, asked of the \
stores). Placeholders in the commands: {store_index} (0-based, as a StatefulSet numbers \
its pods), {store} (1-based), {node_id} and {store_api} of the store hit (for \
partition-minority the first store cut off), and for gateway kinds {gateway_index}, \
{gateway} and {gateway_addr}; {{ is a literal {. Every command's exit status and \
stderr are in the report; a failing one stops the faults and fails the run. The state \
digests need the stores' data dirs, so attached they are replaced by comparing every \
store's Status after healing (the report lists the checks that ran). A cluster with mutual \
TLS takes --ca, --cert and --key (an operator certificate, for the stores; --ca checks the \
gateways); the admin secret comes from --admin-secret or SIGNET_ADMIN_SECRET. Example: \
--attach --store 10.0.0.11:7401 --store 10.0.0.12:7401 --store 10.0.0.13:7401 \
--gateway 10.0.1.1:7410=http://10.0.1.1:7411 --faults kill-store \
--fault-command 'kill-store=kubectl delete pod signet-store-{store_index} --wait=false'\n\
Exit status: 0 no anomaly; 1 anomalies found (or the cluster did not converge, or a fault \
command failed); 2 bad usage.")]
pub struct RunArgs {
    /// Store nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(3..=5),
          conflicts_with = "attach")]
    pub stores: u64,
    /// Gateways.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=4),
          conflicts_with = "attach")]
    pub gateways: u64,
    /// How long the workload and the faults run, seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duration_s: u64,
    /// Seed of the fault schedule (which fault, which node) and of the register
    /// operations; a run with the same seed injects the same faults. Drawn at random (and
    /// printed) when not given.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Concurrent clients of the workload.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub clients: u64,
    /// Time from the end of one fault to the next, milliseconds.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub fault_every_ms: u64,
    /// How long a fault lasts (a killed node stays down, a paused one frozen), milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub fault_for_ms: u64,
    /// The workloads to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',',
          default_values_t = [Workload::SignUps, Workload::Identities, Workload::Registers,
                              Workload::Tokens])]
    pub workloads: Vec<Workload>,
    /// The faults to draw from (comma-separated). The default is every fault that needs no
    /// root; add the link faults for partitions.
    #[arg(long, value_enum, value_delimiter = ',',
          default_values_t = [Fault::KillStore, Fault::KillLeader, Fault::PauseStore,
                              Fault::PauseLeader, Fault::WipeStore, Fault::KillGateway,
                              Fault::PauseGateway])]
    pub faults: Vec<Fault>,
    /// A call with no answer within this many milliseconds is recorded as unknown.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub call_timeout_ms: u64,
    /// Where the cluster's data, the nodes' logs and the history go (default: a new
    /// temporary directory, removed after a run without anomalies).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Start no cluster: run against the stores and gateways given with --store and
    /// --gateway, injecting faults with --fault-command (see below).
    #[arg(long, requires = "store", requires = "gateway")]
    pub attach: bool,
    /// With --attach: a store's API address (repeat for each store, in order: the first
    /// is store index 0). Node ids are asked of each store (Status).
    #[arg(long = "store", value_name = "ADDR", requires = "attach")]
    pub store: Vec<String>,
    /// With --attach: a gateway's gRPC address and its public HTTP base URL (its issuer's
    /// prefix; https is checked against --ca when given, else the web PKI roots), e.g.
    /// 127.0.0.1:50051=http://127.0.0.1:8080 (repeat for each).
    #[arg(long = "gateway", value_name = "GRPC_ADDR=HTTP_BASE", requires = "attach",
          value_parser = parse_gateway)]
    pub gateway: Vec<GatewayAddr>,
    /// With --attach: the shell command that injects fault KIND (as --faults spells it),
    /// with placeholders (see below); one per kind in --faults.
    #[arg(
        long = "fault-command",
        value_name = "KIND=CMD",
        requires = "attach",
        allow_hyphen_values = true
    )]
    pub fault_command: Vec<String>,
    /// With --attach: the shell command that heals fault KIND after --fault-for-ms
    /// (optional per kind).
    #[arg(
        long = "heal-command",
        value_name = "KIND=CMD",
        requires = "attach",
        allow_hyphen_values = true
    )]
    pub heal_command: Vec<String>,
    /// With --attach: TLS to the stores (mutual: an operator certificate) and to the
    /// gateways' gRPC listeners (--ca).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// With --attach: bearer secret of the gateways' admin API (else read from
    /// --data-dir, as `signet admin`).
    #[arg(
        allow_hyphen_values = true,
        long,
        env = "SIGNET_ADMIN_SECRET",
        hide_env_values = true
    )]
    pub admin_secret: Option<String>,
    /// With --attach: data dir of a `signet dev` process, to find its admin secret.
    #[arg(long, default_value = "./signet-data", env = "SIGNET_DATA_DIR")]
    pub data_dir: PathBuf,
}

/// A gateway of an attached cluster: `GRPC_ADDR=HTTP_BASE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAddr {
    /// gRPC address (admin API).
    pub grpc: String,
    /// Public HTTP base URL (token endpoint, JWKS), without a trailing slash.
    pub http: String,
}

/// Parse `GRPC_ADDR=HTTP_BASE`.
pub fn parse_gateway(s: &str) -> Result<GatewayAddr, String> {
    let (grpc, http) = s
        .split_once('=')
        .ok_or_else(|| format!("expected GRPC_ADDR=HTTP_BASE, got {s:?}"))?;
    let (grpc, http) = (grpc.trim(), http.trim().trim_end_matches('/'));
    if grpc.is_empty() {
        return Err(format!("no gRPC address in {s:?}"));
    }
    if !http.starts_with("http://") && !http.starts_with("https://") {
        return Err(format!(
            "the HTTP base of {s:?} must be a URL (http://host:port)"
        ));
    }
    Ok(GatewayAddr {
        grpc: grpc.to_string(),
        http: http.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_is_its_grpc_address_and_its_http_base() {
        assert_eq!(
            parse_gateway("127.0.0.1:50051=http://127.0.0.1:8080/").unwrap(),
            GatewayAddr {
                grpc: "127.0.0.1:50051".into(),
                http: "http://127.0.0.1:8080".into(),
            }
        );
        assert!(parse_gateway("127.0.0.1:50051")
            .unwrap_err()
            .contains("GRPC_ADDR=HTTP_BASE"));
        assert!(parse_gateway("=http://h:1")
            .unwrap_err()
            .contains("no gRPC"));
        assert!(parse_gateway("h:1=h:2")
            .unwrap_err()
            .contains("must be a URL"));
    }
}
