//! A real SAML 2.0 IdP for federation tests: pysaml2's (tests/clients/saml_idp.py, in a
//! venv of pinned PyPI packages made on first use; it signs with the `xmlsec1` binary), run
//! as a child process; and the attacker's toolkit (tests/clients/saml_forge.py: lxml and
//! signxml) that alters the Responses it posts.

use super::child_server::ChildServer;
use super::clients::{python_client, repo};
use std::time::Duration;
use tokio::process::Command;

/// How long the IdP may take to serve: on the first run its venv is made.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// The running IdP (see [`ChildServer`]).
pub struct SamlIdp {
    /// Its metadata's URL (also its entity ID).
    pub metadata_url: String,
    /// Its single sign-on service (HTTP-Redirect binding).
    pub sso_url: String,
    server: ChildServer,
}

impl SamlIdp {
    /// Start the IdP with `users` (`NAME:PASSWORD:EMAIL`), signing per `sign` (`assertion`,
    /// `response` or `both`). It learns each SP from its AuthnRequest and fetches the SP's
    /// metadata: `local_base` maps the gateway's public URL to where it is reached here.
    pub async fn start(users: &[&str], sign: &str, local_base: (&str, &str)) -> Self {
        let python = std::env::var("SIGNET_PYTHON3").unwrap_or_else(|_| "python3".to_string());
        let mut cmd = Command::new(&python);
        cmd.arg(repo().join("tests/clients/saml_idp.py"))
            .args(["serve", "--port", "0", "--sign", sign])
            .args([
                "--local-base",
                &format!("{}={}", local_base.0, local_base.1),
            ]);
        for u in users {
            cmd.args(["--user", u]);
        }
        let needs = format!(
            "`{python}` (Python 3 with venv) and `xmlsec1` (Debian: apt-get install python3-venv xmlsec1)"
        );
        let server = ChildServer::start("the SAML IdP", cmd, START_TIMEOUT, &needs).await;
        SamlIdp {
            metadata_url: server.said("metadata_url"),
            sso_url: server.said("sso_url"),
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, where a browser reaches it.
    pub fn base(&self) -> String {
        self.server.said("base")
    }

    /// Its entity ID.
    pub fn entity_id(&self) -> String {
        self.server.said("entity_id")
    }

    /// What it logged so far.
    pub fn log(&self) -> Vec<String> {
        self.server.log()
    }

    /// Kill it and wait for it to end.
    pub async fn stop(self) {
        self.server.stop().await
    }
}

/// The attacker's `command` (see saml_forge.py) applied to a base64 SAMLResponse, with
/// `args`: the altered SAMLResponse.
pub async fn forge(command: &str, saml_response: &str, args: &[&str]) -> String {
    let mut all: Vec<String> = vec![command.into(), "--response".into(), saml_response.into()];
    all.extend(args.iter().map(|a| a.to_string()));
    let out = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        python_client("saml_forge.py", &refs)
    })
    .await
    .expect("saml_forge.py");
    out["saml_response"]
        .as_str()
        .unwrap_or_else(|| panic!("saml_forge.py {command}: {out}"))
        .to_string()
}

/// An attacker's own RSA key and self-signed certificate, written under `dir`: (key, cert)
/// paths.
pub async fn attacker_keys(dir: &std::path::Path) -> (String, String) {
    let dir = dir.to_string_lossy().to_string();
    let out = tokio::task::spawn_blocking(move || {
        python_client("saml_forge.py", &["keygen", "--out", &dir])
    })
    .await
    .expect("saml_forge.py keygen");
    (
        out["key"].as_str().expect("key").to_string(),
        out["cert"].as_str().expect("cert").to_string(),
    )
}
