//! Criterion benches of the remaining stages of the token-issuance hot path (see
//! benches/README.md, "`stages` (criterion)"); signing, verification and claim building are
//! in `tokens.rs`.
//!
//! * `secret/check/*`: the client_credentials client-secret check: the keyed HMAC-SHA256 of
//!   (client id, presented secret) under the server key, compared in constant time with every
//!   stored secret hash, with 1 and 2 stored secrets, matching and not.
//! * `argon2/{hash,verify}/*`: [`PasswordHasher`] at the production parameters (through its
//!   bounded worker pool, awaited on a tokio runtime) against the argon2 call its workers make.
//! * `apply/{mem,sled}/*`: [`signet_core::apply`] on [`MemKv`], and the sled state machine's
//!   `RaftStateMachine::apply` (one log entry per iteration), for the commands a sign-up, a
//!   refresh and a GetId write. Every iteration applies a new command, and every outcome is
//!   checked to be `Applied`.
//! * `grpc/round_trip/*`: one tonic unary call on loopback: `grpc.health.v1.Health/Check`
//!   against a bare tonic server (the call floor), and `UserPoolAuth/IssueClientToken`
//!   against an in-process gateway (`signet-testkit`).
//!
//! The gateway's claim builders (`crates/signet-gateway/src/tokens.rs`) are private to it,
//! so there is no `claims/access_token` or `claims/id_token` here.

use argon2::{Algorithm as ArgonAlg, Argon2, Block, Params, Version};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, EntryPayload, LogId};
use signet_core::{
    AdvanceRefreshFamily, ClientSecret, Command, CreateIdentityPool, CreateUser, CreateUserPool,
    GetOrCreateIdentity, IdentityPool, MemKv, Outcome, Request, RequestId, User, UserPool,
    UserStatus,
};
use signet_crypto::{
    constant_time_eq, random_bytes, random_hex_id, random_token, KeyedHasher, PasswordHasher,
    PasswordParams, Sealer, Secret,
};
use signet_proto::v1 as pb;
use signet_store::{Batch, ReadConsistency, StateMachineStore, TypeConfig};
use signet_testkit::{admin, admin_client, auth_client, start_gateway, test_gateway_config};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;
use tokio::runtime::Runtime;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// 26 characters, like a Cognito app client id.
const CLIENT_ID: &str = "4k8s1q2n7v0c3x5z9b6m2p1l0d";
const POOL: &str = "eu-bench_pool1";
const IDENTITY_POOL: &str = "local:4f1c2a9e-7b3d-4e8a-9c6f-0a1b2c3d4e5f";
/// The login provider of GetId: a Signet user pool, named by its issuer without scheme.
const PROVIDER: &str = "signet.test/eu-bench_pool1";
const T0_MS: u64 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------
// secret/check

/// The gateway's client-secret check, `Gateway::secret_matches` in
/// `crates/signet-gateway/src/usecases/oauth.rs` (with `client_secret_hash` from
/// `usecases/pools.rs`). Both are `pub(crate)`, so this repeats their three lines over the
/// same public primitives: one keyed hash, then a constant-time compare with every stored
/// secret (all of them, so the time does not say which one matched).
fn secret_matches(
    keyed: &KeyedHasher,
    client_id: &str,
    secrets: &[ClientSecret],
    given: &str,
) -> bool {
    let h = keyed.hash("client-secret", &[client_id.as_bytes(), given.as_bytes()]);
    secrets.iter().fold(false, |ok, s| {
        constant_time_eq(h.as_bytes(), s.hash.as_bytes()) | ok
    })
}

/// A stored secret as `Gateway::new_client_secret` makes one; returns it and the plain text.
fn new_client_secret(keyed: &KeyedHasher, sealer: &Sealer) -> (ClientSecret, String) {
    let plain = random_token::<32>();
    let record = ClientSecret {
        id: random_hex_id(),
        hash: keyed.hash("client-secret", &[CLIENT_ID.as_bytes(), plain.as_bytes()]),
        sealed: sealer.seal(&format!("client-secret:{CLIENT_ID}"), plain.as_bytes()),
        created_at_ms: T0_MS,
    };
    (record, plain)
}

