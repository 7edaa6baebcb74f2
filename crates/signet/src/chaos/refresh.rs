//! The refresh workload, refresh-token rotation with reuse detection: each client signs a
//! user in (a new token family), rotates the family's token a few times alone, then has
//! two racers present the same generation at once through two gateways (REFRESH_TOKEN_AUTH
//! on a client with rotation): one must win, the other's presentation is a reuse that
//! revokes the family, so the winner's new token is refused when presented next. A
//! presentation without an answer is presented again (a legitimate reuse if the first one
//! took effect). After healing, the last token of every family is presented once more.
//! The histories are judged by `signet_chaos::rotation`.

use super::auth::{self, racer, AuthPool};
use super::endpoints::Endpoints;
use anyhow::Context;
use futures::stream::{self, StreamExt};
use signet_chaos::history::Outcome;
use signet_chaos::rotation::{Presentation, Redeemed, RefreshEntry};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Pause between two families of one client: each starts with a sign-in (an argon2
/// hash), and unpaced clients would take the machine from the stores.
const PACE: Duration = Duration::from_millis(100);
/// Families presented again after healing at once.
const PROBES_IN_FLIGHT: usize = 8;

/// The last token of a family, to present again after healing.
pub struct Held {
    family: String,
    generation: u32,
    token: String,
}

/// One refresh client: a user of its own and two racers on two gateways.
pub struct Client {
    pub id: u32,
    /// The racers' public API clients and gateway indexes.
    pub racers: [(UserPoolAuthClient<Channel>, usize); 2],
    pub pool: AuthPool,
    pub username: String,
    pub password: String,
    pub start: Instant,
    pub timeout: Duration,
}

/// A presentation's answer and, when it rotated, the next token.
type Answer = (Outcome<Redeemed>, Option<String>);

/// Present `token` through `auth`.
async fn present(
    auth: &mut UserPoolAuthClient<Channel>,
    client_id: &str,
    token: &str,
    timeout: Duration,
) -> Answer {
    let call = auth.initiate_auth(pb::InitiateAuthRequest {
        client_id: client_id.into(),
        auth_flow: "REFRESH_TOKEN_AUTH".into(),
        auth_parameters: HashMap::from([("REFRESH_TOKEN".to_string(), token.to_string())]),
        client_metadata: Default::default(),
    });
    match auth::timed(timeout, call).await {
        Ok(r) => {
            let next = r
                .authentication_result
                .map(|t| t.refresh_token)
                .filter(|t| !t.is_empty());
            (Outcome::Ok(Redeemed::Rotated), next)
        }
        Err(s) if s.code() == tonic::Code::Unauthenticated && s.message().contains("revoked") => {
            (Outcome::Ok(Redeemed::Revoked), None)
        }
        Err(s) => (super::workload::outcome(&s), None),
    }
}

impl Client {
    /// Client `id`, its racers on gateways `g` and the next, signing in a user of its own
    /// (made here).
    pub async fn new(
        id: u32,
        e: &Endpoints,
        g: usize,
        pool: &AuthPool,
        start: Instant,
        timeout: Duration,
    ) -> anyhow::Result<Client> {
        let (username, password) = (format!("refresh-c{id}"), auth::password());
        let mut admin = UserPoolAdminClient::new(super::channel(e, g).await?);
        auth::make_user(&mut admin, &pool.pool_id, &username, &password, timeout)
            .await
            .map_err(crate::rpc::status_error)
            .context("making the refresh workload's user")?;
        let mut racers = auth::racers(e, g, 2).await?.into_iter();
        let (Some(a), Some(b)) = (racers.next(), racers.next()) else {
            anyhow::bail!("two racers asked, fewer made");
        };
        Ok(Client {
            id,
            racers: [a, b],
            pool: pool.clone(),
            username,
            password,
            start,
            timeout,
        })
    }

    /// Presentation of generation `generation` of `family` by racer `r`.
    async fn step(
        &mut self,
        r: usize,
        family: &str,
        generation: u32,
        token: &str,
    ) -> (RefreshEntry, Option<String>) {
        let (auth, g) = &mut self.racers[r];
        let input = Presentation {
            family: family.into(),
            generation,
            gateway: auth::gateway_name(*g),
        };
        let (client_id, timeout) = (self.pool.client_id.clone(), self.timeout);
        let mut next = None;
        let op = auth::record(racer(self.id, r), self.start, input, async {
            let (outcome, token) = present(auth, &client_id, token, timeout).await;
            next = token;
            outcome
        })
        .await;
        (op, next)
    }

    /// Run families until `stop`: the history, and each family's last token.
    pub async fn run(
        mut self,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> (Vec<RefreshEntry>, Vec<Held>) {
        let (mut ops, mut held) = (Vec::new(), Vec::new());
        for n in 0u32.. {
            if *stop.borrow() {
                break;
            }
            let family = format!("c{}-f{n}", self.id);
            let first = (n % 2) as usize;
            let (auth, _) = &mut self.racers[first];
            let signed = auth::sign_in(
                auth,
                &self.pool.client_id,
                &self.username,
                &self.password,
                self.timeout,
            )
            .await;
            let Ok(tokens) = signed else {
                tokio::time::sleep(PACE).await;
                continue;
            };
            let last = self
                .family(&family, n, tokens.refresh_token, &mut ops)
                .await;
            held.push(last);
            tokio::time::sleep(PACE).await;
        }
        (ops, held)
    }

    /// One family: `n % 3` rotations alone, then the race and the winner's next
    /// presentation; its last token.
    async fn family(
        &mut self,
        family: &str,
        n: u32,
        mut token: String,
        ops: &mut Vec<RefreshEntry>,
    ) -> Held {
        let mut generation = 0;
        let hold = |generation, token| Held {
            family: family.to_string(),
            generation,
            token,
        };
        for s in 0..n % 3 {
            let r = (s % 2) as usize;
            let (op, mut next) = self.step(r, family, generation, &token).await;
            let settled = matches!(op.outcome, Outcome::Ok(_));
            ops.push(op);
            if !settled {
                // No answer, or refused: present the same token again. If the first took
                // effect, this is a reuse and revokes the family.
                let (op, again) = self.step(1 - r, family, generation, &token).await;
                ops.push(op);
                next = again;
            }
            match next {
                Some(t) => (token, generation) = (t, generation + 1),
                None => return hold(generation, token),
            }
        }
        // The race: both racers present the same generation at once.
        let (a, b) = self.racers.split_at_mut(1);
        let (client_id, timeout, start, id) = (
            self.pool.client_id.clone(),
            self.timeout,
            self.start,
            self.id,
        );
        let racing = [(&mut a[0], 0usize), (&mut b[0], 1usize)].map(|((auth, g), r)| {
            let (client_id, token) = (client_id.clone(), token.clone());
            let input = Presentation {
                family: family.into(),
                generation,
                gateway: auth::gateway_name(*g),
            };
            async move {
                let mut next = None;
                let op = auth::record(racer(id, r), start, input, async {
                    let (outcome, t) = present(auth, &client_id, &token, timeout).await;
                    next = t;
                    outcome
                })
                .await;
                (op, next, r)
            }
        });
        let raced = futures::future::join_all(racing).await;
        let winner = raced
            .iter()
            .find_map(|(_, next, r)| next.clone().map(|t| (t, *r)));
        ops.extend(raced.into_iter().map(|(op, _, _)| op));
        let Some((won, r)) = winner else {
            return hold(generation, token);
        };
        // The winner's new token, presented through the loser's gateway once both
        // answered: refused if the loser's presentation revoked the family.
        let (op, next) = self.step(1 - r, family, generation + 1, &won).await;
        ops.push(op);
        match next {
            Some(t) => hold(generation + 2, t),
            None => hold(generation + 1, won),
        }
    }
}

/// Present every family's last token again through the gateways in turn, after healing.
pub async fn probe(
    e: &Endpoints,
    pool: &AuthPool,
    held: &[Held],
    start: Instant,
    timeout: Duration,
) -> anyhow::Result<Vec<RefreshEntry>> {
    let publics = auth::public_clients(e).await?;
    let probes = stream::iter(held.iter().enumerate()).map(|(i, h)| {
        let g = i % publics.len();
        let mut auth = publics[g].clone();
        let input = Presentation {
            family: h.family.clone(),
            generation: h.generation,
            gateway: auth::gateway_name(g),
        };
        // Probes are no workload client: their ids come after the racers'.
        let client = u32::MAX - (i % PROBES_IN_FLIGHT) as u32;
        let client_id = pool.client_id.clone();
        async move {
            auth::record(client, start, input, async {
                present(&mut auth, &client_id, &h.token, timeout).await.0
            })
            .await
        }
    });
    Ok(probes.buffered(PROBES_IN_FLIGHT).collect().await)
}
