//! `signet bench`: a load generator for running gateways. It makes its own pool, clients,
//! users and identity pool through the admin API, drives one scenario with N concurrent
//! workers (closed loop, or open loop at `--rate`), and reports throughput, errors by
//! code, HDR latency percentiles, and the **servers' CPU seconds per 1,000 operations**
//! read from the gateways' own `/metrics`. It then removes what it made.
//!
//! Every run is bounded in time (and optionally in count), and refuses non-loopback
//! targets unless `--allow-remote` is given: it is a load generator, not a probe.

mod args;
mod driver;
pub(crate) mod fixtures;
mod floor;
mod mix;
pub(crate) mod ops;
mod peer;
mod report;
mod scale;
mod scale_import;
mod server;

use crate::cli::bench::{BenchArgs, LoadArgs, ScenarioCmd, Transport};
use crate::exit::Exit;
use crate::rpc::{admin_secret, with_secret};
use anyhow::{bail, Context};
use args::{url, MAX_USERS};
use driver::Plan;
use fixtures::{Fixtures, Needs};
use mix::{chooser, parse_mix, Kind};
use ops::Op;
use report::{Argon2Reference, Report};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

async fn connect(addr: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(url(addr))
        .with_context(|| format!("bad endpoint {addr:?}"))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .connect()
        .await
        .with_context(|| format!("cannot connect to the gateway at {addr} (is it running?)"))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (load, kinds, users, transport, extra) = match &args.scenario {
        ScenarioCmd::Scale(a) => return scale::run(a).await,
        ScenarioCmd::PeerToken {
            load,
            token_url,
            client_id,
            client_secret,
            scope,
            server_pid,
        } => {
            let report = peer::run(
                load,
                token_url,
                client_id,
                client_secret,
                scope,
                *server_pid,
            )
            .await?;
            if load.json {
                crate::output::emit(&serde_json::to_value(&report)?)?;
            } else {
                print!("{}", report.text());
            }
            return Ok(());
        }
        ScenarioCmd::Floor { time, json } => {
            let f = floor::measure(*time).await?;
            if *json {
                crate::output::emit(&serde_json::to_value(&f)?)?;
            } else {
                print!("{}", f.text());
            }
            return Ok(());
        }
        ScenarioCmd::ClientCredentials { load, transport } => (
            load,
            vec![(Kind::ClientCredentials, 1)],
            0,
            *transport,
            serde_json::json!({"transport": format!("{transport:?}").to_lowercase()}),
        ),
        ScenarioCmd::PasswordSignIn { load, users } => (
            load,
            vec![(Kind::PasswordSignIn, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::MfaSignIn { load, users } => (
            load,
            vec![(Kind::MfaSignIn, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::Refresh {
            load,
            users,
            rotate,
        } => (
            load,
            vec![(Kind::Refresh, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users, "rotate": rotate}),
        ),
        ScenarioCmd::GetCredentials { load, users } => (
            load,
            vec![(Kind::GetCredentials, 1)],
            *users,
            Transport::Grpc,
            serde_json::json!({"users": users}),
        ),
        ScenarioCmd::Mixed {
            load,
            mix,
            users,
            transport,
        } => (
            load,
            parse_mix(mix)?,
            *users,
            *transport,
            serde_json::json!({"mix": mix, "users": users,
                "transport": format!("{transport:?}").to_lowercase()}),
        ),
        ScenarioCmd::Verify { load } => (
            load,
            vec![(Kind::Verify, 1)],
            0,
            Transport::Grpc,
            serde_json::json!({}),
        ),
        ScenarioCmd::ServingFloor { load, transport } => (
            load,
            vec![(Kind::ServingFloor, 1)],
            0,
            *transport,
            serde_json::json!({"transport": format!("{transport:?}").to_lowercase()}),
        ),
        ScenarioCmd::Authorize { load, tokens } => {
            if !(1..=MAX_TOKENS).contains(tokens) {
                bail!("--tokens must be 1..={MAX_TOKENS}");
            }
            (
                load,
                vec![(Kind::Authorize, 1)],
                0,
                Transport::Http,
                serde_json::json!({"tokens": tokens}),
            )
        }
    };
    let plan = load.check()?;
    let has = |k: Kind| kinds.iter().any(|(x, _)| *x == k);
    let needs_users = has(Kind::PasswordSignIn)
        || has(Kind::MfaSignIn)
        || has(Kind::Refresh)
        || has(Kind::GetCredentials);
    if needs_users && !(1..=MAX_USERS).contains(&users) {
        bail!("--users must be 1..={MAX_USERS}");
    }
    let needs = Needs {
        service_client: has(Kind::ClientCredentials) || has(Kind::Verify) || has(Kind::Authorize),
        users: if needs_users { users } else { 0 },
        sign_in: has(Kind::Refresh) || has(Kind::MfaSignIn),
        identities: has(Kind::GetCredentials),
        totp: has(Kind::MfaSignIn),
        rotation: matches!(args.scenario, ScenarioCmd::Refresh { rotate: true, .. }),
    };
    let secret = admin_secret(load.admin_secret.clone(), &load.data_dir)?;
    let mut channels = Vec::new();
    for e in &load.endpoint {
        let transport = load.tls.gateway_transport(e)?;
        for _ in 0..load.connections {
            channels.push(if transport.is_tls() {
                crate::rpc::connect_to(e, &transport).await?
            } else {
                connect(e).await?
            });
        }
    }
    let admin = with_secret(channels[0].clone(), &secret)?;
    let say = |m: &str| {
        if !load.json || !load.quiet {
            eprintln!("signet bench: {m}");
        }
    };
    say(&format!(
        "setting up a pool{}{}",
        if needs.service_client {
            ", a service client"
        } else {
            ""
        },
        if needs.users > 0 {
            format!(
                ", {} users (two argon2 hashes each on the server)",
                needs.users
            )
        } else {
            String::new()
        }
    ));
    let t = Instant::now();
    let fixtures = Fixtures::setup(admin.clone(), channels[0].clone(), needs, &load.alg).await?;
    say(&format!(
        "set up pool {} in {:.1} s",
        fixtures.pool_id,
        t.elapsed().as_secs_f64()
    ));
    let result = measure(load, &plan, &kinds, transport, &fixtures, &channels, extra).await;
    if load.keep {
        eprintln!(
            "signet bench: kept user pool {} (identity pool {:?}, role {:?})",
            fixtures.pool_id, fixtures.identity_pool_id, fixtures.role_name
        );
    } else if let Err(e) = fixtures.teardown(admin).await {
        eprintln!("signet bench: teardown failed: {e:#}");
    }
    let report = result?;
    if load.json {
        crate::output::emit(&serde_json::to_value(&report)?)?;
    } else {
        print!("{}", report.text());
    }
    if report.ok == 0 {
        return Err(Exit {
            code: 1,
            message: "no operation succeeded".into(),
        }
        .into());
    }
    Ok(())
}

/// Build the operations, check each works once, measure.
async fn measure(
    load: &LoadArgs,
    plan: &Plan,
    kinds: &[(Kind, u32)],
    transport: Transport,
    f: &Fixtures,
    channels: &[Channel],
    extra: serde_json::Value,
) -> anyhow::Result<Report> {
    let mut ops = Vec::new();
    for (kind, _) in kinds {
        ops.push(match kind {
            Kind::ClientCredentials if transport == Transport::Http => {
                let requests = load
                    .http
                    .iter()
                    .map(|h| ops::TokenRequest::new(&url(h), f))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                Op::ClientCredentialsHttp {
                    client: ops::http_client(),
                    requests: Arc::new(requests),
                }
            }
            Kind::ClientCredentials => Op::client_credentials_grpc(channels, f),
            Kind::PasswordSignIn => Op::password_sign_in(channels, f),
            Kind::MfaSignIn => Op::mfa_sign_in(channels, f),
            Kind::Refresh => Op::refresh(channels, f),
            Kind::GetCredentials => Op::get_credentials(channels, f),
            Kind::Verify => verify_op(load, f, channels).await?,
            Kind::ServingFloor if transport == Transport::Grpc => Op::grpc_health(channels),
            Kind::ServingFloor => Op::HttpGet {
                client: ops::http_client(),
                uris: Arc::new(
                    load.http
                        .iter()
                        .map(|h| format!("{}/healthz", url(h)).parse())
                        .collect::<Result<_, _>>()?,
                ),
            },
            Kind::Authorize => {
                let count = extra["tokens"].as_u64().unwrap_or(1) as usize;
                let mut tokens = Vec::with_capacity(count);
                for _ in 0..count {
                    tokens.push(client_token(f, channels).await?);
                }
                let mut requests = Vec::new();
                for token in &tokens {
                    for h in &load.http {
                        requests.push(ops::AuthorizeRequest::new(&url(h), token)?);
                    }
                }
                Op::Authorize {
                    client: ops::http_client(),
                    requests: Arc::new(requests),
                }
            }
        });
    }
    // One operation of each kind before anything is measured: a setup mistake should be
    // one clear error, not a run full of them.
    for (op, (kind, _)) in ops.iter_mut().zip(kinds) {
        op.call(0)
            .await
            .map_err(|code| anyhow::anyhow!("a first {} failed: {code}", kind.name()))?;
    }
    let argon2 = if kinds
        .iter()
        .any(|(k, _)| matches!(k, Kind::PasswordSignIn | Kind::MfaSignIn))
        && kinds.len() == 1
    {
        Some(argon2_rate().await?)
    } else {
        None
    };
    let names: Vec<&'static str> = kinds.iter().map(|(k, _)| k.name()).collect();
    let weights = kinds.iter().map(|(_, w)| *w).collect();
    let local = kinds.iter().all(|(k, _)| *k == Kind::Verify);
    let urls = if local {
        Vec::new()
    } else {
        load.metrics_urls()
    };
    let before = async {
        let s = server::scrape(&urls).await;
        (s, server::own_cpu_seconds())
    };
    let (m, (before, cpu0)) =
        driver::run(plan, &names, chooser(weights), Arc::new(ops), before).await;
    let cpu1 = server::own_cpu_seconds();
    let after = server::scrape(&urls).await;
    let ok = m.kinds.iter().map(|k| k.ok).sum();
    let mut report = Report::new(
        scenario_name(kinds, transport),
        load.settings(plan, extra),
        m,
    );
    report.bench_cpu_s = cpu1 - cpu0;
    report.bench_cpu_s_per_1000_ops = (ok > 0).then(|| report.bench_cpu_s / ok as f64 * 1000.0);
    report.local = local;
    match (before, after) {
        _ if local => {}
        (Ok(b), Ok(a)) => report.server = Some(server::delta(&urls, &b, &a, ok)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("signet bench: cannot read the servers' /metrics: {e:#}")
        }
    }
    if let Some(before) = argon2 {
        // Measured again once the load is over: the reference is the mean of the two,
        // and both are reported, so a machine that drifted during the run shows it.
        let after = argon2_rate().await?;
        let rate = (before + after) / 2.0;
        let share = report
            .server
            .as_ref()
            .and_then(|s| s.ops_per_cpu_s)
            .map(|r| r / rate);
        report.argon2 = Some(Argon2Reference {
            verifies_per_cpu_s: rate,
            before_per_cpu_s: before,
            after_per_cpu_s: after,
            sign_in_share_of_argon2: share,
            server_cpu_share_in_hasher: report.server.as_ref().and_then(|s| {
                s.hasher_cpu_s
                    .filter(|_| s.cpu_s >= 0.01)
                    .map(|h| h / s.cpu_s)
            }),
        });
    }
    Ok(report)
}

fn scenario_name(kinds: &[(Kind, u32)], transport: Transport) -> String {
    match kinds {
        [(Kind::ClientCredentials, _)] => format!(
            "client-credentials ({})",
            if transport == Transport::Http {
                "HTTP /oauth2/token"
            } else {
                "gRPC IssueClientToken"
            }
        ),
        [(k, _)] => k.name().to_string(),
        _ => "mixed".to_string(),
    }
}

/// A client_credentials access token of the bench's service client.
/// Most distinct tokens `signet bench authorize --tokens` issues before measuring.
const MAX_TOKENS: usize = 50_000;

async fn client_token(f: &Fixtures, channels: &[Channel]) -> anyhow::Result<String> {
    let mut c =
        signet_proto::v1::user_pool_auth_client::UserPoolAuthClient::new(channels[0].clone());
    Ok(
        c.issue_client_token(signet_proto::v1::IssueClientTokenRequest {
            user_pool_id: f.pool_id.clone(),
            client_id: f.service_client_id.clone(),
            client_secret: f.service_client_secret.clone(),
            scope: fixtures::SCOPE.into(),
        })
        .await
        .map_err(crate::rpc::status_error)
        .context("IssueClientToken")?
        .into_inner()
        .access_token,
    )
}

/// A client_credentials token and the pool's JWKS, to verify in this process.
async fn verify_op(load: &LoadArgs, f: &Fixtures, channels: &[Channel]) -> anyhow::Result<Op> {
    let token = client_token(f, channels).await?;
    let issuer = crate::jwt_inspect::claims(&token)?["iss"]
        .as_str()
        .context("token without iss")?
        .to_string();
    let jwks_url = format!("{}/{}/.well-known/jwks.json", url(&load.http[0]), f.pool_id);
    let jwks = crate::jwt_inspect::http_get(&jwks_url).await?;
    let keys = signet_verify::KeySet::from_jwks(jwks.as_bytes())
        .map_err(|e| anyhow::anyhow!("{jwks_url}: {e}"))?;
    Ok(Op::Verify {
        keys: Arc::new(keys),
        expected: Arc::new(ops::expected_access(&issuer, f)),
        token: token.into(),
    })
}

/// argon2id verifications per CPU-second at the default parameters, with one hashing
/// thread per core all busy at once, as the server's hasher runs under load (concurrent
/// hashes share caches and memory bandwidth, so one thread alone would overstate the rate).
/// Each thread hashes for at least [`ARGON2_REFERENCE_TIME`] (and 10 times): on a shared
/// VM a shorter sample moved by a fifth between runs.
async fn argon2_rate() -> anyhow::Result<f64> {
    use signet_crypto::{PasswordHasher, PasswordParams};
    const MIN_ROUNDS_PER_THREAD: usize = 10;
    const PASSWORD: &str = "Bench-reference-9a!";
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let h = PasswordHasher::new(
        PasswordParams::default(),
        threads,
        threads * 2,
        Duration::from_secs(60),
    );
    let phc = h.hash(PASSWORD).await?;
    let cpu0 = server::own_cpu_seconds();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..threads {
        let (h, phc) = (h.clone(), phc.clone());
        tasks.push(tokio::spawn(async move {
            let mut rounds = 0;
            while rounds < MIN_ROUNDS_PER_THREAD || started.elapsed() < ARGON2_REFERENCE_TIME {
                if !h.verify(PASSWORD, &phc).await? {
                    anyhow::bail!("the argon2 reference hash did not verify");
                }
                rounds += 1;
            }
            anyhow::Ok(rounds)
        }));
    }
    let mut verified = 0;
    for t in tasks {
        verified += t.await??;
    }
    let cpu = server::own_cpu_seconds() - cpu0;
    anyhow::ensure!(cpu > 0.0, "no CPU time measured for the argon2 reference");
    Ok(verified as f64 / cpu)
}

/// How long each thread of the argon2 reference hashes, at least.
const ARGON2_REFERENCE_TIME: Duration = Duration::from_secs(2);
