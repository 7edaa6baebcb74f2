//! The store's operations listener (`--metrics-addr`): plain HTTP, no secrets, for
//! Prometheus and Kubernetes probes, which cannot present the cluster's client
//! certificates.
//!
//! * `/healthz` — liveness: the process and its runtime answer. Restarting a store that
//!   merely has no quorum would not help and would only add churn, so quorum is not part
//!   of it.
//! * `/readyz` — readiness: this node can take part in linearizable reads now (a leader
//!   acknowledged by a quorum within its lease, or a follower that heard from its leader
//!   within it) — the same judgement as gRPC health on the API port.
//! * `/metrics` — Raft state, apply lag, durable-append latency, snapshot size and age,
//!   membership, replication lag (on the leader) and certificate expiry.

use crate::log_store::LogStore;
use crate::metrics::{header, label};
use crate::state_machine::StateMachineStore;
use crate::types::Raft;
use axum::extract::State;
use axum::http::{header as h, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub(crate) struct Ops {
    pub(crate) raft: Raft,
    pub(crate) log: LogStore,
    pub(crate) sm: StateMachineStore,
    pub(crate) tls: Option<signet_tls::TlsSource>,
    /// The followers' leader lease (longest election timeout).
    pub(crate) lease: Duration,
    pub(crate) clock: crate::cluster_time::ClusterClock,
    pub(crate) key_rounds: Arc<std::sync::atomic::AtomicU64>,
    pub(crate) reads: crate::read_index::ReadIndex,
}

pub(crate) fn router(ops: Arc<Ops>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// Why this node cannot serve linearizable reads now, if it cannot (the same judgement
/// as the API port's gRPC health).
pub(crate) async fn not_ready(raft: &Raft, lease: Duration) -> Option<String> {
    match crate::health::judge(raft, lease).await {
        Some(Ok(())) => None,
        Some(Err(why)) => Some(why),
        None => Some("raft has stopped".into()),
    }
}

async fn readyz(State(ops): State<Arc<Ops>>) -> Response {
    match not_ready(&ops.raft, ops.lease).await {
        None => (StatusCode::OK, "ready").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn counter(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    let ready = not_ready(&ops.raft, ops.lease).await.is_none();
    let m = ops.raft.metrics().borrow().clone();
    let mut out = String::with_capacity(4096);
    let last_log = m.last_log_index.unwrap_or(0);
    let applied = m.last_applied.map_or(0, |l| l.index);
    gauge(
        &mut out,
        "signet_store_node_id",
        "This node's Raft id.",
        m.id as f64,
    );
    gauge(
        &mut out,
        "signet_store_term",
        "Current Raft term.",
        m.current_term as f64,
    );
    gauge(
        &mut out,
        "signet_store_leader_id",
        "The leader this node knows (0: none).",
        m.current_leader.unwrap_or(0) as f64,
    );
    gauge(
        &mut out,
        "signet_store_is_leader",
        "1 on the leader.",
        f64::from(u8::from(m.current_leader == Some(m.id))),
    );
    gauge(
        &mut out,
        "signet_store_ready",
        "1 when this node can serve linearizable reads (see /readyz).",
        f64::from(u8::from(ready)),
    );
    gauge(
        &mut out,
        "signet_store_last_log_index",
        "Last entry in this node's log.",
        last_log as f64,
    );
    gauge(
        &mut out,
        "signet_store_applied_index",
        "Last entry applied to the state machine.",
        applied as f64,
    );
    gauge(
        &mut out,
        "signet_store_apply_lag_entries",
        "Entries in the log not yet applied.",
        last_log.saturating_sub(applied) as f64,
    );
    gauge(
        &mut out,
        "signet_store_purged_index",
        "Last entry dropped from the log (covered by the snapshot).",
        m.purged.map_or(0, |p| p.index) as f64,
    );
    gauge(
        &mut out,
        "signet_store_snapshot_index",
        "Last entry in the latest snapshot.",
        m.snapshot.map_or(0, |s| s.index) as f64,
    );
    if let Some((bytes, written)) = ops.sm.snapshot_file() {
        gauge(
            &mut out,
            "signet_store_snapshot_bytes",
            "Size of the latest snapshot file.",
            bytes as f64,
        );
        gauge(
            &mut out,
            "signet_store_snapshot_age_seconds",
            "Time since the latest snapshot was written.",
            SystemTime::now()
                .duration_since(written)
                .unwrap_or_default()
                .as_secs_f64(),
        );
    }
    let own = crate::cluster_time::wall_ms() as f64;
    gauge(
        &mut out,
        "signet_store_clock_offset_seconds",
        "This node's clock minus cluster time (the middle voter's clock; 0 until this node \
         has heard from a majority).",
        (own - ops.clock.median_ms() as f64) / 1000.0,
    );
    gauge(
        &mut out,
        "signet_store_cluster_time_known",
        "1 when this node has recent clock readings from a majority of voters: only then \
         does it retire or drop keys and purge expired state while leading.",
        if ops.clock.agreed_ms().is_some() {
            1.0
        } else {
            0.0
        },
    );
    counter(
        &mut out,
        "signet_store_key_housekeeping_rounds_total",
        "Key-housekeeping rounds this node decided while leading (on cluster time).",
        ops.key_rounds.load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    let (reads, rounds) = ops.reads.counts();
    counter(
        &mut out,
        "signet_store_linearizable_reads_total",
        "Linearizable reads this node took (as leader, or refused as a follower).",
        reads as f64,
    );
    counter(
        &mut out,
        "signet_store_read_index_rounds_total",
        "Leadership checks run for linearizable reads (one serves every read that arrived before it began).",
        rounds as f64,
    );
    if let Some(ms) = m.millis_since_quorum_ack {
        gauge(
            &mut out,
            "signet_store_quorum_ack_age_seconds",
            "On the leader: time since a quorum last acknowledged it.",
            ms as f64 / 1000.0,
        );
    }
    let membership = m.membership_config.membership();
    header(
        &mut out,
        "signet_store_member",
        "gauge",
        "Members of the cluster as this node knows them (voter=\"true\" or \"false\").",
    );
    for (id, node) in membership.nodes() {
        let voter = membership.voter_ids().any(|v| v == *id);
        let _ = writeln!(
            out,
            "signet_store_member{{node_id=\"{id}\",voter=\"{voter}\",api_addr=\"{}\"}} 1",
            label(&node.api_addr)
        );
    }
    if let Some(replication) = &m.replication {
        header(
            &mut out,
            "signet_store_replication_lag_entries",
            "gauge",
            "On the leader: entries each member is behind the leader's log.",
        );
        for (id, matched) in replication.iter() {
            let matched = matched.map_or(0, |l| l.index);
            let _ = writeln!(
                out,
                "signet_store_replication_lag_entries{{node_id=\"{id}\"}} {}",
                last_log.saturating_sub(matched)
            );
        }
    }
    header(
        &mut out,
        "signet_store_log_flush_seconds",
        "histogram",
        "Time from asking for a durable append to its fdatasync completing.",
    );
    ops.log
        .flush_latency()
        .render(&mut out, "signet_store_log_flush_seconds", "");
    if let Some(t) = ops.tls.as_ref().and_then(|t| t.not_after()) {
        gauge(
            &mut out,
            "signet_tls_cert_not_after_seconds",
            "Expiry (Unix time) of this node's certificate (rotated files are picked up without a restart).",
            unix(t),
        );
    }
    (
        StatusCode::OK,
        [(h::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}
