//! Durable-write throughput and latency of the replicated store.
//!
//! For each scenario (a 3-node loopback cluster and a single-node cluster — the `signet dev`
//! store — at 1, 64 and 256 concurrent writers) this starts an in-process cluster with
//! production Raft timeouts, creates a user pool, and runs N writer tasks that each send
//! distinct `CreateUser` commands back to back through one shared `StoreClient` (as a
//! gateway does). After a warm-up it counts, over a fixed window, the writes acknowledged
//! with `Outcome::Applied` (committed on a quorum, fdatasync'd in every acknowledging
//! member's log, and applied to the leader's state machine) and records their latency.
//!
//! Run: `cargo bench -p signet-benches --bench durable_writes`
//!
//! Environment:
//! * `BENCH_SECS` — measured seconds per scenario (default 5).
//! * `BENCH_WARMUP_SECS` — warm-up seconds per scenario, not measured (default 1).
//! * `BENCH_ONLY` — comma-separated scenarios to run, as `nodes x writers`, e.g. `3x256,1x64`.
//! * `BENCH_CLIENT` — `shared` (default: one `StoreClient` for all writers, one HTTP/2
//!   connection per member) or `per-writer` (one client, hence one connection, per writer).
//! * `BENCH_FSYNC_SECS` — seconds of the raw 4 KiB append + fdatasync probe (default 1; 0
//!   skips it).

/// The allocator the server binary uses (crates/signet/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use signet_core::{Command, CreateUser, CreateUserPool, Outcome, User, UserPool, UserStatus};
use signet_store::{StoreClient, StoreConfig};
use signet_testkit::TestCluster;
use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const POOL: &str = "eu-bench_pool1";
const SCENARIOS: [(usize, usize); 6] = [(3, 1), (3, 64), (3, 256), (1, 1), (1, 64), (1, 256)];
/// How long to wait for in-flight writes after the window before giving up on them.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// A pool with the default configuration plus `email` as a sign-in alias, so each user
/// also writes (and checks) an alias index entry, as a typical sign-up does.
fn create_pool(id: &str) -> Command {
    let mut pool = UserPool::new(id, "bench pool", 1);
    pool.config.alias_attributes = vec!["email".into()];
    Command::CreateUserPool(CreateUserPool { pool })
}

/// A user shaped like a real sign-up (hash and a couple of attributes), unique per name.
fn create_user(pool: &str, username: &str) -> Command {
    let mut user = User::new(
        format!("sub-{username}"),
        username,
        UserStatus::Confirmed,
        1_700_000_000_000,
    );
    user.password_hash = Some(
        "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2g$\
         Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6"
            .into(),
    );
    user.attributes = [
        ("email".to_string(), format!("{username}@example.com")),
        ("email_verified".to_string(), "true".to_string()),
    ]
    .into();
    Command::CreateUser(CreateUser {
        pool_id: pool.to_string(),
        user,
    })
}

struct Settings {
    secs: f64,
    warmup: f64,
    per_writer_client: bool,
    only: Option<Vec<(usize, usize)>>,
    fsync_secs: f64,
}

fn env_f64(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let only = std::env::var("BENCH_ONLY").ok().map(|s| {
            s.split(',')
                .map(|sc| {
                    let (n, w) = sc
                        .trim()
                        .split_once('x')
                        .unwrap_or_else(|| panic!("BENCH_ONLY entry {sc:?} is not NxW"));
                    (
                        n.parse().expect("BENCH_ONLY node count"),
                        w.parse().expect("BENCH_ONLY writer count"),
                    )
                })
                .collect()
        });
        let client = std::env::var("BENCH_CLIENT").unwrap_or_else(|_| "shared".into());
        let per_writer_client = match client.as_str() {
            "shared" => false,
            "per-writer" => true,
            other => panic!("BENCH_CLIENT={other:?}: expected shared or per-writer"),
        };
        Settings {
            secs: env_f64("BENCH_SECS", 5.0),
            warmup: env_f64("BENCH_WARMUP_SECS", 1.0),
            per_writer_client,
            only,
            fsync_secs: env_f64("BENCH_FSYNC_SECS", 1.0),
        }
    }
}

