//! The register workload: clients read, write and compare-and-set a few diagnostic
//! registers (`CasRegister`, `GetRegister`) straight through the stores' API, no gateway in
//! between, each operation drawn from the run's seed, and record every call as an
//! operation on a compare-and-set register. Every register's history must be linearizable:
//! this tests the log and the leader's read-index themselves.

use super::endpoints::Endpoints;
use super::nemesis::Rng;
use super::workload::Recorder;
use signet_chaos::history::Outcome;
use signet_chaos::linearizable::{RegisterEntry, RegisterOp, RegisterOut};
use signet_core::{Answer, CasRegister, Command, Query, Rejection};
use signet_store::{ClientError, ReadConsistency, StoreClient};
use std::time::{Duration, Instant};

/// How many registers the clients share (`r0`, `r1`, …): few, so they race on each.
pub const REGISTERS: u64 = 3;
/// Values are drawn from `0..VALUES`: few, so a compare-and-set often finds its value.
pub const VALUES: u64 = 5;

/// A store client that gives up within `timeout` (one attempt at most a second, so a
/// paused member is left for another soon).
pub fn store_client(e: &Endpoints, timeout: Duration) -> StoreClient {
    e.store_client(timeout, timeout.min(Duration::from_secs(1)))
}

/// One register client.
pub struct Client {
    pub id: u32,
    pub store: StoreClient,
    /// The run's seed: with the client's id, it draws the operations.
    pub seed: u64,
    pub start: Instant,
    pub timeout: Duration,
}

impl Client {
    /// Operate on the registers until `stop`; the history of this client.
    pub async fn run(self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<RegisterEntry> {
        let mut rec = Recorder::new(self.id, self.start);
        let mut rng = Rng::new(self.seed ^ (u64::from(self.id) + 1).wrapping_mul(0x2545_f491));
        while !*stop.borrow() {
            let key = format!("r{}", rng.below(REGISTERS));
            let value = rng.below(VALUES) as i64;
            let op = match rng.below(3) {
                0 => RegisterOp::Read { key },
                1 => RegisterOp::Write { key, value },
                _ => RegisterOp::Cas {
                    key,
                    expect: rng.below(VALUES) as i64,
                    new: value,
                },
            };
            let invoke_ns = rec.now();
            let outcome = match &op {
                RegisterOp::Read { key } => self.read(key).await,
                RegisterOp::Write { key, value } => self.set(key, None, *value).await,
                RegisterOp::Cas { key, expect, new } => self.set(key, Some(*expect), *new).await,
            };
            rec.record(op, invoke_ns, outcome).await;
        }
        rec.ops
    }

    /// A linearizable read. One that fails had no effect, whatever the reason: `Failed`.
    async fn read(&self, key: &str) -> Outcome<RegisterOut> {
        let q = Query::GetRegister { name: key.into() };
        let call = self.store.read(&q, ReadConsistency::Linearizable);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((result, _))) => match <Option<i64>>::from_result(result) {
                Ok(v) => Outcome::Ok(RegisterOut::Read(v)),
                Err(_) => Outcome::Failed,
            },
            _ => Outcome::Failed,
        }
    }

    /// A write (`expect` None) or a compare-and-set. A mismatch is a definite answer (the
    /// entry was applied and refused): `Swapped(false)`. No answer may hide a commit.
    async fn set(&self, key: &str, expect: Option<i64>, value: i64) -> Outcome<RegisterOut> {
        let command = Command::CasRegister(CasRegister {
            name: key.into(),
            expect,
            value,
        });
        match tokio::time::timeout(self.timeout, self.store.write(command)).await {
            Ok(Ok(written)) => match (written.outcome, expect) {
                (signet_core::Outcome::Applied, None) => Outcome::Ok(RegisterOut::Written),
                (signet_core::Outcome::Applied, Some(_)) => Outcome::Ok(RegisterOut::Swapped(true)),
                (signet_core::Outcome::Rejected(Rejection::PreconditionFailed), Some(_)) => {
                    Outcome::Ok(RegisterOut::Swapped(false))
                }
                // Any other refusal by the state machine: applied as a no-op.
                (signet_core::Outcome::Rejected(_), _) => Outcome::Failed,
            },
            // The store could not decode the request: it was never proposed.
            Ok(Err(ClientError::Refused {
                code: tonic::Code::InvalidArgument,
                ..
            })) => Outcome::Failed,
            // Timed out, no member answered, a cut connection, an unreadable answer: it
            // may have been committed (retries reuse the request id: at most once).
            _ => Outcome::Unknown,
        }
    }
}
