//! A real, independent OpenID Provider for federation tests: panva's certified
//! `oidc-provider` from npm (tests/clients/oidc_provider/provider.js, its version pinned in
//! the package-lock.json there), run as a child process through tests/clients/node_project.py,
//! which installs the pinned packages with `npm ci` on first use. Its development
//! interactions are kept: a browser types a login on its login page and confirms on its
//! consent page. Every login is one account: sub [`OP_SUBJECT`], email [`OP_EMAIL`]
//! (verified), name [`OP_NAME`].

use super::clients::repo;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The one account's subject, e-mail and name at the provider.
pub const OP_SUBJECT: &str = "op-user-1";
pub const OP_EMAIL: &str = "olga@op.example";
pub const OP_NAME: &str = "Olga";

/// How long the provider may take to serve: on the first run `npm ci` fetches its packages.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The running provider; killed when stopped or dropped (and it ends by itself when the
/// test process is gone: its standard input closes). A test that panics while holding it
/// prints what the provider logged.
pub struct OpenIdProvider {
    /// `http://127.0.0.1:PORT`, a port the system picked.
    pub issuer: String,
    child: Child,
    /// Held open: the provider ends when its standard input closes.
    _stdin: ChildStdin,
    log: Arc<Mutex<Vec<String>>>,
}

impl OpenIdProvider {
    /// Start the provider with one confidential client (`client_secret_basic`, the code
    /// flow, PKCE S256 required) whose one redirect URI is `redirect_uri`; returns once it
    /// serves.
    pub async fn start(client_id: &str, client_secret: &str, redirect_uri: &str) -> Self {
        let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
        let mut child = Command::new(&python)
            .arg(repo().join("tests/clients/node_project.py"))
            .args(["oidc_provider", "provider.js"])
            .args(["--client-id", client_id, "--client-secret", client_secret])
            .args(["--redirect-uri", redirect_uri])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the OpenID Provider needs `{python}` (Python 3), `node` and `npm` \
                     (Debian: apt-get install python3 nodejs npm): {e}"
                )
            });
        let stdin = child.stdin.take().expect("stdin");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let kept = log.clone();
        let stderr_task = tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(START_TIMEOUT, out_lines.next_line()).await;
        let line = match first {
            Ok(Ok(Some(line))) => line,
            other => {
                let _ = child.start_kill();
                let status = child.wait().await;
                let _ = stderr_task.await;
                panic!(
                    "the OpenID Provider did not start ({other:?}, {status:?}):\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        let said: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the OpenID Provider said {line:?}: {e}"));
        let issuer = said["issuer"].as_str().expect("issuer").to_string();
        // Anything more it prints is drained (it prints nothing more).
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        OpenIdProvider {
            issuer,
            child,
            _stdin: stdin,
            log,
        }
    }

    /// What it logged so far: one line per request answered, `METHOD PATH -> STATUS`
    /// (after a `provider.js: ` prefix), its warnings and errors.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
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
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "the OpenID Provider ({}) logged:\n{}",
                self.issuer,
                self.log().join("\n")
            );
        }
    }
}
