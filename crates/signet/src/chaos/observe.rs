//! What the cluster holds after healing, read through every gateway (and, for the
//! sign-in workloads, asked again: the last refresh tokens presented, the reset
//! passwords tried), saved as `final.json` so that `chaos check` judges a run again.

use super::judge::Histories;
use super::{channel, codes, identities, refresh, tokens, Endpoints, Setup};
use crate::rpc::{status_error, AdminChannel};
use serde::{Deserialize, Serialize};
use signet_chaos::history::Outcome;
use signet_chaos::lockout::Policy;
use signet_chaos::once::PasswordProbe;
use signet_chaos::rotation::RefreshEntry;
use signet_chaos::unique::GetOrCreateEntry;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the cluster holds after healing, as each gateway shows it (saved as
/// `final.json`, so `chaos check` can judge a run again).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FinalState {
    /// The usernames each gateway lists, by gateway.
    pub users: BTreeMap<String, Vec<String>>,
    /// (login, identity) each gateway answers when asked again, by gateway.
    pub identities: BTreeMap<String, Vec<(String, String)>>,
    /// How many identities the identity pool lists.
    pub identities_listed: usize,
    /// The pool's JWKS as every gateway served it after healing, to check the tokens
    /// against (absent when the token workload did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<tokens::TokensFinal>,
    /// The last refresh token of every family, presented again after healing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refresh_probes: Vec<RefreshEntry>,
    /// Every reset round's passwords, tried after healing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub password_probes: Vec<PasswordProbe>,
    /// The lockout policy the guesses are judged against (when the lockout workload ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_policy: Option<Policy>,
    /// The signing keys and gateway faults, to find stale retirements (local runs with the
    /// token workload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<super::keys::KeysFinal>,
}

/// What the sign-in workloads hand over to be asked again after healing.
#[derive(Default)]
pub struct Pending {
    pub held: Vec<refresh::Held>,
    pub rounds: Vec<codes::Round>,
    /// Whether the lockout workload ran.
    pub lockout: bool,
}

/// Read (and ask again) what the histories `h` need judged.
pub async fn observe(
    cluster: &Endpoints,
    made: &Setup,
    h: &Histories,
    pending: &Pending,
    start: Instant,
    timeout: Duration,
) -> anyhow::Result<FinalState> {
    let (adds, gets) = (&h.adds, &h.gets);
    let mut fin = FinalState::default();
    for g in 0..cluster.gateways.len() {
        let name = format!("gateway-{}", g + 1);
        if !adds.is_empty() {
            let mut admin = UserPoolAdminClient::new(channel(cluster, g).await?);
            fin.users
                .insert(name.clone(), list_users(&mut admin, &made.user_pool).await?);
        }
        if !gets.is_empty() {
            let mut admin = IdentityAdminClient::new(channel(cluster, g).await?);
            let now = identities_now(&mut admin, &made.identity_pool, gets, timeout).await?;
            fin.identities.insert(name, now);
        }
    }
    if !gets.is_empty() {
        let mut admin = IdentityAdminClient::new(channel(cluster, 0).await?);
        fin.identities_listed = count_identities(&mut admin, &made.identity_pool).await?;
    }
    if let Some(service) = &made.service {
        fin.tokens = Some(tokens::observe(cluster, &made.user_pool, service).await?);
    }
    if let Some(pool) = &made.auth {
        if !pending.held.is_empty() {
            fin.refresh_probes =
                refresh::probe(cluster, pool, &pending.held, start, timeout).await?;
        }
        if !pending.rounds.is_empty() {
            fin.password_probes = codes::probe(cluster, pool, &pending.rounds, timeout).await?;
        }
    }
    if pending.lockout {
        fin.lockout_policy = Some(super::lockout::policy());
    }
    Ok(fin)
}

/// Every username of the pool, through one gateway (all pages).
async fn list_users(
    admin: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let r = admin
            .list_users(pb::ListUsersRequest {
                user_pool_id: pool_id.into(),
                filter: String::new(),
                limit: 60,
                pagination_token: token,
                attributes_to_get: vec![],
            })
            .await
            .map_err(status_error)?
            .into_inner();
        out.extend(r.users.into_iter().map(|u| u.username));
        if r.pagination_token.is_empty() {
            return Ok(out);
        }
        token = r.pagination_token;
    }
}

/// The identity of every login asked for, asked again now through one gateway: the final
/// state of the login → identity map.
async fn identities_now(
    admin: &mut IdentityAdminClient<AdminChannel>,
    pool_id: &str,
    gets: &[GetOrCreateEntry],
    timeout: Duration,
) -> anyhow::Result<Vec<(String, String)>> {
    let logins: std::collections::BTreeSet<&String> = gets.iter().map(|o| &o.input).collect();
    let mut present = Vec::new();
    for login in logins {
        match identities::get_or_create(admin, pool_id, login, timeout).await {
            Outcome::Ok(id) => present.push((login.clone(), id)),
            other => anyhow::bail!("after healing, GetId of {login} ended {other:?}"),
        }
    }
    Ok(present)
}

/// How many identities the pool has (all pages).
async fn count_identities(
    admin: &mut IdentityAdminClient<AdminChannel>,
    pool_id: &str,
) -> anyhow::Result<usize> {
    let (mut n, mut token) = (0, String::new());
    loop {
        let r = admin
            .list_identities(pb::ListIdentitiesRequest {
                identity_pool_id: pool_id.into(),
                max_results: 60,
                next_token: token,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        n += r.identities.len();
        if r.next_token.is_empty() {
            return Ok(n);
        }
        token = r.next_token;
    }
}
