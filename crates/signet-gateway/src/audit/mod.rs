//! The audit trail: every call that signs in (or fails to), sets up or uses MFA, changes
//! or resets a password, signs out, revokes, or changes users, clients, roles, pools or
//! keys as an administrator becomes an [`AuditEvent`], recorded in one place — the gRPC
//! dispatch (`api::grpc::rpc_table!`) — from the request's names and the call's outcome.
//!
//! Events are written to the store in batches (one log entry per batch, at most every
//! [`FLUSH_EVERY`]), into bounded rings per user and per pool (`signet-core`'s
//! `apply/audit.rs`), and copied to the audit stream (JSON lines on stdout, or a signed
//! webhook) for a SIEM. An event holds names, ids and outcomes only: the subject of a call
//! is read from a fixed list of fields ([`Audited`]), never from a password, code, token
//! or secret field; a user named by an access token is taken from its claims only when the
//! call succeeded (the token was verified).
//!
//! Recording never slows or fails the call: a full queue drops the event (counted); a store
//! that cannot take a batch is retried with the next one, up to a bound.

mod subjects;

pub(crate) use subjects::{Audited, Subject};

use crate::clock::SharedClock;
use crate::store::Store;
use serde_json::{json, Value};
use signet_core::{AuditEvent, Command, RecordAuditEvents, MAX_AUDIT_BATCH};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Longest a recorded event waits for its batch to be written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Events waiting at most (beyond: dropped, counted).
const QUEUE: usize = 16_384;

/// Where a copy of every event goes, besides the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AuditStream {
    /// Nowhere.
    #[default]
    Off,
    /// One JSON line per event on standard output.
    Stdout,
    /// Batches POSTed as `{"events": [...]}`, signed like every webhook.
    Webhook(String),
}

/// Who made a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    User,
    Admin,
}

/// Whether the call `rpc` (snake case) of gRPC service `service` is audited, and as whose.
/// Reads are not; neither are the calls that issue machine tokens, refresh, or trade
/// tokens for credentials (their volume is the gateway's throughput, and they change
/// nothing).
pub(crate) fn audited(service: &str, rpc: &str) -> Option<Actor> {
    let read = ["describe_", "list_", "get_", "admin_get_", "admin_list_"]
        .iter()
        .any(|p| rpc.starts_with(p));
    match service {
        "UserPoolAuth" => match rpc {
            "issue_client_token" | "get_tokens_from_refresh_token" | "get_user" => None,
            _ => Some(Actor::User),
        },
        "UserPoolAdmin" | "IdentityAdmin" if !read => Some(Actor::Admin),
        _ => None,
    }
}

/// `initiate_auth` → `InitiateAuth`.
pub(crate) fn action_name(rpc: &str) -> String {
    rpc.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Cognito's `EventType` of an action (AdminListUserAuthEvents); others keep their name.
pub(crate) fn event_type(action: &str) -> &str {
    match action {
        "InitiateAuth"
        | "RespondToAuthChallenge"
        | "AdminInitiateAuth"
        | "AdminRespondToAuthChallenge" => "SignIn",
        "SignUp" | "ConfirmSignUp" => "SignUp",
        "ForgotPassword" | "ConfirmForgotPassword" => "ForgotPassword",
        "ChangePassword" | "AdminSetUserPassword" => "PasswordChange",
        "ResendConfirmationCode" => "ResendCode",
        other => other,
    }
}

tokio::task_local! {
    /// What the call being served noted for its event (see [`note`]).
    static NOTE: std::cell::Cell<&'static str>;
}

/// Note why the call being served fails, for its audit event only (the caller's answer
/// may not say it: a locked user of a pool that hides users is told "Incorrect username or
/// password"). Outside an audited call, nothing happens.
pub(crate) fn note(reason: &'static str) {
    let _ = NOTE.try_with(|n| n.set(reason));
}

/// Serve `call` with a place for [`note`]; returns its result and the note.
pub(crate) async fn noted<T>(call: impl std::future::Future<Output = T>) -> (T, &'static str) {
    NOTE.scope(std::cell::Cell::new(""), async {
        let out = call.await;
        (out, NOTE.with(|n| n.get()))
    })
    .await
}

/// How a call ended, for its event.
pub(crate) struct Ending {
    /// `Pass`, `Fail` or `InProgress`.
    pub outcome: &'static str,
    /// The exception of a failure.
    pub exception: String,
    /// The challenge that follows.
    pub challenge: String,
    /// What the call noted (a failure's reason).
    pub reason: &'static str,
}

impl Ending {
    /// A failed call's ending.
    pub(crate) fn failed(status: &tonic::Status) -> Ending {
        Ending {
            outcome: "Fail",
            exception: crate::exception_name(status).unwrap_or_else(|| "Unknown".into()),
            challenge: String::new(),
            reason: "",
        }
    }

    /// A successful call's ending (`challenge`: the one that follows, if any).
    pub(crate) fn passed(challenge: &str) -> Ending {
        Ending {
            outcome: if challenge.is_empty() {
                "Pass"
            } else {
                "InProgress"
            },
            exception: String::new(),
            challenge: challenge.to_string(),
            reason: "",
        }
    }
}

/// The challenge a successful sign-in call's answer asks next ("" for any other answer).
pub(crate) fn challenge_of<T: 'static>(resp: &T) -> &str {
    (resp as &dyn std::any::Any)
        .downcast_ref::<signet_proto::v1::AuthResponse>()
        .map(|r| r.challenge_name.as_str())
        .unwrap_or_default()
}

