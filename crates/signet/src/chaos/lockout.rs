//! The lockout workload, cluster-wide lockout counting: each round makes a user with a
//! password, then three racers fire wrong passwords for it at once through different
//! gateways (USER_PASSWORD_AUTH), more than the lockout threshold in all; right after, the
//! right password is tried (it must be refused while locked), then again every 700 ms
//! until it signs in (the lockout passed). Every attempt is recorded; judged by
//! `signet_chaos::lockout` against the gateways' lockout policy.

use super::auth::{self, racer, AuthPool};
use super::endpoints::Endpoints;
use signet_chaos::history::Outcome;
use signet_chaos::lockout::{Answer, Guess, GuessEntry, Policy};
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Wrong passwords each racer tries in a row: three racers, nine guesses against a
/// threshold of five.
const WRONG_PER_RACER: usize = 3;
/// Racers per user.
const RACERS: usize = 3;
/// Between two tries of the right password once the burst is over.
const RETRY: Duration = Duration::from_millis(700);
/// Tries of the right password per round (the first is expected refused; a lockout of a
/// few seconds passes within them).
const RIGHT_TRIES: usize = 8;
/// Pause between two rounds of one client.
const PACE: Duration = Duration::from_millis(200);
/// Tolerance between the gateways' clocks (which stamp the failures) and this process's.
const CLOCK_SLACK_MS: u64 = 100;

/// The lockout policy of a gateway run by `signet gateway` (it has no flags for it: the
/// defaults of `GatewayConfig`). An attached cluster is assumed to run the same.
pub fn policy() -> Policy {
    let secret = signet_crypto::Secret::new(vec![0; 32]);
    let cfg = secret.map(|s| signet_gateway::GatewayConfig::new("http://x", String::new(), s));
    let (threshold, base, max) = match cfg {
        Some(c) => (c.lockout_threshold, c.lockout_base, c.lockout_max),
        // A 32-byte key is always accepted; this only keeps the I/O-free path panic-free.
        None => (5, Duration::from_secs(1), Duration::from_secs(900)),
    };
    Policy {
        threshold,
        base_ms: base.as_millis() as u64,
        max_ms: max.as_millis() as u64,
        slack_ms: CLOCK_SLACK_MS,
    }
}

/// One lockout client.
pub struct Client {
    pub seat: auth::Seat,
}

/// One sign-in attempt as the lockout sees it.
async fn attempt(
    auth: &mut UserPoolAuthClient<Channel>,
    client_id: &str,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Outcome<Answer> {
    match auth::sign_in(auth, client_id, user, password, timeout).await {
        Ok(_) => Outcome::Ok(Answer::SignedIn),
        Err(s) if auth::says_incorrect(&s) => Outcome::Ok(Answer::Incorrect),
        Err(s) if auth::says_locked(&s) => Outcome::Ok(Answer::Locked),
        Err(s) => super::workload::outcome(&s),
    }
}

impl Client {
    /// Client `id`, its admin calls through gateway `g`, its racers on `g` and the next.
    pub async fn new(
        id: u32,
        e: &Endpoints,
        g: usize,
        pool: &AuthPool,
        start: Instant,
        timeout: Duration,
    ) -> anyhow::Result<Client> {
        let seat = auth::Seat::new(id, e, g, pool, (start, timeout), RACERS).await?;
        Ok(Client { seat })
    }

    /// Run rounds until `stop`; the history of this client's racers.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<GuessEntry> {
        let mut ops = Vec::new();
        for n in 0u32.. {
            if *stop.borrow() {
                break;
            }
            self.round(n, &mut ops).await;
            tokio::time::sleep(PACE).await;
        }
        ops
    }

    async fn round(&mut self, n: u32, ops: &mut Vec<GuessEntry>) {
        let user = format!("lock-c{}-{n}", self.seat.id);
        let password = auth::password();
        let (pool_id, client_id) = (
            self.seat.pool.pool_id.clone(),
            self.seat.pool.client_id.clone(),
        );
        let (id, start, timeout) = (self.seat.id, self.seat.start, self.seat.timeout);
        if auth::make_user(&mut self.seat.admin, &pool_id, &user, &password, timeout)
            .await
            .is_err()
        {
            return;
        }
        let burst = self.seat.racers.iter_mut().enumerate().map(|(r, (c, g))| {
            let (user, client_id) = (user.clone(), client_id.clone());
            let gateway = auth::gateway_name(*g);
            async move {
                let mut out = Vec::new();
                for k in 0..WRONG_PER_RACER {
                    let wrong = format!("Wrong-{r}-{k}-{}", auth::password());
                    let input = Guess {
                        user: user.clone(),
                        right: false,
                        gateway: gateway.clone(),
                    };
                    let call = attempt(c, &client_id, &user, &wrong, timeout);
                    out.push(auth::record(racer(id, r), start, input, call).await);
                }
                out
            }
        });
        ops.extend(futures::future::join_all(burst).await.into_iter().flatten());
        let racers = self.seat.racers.len();
        for k in 0..RIGHT_TRIES {
            let (c, g) = &mut self.seat.racers[k % racers];
            let input = Guess {
                user: user.clone(),
                right: true,
                gateway: auth::gateway_name(*g),
            };
            let call = attempt(c, &client_id, &user, &password, timeout);
            let op = auth::record(id, start, input, call).await;
            let done = op.outcome == Outcome::Ok(Answer::SignedIn);
            ops.push(op);
            if done {
                return;
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_policy_is_the_gateways_default() {
        let p = super::policy();
        assert_eq!((p.threshold, p.base_ms, p.max_ms), (5, 1000, 900_000));
    }
}
