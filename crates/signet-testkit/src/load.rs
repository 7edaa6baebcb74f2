//! Write load for cluster tests: concurrent writers that record which writes were
//! acknowledged, and the check that a cluster applied every acknowledged write exactly
//! once, with its payload, on every surviving member.

use crate::cluster::TestCluster;
use crate::wait::wait_for;
use signet_core::{Command, Outcome};
use signet_store::{StoreClient, StoreNode};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// One write of a load.
#[derive(Debug, Clone)]
pub struct LoadWrite {
    /// What names the write in the state (a username, say); unique within a load.
    pub key: String,
    /// What the state holds under `key` when this write, and no other, put it there (the
    /// user's sub, say); unique within a load.
    pub payload: String,
    /// The command sent.
    pub command: Command,
}

/// A write the cluster acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// The payload the write carried.
    pub payload: String,
    /// The outcome the client got back.
    pub outcome: Outcome,
}

/// A write that returned an error: it may or may not have been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The payload the write carried.
    pub payload: String,
    /// The client's error.
    pub error: String,
}

/// What a finished load did, by key.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Writes the cluster acknowledged.
    pub acknowledged: BTreeMap<String, Acked>,
    /// Writes that returned an error.
    pub failed: BTreeMap<String, Failed>,
}

/// What one writer did: each write, with its outcome or the client's error.
type WriterResults = Vec<(LoadWrite, Result<Outcome, String>)>;

/// Writers started by [`spawn_writers`], still running.
pub struct WriteLoad {
    total: usize,
    acked: Arc<AtomicUsize>,
    writers: Vec<JoinHandle<WriterResults>>,
}