/// The gateway's audit recorder: cheap to call from every request.
pub(crate) struct Audit {
    tx: mpsc::Sender<AuditEvent>,
    rx: std::sync::Mutex<Option<mpsc::Receiver<AuditEvent>>>,
    clock: SharedClock,
    gateway: String,
    dropped: AtomicU64,
}

impl Audit {
    pub(crate) fn new(clock: SharedClock, gateway: String) -> Audit {
        let (tx, rx) = mpsc::channel(QUEUE);
        Audit {
            tx,
            rx: std::sync::Mutex::new(Some(rx)),
            clock,
            gateway,
            dropped: AtomicU64::new(0),
        }
    }

    /// Record that `rpc` of `service` ended as `ending`, for `subject`, from `remote`.
    pub(crate) fn record(
        &self,
        actor: Actor,
        rpc: &str,
        subject: Subject,
        remote: Option<IpAddr>,
        ending: Ending,
    ) {
        if subject.skip {
            return;
        }
        let event = AuditEvent {
            id: crate::ids::uuid(),
            at_ms: self.clock.now_ms(),
            action: action_name(rpc),
            outcome: ending.outcome.into(),
            exception: ending.exception,
            challenge: ending.challenge,
            actor: match actor {
                Actor::User => "user".into(),
                Actor::Admin => "admin".into(),
            },
            pool_id: subject.pool_id,
            username: subject.username.replace('\0', "?"),
            client_id: subject.client_id,
            target: subject.target,
            source_ip: remote.map(|ip| ip.to_string()).unwrap_or_default(),
            gateway: self.gateway.clone(),
            reason: ending.reason.into(),
        }
        .bounded();
        if self.tx.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the queue was full (or the writer stopped).
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn take_receiver(&self) -> Option<mpsc::Receiver<AuditEvent>> {
        self.rx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// What the writer needs besides the queue.
pub(crate) struct Writer {
    pub audit: Arc<Audit>,
    pub store: Store,
    pub dir: crate::directory::Directory,
    pub stream: AuditStream,
    pub hooks: crate::hooks::Hooks,
}

/// Write queued events in batches until `stop`, then what is left.
pub(crate) async fn writer_loop(w: Writer, mut stop: watch::Receiver<bool>) {
    let Some(mut rx) = w.audit.take_receiver() else {
        return;
    };
    // Events the store did not take yet (already streamed).
    let mut retry: Vec<AuditEvent> = Vec::new();
    loop {
        let mut fresh = Vec::new();
        let stopping = tokio::select! {
            got = rx.recv() => match got {
                Some(e) => { fresh.push(e); false }
                None => true,
            },
            _ = stop.wait_for(|s| *s) => true,
        };
        // Gather what else arrives within the flush interval, up to a batch.
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while !stopping && fresh.len() + retry.len() < MAX_AUDIT_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(e)) => fresh.push(e),
                Ok(None) | Err(_) => break,
            }
        }
        while let Ok(e) = rx.try_recv() {
            fresh.push(e);
        }
        flush(&w, fresh, &mut retry).await;
        if stopping {
            return;
        }
    }
}