/// What one writer saw inside the measured window.
#[derive(Default)]
struct WriterStats {
    /// Latency of each write acknowledged with `Outcome::Applied`, in microseconds.
    applied_us: Vec<u64>,
    /// Writes answered with another outcome (a rejection).
    rejected: u64,
    /// Writes that failed (client error after its retries).
    errors: u64,
    first_error: Option<String>,
}

struct Row {
    nodes: usize,
    writers: usize,
    window: f64,
    stats: WriterStats,
    cpu_cores: f64,
    term_changes: u64,
    last_index: u64,
}

/// Keep the leader's Raft timeouts at the production values of `StoreConfig::new` (the
/// testkit's `fast_config` shortens them for failover tests).
fn production_timeouts(c: &mut StoreConfig) {
    let prod = StoreConfig::new(c.node_id, c.data_dir.clone());
    c.heartbeat = prod.heartbeat;
    c.election_timeout = prod.election_timeout;
}

/// Process CPU time (user + system) in seconds, from /proc/self/stat (clock ticks at
/// the usual USER_HZ of 100).
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn run_scenario(nodes: usize, writers: usize, s: &Settings) -> Row {
    let t_start = Instant::now();
    let cluster = TestCluster::start_with(nodes, production_timeouts).await;
    let leader = cluster.wait_leader(Duration::from_secs(20)).await;
    let term_before = cluster.node(leader).raft().metrics().borrow().current_term;
    let shared = cluster.client();
    let w = shared.write(create_pool(POOL)).await.expect("create pool");
    assert_eq!(w.outcome, Outcome::Applied, "create pool");

    let started = t_start.elapsed();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(s.warmup);
    let measure_to = measure_from + Duration::from_secs_f64(s.secs);
    let mut tasks = Vec::with_capacity(writers);
    for wid in 0..writers {
        let client = if s.per_writer_client {
            StoreClient::new(cluster.api_addrs())
        } else {
            shared.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut st = WriterStats::default();
            let mut seq = 0u64;
            while Instant::now() < measure_to {
                let cmd = create_user(POOL, &format!("user-{wid}-{seq}"));
                seq += 1;
                let t0 = Instant::now();
                let res = client.write(cmd).await;
                let t1 = Instant::now();
                // Count by completion time: the window's throughput is what completed in it.
                if t1 < measure_from || t1 > measure_to {
                    continue;
                }
                match res {
                    Ok(w) if w.outcome == Outcome::Applied => {
                        st.applied_us.push((t1 - t0).as_micros() as u64)
                    }
                    Ok(_) => st.rejected += 1,
                    Err(e) => {
                        st.errors += 1;
                        st.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            st
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu0 = process_cpu_secs();
    tokio::time::sleep_until(measure_to.into()).await;
    let cpu1 = process_cpu_secs();

    let mut stats = WriterStats::default();
    let drain_deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
    for t in tasks {
        let abort = t.abort_handle();
        match tokio::time::timeout_at(drain_deadline, t).await {
            Ok(Ok(w)) => {
                stats.applied_us.extend(w.applied_us);
                stats.rejected += w.rejected;
                stats.errors += w.errors;
                if stats.first_error.is_none() {
                    stats.first_error = w.first_error;
                }
            }
            Ok(Err(e)) => panic!("writer task failed: {e}"),
            Err(_) => {
                abort.abort();
                stats.errors += 1;
                stats
                    .first_error
                    .get_or_insert_with(|| "writer still blocked after the window".into());
            }
        }
    }
    let drained = measure_to.elapsed();
    let m = cluster.node(leader).raft().metrics().borrow().clone();
    let row = Row {
        nodes,
        writers,
        window: s.secs,
        stats,
        cpu_cores: (cpu1 - cpu0) / s.secs,
        term_changes: m.current_term.saturating_sub(term_before),
        last_index: m.last_log_index.unwrap_or(0),
    };
    let t_stop = Instant::now();
    cluster.shutdown().await;
    eprintln!(
        "  started in {:.1?}, writers drained {:.1?} after the window, stopped in {:.1?}",
        started,
        drained,
        t_stop.elapsed()
    );
    row
}

/// Raw rate of 4 KiB appends each followed by fdatasync, in a temp dir (the same file
/// system as the clusters' data dirs).
fn fsync_probe(secs: f64) -> std::io::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let mut f = std::fs::File::create(dir.path().join("probe"))?;
    let buf = [0x5au8; 4096];
    let mut lat = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        f.write_all(&buf)?;
        f.sync_data()?;
        lat.push(t.elapsed());
    }
    let rate = lat.len() as f64 / start.elapsed().as_secs_f64();
    lat.sort();
    let p50 = lat
        .get(lat.len() / 2)
        .map(|d| d.as_secs_f64() * 1e6)
        .unwrap_or(f64::NAN);
    Ok((rate, p50))
}

/// Nearest-rank percentile of sorted microsecond samples, in milliseconds.
fn pct_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64 / 1000.0
}

/// UTC date and time from the system clock (days-to-civil, no date crate needed).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn print_report(s: &Settings, fsync: Option<(f64, f64)>, rows: &[Row]) {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    println!("## Durable writes\n");
    let command =
        signet_benches::command_line("durable_writes", &["BENCH_CLIENT", "BENCH_FSYNC_SECS"]);
    println!("* command: `{command}`");
    println!(
        "* machine: {nproc} × {} (nproc {nproc}), Linux {kernel}",
        cpu_model()
    );
    println!("* date: {}", utc_now());
    if let Some((rate, p50)) = fsync {
        println!(
            "* disk: {rate:.0} fdatasync/s for 4 KiB appends (p50 {p50:.0} µs), same file system as the data dirs"
        );
    }
    println!(
        "* per scenario: {} s warm-up, {} s measured; writers share {}; every node, \
         the client and the writers run in this one process (one tokio runtime, {nproc} worker threads)",
        s.warmup,
        s.secs,
        if s.per_writer_client {
            "nothing (one StoreClient per writer)"
        } else {
            "one StoreClient"
        }
    );
    println!(
        "* counted: writes acknowledged with Outcome::Applied, by completion time inside the window\n"
    );
    println!(
        "| cluster | writers | applied | writes/s | p50 ms | p99 ms | max ms | errors | rejected | CPU (cores) | term changes | last log index |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let lat = &r.stats.applied_us;
        let cluster = if r.nodes == 1 {
            "1 node (dev)".to_string()
        } else {
            format!("{} nodes", r.nodes)
        };
        println!(
            "| {cluster} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {:.2} | {} | {} |",
            r.writers,
            lat.len(),
            lat.len() as f64 / r.window,
            pct_ms(lat, 50.0),
            pct_ms(lat, 99.0),
            lat.last().map(|v| *v as f64 / 1000.0).unwrap_or(f64::NAN),
            r.stats.errors,
            r.stats.rejected,
            r.cpu_cores,
            r.term_changes,
            r.last_index,
        );
    }
    for r in rows {
        if let Some(e) = &r.stats.first_error {
            println!(
                "\nfirst error ({} nodes, {} writers): {e}",
                r.nodes, r.writers
            );
        }
    }
}

fn main() {
    // Warnings to stderr, so stdout is only the report (the testkit's own logger would
    // print to stdout).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let settings = Settings::from_env();
    let fsync = if settings.fsync_secs > 0.0 {
        match fsync_probe(settings.fsync_secs) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("fsync probe failed: {e}");
                None
            }
        }
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let scenarios: Vec<(usize, usize)> = settings.only.clone().unwrap_or(SCENARIOS.to_vec());
    let mut rows = Vec::new();
    for (nodes, writers) in scenarios {
        eprintln!("durable_writes: {nodes} node(s), {writers} writer(s)…");
        let mut row = rt.block_on(run_scenario(nodes, writers, &settings));
        row.stats.applied_us.sort_unstable();
        rows.push(row);
    }
    // Nodes may leave background tasks (sled flushers, raft-log workers) behind; do not
    // wait for them.
    rt.shutdown_timeout(Duration::from_secs(2));
    print_report(&settings, fsync, &rows);
}