fn secret(c: &mut Criterion) {
    let server = Secret::new(random_bytes::<32>().to_vec()).unwrap();
    let keyed = KeyedHasher::new(&server);
    let sealer = Sealer::new(&server);
    let (first, first_plain) = new_client_secret(&keyed, &sealer);
    let (second, second_plain) = new_client_secret(&keyed, &sealer);
    // A wrong secret of the right shape (43 base64url characters).
    let wrong = random_token::<32>();
    let one = vec![first.clone()];
    let two = vec![first, second];
    let cases: [(&str, &[ClientSecret], &str, bool); 4] = [
        ("1_secret_match", &one, &first_plain, true),
        ("1_secret_mismatch", &one, &wrong, false),
        // During a rotation the client presents the newer secret, the second one.
        ("2_secrets_match", &two, &second_plain, true),
        ("2_secrets_mismatch", &two, &wrong, false),
    ];
    let mut g = c.benchmark_group("secret");
    for (name, secrets, given, expect) in cases {
        assert_eq!(secret_matches(&keyed, CLIENT_ID, secrets, given), expect);
        g.bench_function(BenchmarkId::new("check", name), |b| {
            b.iter(|| secret_matches(&keyed, CLIENT_ID, secrets, black_box(given)))
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// argon2

fn argon2(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The gateway's own settings: `GatewayConfig::new` (through the testkit) gives the
    // production parameters, one worker per core, a queue of 8 per core and a 2 s deadline.
    let cfg = test_gateway_config();
    assert_eq!(cfg.password, PasswordParams::default());
    let params = cfg.password;
    let pool = PasswordHasher::new(
        cfg.password,
        cfg.hash_workers,
        cfg.hash_queue,
        cfg.hash_queue_deadline,
    );
    let password = "correct horse battery staple";
    let phc = rt.block_on(pool.hash(password)).unwrap();
    assert!(phc.contains("m=19456,t=2,p=1"), "{phc}");
    assert!(rt.block_on(pool.verify(password, &phc)).unwrap());

    // What a worker runs: argon2id with the pool's parameters, its memory blocks allocated
    // once and reused.
    let argon_params = Params::new(params.m_kib, params.t, params.p, Some(32)).unwrap();
    let argon = Argon2::new(ArgonAlg::Argon2id, Version::V0x13, argon_params.clone());
    let mut blocks = vec![Block::default(); argon_params.block_count()];
    let salt = random_bytes::<16>();
    let mut expected = [0u8; 32];
    argon
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut expected, &mut blocks)
        .unwrap();

    let mut g = c.benchmark_group("argon2");
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("hash", "pool"), |b| {
        b.iter(|| rt.block_on(pool.hash(black_box(password))).unwrap())
    });
    g.bench_function(BenchmarkId::new("hash", "raw"), |b| {
        b.iter(|| {
            // A worker draws a fresh salt per hash.
            let salt = random_bytes::<16>();
            let mut out = [0u8; 32];
            argon
                .hash_password_into_with_memory(
                    black_box(password).as_bytes(),
                    &salt,
                    &mut out,
                    &mut blocks,
                )
                .unwrap();
            out
        })
    });
    g.bench_function(BenchmarkId::new("hash", "raw_fresh_memory"), |b| {
        b.iter(|| {
            let salt = random_bytes::<16>();
            let mut out = [0u8; 32];
            argon
                .hash_password_into(black_box(password).as_bytes(), &salt, &mut out)
                .unwrap();
            out
        })
    });
    g.bench_function(BenchmarkId::new("verify", "pool"), |b| {
        b.iter(|| assert!(rt.block_on(pool.verify(black_box(password), &phc)).unwrap()))
    });
    g.bench_function(BenchmarkId::new("verify", "raw"), |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            argon
                .hash_password_into_with_memory(
                    black_box(password).as_bytes(),
                    &salt,
                    &mut out,
                    &mut blocks,
                )
                .unwrap();
            assert!(constant_time_eq(&out, &expected));
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------
// apply

/// A pool with `email` as a sign-in alias (as in `durable_writes`), so a user also writes
/// and checks an alias index entry, as a typical sign-up does.
fn create_pool() -> Command {
    let mut pool = UserPool::new(POOL, "bench pool", T0_MS);
    pool.config.alias_attributes = vec!["email".into()];
    Command::CreateUserPool(CreateUserPool { pool })
}

fn create_identity_pool() -> Command {
    Command::CreateIdentityPool(CreateIdentityPool {
        pool: IdentityPool {
            id: IDENTITY_POOL.into(),
            name: "bench identities".into(),
            allow_unauthenticated: false,
            allow_classic_flow: false,
            providers: vec![],
            developer_provider: None,
            roles: Default::default(),
            role_mappings: Default::default(),
            created_at_ms: T0_MS,
            updated_at_ms: T0_MS,
        },
    })
}

/// `local:` + a random UUID, as the gateway names identities.
fn identity_id() -> String {
    let h = hex_of(&random_bytes::<16>());
    format!(
        "local:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The commands benched, each made unique by a counter `n`.
#[derive(Clone, Copy)]
enum Kind {
    /// Sign-up: a confirmed user with an argon2 PHC string, `email` (an alias) and
    /// `email_verified`.
    CreateUser,
    /// The first refresh of a family: a new family id, generation 0 (inserts the row).
    AdvanceRefreshFamilyFirst,
    /// A later refresh: one family advanced from generation `n` to `n + 1` (updates the row).
    AdvanceRefreshFamilyNext,
    /// GetId for a login not yet linked: a new identity and its login index entry.
    GetOrCreateIdentity,
}

const KINDS: [Kind; 4] = [
    Kind::CreateUser,
    Kind::AdvanceRefreshFamilyFirst,
    Kind::AdvanceRefreshFamilyNext,
    Kind::GetOrCreateIdentity,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::CreateUser => "create_user",
            Kind::AdvanceRefreshFamilyFirst => "advance_refresh_family_first",
            Kind::AdvanceRefreshFamilyNext => "advance_refresh_family_next",
            Kind::GetOrCreateIdentity => "get_or_create_identity",
        }
    }

    fn command(self, n: u64, family: &str) -> Command {
        let at = T0_MS + n;
        match self {
            Kind::CreateUser => {
                let username = format!("user{n:09}");
                let mut user = User::new(
                    format!("sub-{username}"),
                    username.as_str(),
                    UserStatus::Confirmed,
                    at,
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
                    pool_id: POOL.into(),
                    user,
                })
            }
            Kind::AdvanceRefreshFamilyFirst => {
                Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
                    // The gateway's shape: 12 hex digits of sign-in time, then 32 random.
                    family_id: format!("{at:012x}{}", random_hex_id()),
                    presented_generation: 0,
                    expires_at_ms: at + 30 * 86_400_000,
                    // No grace: the entry carries no clock, like the gateway's without one.
                    at_ms: 0,
                    grace_ms: 0,
                })
            }
            Kind::AdvanceRefreshFamilyNext => Command::AdvanceRefreshFamily(AdvanceRefreshFamily {
                family_id: family.to_string(),
                presented_generation: n as u32,
                expires_at_ms: T0_MS + 30 * 86_400_000,
                at_ms: 0,
                grace_ms: 0,
            }),
            Kind::GetOrCreateIdentity => Command::GetOrCreateIdentity(GetOrCreateIdentity {
                pool_id: IDENTITY_POOL.into(),
                logins: BTreeMap::from([(PROVIDER.to_string(), format!("sub-user{n:09}"))]),
                new_identity_id: identity_id(),
                into_identity_id: None,
                at_ms: at,
            }),
        }
    }
}

/// A log entry's request: a fresh random request id, as a client picks one per write.
fn request(command: Command) -> Request {
    Request::new(RequestId(random_bytes::<16>()), command)
}

/// Yields the distinct requests of one bench: `kind`'s command for n = 0, 1, 2, ...
fn requests(kind: Kind) -> impl FnMut() -> Request {
    let family = format!("{T0_MS:012x}{}", random_hex_id());
    let mut n = 0u64;
    move || {
        let r = request(kind.command(n, &family));
        n += 1;
        r
    }
}

fn mem_store() -> MemKv {
    let mut kv = MemKv::new();
    for cmd in [create_pool(), create_identity_pool()] {
        assert_eq!(
            signet_core::apply(&mut kv, &request(cmd)).unwrap(),
            Outcome::Applied
        );
    }
    kv
}

/// The sled state machine of one node, in a temp dir, with the two pools created.
struct Sled {
    sm: StateMachineStore,
    index: u64,
    _dir: tempfile::TempDir,
}

impl Sled {
    fn open(rt: &Runtime) -> Sled {
        let dir = tempfile::tempdir().unwrap();
        let sm = StateMachineStore::open(dir.path()).unwrap();
        let mut s = Sled {
            sm,
            index: 0,
            _dir: dir,
        };
        let setup = vec![request(create_pool()), request(create_identity_pool())];
        let entry = s.entry(setup);
        let outcomes = rt.block_on(s.sm.apply([entry])).unwrap();
        assert_eq!(outcomes, vec![vec![Outcome::Applied, Outcome::Applied]]);
        s
    }

    /// The next log entry (term 1, leader 1), carrying `requests` as one batch.
    fn entry(&mut self, requests: Vec<Request>) -> openraft::Entry<TypeConfig> {
        self.index += 1;
        openraft::Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), self.index),
            payload: EntryPayload::Normal(Batch(requests)),
        }
    }
}

