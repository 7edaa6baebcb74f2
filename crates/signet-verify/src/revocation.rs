//! Refusing revoked tokens before they expire: Signet's revocation stream and a follower.
//!
//! Every change that voids tokens already handed out (a sign-out, a disabled, reset or
//! deleted user, a revoked refresh token or access token, a disabled or deleted app client,
//! a deleted pool, a revoked signing key) is a numbered entry in Signet's log. Gateways
//! serve the entries still relevant (those whose tokens have not all expired) at
//! `GET /revocations?after=N&wait=S`: the entries after `N`, at once if there are any, else
//! when the next one commits or after `S` seconds (at most 25). A [`RevocationFollower`]
//! long-polls it and keeps a [`RevocationSet`]; [`Verifier::with_revocations`] (or
//! [`RevocationFollower::check`] by hand) refuses what the set names, typically within
//! milliseconds of the revocation committing.
//!
//! User subjects, token ids and family ids travel hashed ([`revocation_hash`]): the stream
//! tells nobody who exists or who signed out, only whether a token they already hold is
//! void. When the stream is down the follower keeps its last set (and says so in
//! [`FollowStatus`]), and catches up from its last entry when it is back.
//!
//! [`Verifier::with_revocations`]: crate::Verifier::with_revocations

use crate::fetch::SendFn;
use crate::VerifyError;
use bytes::Bytes;
use http::uri::Scheme;
use http::{header, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest a gateway holds a long poll before answering with nothing new.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(25);

/// How an identifier is published on the stream: the first 32 hex digits of its SHA-256.
pub fn revocation_hash(value: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    hex::encode(&d.as_ref()[..16])
}

/// One entry of the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    /// Position in the stream (from 1, only growing).
    pub seq: u64,
    /// When every token it affects has expired (Unix ms); it can be forgotten then.
    pub until_ms: u64,
    /// What it voids.
    #[serde(flatten)]
    pub what: Revoked,
}

/// What an entry voids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Revoked {
    /// Every token of a user whose sign-in began before `before_ms` (`u64::MAX`: every
    /// token; the user was deleted).
    User {
        /// User pool (the last segment of the tokens' issuer).
        pool_id: String,
        /// [`revocation_hash`] of the user's `sub`.
        sub_hash: String,
        /// Sign-ins before this time (Unix ms) are void.
        before_ms: u64,
    },
    /// Every token of one sign-in (their `origin_jti`).
    Family {
        /// [`revocation_hash`] of the family id.
        family_hash: String,
    },
    /// One token (its `jti`).
    Token {
        /// [`revocation_hash`] of the jti.
        jti_hash: String,
    },
    /// Every token issued to a client before `before_ms`.
    Client {
        /// User pool.
        pool_id: String,
        /// Client id (`client_id` of access tokens, `aud` of ID tokens).
        client_id: String,
        /// Tokens issued (`iat`) before this time (Unix ms) are void.
        before_ms: u64,
    },
    /// Every token of a deleted pool.
    Pool {
        /// User pool.
        pool_id: String,
    },
    /// Every token signed with a revoked key.
    Key {
        /// Key id.
        kid: String,
    },
}

/// One answer of `GET /revocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationPage {
    /// Entries after the one asked from, in order.
    pub revocations: Vec<RevocationEntry>,
    /// Where to ask from next.
    pub last: u64,
    /// The stream restarted (the position asked from is ahead of it, e.g. a cluster
    /// restored from a backup): drop everything known and take this page as the start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

/// The revocations still in force, as a follower knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    last: u64,
    users: HashMap<(String, String), (u64, u64)>,
    families: HashMap<String, u64>,
    tokens: HashMap<String, u64>,
    clients: HashMap<(String, String), (u64, u64)>,
    pools: HashMap<String, u64>,
    keys: HashMap<String, u64>,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBecause {
    /// Its user signed out, was disabled, reset or deleted after it was issued.
    User,
    /// Its sign-in (refresh-token family) was revoked.
    Family,
    /// It was revoked itself.
    Token,
    /// Its client was disabled or deleted after it was issued.
    Client,
    /// Its pool was deleted.
    Pool,
    /// Its signing key was revoked.
    Key,
}

