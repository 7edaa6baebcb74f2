//! Gateway settings.

use signet_crypto::{PasswordParams, Secret};
use std::time::Duration;

/// Where verification and reset codes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifierConfig {
    /// Keep codes in the store's dev outbox (`signet admin outbox`): for laptops and tests.
    /// The codes rest in plaintext in the replicated log and state: never in production.
    Outbox,
    /// POST each message as JSON to this URL (plug an e-mail or SMS sender in here). The
    /// URL must pass [`crate::check_outbound_url`] and [`GatewayConfig::webhook_secret`]
    /// must be set: every POST is signed.
    Webhook(String),
}

/// Everything a gateway needs besides the store client and its listeners.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Base URL clients reach this service at; a pool's issuer is `{public_url}/{pool_id}`.
    pub public_url: String,
    /// Bearer secret required by every admin call.
    pub admin_secret: String,
    /// Server key: keys the hashes of codes and client secrets and seals refresh tokens,
    /// sessions and client secrets. Every gateway of a cluster needs the same one.
    pub server_secret: Secret,
    /// argon2id cost of new password hashes.
    pub password: PasswordParams,
    /// Password-hashing threads (default: the number of cores).
    pub hash_workers: usize,
    /// Hash jobs allowed to wait; beyond it callers get RESOURCE_EXHAUSTED at once.
    pub hash_queue: usize,
    /// A hash job not started within this time is refused the same way.
    pub hash_queue_deadline: Duration,
    /// Code delivery.
    pub notifier: NotifierConfig,
    /// Signing key of every outbound webhook POST (the code webhook and pools'
    /// pre-token-generation hooks): receivers check the `Signet-Signature` header with it.
    /// Required with a webhook notifier; without it, pre-token hooks are not called (they
    /// fail, closed or open as the pool says).
    pub webhook_secret: Option<Secret>,
    /// Where a copy of every audit event goes besides the store (off by default).
    pub audit_stream: crate::audit::AuditStream,
    /// Allow plain http to loopback addresses (127.0.0.0/8, ::1, localhost) for webhooks,
    /// hooks and JWKS URLs; everything else must be https. For sidecars and tests.
    pub allow_insecure_loopback_http: bool,
    /// TLS of the public gRPC and HTTP listeners (server certificate only; callers are
    /// not asked for one). None serves plaintext.
    pub tls: Option<signet_tls::TlsSource>,
    /// `Cache-Control: max-age` of JWKS responses.
    pub jwks_max_age: Duration,
    /// Extra wait after `jwks_max_age` before a newly published key signs: every relying
    /// party's cached JWKS has expired by then, so none meets an unknown kid.
    pub key_publish_margin: Duration,
    /// Identifies this gateway as the owner of its keys.
    pub instance: String,
    /// Wrong guesses allowed per code.
    pub code_attempts: u32,
    /// Per user and purpose, cluster-wide: most codes issued, and most failed redemptions
    /// counted across reissued codes, in one window (see [`signet_core::CodeLimits`]).
    pub code_limits: signet_core::CodeLimits,
    /// Lifetime of sign-up and attribute-verification codes.
    pub confirm_code_ttl: Duration,
    /// Lifetime of password-reset codes.
    pub reset_code_ttl: Duration,
    /// Lifetime of a challenge session (NEW_PASSWORD_REQUIRED).
    pub session_ttl: Duration,
    /// Failed password sign-ins of one user before password sign-in locks.
    pub lockout_threshold: u32,
    /// First lockout; doubled for each further failure.
    pub lockout_base: Duration,
    /// Longest lockout.
    pub lockout_max: Duration,
    /// This gateway's keys stay current while it renews this lease (every third of it);
    /// when it stops, the store's leader retires them.
    pub key_lease: Duration,
    /// Time between key rotations.
    pub rotation_interval: Duration,
    /// How long a rotated-out key stays published: the longest token lifetime plus leeway.
    pub key_overlap: Duration,
    /// Shortest session AssumeRoleWithWebIdentity grants (STS's is 900 s; tests lower it to
    /// watch credentials expire).
    pub sts_min_session: Duration,
    /// The region AWS-signed admin calls must be scoped to (`None`: any region).
    pub aws_region: Option<String>,
    /// The service name a signature's scope must carry for each of AWS's services Signet
    /// speaks, where it is not AWS's own (`cognito-idp`, `cognito-identity`, `sts`): e.g.
    /// `cognito-idp` → `signet-idp` for SDKs configured with another signing name.
    pub aws_signing_names: std::collections::BTreeMap<String, String>,
    /// Largest CSV file a user import accepts, in bytes.
    pub import_max_bytes: u64,
    /// Most data rows a user import accepts.
    pub import_max_rows: u64,
    /// Users per staged chunk (one log entry each when applied); chunks are also cut at
    /// 512 KiB of users, so an entry stays well under 1 MiB.
    pub import_chunk_rows: usize,
    /// A running import is this gateway's until this long after its last chunk; after
    /// that, StartUserImportJob on any gateway resumes it.
    pub import_lease: Duration,
    /// Learn the store members' addresses from the stores (every few seconds), beside the
    /// ones the gateway was started with. Off: reach only those (stores whose advertised
    /// addresses this gateway cannot route to, or a gateway pinned to one member).
    pub store_discovery: bool,
    /// Time between store-quorum probes (one linearizable read each); readiness follows the
    /// latest.
    pub store_probe_interval: Duration,
    /// A probe not answered within this time counts as failed: the store has no quorum,
    /// or is too slow to serve sign-ins.
    pub store_probe_timeout: Duration,
    /// Limits of the public gRPC and HTTP servers (see `serving`).
    pub serving: ServingLimits,
    /// Where every timestamp comes from (the system's clock; tests may move their own).
    pub clock: crate::SharedClock,
    /// The edge authorizer's routes (`/authorize`, ext_authz); none: every request denied.
    pub authorizer: crate::authorizer::AuthorizerConfig,
    /// Fault injection for tests: hold each change of the change stream this many
    /// milliseconds before the caches see it (a gateway whose caches lag); may be set while
    /// the gateway runs. Zero in production.
    pub change_stream_delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// What the public servers' tower stack enforces on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServingLimits {
    /// A request not answered within this time gets DEADLINE_EXCEEDED (gRPC) or 503
    /// (HTTP) and its work is dropped. A caller's shorter `grpc-timeout` also applies.
    pub request_timeout: Duration,
    /// Requests in progress at once, both surfaces together. One more is refused at once
    /// (RESOURCE_EXHAUSTED / 503 with Retry-After): a gateway past its capacity answers
    /// fast rather than queue work its callers have given up on. Health, readiness and
    /// metrics are never refused.
    pub max_in_flight: usize,
    /// Largest gRPC request message, in bytes.
    pub max_grpc_message_bytes: usize,
    /// Largest HTTP request body buffered by an endpoint (forms, JSON), in bytes; the
    /// streamed user-import upload has its own limits.
    pub max_http_body_bytes: usize,
    /// Rate limits per source address and per app client (none by default).
    pub rate: RateLimits,
}

