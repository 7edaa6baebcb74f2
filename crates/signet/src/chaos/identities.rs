//! The GetId workload: clients get-or-create the identity of developer-provider logins
//! from a small set (so they race for the same ones) through
//! GetOpenIdTokenForDeveloperIdentity, and record which identity each call was given.

use super::workload::Recorder;
use crate::rpc::AdminChannel;
use signet_chaos::history::Outcome;
use signet_chaos::unique::GetOrCreateEntry;
use signet_proto::v1 as pb;
use signet_proto::v1::identity_admin_client::IdentityAdminClient;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The developer provider of the chaos identity pool.
pub const PROVIDER: &str = "chaos.dev";
/// How many logins the clients race for.
pub const LOGINS: u64 = 32;

/// One GetId client.
pub struct Client {
    pub id: u32,
    pub admin: IdentityAdminClient<AdminChannel>,
    pub pool_id: String,
    pub start: Instant,
    pub timeout: Duration,
}

/// Get or create the identity of `login`: its id, or the outcome it ended with.
pub async fn get_or_create(
    admin: &mut IdentityAdminClient<AdminChannel>,
    pool_id: &str,
    login: &str,
    timeout: Duration,
) -> Outcome<String> {
    let call = admin.get_open_id_token_for_developer_identity(
        pb::GetOpenIdTokenForDeveloperIdentityRequest {
            identity_pool_id: pool_id.into(),
            logins: HashMap::from([(PROVIDER.to_string(), login.to_string())]),
            ..Default::default()
        },
    );
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(r)) => Outcome::Ok(r.into_inner().identity_id),
        Ok(Err(status)) => super::workload::outcome(&status),
        Err(_) => Outcome::Unknown,
    }
}

impl Client {
    /// Race for the logins until `stop`; the history of this client.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Vec<GetOrCreateEntry> {
        let mut rec = Recorder::new(self.id, self.start);
        let mut state = u64::from(self.id) * 0x9e37_79b9 + 1;
        while !*stop.borrow() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let login = format!("u{}", state % LOGINS);
            let invoke_ns = rec.now();
            let outcome = get_or_create(&mut self.admin, &self.pool_id, &login, self.timeout).await;
            rec.record(login, invoke_ns, outcome).await;
        }
        rec.ops
    }
}
