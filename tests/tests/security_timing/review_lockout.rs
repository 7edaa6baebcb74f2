//! Review findings on password guessing: attempts are reserved through the log before they
//! are checked, so concurrent guesses (on one gateway or two) cannot exceed the lockout's
//! budget; an over-long password is a wrong password (same answer, same cost, counted).

use crate::review_support::*;
use crate::support::pools::password_auth;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::auth_client;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

const PASSWORD: &str = "Right-Passw0rd!";
const WRONG: &str = "Incorrect username or password.";
const LOCKED: &str = "Password attempts exceeded";
/// The default lockout threshold.
const THRESHOLD: usize = 5;

// One at a time (with the rest of the binary, see `crate::SERIAL`): one test measures
// latencies, which a neighbour hashing passwords on the same two cores would distort.
use crate::SERIAL;

/// Gateways for guessing: room in the hash queue for every concurrent guess and time to
/// wait there (so none is refused as overload on a busy machine), and a lockout long
/// enough not to lapse during a test.
fn guessing(c: &mut signet_gateway::GatewayConfig) {
    c.hash_queue = 64;
    c.hash_queue_deadline = Duration::from_secs(30);
    c.lockout_base = Duration::from_secs(120);
}

/// A pool (existence errors shown or hidden) with a public client and the confirmed user
/// "dave": (pool id, client id).
async fn pool_with_dave(gw: &GatewayHandle, hide_existence: bool) -> (String, String) {
    let (pool, client) = pool_with_client(
        gw,
        pb::CreateUserPoolRequest {
            pool_name: "lockout".into(),
            prevent_user_existence_errors: Some(hide_existence),
            ..Default::default()
        },
    )
    .await;
    admin_user(gw, &pool, "dave", &[], PASSWORD).await;
    (pool, client)
}

/// 300 bytes that satisfy the default password policy.
fn over_long() -> String {
    let mut p = "Aa1!".to_string();
    p.push_str(&"x".repeat(296));
    assert_eq!(p.len(), 300);
    p
}

