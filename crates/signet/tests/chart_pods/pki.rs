//! The Secrets a release needs before it starts (README, "Deploy on Kubernetes"): the
//! role certificates and the gateways' public certificate, made with `signet certs`, and
//! the gateways' secrets.

use super::cluster::Secrets;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// What the operator made before `helm install`.
pub struct Provided {
    pub secrets: Secrets,
    /// The CA (clients of the gateways' public TLS check with it).
    pub ca: PathBuf,
    /// The admin API's bearer secret.
    pub admin_secret: String,
    pub dir: tempfile::TempDir,
}

async fn certs(bin: &Path, args: &[&str]) {
    let out = tokio::process::Command::new(bin)
        .arg("certs")
        .args(args)
        .env_remove("SIGNET_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("signet certs finished")
        .expect("run signet certs");
    assert!(
        out.status.success(),
        "signet certs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `n` random characters from `alphabet`.
fn random(alphabet: &[u8], n: usize) -> String {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect()
}

/// The README's steps for release `release` in `namespace`: a CA, one certificate per role
/// in `<release>-<role>-tls` (ca.crt, tls.crt, tls.key), the public certificate in
/// `<release>-gateway-public-tls` for the gateway Services' names (and, since the test's
/// clients dial gateway pods by address, `gateway_ips`), and `secrets_name` with
/// admin-secret, server-secret and webhook-secret.
pub async fn provide(
    bin: &Path,
    release: &str,
    namespace: &str,
    secrets_name: &str,
    gateway_ips: &[Ipv4Addr],
) -> Provided {
    let dir = tempfile::tempdir().expect("pki dir");
    let pki = dir.path().join("pki");
    let p = pki.to_str().expect("utf-8 path");
    certs(bin, &["init", "--dir", p]).await;
    let read = |f: &str| std::fs::read(pki.join(f)).expect("certificate file");
    let mut secrets: Secrets = BTreeMap::new();
    for role in ["store", "gateway", "operator"] {
        certs(bin, &["issue", "--dir", p, "--role", role, "--name", "k8s"]).await;
        let data = BTreeMap::from([
            ("ca.crt".to_string(), read("ca.crt")),
            ("tls.crt".to_string(), read(&format!("{role}-k8s.crt"))),
            ("tls.key".to_string(), read(&format!("{role}-k8s.key"))),
        ]);
        secrets.insert(format!("{release}-{role}-tls"), data);
    }
    let dns = format!(
        "{release}-gateway-grpc.{namespace}.svc,{release}-gateway-http.{namespace}.svc,ids.example.com"
    );
    let ips: Vec<String> = gateway_ips.iter().map(|i| i.to_string()).collect();
    let out = format!("{p}/public");
    certs(
        bin,
        &[
            "issue",
            "--dir",
            p,
            "--out",
            &out,
            "--dns",
            &dns,
            "--ip",
            &ips.join(","),
        ],
    )
    .await;
    secrets.insert(
        format!("{release}-gateway-public-tls"),
        BTreeMap::from([
            ("ca.crt".to_string(), read("ca.crt")),
            ("tls.crt".to_string(), read("public.crt")),
            ("tls.key".to_string(), read("public.key")),
        ]),
    );
    let alnum = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let admin_secret = random(alnum, 40);
    secrets.insert(
        secrets_name.to_string(),
        BTreeMap::from([
            (
                "admin-secret".to_string(),
                admin_secret.clone().into_bytes(),
            ),
            (
                "server-secret".to_string(),
                random(b"0123456789abcdef", 64).into_bytes(),
            ),
            ("webhook-secret".to_string(), random(alnum, 48).into_bytes()),
        ]),
    );
    Provided {
        secrets,
        ca: pki.join("ca.crt"),
        admin_secret,
        dir,
    }
}
