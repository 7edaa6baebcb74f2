//! The codes workload, one-time codes spent at most once: each round makes a user with a
//! password and a verified e-mail, asks for a password-reset code (ForgotPassword), reads
//! it from the dev outbox (ListOutbox: the local cluster's gateways run with
//! `--dev-outbox`), and has three racers redeem it at once through different gateways
//! (ConfirmForgotPassword), each with a new password of its own. After healing, every
//! round's passwords (the one from before and the three candidates) are tried
//! (USER_PASSWORD_AUTH). Judged by `signet_chaos::once`.
//!
//! Every round has a user of its own, so the per-user limits (DESIGN §8: ten codes issued
//! and ten failed redemptions per user and purpose per hour) are never reached: a round
//! issues one code (two if the first request had no answer), and racers losing to the
//! winner find the code gone, which costs nothing. The sign-ins after healing try at most
//! four passwords per user, under the lockout threshold (five).

use super::auth::{self, racer, AuthPool};
use super::endpoints::Endpoints;
use futures::stream::{self, StreamExt};
use signet_chaos::history::Outcome;
use signet_chaos::once::{PasswordProbe, RedeemEntry, Redemption};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Racers per code.
pub const RACERS: usize = 3;
/// Pause between two rounds of one client (each costs the gateways four argon2 hashes,
/// and four more after healing).
const PACE: Duration = Duration::from_millis(300);
/// Sign-ins after healing in flight at once.
const PROBES_IN_FLIGHT: usize = 8;
/// Tries of a sign-in after healing before it is left undecided.
const PROBE_TRIES: usize = 3;

/// A round's passwords, to try after healing.
pub struct Round {
    user: String,
    original: String,
    candidates: Vec<String>,
}

/// One codes client.
pub struct Client {
    pub seat: auth::Seat,
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

    /// Run rounds until `stop`: the history, and the rounds whose code was raced.
    pub async fn run(
        mut self,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> (Vec<RedeemEntry>, Vec<Round>) {
        let (mut ops, mut rounds) = (Vec::new(), Vec::new());
        for n in 0u32.. {
            if *stop.borrow() {
                break;
            }
            if let Some(round) = self.round(n, &mut ops).await {
                rounds.push(round);
            }
            tokio::time::sleep(PACE).await;
        }
        (ops, rounds)
    }

    async fn round(&mut self, n: u32, ops: &mut Vec<RedeemEntry>) -> Option<Round> {
        let user = format!("code-c{}-{n}", self.seat.id);
        let original = auth::password();
        let (pool_id, timeout) = (self.seat.pool.pool_id.clone(), self.seat.timeout);
        auth::make_user(&mut self.seat.admin, &pool_id, &user, &original, timeout)
            .await
            .ok()?;
        let code = self.issue(&user).await?;
        let candidates: Vec<String> = (0..RACERS).map(|_| auth::password()).collect();
        let (client_id, start, id) = (
            self.seat.pool.client_id.clone(),
            self.seat.start,
            self.seat.id,
        );
        let racing = self.seat.racers.iter_mut().enumerate().map(|(r, (c, g))| {
            let request = pb::ConfirmForgotPasswordRequest {
                client_id: client_id.clone(),
                username: user.clone(),
                confirmation_code: code.clone(),
                password: candidates[r].clone(),
                ..Default::default()
            };
            let input = Redemption {
                user: user.clone(),
                candidate: r as u32,
                gateway: auth::gateway_name(*g),
            };
            auth::record(racer(id, r), start, input, async move {
                match auth::timed(timeout, c.confirm_forgot_password(request)).await {
                    Ok(_) => Outcome::Ok(()),
                    Err(s) => super::workload::outcome(&s),
                }
            })
        });
        ops.extend(futures::future::join_all(racing).await);
        Some(Round {
            user,
            original,
            candidates,
        })
    }

    /// Ask for a reset code for `user` and read it from the outbox; `None` when none
    /// could be had (the round is then skipped: nothing was redeemed).
    async fn issue(&mut self, user: &str) -> Option<String> {
        let timeout = self.seat.timeout;
        for _ in 0..2 {
            let (c, _) = &mut self.seat.racers[0];
            let asked = auth::timed(
                timeout,
                c.forgot_password(pb::ClientUserRequest {
                    client_id: self.seat.pool.client_id.clone(),
                    username: user.into(),
                    ..Default::default()
                }),
            )
            .await;
            // Refused: no code. No answer: a code may have been issued; look.
            if let Err(s) = &asked {
                if matches!(super::workload::outcome::<()>(s), Outcome::Failed) {
                    return None;
                }
            }
            let listed = auth::timed(
                timeout,
                self.seat.admin.list_outbox(pb::UserPoolRef {
                    user_pool_id: self.seat.pool.pool_id.clone(),
                }),
            )
            .await;
            let code = listed.ok().and_then(|l| {
                l.messages
                    .into_iter()
                    .find(|m| m.username == user && m.purpose == "reset")
                    .map(|m| m.code)
            });
            if code.is_some() {
                return code;
            }
            tokio::time::sleep(PACE).await;
        }
        None
    }
}

/// Whether `password` signs `user` in: `None` when no decided answer came back.
async fn signs_in(
    auth: &mut UserPoolAuthClient<Channel>,
    pool: &AuthPool,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Option<bool> {
    for _ in 0..PROBE_TRIES {
        match auth::sign_in(auth, &pool.client_id, user, password, timeout).await {
            Ok(_) => return Some(true),
            Err(s) if auth::says_incorrect(&s) => return Some(false),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    None
}

/// Try every round's passwords after healing, a user's one after another (at once, a
/// right one could lock the others out), the users through the gateways in turn.
pub async fn probe(
    e: &Endpoints,
    pool: &AuthPool,
    rounds: &[Round],
    timeout: Duration,
) -> anyhow::Result<Vec<PasswordProbe>> {
    let publics = auth::public_clients(e).await?;
    let users = stream::iter(rounds.iter().enumerate()).map(|(i, r)| {
        let mut auth = publics[i % publics.len()].clone();
        async move {
            let passwords = std::iter::once((None, &r.original)).chain(
                r.candidates
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (Some(i as u32), p)),
            );
            let mut out = Vec::new();
            for (candidate, password) in passwords {
                out.push(PasswordProbe {
                    user: r.user.clone(),
                    candidate,
                    signs_in: signs_in(&mut auth, pool, &r.user, password, timeout).await,
                });
            }
            out
        }
    });
    let tried: Vec<Vec<PasswordProbe>> = users.buffered(PROBES_IN_FLIGHT).collect().await;
    Ok(tried.into_iter().flatten().collect())
}