/// Fire 15 wrong passwords and the right one at once, spread over `gws`; the guesses
/// checked (wrong-password answers plus successes) must stay within the threshold and
/// every other answer must be the lockout's.
async fn concurrent_guesses(gws: &[GatewayHandle], client: &str) {
    const N: usize = 16;
    const RIGHT: usize = 7;
    let mut clients = Vec::new();
    for gw in gws {
        clients.push(auth_client(gw).await);
    }
    let barrier = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let mut auth = clients[i % clients.len()].clone();
            let barrier = barrier.clone();
            let password = if i == RIGHT {
                PASSWORD.to_string()
            } else {
                format!("Wr0ng-Passw0rd-{i}!")
            };
            let request = password_auth(client, "dave", &password);
            tokio::spawn(async move {
                barrier.wait().await;
                auth.initiate_auth(request).await.map(|r| r.into_inner())
            })
        })
        .collect();
    let (mut checked, mut locked, mut other) = (Vec::new(), 0, Vec::new());
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        match &r {
            Ok(a) if a.authentication_result.is_some() => checked.push(format!("#{i} signed in")),
            Err(e) if outcome(&r) == "NotAuthorizedException" && e.message() == WRONG => {
                checked.push(format!("#{i} wrong password"))
            }
            Err(e) if outcome(&r) == "NotAuthorizedException" && e.message() == LOCKED => {
                locked += 1
            }
            _ => other.push(format!("#{i}: {}", outcome_msg(&r))),
        }
    }
    assert!(
        checked.len() <= THRESHOLD,
        "{} of {N} concurrent guesses were checked (threshold {THRESHOLD}): {checked:?}; \
         {locked} locked; other answers {other:?}",
        checked.len()
    );
    assert_eq!(
        other,
        Vec::<String>::new(),
        "answers other than checked or locked"
    );
    assert_eq!(checked.len() + locked, N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_exceed_the_lockout_on_one_gateway() {
    let _serial = SERIAL.lock().await;
    let env = Small::start(1, guessing).await;
    let (_, client) = pool_with_dave(env.gw(), false).await;
    concurrent_guesses(&env.gws, &client).await;
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_guesses_exceed_the_lockout_on_two_gateways() {
    let _serial = SERIAL.lock().await;
    let env = Small::start(2, guessing).await;
    let (_, client) = pool_with_dave(env.gw(), false).await;
    concurrent_guesses(&env.gws, &client).await;
    env.shutdown().await;
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// With user existence hidden, a 300-byte password for an existing user is answered
/// exactly like one for an unknown user, and costs about as much (a hash, not a length
/// check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_password_reveals_an_existing_user() {
    const ROUNDS: usize = 5;
    let _serial = SERIAL.lock().await;
    let env = Small::start(1, |_| {}).await;
    let gw = env.gw();
    let (_, client) = pool_with_dave(gw, true).await;
    let mut auth = auth_client(gw).await;
    let long = over_long();
    let mut attempt = async |username: &str| {
        let t = Instant::now();
        let r = auth
            .initiate_auth(password_auth(&client, username, &long))
            .await;
        let took = t.elapsed();
        let answer = match &r {
            Ok(_) => "OK".to_string(),
            Err(e) => format!("{:?} {}: {}", e.code(), outcome(&r), e.message()),
        };
        (took, answer)
    };
    // Warm up the connection and the unknown-user path.
    attempt("nobody-warm-up").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut answers = Vec::new();
    for i in 0..ROUNDS {
        let (t_known, a_known) = attempt("dave").await;
        let (t_unknown, a_unknown) = attempt(&format!("nobody-{i}")).await;
        known.push(t_known);
        unknown.push(t_unknown);
        answers.push((a_known, a_unknown));
    }
    // Existing and unknown users get the same answer (gRPC code, exception, message), and
    // that answer is the wrong-password one.
    let want = format!("NotAuthorizedException: {WRONG}");
    for (a_known, a_unknown) in &answers {
        assert!(
            a_known == a_unknown && a_known.ends_with(&format!(" {want}")),
            "300-byte password: existing user {a_known:?}, unknown user {a_unknown:?} \
             (want both {want:?})\nall rounds: {answers:?}"
        );
    }
    let (mk, mu) = (median(known.clone()), median(unknown.clone()));
    assert!(
        mk.as_secs_f64() >= 0.5 * mu.as_secs_f64(),
        "median latency of a 300-byte password: existing user {mk:?}, unknown user {mu:?}\n\
         existing: {known:?}\nunknown: {unknown:?}"
    );
    env.shutdown().await;
}

/// Over-long passwords are wrong passwords for the lockout: after five, the right password
/// is refused as locked (shown, since this pool does not hide user existence).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_passwords_escape_the_lockout() {
    let _serial = SERIAL.lock().await;
    let env = Small::start(1, guessing).await;
    let gw = env.gw();
    let (_, client) = pool_with_dave(gw, false).await;
    let mut auth = auth_client(gw).await;
    let long = over_long();
    let mut observed = Vec::new();
    for i in 1..=THRESHOLD {
        let r = auth
            .initiate_auth(password_auth(&client, "dave", &long))
            .await;
        observed.push((format!("300-byte password #{i}"), outcome_msg(&r)));
    }
    let r = auth
        .initiate_auth(password_auth(&client, "dave", PASSWORD))
        .await;
    observed.push(("the right password".into(), outcome_msg(&r)));
    let mut want: Vec<(String, String)> = (1..=THRESHOLD)
        .map(|i| {
            (
                format!("300-byte password #{i}"),
                format!("NotAuthorizedException: {WRONG}"),
            )
        })
        .collect();
    want.push((
        "the right password".into(),
        format!("NotAuthorizedException: {LOCKED}"),
    ));
    assert_eq!(observed, want);
    env.shutdown().await;
}

/// Found by `signet bench password-sign-in -c 64`: under overload, users who only ever gave
/// the right password were locked out — each attempt was counted before its hash, and an
/// attempt the saturated hasher then refused stayed counted. An attempt now takes its place
/// in the hash queue first: refused as overload it is not counted, taken it is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_never_counts_the_right_password_as_a_failure() {
    const N: usize = 48;
    let _serial = SERIAL.lock().await;
    let env = Small::start(1, |c| {
        c.hash_workers = 1;
        c.hash_queue = 1;
        c.hash_queue_deadline = Duration::from_secs(30);
        c.lockout_base = Duration::from_secs(120);
    })
    .await;
    let (_, client) = pool_with_dave(env.gw(), false).await;
    let auth = auth_client(env.gw()).await;
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    // Three bursts: far more attempts than the threshold reach the store if refusals count.
    for _ in 0..3 {
        let barrier = Arc::new(Barrier::new(N));
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let (mut auth, barrier) = (auth.clone(), barrier.clone());
                let request = password_auth(&client, "dave", PASSWORD);
                tokio::spawn(async move {
                    barrier.wait().await;
                    auth.initiate_auth(request).await.map(|r| r.into_inner())
                })
            })
            .collect();
        for t in tasks {
            let r = t.await.expect("task");
            let what = match &r {
                Ok(a) if a.authentication_result.is_some() => "signed in".to_string(),
                _ => outcome_msg(&r),
            };
            *answers.entry(what).or_default() += 1;
        }
    }
    let signed_in = answers.get("signed in").copied().unwrap_or(0);
    let refused = answers
        .iter()
        .filter(|(k, _)| k.contains("TooManyRequestsException"))
        .map(|(_, v)| *v)
        .sum::<usize>();
    assert!(
        signed_in >= 1 && refused >= 1,
        "not overloaded? {answers:?}"
    );
    assert_eq!(
        signed_in + refused,
        3 * N,
        "only sign-ins and overload refusals, never a wrong-password or lockout answer: {answers:?}"
    );
    // And dave is not locked out afterwards.
    let r = auth_client(env.gw())
        .await
        .initiate_auth(password_auth(&client, "dave", PASSWORD))
        .await;
    assert!(r.is_ok(), "{}", outcome_msg(&r));
    env.shutdown().await;
}
