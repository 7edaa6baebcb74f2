//! A real, independent OpenID Provider for federation tests: panva's certified
//! `oidc-provider` from npm (tests/clients/oidc_provider/provider.js, its version pinned in
//! the package-lock.json there), run as a child process through tests/clients/node_project.py,
//! which installs the pinned packages with `npm ci` on first use. Its development
//! interactions are kept: a browser types a login on its login page and confirms on its
//! consent page. Every login is one account: sub [`OP_SUBJECT`], email [`OP_EMAIL`]
//! (verified), name [`OP_NAME`].

use super::child_server::ChildServer;
use super::clients::repo;
use std::time::Duration;
use tokio::process::Command;

/// The one account's subject, e-mail and name at the provider.
pub const OP_SUBJECT: &str = "op-user-1";
pub const OP_EMAIL: &str = "olga@op.example";
pub const OP_NAME: &str = "Olga";

/// How long the provider may take to serve: on the first run `npm ci` fetches its packages.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The running provider (see [`ChildServer`]).
pub struct OpenIdProvider {
    /// `http://127.0.0.1:PORT`, a port the system picked.
    pub issuer: String,
    server: ChildServer,
}

impl OpenIdProvider {
    /// Start the provider with one confidential client (`client_secret_basic`, the code
    /// flow, PKCE S256 required) whose one redirect URI is `redirect_uri`; returns once it
    /// serves.
    pub async fn start(client_id: &str, client_secret: &str, redirect_uri: &str) -> Self {
        let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
        let mut cmd = Command::new(&python);
        cmd.arg(repo().join("tests/clients/node_project.py"))
            .args(["oidc_provider", "provider.js"])
            .args(["--client-id", client_id, "--client-secret", client_secret])
            .args(["--redirect-uri", redirect_uri]);
        let needs = format!(
            "`{python}` (Python 3), `node` and `npm` (Debian: apt-get install python3 nodejs npm)"
        );
        let server = ChildServer::start("the OpenID Provider", cmd, START_TIMEOUT, &needs).await;
        OpenIdProvider {
            issuer: server.said("issuer"),
            server,
        }
    }

    /// What it logged so far: one line per request answered, `METHOD PATH -> STATUS`
    /// (after a `provider.js: ` prefix), its warnings and errors.
    pub fn log(&self) -> Vec<String> {
        self.server.log()
    }

    /// The requests it answered, as `METHOD PATH -> STATUS`.
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter_map(|l| l.strip_prefix("provider.js: "))
            .filter(|l| l.contains(" -> "))
            .map(str::to_string)
            .collect()
    }

    /// Kill it and wait for it to end.
    pub async fn stop(self) {
        self.server.stop().await
    }
}