/// Stream `fresh`, then write it (after what earlier batches left) to the store.
async fn flush(w: &Writer, mut fresh: Vec<AuditEvent>, retry: &mut Vec<AuditEvent>) {
    for e in fresh.iter_mut() {
        canonical(w, e).await;
    }
    emit(w, &fresh).await;
    retry.append(&mut fresh);
    while !retry.is_empty() {
        let n = retry.len().min(MAX_AUDIT_BATCH);
        let batch: Vec<AuditEvent> = retry[..n].to_vec();
        let written = w
            .store
            .write(Command::RecordAuditEvents(RecordAuditEvents {
                events: batch,
            }))
            .await;
        match written {
            Ok(_) => {
                retry.drain(..n);
            }
            Err(e) => {
                tracing::warn!("audit events not written ({e}); kept for the next batch");
                // Bounded: a long store outage drops the oldest.
                let excess = retry.len().saturating_sub(QUEUE);
                if excess > 0 {
                    w.audit.dropped.fetch_add(excess as u64, Ordering::Relaxed);
                    retry.drain(..excess);
                }
                return;
            }
        }
    }
}

/// The pool of a public call (named by its client) and the canonical username, so that
/// the event lands in the user's ring whatever case or form the caller typed.
async fn canonical(w: &Writer, e: &mut AuditEvent) {
    if e.pool_id.is_empty() && !e.client_id.is_empty() {
        if let Ok(c) = w.dir.active_client(&e.client_id).await {
            e.pool_id = c.pool_id.clone();
        }
    }
    if e.pool_id.is_empty() || e.username.is_empty() {
        return;
    }
    if let Ok(pool) = w.dir.pool(&e.pool_id).await {
        if let Ok(name) = crate::validate::canonical_username(&e.username, &pool.config) {
            e.username = name;
        }
    }
}

/// An event as the stream carries it.
pub(crate) fn stream_json(e: &AuditEvent) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
    v["type"] = "audit".into();
    v
}

async fn emit(w: &Writer, batch: &[AuditEvent]) {
    match &w.stream {
        AuditStream::Off => {}
        AuditStream::Stdout => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            for e in batch {
                let _ = writeln!(out, "{}", stream_json(e));
            }
            let _ = out.flush();
        }
        AuditStream::Webhook(url) => {
            let body = json!({"events": batch.iter().map(stream_json).collect::<Vec<_>>()});
            if let Err(e) = w.hooks.post_signed(url, &body).await {
                tracing::warn!("audit webhook: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_calls_are_audited() {
        assert_eq!(audited("UserPoolAuth", "initiate_auth"), Some(Actor::User));
        assert_eq!(
            audited("UserPoolAuth", "change_password"),
            Some(Actor::User)
        );
        assert_eq!(audited("UserPoolAuth", "issue_client_token"), None);
        assert_eq!(audited("UserPoolAuth", "get_user"), None);
        assert_eq!(
            audited("UserPoolAdmin", "admin_disable_user"),
            Some(Actor::Admin)
        );
        assert_eq!(audited("UserPoolAdmin", "admin_get_user"), None);
        assert_eq!(audited("UserPoolAdmin", "list_users"), None);
        assert_eq!(audited("IdentityAdmin", "create_role"), Some(Actor::Admin));
        assert_eq!(audited("Sts", "assume_role_with_web_identity"), None);
        assert_eq!(
            action_name("admin_set_user_mfa_preference"),
            "AdminSetUserMfaPreference"
        );
        assert_eq!(event_type("RespondToAuthChallenge"), "SignIn");
        assert_eq!(event_type("AdminDisableUser"), "AdminDisableUser");
    }
}
