//! The sign-up workload: each client makes users with names of its own, one call at a
//! time, and records each call as an add of that name to the pool's set of users.

use crate::rpc::AdminChannel;
use signet_chaos::history::{Op, Outcome};
use signet_chaos::sets::AddEntry;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::time::{Duration, Instant};
use tonic::Code;

/// One workload client.
pub struct Client {
    pub id: u32,
    pub admin: UserPoolAdminClient<AdminChannel>,
    pub pool_id: String,
    /// The run's start: times are recorded from here.
    pub start: Instant,
    /// No answer within this: the outcome is unknown.
    pub timeout: Duration,
}

/// How a refusal reads: a status that says the cluster decided (the request was bad, the
/// name is taken, the gateway shed it before any work) is `Failed`; one that may hide a
/// write committed before the answer was lost is `Unknown`.
pub(super) fn outcome<T>(status: &tonic::Status) -> Outcome<T> {
    match status.code() {
        Code::InvalidArgument
        | Code::AlreadyExists
        | Code::ResourceExhausted
        | Code::FailedPrecondition
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::NotFound => Outcome::Failed,
        _ => Outcome::Unknown,
    }
}

impl Client {
    /// Sign users up until `stop`; the history of this client.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<AddEntry> {
        let mut rec = Recorder::new(self.id, self.start);
        for n in 0u64.. {
            if *stop.borrow() {
                break;
            }
            let username = format!("c{}-{n}", self.id);
            let invoke_ns = rec.now();
            let call = self.admin.admin_create_user(pb::AdminCreateUserRequest {
                user_pool_id: self.pool_id.clone(),
                username: username.clone(),
                message_action: "SUPPRESS".into(),
                ..Default::default()
            });
            let outcome = match tokio::time::timeout(self.timeout, call).await {
                Ok(Ok(_)) => Outcome::Ok(()),
                Ok(Err(status)) => outcome(&status),
                Err(_) => Outcome::Unknown,
            };
            rec.record(username, invoke_ns, outcome).await;
        }
        rec.ops
    }
}

/// One client's history, as its calls end.
pub(super) struct Recorder<I, O> {
    client: u32,
    start: Instant,
    pub ops: Vec<Op<I, O>>,
}

impl<I, O> Recorder<I, O> {
    pub fn new(client: u32, start: Instant) -> Recorder<I, O> {
        Recorder {
            client,
            start,
            ops: Vec::new(),
        }
    }

    /// Nanoseconds since the run's start.
    pub fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Record a call invoked at `invoke_ns` that ended now with `outcome`; after a call
    /// that did not succeed, pause a little rather than spin against an outage.
    pub async fn record(&mut self, input: I, invoke_ns: u64, outcome: Outcome<O>) {
        let ok = matches!(outcome, Outcome::Ok(_));
        let settled = !matches!(outcome, Outcome::Unknown);
        self.ops.push(Op {
            client: self.client,
            input,
            invoke_ns,
            complete_ns: settled.then(|| self.now()),
            outcome,
        });
        if !ok {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