impl RevokedBecause {
    /// Lower-case name, for logs and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedBecause::User => "user",
            RevokedBecause::Family => "family",
            RevokedBecause::Token => "token",
            RevokedBecause::Client => "client",
            RevokedBecause::Pool => "pool",
            RevokedBecause::Key => "key",
        }
    }
}

impl RevocationSet {
    /// The position to ask from next.
    pub fn last_seq(&self) -> u64 {
        self.last
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.users.len()
            + self.families.len()
            + self.tokens.len()
            + self.clients.len()
            + self.pools.len()
            + self.keys.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Take in one page of the stream (entries at or before the position held are ignored,
    /// so a page seen twice changes nothing).
    pub fn apply(&mut self, page: &RevocationPage) {
        if page.reset {
            *self = RevocationSet::default();
        }
        for e in &page.revocations {
            if e.seq <= self.last && !page.reset {
                continue;
            }
            self.insert(e);
        }
        self.last = if page.reset {
            page.last
        } else {
            self.last.max(page.last)
        };
    }

    fn insert(&mut self, e: &RevocationEntry) {
        let until = e.until_ms;
        let later = |old: Option<&u64>| old.map_or(until, |o| (*o).max(until));
        match &e.what {
            Revoked::User {
                pool_id,
                sub_hash,
                before_ms,
            } => {
                let k = (pool_id.clone(), sub_hash.clone());
                let (b, u) = self.users.get(&k).copied().unwrap_or((0, 0));
                self.users.insert(k, (b.max(*before_ms), u.max(until)));
            }
            Revoked::Family { family_hash } => {
                let v = later(self.families.get(family_hash));
                self.families.insert(family_hash.clone(), v);
            }
            Revoked::Token { jti_hash } => {
                let v = later(self.tokens.get(jti_hash));
                self.tokens.insert(jti_hash.clone(), v);
            }
            Revoked::Client {
                pool_id,
                client_id,
                before_ms,
            } => {
                let k = (pool_id.clone(), client_id.clone());
                let (b, u) = self.clients.get(&k).copied().unwrap_or((0, 0));
                self.clients.insert(k, (b.max(*before_ms), u.max(until)));
            }
            Revoked::Pool { pool_id } => {
                let v = later(self.pools.get(pool_id));
                self.pools.insert(pool_id.clone(), v);
            }
            Revoked::Key { kid } => {
                let v = later(self.keys.get(kid));
                self.keys.insert(kid.clone(), v);
            }
        }
    }

    /// Forget entries whose tokens have all expired at `now_ms`.
    pub fn prune(&mut self, now_ms: u64) {
        self.users.retain(|_, (_, u)| *u > now_ms);
        self.families.retain(|_, u| *u > now_ms);
        self.tokens.retain(|_, u| *u > now_ms);
        self.clients.retain(|_, (_, u)| *u > now_ms);
        self.pools.retain(|_, u| *u > now_ms);
        self.keys.retain(|_, u| *u > now_ms);
    }

    /// Whether the verified token (its header's `kid` and its claims) is revoked.
    pub fn check(
        &self,
        kid: Option<&str>,
        claims: &Map<String, Value>,
    ) -> Result<(), RevokedBecause> {
        let text = |k: &str| claims.get(k).and_then(Value::as_str);
        let secs = |k: &str| claims.get(k).and_then(Value::as_u64);
        if kid.is_some_and(|k| self.keys.contains_key(k)) {
            return Err(RevokedBecause::Key);
        }
        let pool = text("iss")
            .and_then(|i| i.rsplit('/').next())
            .unwrap_or_default();
        if self.pools.contains_key(pool) {
            return Err(RevokedBecause::Pool);
        }
        // (Each lookup hashes its value: skipped while nothing of its kind is revoked.)
        if let Some(jti) = text("jti").filter(|_| !self.tokens.is_empty()) {
            if self.tokens.contains_key(&revocation_hash(jti)) {
                return Err(RevokedBecause::Token);
            }
        }
        let family = text("origin_jti");
        if let Some(f) = family.filter(|_| !self.families.is_empty()) {
            if self.families.contains_key(&revocation_hash(f)) {
                return Err(RevokedBecause::Family);
            }
        }
        if let Some(sub) = text("sub").filter(|_| !self.users.is_empty()) {
            if let Some((before, _)) = self.users.get(&(pool.to_string(), revocation_hash(sub))) {
                // When the sign-in began: Signet's family ids start with it (ms, 12 hex
                // digits); else `auth_time`, else `iat` (seconds).
                let signed_in_ms = family
                    .and_then(family_time_ms)
                    .or_else(|| secs("auth_time").map(|s| s.saturating_mul(1000)))
                    .or_else(|| secs("iat").map(|s| s.saturating_mul(1000)))
                    .unwrap_or(0);
                if signed_in_ms < *before {
                    return Err(RevokedBecause::User);
                }
            }
        }
        let client = text("client_id").or_else(|| text("aud"));
        if let Some(client) = client.filter(|_| !self.clients.is_empty()) {
            if let Some((before, _)) = self.clients.get(&(pool.to_string(), client.to_string())) {
                let issued_ms = secs("iat").map_or(0, |s| s.saturating_mul(1000));
                if issued_ms < *before {
                    return Err(RevokedBecause::Client);
                }
            }
        }
        Ok(())
    }
}

/// The sign-in time a Signet refresh-token family id begins with.
fn family_time_ms(family: &str) -> Option<u64> {
    (family.len() == 44)
        .then(|| family.get(..12))
        .flatten()
        .and_then(|h| u64::from_str_radix(h, 16).ok())
}

/// Tuning for [`RevocationFollower`]; `Default` gives the documented values.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// How long each long poll asks the gateway to wait for news (at most
    /// [`MAX_POLL_WAIT`]; default 20 s).
    pub poll_wait: Duration,
    /// Pause after a failed poll (default 500 ms).
    pub retry_after: Duration,
    /// Largest answer read (default 4 MiB).
    pub max_bytes: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll_wait: Duration::from_secs(20),
            retry_after: Duration::from_millis(500),
            max_bytes: 4 << 20,
        }
    }
}