fn all_applied(outcomes: &[Vec<Outcome>]) -> bool {
    outcomes.iter().flatten().all(|o| *o == Outcome::Applied)
}

fn apply(c: &mut Criterion) {
    // `RaftStateMachine::apply` is async (it awaits nothing); polled here with `block_on`
    // on a current-thread runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("apply");
    for kind in KINDS {
        let mut kv = mem_store();
        let mut next = requests(kind);
        // One sample outside the measurement: the command is applied, not rejected.
        assert_eq!(
            signet_core::apply(&mut kv, &next()).unwrap(),
            Outcome::Applied
        );
        g.bench_function(BenchmarkId::new("mem", kind.name()), |b| {
            b.iter_batched(
                &mut next,
                |req| {
                    let out = signet_core::apply(&mut kv, &req).unwrap();
                    assert!(out == Outcome::Applied, "{out:?}");
                    req // dropped outside the measurement
                },
                BatchSize::SmallInput,
            )
        });
    }
    for kind in KINDS {
        let mut sled = Sled::open(&rt);
        let mut next = requests(kind);
        let entry = sled.entry(vec![next()]);
        let outcomes = rt.block_on(sled.sm.apply([entry])).unwrap();
        assert_eq!(outcomes, vec![vec![Outcome::Applied]]);
        g.bench_function(BenchmarkId::new("sled", kind.name()), |b| {
            b.iter_batched(
                &mut next,
                |req| {
                    let entry = sled.entry(vec![req]);
                    let outcomes = rt.block_on(sled.sm.apply([entry])).unwrap();
                    assert!(all_applied(&outcomes), "{outcomes:?}");
                },
                BatchSize::SmallInput,
            )
        });
    }
    // The proposer puts the writes that arrive together into one entry: 32 sign-ups in one
    // entry, hence one write set. Criterion reports the time per entry.
    const BATCH: usize = 32;
    let mut sled = Sled::open(&rt);
    let mut next = requests(Kind::CreateUser);
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function(
        BenchmarkId::new("sled", format!("create_user_batch{BATCH}")),
        |b| {
            b.iter_batched(
                || (0..BATCH).map(|_| next()).collect::<Vec<_>>(),
                |reqs| {
                    let entry = sled.entry(reqs);
                    let outcomes = rt.block_on(sled.sm.apply([entry])).unwrap();
                    assert!(
                        outcomes[0].len() == BATCH && all_applied(&outcomes),
                        "{outcomes:?}"
                    );
                },
                BatchSize::SmallInput,
            )
        },
    );
    g.finish();
}