/// What a rate limit counts: the public calls that take a credential or a code, create a
/// user, send a code, or issue tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// InitiateAuth, RespondToAuthChallenge, ConfirmSignUp, ConfirmForgotPassword,
    /// VerifyUserAttribute, ChangePassword, VerifySoftwareToken.
    SignIn = 0,
    /// SignUp.
    SignUp = 1,
    /// ResendConfirmationCode, ForgotPassword, GetUserAttributeVerificationCode.
    Codes = 2,
    /// The token endpoint, GetTokensFromRefreshToken, IssueClientToken.
    Token = 3,
}

impl RateClass {
    const ALL: [RateClass; 4] = [
        RateClass::SignIn,
        RateClass::SignUp,
        RateClass::Codes,
        RateClass::Token,
    ];

    /// The name in `--rate-limit`.
    pub fn name(self) -> &'static str {
        match self {
            RateClass::SignIn => "sign-in",
            RateClass::SignUp => "sign-up",
            RateClass::Codes => "codes",
            RateClass::Token => "token",
        }
    }
}

/// A rate: one call every `every`, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Time for one call to come back to the budget.
    pub every: Duration,
    /// Calls allowed at once after a quiet time.
    pub burst: u32,
}

/// Budgets per class, per source address and per app client; None: unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Indexed by [`RateClass`].
    pub address: [Option<Budget>; 4],
    /// Indexed by [`RateClass`].
    pub client: [Option<Budget>; 4],
}