/// Start `writers` concurrent writers on `client`, each sending `per_writer` writes one
/// after the other: write `i` of writer `w` is `make_write(w, i)`. Each write's result is
/// recorded (the client retries through leader changes; an error is what is left after
/// its retries).
pub fn spawn_writers<F>(
    client: &StoreClient,
    writers: usize,
    per_writer: usize,
    make_write: F,
) -> WriteLoad
where
    F: Fn(usize, usize) -> LoadWrite + Send + Sync + 'static,
{
    let make_write = Arc::new(make_write);
    let acked = Arc::new(AtomicUsize::new(0));
    let total = writers * per_writer;
    let writers = (0..writers)
        .map(|w| {
            let client = client.clone();
            let make_write = make_write.clone();
            let acked = acked.clone();
            tokio::spawn(async move {
                let mut done = Vec::with_capacity(per_writer);
                for i in 0..per_writer {
                    let write = make_write(w, i);
                    let result = match client.write(write.command.clone()).await {
                        Ok(written) => {
                            acked.fetch_add(1, Ordering::Relaxed);
                            Ok(written.outcome)
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    done.push((write, result));
                }
                done
            })
        })
        .collect();
    WriteLoad {
        total,
        acked,
        writers,
    }
}

impl WriteLoad {
    /// How many writes the load sends in all.
    pub fn total(&self) -> usize {
        self.total
    }

    /// How many writes have been acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    /// Wait until at least `n` writes are acknowledged (panics after `deadline`).
    pub async fn wait_acknowledged(&self, n: usize, deadline: Duration) {
        wait_for(&format!("{n} acknowledged writes"), deadline, || {
            (self.acknowledged() >= n).then_some(())
        })
        .await
    }

    /// Wait for every writer to finish; what each write got. Panics if a writer panicked
    /// or two writes share a key or a payload (the load could not be checked).
    pub async fn finish(self) -> LoadReport {
        let mut report = LoadReport::default();
        let mut payloads = HashMap::new();
        for writer in self.writers {
            for (write, result) in writer.await.expect("writer task") {
                if let Some(other) = payloads.insert(write.payload.clone(), write.key.clone()) {
                    panic!("writes {other} and {} share a payload", write.key);
                }
                let key = write.key;
                assert!(
                    !report.acknowledged.contains_key(&key) && !report.failed.contains_key(&key),
                    "two writes share the key {key}"
                );
                let payload = write.payload;
                match result {
                    Ok(outcome) => {
                        report.acknowledged.insert(key, Acked { payload, outcome });
                    }
                    Err(error) => {
                        report.failed.insert(key, Failed { payload, error });
                    }
                }
            }
        }
        report
    }
}

/// Every running member of `cluster` applied each acknowledged write of `report` exactly
/// once, with its payload, and nothing else but possibly some failed writes (whose outcome
/// is unknown), each at most once: then every member holds the same state.
///
/// * Every acknowledged write's outcome is [`Outcome::Applied`]: a write retried through a
///   leader change gets its own outcome back, never one caused by its first attempt.
/// * The running members agree on a leader among themselves (within 20 s) and converge to
///   the same applied index and state digest (within 30 s).
/// * On each member, `applied(node)` lists the (key, payload) pairs the load's writes left
///   in that member's local state (e.g. the users of a pool as (username, sub)): each key
///   appears once, each payload once, each acknowledged key with its own payload, and no
///   key the load did not try.
///
/// Returns the converged state digest. Panics, naming the member, on any violation.
pub async fn assert_all_applied_once<F>(
    cluster: &TestCluster,
    report: &LoadReport,
    applied: F,
) -> String
where
    F: Fn(&StoreNode) -> Vec<(String, String)>,
{
    let not_applied: Vec<(&String, &Outcome)> = report
        .acknowledged
        .iter()
        .filter(|(_, a)| a.outcome != Outcome::Applied)
        .map(|(k, a)| (k, &a.outcome))
        .collect();
    assert!(
        not_applied.is_empty(),
        "acknowledged writes with another outcome than Applied: {not_applied:?}"
    );
    let survivors = cluster.running();
    cluster
        .wait_leader_among(&survivors, Duration::from_secs(20))
        .await;
    let (_, digest) = cluster.wait_converged(Duration::from_secs(30)).await;
    for id in survivors {
        if let Err(problems) = check_applied_once(report, &applied(cluster.node(id))) {
            panic!("node {id}: {problems}");
        }
    }
    digest
}

/// The check of [`assert_all_applied_once`] on one member's (key, payload) pairs: `Err`
/// describes what is wrong (up to ten problems, and how many there are).
pub fn check_applied_once(report: &LoadReport, applied: &[(String, String)]) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut keys: HashMap<&str, &str> = HashMap::new();
    let mut payloads: HashMap<&str, &str> = HashMap::new();
    for (key, payload) in applied {
        if keys.insert(key, payload).is_some() {
            problems.push(format!("{key} appears twice"));
        }
        if let Some(other) = payloads.insert(payload, key) {
            problems.push(format!(
                "payload {payload} appears twice ({other} and {key})"
            ));
        }
        let wrote = match (report.acknowledged.get(key), report.failed.get(key)) {
            (Some(a), _) => &a.payload,
            (None, Some(f)) => &f.payload,
            (None, None) => {
                problems.push(format!("{key} was never written by the load"));
                continue;
            }
        };
        if payload != wrote {
            problems.push(format!("{key} holds {payload}, the load wrote {wrote}"));
        }
    }
    for key in report.acknowledged.keys() {
        if !keys.contains_key(key.as_str()) {
            problems.push(format!("acknowledged write {key} is missing"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    problems.truncate(10);
    Err(format!("{n} problem(s): {}", problems.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(acked: &[(&str, &str)], failed: &[(&str, &str)]) -> LoadReport {
        LoadReport {
            acknowledged: acked
                .iter()
                .map(|(k, p)| {
                    (
                        k.to_string(),
                        Acked {
                            payload: p.to_string(),
                            outcome: Outcome::Applied,
                        },
                    )
                })
                .collect(),
            failed: failed
                .iter()
                .map(|(k, p)| {
                    (
                        k.to_string(),
                        Failed {
                            payload: p.to_string(),
                            error: "unavailable".into(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, p)| (k.to_string(), p.to_string()))
            .collect()
    }

    #[test]
    fn exactly_the_acknowledged_writes_pass() {
        let r = report(&[("a", "sub-a"), ("b", "sub-b")], &[]);
        assert_eq!(
            check_applied_once(&r, &rows(&[("b", "sub-b"), ("a", "sub-a")])),
            Ok(())
        );
    }

    #[test]
    fn a_failed_write_may_or_may_not_be_applied() {
        let r = report(&[("a", "sub-a")], &[("b", "sub-b")]);
        assert_eq!(check_applied_once(&r, &rows(&[("a", "sub-a")])), Ok(()));
        assert_eq!(
            check_applied_once(&r, &rows(&[("a", "sub-a"), ("b", "sub-b")])),
            Ok(())
        );
    }

    #[test]
    fn a_lost_acknowledged_write_fails() {
        let r = report(&[("a", "sub-a"), ("b", "sub-b")], &[]);
        let e = check_applied_once(&r, &rows(&[("a", "sub-a")])).unwrap_err();
        assert!(e.contains("acknowledged write b is missing"), "{e}");
    }

    #[test]
    fn a_write_applied_twice_fails() {
        let r = report(&[("a", "sub-a")], &[]);
        let e = check_applied_once(&r, &rows(&[("a", "sub-a"), ("a", "sub-a")])).unwrap_err();
        assert!(e.contains("a appears twice"), "{e}");
        // Applied twice under another key: the payload shows up twice.
        let r = report(&[("a", "sub-a")], &[("a2", "sub-a2")]);
        let e = check_applied_once(&r, &rows(&[("a", "sub-a"), ("a2", "sub-a")])).unwrap_err();
        assert!(e.contains("payload sub-a appears twice"), "{e}");
    }

    #[test]
    fn a_wrong_payload_or_a_foreign_key_fails() {
        let r = report(&[("a", "sub-a")], &[]);
        let e = check_applied_once(&r, &rows(&[("a", "sub-b")])).unwrap_err();
        assert!(e.contains("a holds sub-b, the load wrote sub-a"), "{e}");
        let e = check_applied_once(&r, &rows(&[("a", "sub-a"), ("z", "sub-z")])).unwrap_err();
        assert!(e.contains("z was never written by the load"), "{e}");
    }
}