// ---------------------------------------------------------------------------------------
// grpc

/// A bare tonic server with only `grpc.health.v1.Health` on 127.0.0.1:0 (accepted sockets
/// with TCP_NODELAY, as Signet's servers set it), and a client connected to it.
async fn health_server() -> HealthClient<tonic::transport::Channel> {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Keep the reporter alive with the server.
        let _reporter = reporter;
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(signet_store::no_delay(listener))
            .await
            .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

fn grpc(c: &mut Criterion) {
    // Two worker threads, as the gateway has on this 2-core machine; the bench thread makes
    // the calls (`block_on`), so client and server each have their own threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("grpc");

    let mut health = rt.block_on(health_server());
    let check = || HealthCheckRequest {
        service: String::new(),
    };
    let status = rt.block_on(health.check(check())).unwrap().into_inner();
    assert_eq!(status.status, ServingStatus::Serving as i32);
    g.bench_function(BenchmarkId::new("round_trip", "health_check"), |b| {
        b.iter(|| rt.block_on(health.check(black_box(check()))).unwrap())
    });

    // A one-node store and a gateway in this process, a pool signing with EdDSA, a
    // resource server and a client allowed client_credentials, as `client_credentials` sets
    // them up against `signet dev`.
    let (cluster, gw, mut auth, req) = rt.block_on(async {
        let cluster = signet_testkit::TestCluster::start(1).await;
        let cfg = test_gateway_config();
        let keyed = KeyedHasher::new(&cfg.server_secret);
        let gw = start_gateway(cluster.api_addrs(), cfg).await;
        let mut a = admin_client(&gw).await;
        let pool = a
            .create_user_pool(admin(pb::CreateUserPoolRequest {
                pool_name: "bench-stages".into(),
                signing_alg: "EdDSA".into(),
                ..Default::default()
            }))
            .await
            .expect("CreateUserPool")
            .into_inner()
            .user_pool
            .expect("pool");
        let scope = |name: &str| pb::ResourceServerScopeType {
            scope_name: name.into(),
            scope_description: format!("{name} orders"),
        };
        a.create_resource_server(admin(pb::ResourceServerType {
            user_pool_id: pool.id.clone(),
            identifier: "orders".into(),
            name: "Orders API".into(),
            scopes: vec![scope("read"), scope("write")],
        }))
        .await
        .expect("CreateResourceServer");
        let client = a
            .create_user_pool_client(admin(pb::CreateUserPoolClientRequest {
                user_pool_id: pool.id.clone(),
                client_name: "bench-service".into(),
                generate_secret: true,
                allowed_oauth_flows: vec!["client_credentials".into()],
                allowed_oauth_scopes: vec!["orders/read".into(), "orders/write".into()],
                ..Default::default()
            }))
            .await
            .expect("CreateUserPoolClient")
            .into_inner()
            .user_pool_client
            .expect("client");
        // `secret/check` computes the hash the gateway stored for this client's secret.
        let (stored, _) = cluster
            .client()
            .read(
                &signet_core::Query::GetAppClient {
                    pool_id: pool.id.clone(),
                    client_id: client.client_id.clone(),
                },
                ReadConsistency::Linearizable,
            )
            .await
            .expect("read the client");
        let signet_core::QueryResult::AppClient(Some(stored)) = stored else {
            panic!("no stored client: {stored:?}");
        };
        assert!(secret_matches(
            &keyed,
            &stored.client_id,
            &stored.secrets,
            &client.client_secret
        ));
        let req = pb::IssueClientTokenRequest {
            user_pool_id: pool.id,
            client_id: client.client_id,
            client_secret: client.client_secret,
            scope: "orders/read orders/write".into(),
        };
        let auth = auth_client(&gw).await;
        (cluster, gw, auth, req)
    });
    // The first token fills the gateway's pool and client caches; later calls do not touch
    // the store.
    let token = rt
        .block_on(auth.issue_client_token(req.clone()))
        .expect("IssueClientToken")
        .into_inner();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.access_token.split('.').count(), 3);
    g.bench_function(BenchmarkId::new("round_trip", "issue_client_token"), |b| {
        b.iter(|| {
            rt.block_on(auth.issue_client_token(black_box(req.clone())))
                .unwrap()
        })
    });
    g.finish();
    rt.block_on(async {
        gw.shutdown().await;
        tokio::time::timeout(Duration::from_secs(10), cluster.shutdown())
            .await
            .ok();
    });
}

criterion_group!(benches, secret, argon2, apply, grpc);
criterion_main!(benches);