impl RateLimits {
    /// Apply one `CLASS.KEY=N/UNIT[,burst=M]` setting, e.g. `sign-in.address=10/s,burst=50`
    /// (KEY `address` or `client`; UNIT `s`, `min` or `h`; burst defaults to N).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let bad =
            |why: &str| format!("rate limit {spec:?}: {why} (e.g. sign-in.address=10/s,burst=50)");
        let (target, rate) = spec.split_once('=').ok_or_else(|| bad("no ="))?;
        let (class, key) = target.split_once('.').ok_or_else(|| bad("no CLASS.KEY"))?;
        let class = RateClass::ALL
            .into_iter()
            .find(|c| c.name() == class)
            .ok_or_else(|| bad("CLASS is sign-in, sign-up, codes or token"))?;
        let mut parts = rate.split(',');
        let (n, unit) = parts
            .next()
            .and_then(|r| r.split_once('/'))
            .ok_or_else(|| bad("no N/UNIT"))?;
        let n: u32 = n.trim().parse().map_err(|_| bad("N is a whole number"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        let unit = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad("UNIT is s, min or h")),
        };
        let mut burst = n;
        for p in parts {
            match p.trim().split_once('=') {
                Some(("burst", b)) => {
                    burst = b
                        .trim()
                        .parse()
                        .map_err(|_| bad("burst is a whole number"))?;
                    if burst == 0 {
                        return Err(bad("burst must be at least 1"));
                    }
                }
                _ => return Err(bad("unknown option")),
            }
        }
        let budget = Some(Budget {
            every: unit / n,
            burst,
        });
        match key {
            "address" => self.address[class as usize] = budget,
            "client" => self.client[class as usize] = budget,
            _ => return Err(bad("KEY is address or client")),
        }
        Ok(())
    }
}

impl Default for ServingLimits {
    fn default() -> Self {
        ServingLimits {
            request_timeout: Duration::from_secs(30),
            // Far above what two cores finish at once (the token bench peaks at 64 callers),
            // low enough that a flood cannot hold unbounded memory.
            max_in_flight: 4096,
            // A 1 MB token must be refused, not decoded.
            max_grpc_message_bytes: 256 * 1024,
            max_http_body_bytes: 64 * 1024,
            rate: RateLimits::default(),
        }
    }
}

impl GatewayConfig {
    /// Production defaults.
    pub fn new(public_url: &str, admin_secret: String, server_secret: Secret) -> GatewayConfig {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        GatewayConfig {
            public_url: public_url.trim_end_matches('/').to_string(),
            admin_secret,
            server_secret,
            password: PasswordParams::default(),
            hash_workers: cores,
            hash_queue: cores * 8,
            hash_queue_deadline: Duration::from_secs(2),
            notifier: NotifierConfig::Outbox,
            webhook_secret: None,
            audit_stream: Default::default(),
            allow_insecure_loopback_http: false,
            tls: None,
            jwks_max_age: Duration::from_secs(60),
            key_publish_margin: Duration::from_secs(10),
            instance: signet_crypto::random_hex_id(),
            code_attempts: 5,
            code_limits: signet_core::CodeLimits {
                window_ms: 3_600_000,
                max_issued: 10,
                max_failures: 10,
            },
            confirm_code_ttl: Duration::from_secs(24 * 3600),
            reset_code_ttl: Duration::from_secs(3600),
            session_ttl: Duration::from_secs(180),
            lockout_threshold: 5,
            lockout_base: Duration::from_secs(1),
            lockout_max: Duration::from_secs(15 * 60),
            key_lease: Duration::from_secs(60),
            rotation_interval: Duration::from_secs(24 * 3600),
            key_overlap: Duration::from_secs(86_400 + 60),
            sts_min_session: Duration::from_secs(900),
            aws_region: None,
            aws_signing_names: Default::default(),
            authorizer: Default::default(),
            change_stream_delay_ms: Default::default(),
            import_max_bytes: 512 * 1024 * 1024,
            import_max_rows: 1_000_000,
            import_chunk_rows: 500,
            import_lease: Duration::from_secs(60),
            store_discovery: true,
            store_probe_interval: Duration::from_secs(1),
            // Longer than a leader election (about one election timeout, 0.5-1 s by
            // default), so a normal failover does not flip readiness.
            store_probe_timeout: Duration::from_secs(2),
            serving: ServingLimits::default(),
            clock: std::sync::Arc::new(crate::SystemClock),
        }
    }

    /// The issuer URL of a pool.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.public_url)
    }
}