impl FollowStatus {
    /// The status in Prometheus' text format, each name beginning with `prefix` (a
    /// service's own, e.g. `orders`), to append to the service's `/metrics`:
    /// `{prefix}_revocations_connected` (1 while the last poll succeeded; alert on 0 —
    /// the set is then kept and still refuses what it knew, but learns nothing new),
    /// `_last_success_seconds` (Unix time), `_last_seq`, `_entries`, `_polls_total` and
    /// `_poll_failures_total`.
    pub fn prometheus(&self, prefix: &str) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            out.push_str(&format!(
                "# HELP {prefix}_revocations_{name} {help}\n# TYPE {prefix}_revocations_{name} {kind}\n{prefix}_revocations_{name} {value}\n"
            ));
        };
        metric(
            "connected",
            "gauge",
            "1 while the revocation stream's last poll succeeded.",
            u8::from(self.connected).to_string(),
        );
        metric(
            "last_success_seconds",
            "gauge",
            "When a poll of the revocation stream last succeeded (Unix time; 0: never).",
            format!("{:.3}", self.last_success_ms as f64 / 1000.0),
        );
        metric(
            "last_seq",
            "gauge",
            "The revocation stream position held.",
            self.last_seq.to_string(),
        );
        metric(
            "entries",
            "gauge",
            "Revocations held.",
            self.entries.to_string(),
        );
        metric(
            "polls_total",
            "counter",
            "Successful polls of the revocation stream.",
            self.polls.to_string(),
        );
        metric(
            "poll_failures_total",
            "counter",
            "Failed polls of the revocation stream.",
            self.failures.to_string(),
        );
        out
    }
}

/// How a follower is doing: for health checks and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowStatus {
    /// The last poll succeeded (the set is current to within one poll).
    pub connected: bool,
    /// The position held.
    pub last_seq: u64,
    /// Entries held.
    pub entries: usize,
    /// Successful polls so far.
    pub polls: u64,
    /// Failed polls so far.
    pub failures: u64,
    /// When a poll last succeeded (Unix ms; 0: never).
    pub last_success_ms: u64,
    /// The last failure, if the last poll failed.
    pub last_error: Option<String>,
}

struct Shared {
    set: RwLock<RevocationSet>,
    status: Mutex<FollowStatus>,
}

/// Follows a gateway's revocation stream in a background task (stopped when dropped) and
/// answers whether a verified token is revoked.
pub struct RevocationFollower {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RevocationFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationFollower")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Drop for RevocationFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RevocationFollower {
    /// Follow `url` (a gateway's `…/revocations`, plain http; see
    /// [`RevocationFollower::with_connector`] for https) from the beginning.
    pub fn start(url: &str, options: FollowOptions) -> Result<Self, VerifyError> {
        Self::resume(url, options, RevocationSet::default())
    }

    /// Follow `url` (plain http) from `from`: a set saved from an earlier follower with
    /// [`RevocationFollower::snapshot`]; the stream resumes after its last entry, without
    /// a gap.
    pub fn resume(
        url: &str,
        options: FollowOptions,
        from: RevocationSet,
    ) -> Result<Self, VerifyError> {
        let uri = crate::jwks::parse_url(url)?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(VerifyError::InvalidJwksUrl(format!(
                "{url}: the built-in client speaks http:// only; use with_connector for https"
            )));
        }
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        http.set_nodelay(true);
        Self::with_connector(url, options, http, from)
    }

    /// Follow `url` through `connector` (e.g. an HTTPS connector from `hyper-rustls`),
    /// starting from `from` (see [`RevocationFollower::resume`]).
    pub fn with_connector<C>(
        url: &str,
        options: FollowOptions,
        connector: C,
        from: RevocationSet,
    ) -> Result<Self, VerifyError>
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let url = crate::jwks::parse_url(url)?;
        let client: Client<C, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let send: Box<SendFn> = Box::new(move |req| client.request(req));
        let shared = Arc::new(Shared {
            status: Mutex::new(FollowStatus {
                connected: false,
                last_seq: from.last_seq(),
                entries: from.len(),
                polls: 0,
                failures: 0,
                last_success_ms: 0,
                last_error: None,
            }),
            set: RwLock::new(from),
        });
        let task = tokio::spawn(follow(url, options, send, shared.clone()));
        Ok(RevocationFollower { shared, task })
    }

    /// Whether the verified token (its header's `kid` and its claims) is revoked, as far
    /// as the stream has said.
    pub fn check(&self, kid: Option<&str>, claims: &Map<String, Value>) -> Result<(), VerifyError> {
        self.shared
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .check(kid, claims)
            .map_err(|why| VerifyError::Revoked(why.as_str()))
    }

    /// How the following goes.
    pub fn status(&self) -> FollowStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A copy of the set held (to resume from after a restart).
    pub fn snapshot(&self) -> RevocationSet {
        self.shared
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Wait until the set holds entries up to `seq` (or `timeout` passes): for tests and
    /// for start-up ("do not serve before the revocations are in").
    pub async fn wait_for_seq(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.status().last_seq >= seq {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn follow(url: Uri, opts: FollowOptions, send: Box<SendFn>, shared: Arc<Shared>) {
    let wait = opts.poll_wait.min(MAX_POLL_WAIT).as_secs();
    // The first poll, and the first after a failure, ask for what is there at once: a
    // follower is current (and says so) as soon as the gateway answers.
    let mut catching_up = true;
    loop {
        let after = shared
            .set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .last_seq();
        let this_wait = if catching_up { 0 } else { wait };
        let result = poll(&send, &url, after, this_wait, opts.max_bytes).await;
        let ok = result.is_ok();
        catching_up = !ok;
        {
            let mut status = shared.status.lock().unwrap_or_else(PoisonError::into_inner);
            match result {
                Ok(page) => {
                    let mut set = shared.set.write().unwrap_or_else(PoisonError::into_inner);
                    set.apply(&page);
                    set.prune(now_ms());
                    status.connected = true;
                    status.polls += 1;
                    status.last_success_ms = now_ms();
                    status.last_seq = set.last_seq();
                    status.entries = set.len();
                    status.last_error = None;
                }
                Err(e) => {
                    status.connected = false;
                    status.failures += 1;
                    status.last_error = Some(e);
                }
            }
        }
        if !ok {
            tokio::time::sleep(opts.retry_after).await;
        }
    }
}

/// One long poll: the entries after `after`, waiting up to `wait` seconds for some.
async fn poll(
    send: &SendFn,
    url: &Uri,
    after: u64,
    wait: u64,
    max_bytes: usize,
) -> Result<RevocationPage, String> {
    let sep = if url.query().is_some() { '&' } else { '?' };
    let target: Uri = format!("{url}{sep}after={after}&wait={wait}")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let req = Request::get(target)
        .header(header::ACCEPT, HeaderValue::from_static("application/json"))
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    // A poll is answered within `wait`; allow for the network on top.
    let resp = tokio::time::timeout(Duration::from_secs(wait + 10), send(req))
        .await
        .map_err(|_| format!("GET {url}: no answer"))?
        .map_err(|e| format!("GET {url}: {e}"))?;
    if resp.status() != StatusCode::OK {
        return Err(format!("GET {url}: status {}", resp.status()));
    }
    let body = Limited::new(resp.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| format!("GET {url}: reading body: {e}"))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("GET {url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(seq: u64, until_ms: u64, what: Revoked) -> RevocationEntry {
        RevocationEntry {
            seq,
            until_ms,
            what,
        }
    }

    fn page(last: u64, revocations: Vec<RevocationEntry>) -> RevocationPage {
        RevocationPage {
            revocations,
            last,
            reset: false,
        }
    }

    fn claims(v: serde_json::Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// An access token of pool p1, client c1, user sub-a, signed in at `signed_in_ms`
    /// (its family id starts with that time), issued at `iat` s.
    fn token(signed_in_ms: u64, iat: u64) -> Map<String, Value> {
        let family = format!("{signed_in_ms:012x}{}", "0".repeat(32));
        claims(json!({
            "iss": "https://signet.example/p1", "sub": "sub-a", "client_id": "c1",
            "jti": "jti-1", "origin_jti": family, "iat": iat, "auth_time": signed_in_ms / 1000,
        }))
    }

    #[test]
    fn the_status_renders_as_prometheus_text() {
        let st = FollowStatus {
            connected: true,
            last_seq: 42,
            entries: 3,
            polls: 7,
            failures: 2,
            last_success_ms: 1_700_000_000_500,
            last_error: None,
        };
        let text = st.prometheus("svc");
        for line in [
            "# TYPE svc_revocations_connected gauge\nsvc_revocations_connected 1\n",
            "svc_revocations_last_success_seconds 1700000000.500\n",
            "svc_revocations_last_seq 42\n",
            "svc_revocations_entries 3\n",
            "# TYPE svc_revocations_polls_total counter\nsvc_revocations_polls_total 7\n",
            "svc_revocations_poll_failures_total 2\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn a_user_revocation_voids_sign_ins_before_it_only() {
        let mut set = RevocationSet::default();
        set.apply(&page(
            1,
            vec![entry(
                1,
                u64::MAX,
                Revoked::User {
                    pool_id: "p1".into(),
                    sub_hash: revocation_hash("sub-a"),
                    before_ms: 10_000,
                },
            )],
        ));
        assert_eq!(set.check(None, &token(9_999, 9)), Err(RevokedBecause::User));
        assert_eq!(set.check(None, &token(10_000, 10)), Ok(()));
        // Another pool's user of the same sub is someone else.
        let mut other = token(9_999, 9);
        other.insert("iss".into(), json!("https://signet.example/p2"));
        assert_eq!(set.check(None, &other), Ok(()));
        // Without a family id, auth_time decides (seconds).
        let mut no_family = token(9_000, 9);
        no_family.remove("origin_jti");
        assert_eq!(set.check(None, &no_family), Err(RevokedBecause::User));
    }

    #[test]
    fn tokens_families_clients_pools_and_keys_are_refused_by_what_names_them() {
        let mut set = RevocationSet::default();
        let t = token(5_000, 5);
        let family = t["origin_jti"].as_str().unwrap().to_string();
        let all = vec![
            entry(
                1,
                u64::MAX,
                Revoked::Token {
                    jti_hash: revocation_hash("jti-other"),
                },
            ),
            entry(
                2,
                u64::MAX,
                Revoked::Family {
                    family_hash: revocation_hash("fam-other"),
                },
            ),
            entry(
                3,
                u64::MAX,
                Revoked::Key {
                    kid: "k-old".into(),
                },
            ),
            entry(
                4,
                u64::MAX,
                Revoked::Client {
                    pool_id: "p1".into(),
                    client_id: "c1".into(),
                    before_ms: 5_000,
                },
            ),
        ];
        set.apply(&page(4, all));
        // Issued at 5 s, the client revoked from 5 s: this token survives; kid k-old not.
        assert_eq!(set.check(Some("k-new"), &t), Ok(()));
        assert_eq!(set.check(Some("k-old"), &t), Err(RevokedBecause::Key));
        assert_eq!(
            set.check(None, &token(5_000, 4)),
            Err(RevokedBecause::Client)
        );
        set.apply(&page(
            5,
            vec![entry(
                5,
                u64::MAX,
                Revoked::Family {
                    family_hash: revocation_hash(&family),
                },
            )],
        ));
        assert_eq!(set.check(None, &t), Err(RevokedBecause::Family));
        set.apply(&page(
            6,
            vec![entry(
                6,
                u64::MAX,
                Revoked::Token {
                    jti_hash: revocation_hash("jti-1"),
                },
            )],
        ));
        assert_eq!(set.check(None, &t), Err(RevokedBecause::Token));
        set.apply(&page(
            7,
            vec![entry(
                7,
                u64::MAX,
                Revoked::Pool {
                    pool_id: "p1".into(),
                },
            )],
        ));
        assert_eq!(set.check(None, &t), Err(RevokedBecause::Pool));
        assert_eq!(set.last_seq(), 7);
    }

    #[test]
    fn pages_apply_once_resets_start_over_and_expired_entries_go() {
        let mut set = RevocationSet::default();
        let e = |seq, until| {
            entry(
                seq,
                until,
                Revoked::Key {
                    kid: format!("k{seq}"),
                },
            )
        };
        set.apply(&page(2, vec![e(1, 100), e(2, 200)]));
        let before = set.clone();
        set.apply(&page(2, vec![e(1, 100), e(2, 200)]));
        assert_eq!(set, before, "a page seen twice changes nothing");
        set.prune(150);
        assert_eq!(set.len(), 1);
        assert_eq!(set.check(Some("k1"), &Map::new()), Ok(()));
        assert_eq!(set.check(Some("k2"), &Map::new()), Err(RevokedBecause::Key));
        // The stream restarted (a restored cluster): what was known goes.
        set.apply(&RevocationPage {
            revocations: vec![e(1, 300)],
            last: 1,
            reset: true,
        });
        assert_eq!((set.last_seq(), set.len()), (1, 1));
        assert_eq!(set.check(Some("k2"), &Map::new()), Ok(()));
    }

    #[test]
    fn the_wire_format_is_pinned() {
        let e = entry(
            3,
            99,
            Revoked::User {
                pool_id: "p1".into(),
                sub_hash: revocation_hash("sub-a"),
                before_ms: 7,
            },
        );
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"seq":3,"until_ms":99,"kind":"user","pool_id":"p1","sub_hash":"{}","before_ms":7}}"#,
                revocation_hash("sub-a")
            )
        );
        assert_eq!(revocation_hash("sub-a").len(), 32);
        assert_eq!(serde_json::from_str::<RevocationEntry>(&text).unwrap(), e);
    }
}
