//! The edge authorizer behind real proxies: Debian's nginx (`auth_request`) and Caddy
//! (`forward_auth`), each started here in front of a small upstream that echoes what it
//! received, with the configurations the README shows. Valid, expired, revoked,
//! wrong-scope, other-pool, missing and spoofed tokens get the right status, and the
//! upstream sees the trusted `x-signet-*` headers only on allow, never a caller's copies.

use crate::support::oauth::{
    basic, create_client, machine_client_request, new_pool, orders_api, post_form, send, url, READ,
    WRITE,
};
use crate::support::pools::{confirmed_user, pool_and_client, sign_in};
use oauth2::reqwest;
use signet_gateway::authorizer::AuthorizerConfig;
use signet_gateway::GatewayHandle;
use signet_proto::v1 as pb;
use signet_testkit::{auth_client, start_gateway, test_gateway_config, TestCluster};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const PASSWORD: &str = "Corr3ct-Horse!";

/// The upstream: answers every request with the `x-signet-*` headers it received, as JSON.
async fn echo_upstream() -> String {
    use axum::http::HeaderMap;
    async fn echo(headers: HeaderMap) -> axum::Json<serde_json::Value> {
        let mut seen = serde_json::Map::new();
        for (k, v) in &headers {
            if k.as_str().starts_with("x-signet-") {
                seen.insert(k.to_string(), v.to_str().unwrap_or("<bytes>").into());
            }
        }
        axum::Json(serde_json::Value::Object(seen))
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        axum::serve(l, axum::Router::new().fallback(echo))
            .await
            .unwrap()
    });
    addr
}

/// A port nothing listens on now (for the proxies, which cannot be given port 0).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(name: &str) -> String {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!("{name} is not installed (apt-get install nginx-light caddy; .ci/run does)")
}

/// Wait until something answers HTTP on `addr`; false if the proxy exited first (the port
/// picked for it was taken meanwhile, say).
async fn answering(addr: &str, child: &mut Child, what: &str) -> bool {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("{what} exited: {status}");
            return false;
        }
        if reqwest::get(format!("http://{addr}/")).await.is_ok() {
            return true;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first ```{lang} block of README.md's "Enforcing at the edge" section: the tests run
/// the proxies with the configuration the README gives.
fn readme_block(lang: &str) -> String {
    let readme =
        std::fs::read_to_string(crate::support::clients::repo().join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Enforcing at the edge")
        .expect("the README section")..];
    let start = section.find(&format!("```{lang}\n")).expect("the block") + lang.len() + 4;
    let len = section[start..].find("```").expect("its end");
    section[start..start + len].to_string()
}

/// The README's addresses replaced by this test's.
fn with_addresses(block: &str, gateway: &str, upstream: &str) -> String {
    block
        .replace("127.0.0.1:7411", gateway)
        .replace("127.0.0.1:8080", upstream)
}

/// nginx with `auth_request`, as README "Enforcing at the edge" configures it.
async fn nginx(dir: &Path, gateway: &str, upstream: &str) -> (Child, String) {
    for _ in 0..3 {
        if let Some(started) = nginx_once(dir, gateway, upstream).await {
            return started;
        }
    }
    panic!("nginx did not start on any of three ports")
}

async fn nginx_once(dir: &Path, gateway: &str, upstream: &str) -> Option<(Child, String)> {
    let addr = format!("127.0.0.1:{}", free_port());
    let d = dir.display();
    let locations = with_addresses(&readme_block("nginx"), gateway, upstream);
    let conf = format!(
        r#"worker_processes 1;
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen {addr};
{locations}  }}
}}
"#
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new(tool("nginx"))
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx");
    answering(&addr, &mut child, "nginx")
        .await
        .then_some((child, addr))
}

/// Caddy with `forward_auth`, as README "Enforcing at the edge" configures it.
async fn caddy(dir: &Path, gateway: &str, upstream: &str) -> (Child, String) {
    for _ in 0..3 {
        if let Some(started) = caddy_once(dir, gateway, upstream).await {
            return started;
        }
    }
    panic!("caddy did not start on any of three ports")
}

async fn caddy_once(dir: &Path, gateway: &str, upstream: &str) -> Option<(Child, String)> {
    let addr = format!("127.0.0.1:{}", free_port());
    let site = with_addresses(&readme_block("caddyfile"), gateway, upstream)
        .replace("http://api.example.com", &format!("http://{addr}"));
    let conf = format!("{{\n  admin off\n  auto_https off\n}}\n{site}");
    let path = dir.join("Caddyfile");
    std::fs::write(&path, conf).unwrap();
    let mut child = Command::new(tool("caddy"))
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("caddy.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("start caddy");
    answering(&addr, &mut child, "caddy")
        .await
        .then_some((child, addr))
}

/// nginx and Caddy as the README configures them, asking `gateway`, in front of
/// `upstream`; their files under `dir/<tag>-nginx` and `dir/<tag>-caddy`. The children
/// stop when dropped.
async fn both_proxies(
    dir: &Path,
    tag: &str,
    gateway: &str,
    upstream: &str,
) -> [(Child, String); 2] {
    let (n, c) = (
        dir.join(format!("{tag}-nginx")),
        dir.join(format!("{tag}-caddy")),
    );
    std::fs::create_dir_all(&n).unwrap();
    std::fs::create_dir_all(&c).unwrap();
    [
        nginx(&n, gateway, upstream).await,
        caddy(&c, gateway, upstream).await,
    ]
}

/// A client_credentials access token of `client` (id, secret) for `scope`.
async fn machine_token(gw: &GatewayHandle, pool: &str, scopes: &[&str]) -> String {
    let c = create_client(gw, machine_client_request(pool, scopes, 0))
        .await
        .expect("machine client");
    let r = post_form(
        &url(gw, pool, "token"),
        &[("authorization", &basic(&c.client_id, &c.client_secret))],
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_string()
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    /// The upstream's echo of the `x-signet-*` headers it got (only when it was reached).
    upstream: Option<serde_json::Value>,
}

async fn through(proxy: &str, path: &str, token: Option<&str>, spoof: bool) -> Answer {
    let mut req = reqwest::Client::new().get(format!("http://{proxy}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if spoof {
        req = req
            .header("x-signet-sub", "root")
            .header("x-signet-groups", "admins");
    }
    let r = send(req).await;
    let challenge = r.header("www-authenticate").map(str::to_string);
    Answer {
        status: r.status,
        challenge,
        upstream: (r.status == 200).then(|| r.json()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_and_caddy_let_through_only_what_the_authorizer_allows() {
    let cluster = TestCluster::start(1).await;
    let admin_gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let (p1, web) = pool_and_client(&admin_gw, false).await;
    let p2 = new_pool(&admin_gw, "elsewhere").await;
    orders_api(&admin_gw, &p1).await;
    orders_api(&admin_gw, &p2).await;
    let reader = machine_token(&admin_gw, &p1, &[READ]).await;
    let writer = machine_token(&admin_gw, &p1, &[WRITE]).await;
    let foreign = machine_token(&admin_gw, &p2, &[READ]).await;
    let sub = confirmed_user(&admin_gw, &p1, &web, "alice", "alice@example.com", PASSWORD).await;
    let alice = sign_in(&admin_gw, &web, "alice", PASSWORD)
        .await
        .access_token;

    // The gateway the proxies ask, with the routes of README "Enforcing at the edge".
    let mut cfg = test_gateway_config();
    cfg.authorizer = AuthorizerConfig::from_toml(&format!(
        "debug_headers = true\n\
         [[route]]\nprefix = \"/orders\"\npools = [\"{p1}\"]\nscopes = [\"{READ}\"]\n\
         [[route]]\nprefix = \"/me\"\npools = [\"{p1}\"]\n"
    ))
    .unwrap();
    let edge = start_gateway(cluster.api_addrs(), cfg).await;
    let gateway = edge.http_addr().to_string();
    let upstream = echo_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let [(_nginx, nginx_addr), (_caddy, caddy_addr)] =
        both_proxies(dir.path(), "edge", &gateway, &upstream).await;

    for (proxy, addr) in [("nginx", &nginx_addr), ("caddy", &caddy_addr)] {
        // Allowed: the upstream gets who is calling.
        let a = through(addr, "/orders/7", Some(&reader), false).await;
        assert_eq!(a.status, 200, "{proxy}: reader");
        let seen = a.upstream.unwrap();
        assert_eq!(seen["x-signet-pool"], p1.as_str(), "{proxy}: {seen}");
        assert_eq!(seen["x-signet-scopes"], READ, "{proxy}: {seen}");
        assert_eq!(
            seen["x-signet-sub"], seen["x-signet-client-id"],
            "{proxy}: {seen}"
        );
        // A caller's own x-signet-* headers never reach the upstream.
        let a = through(addr, "/me", Some(&alice), true).await;
        assert_eq!(a.status, 200, "{proxy}: alice");
        let seen = a.upstream.unwrap();
        assert_eq!(seen["x-signet-sub"], sub.as_str(), "{proxy}: {seen}");
        assert_eq!(seen["x-signet-username"], "alice", "{proxy}: {seen}");
        assert_ne!(
            seen.get("x-signet-groups").and_then(|g| g.as_str()),
            Some("admins")
        );
        // Wrong scope: 403; another pool's token, or none: 401 with a challenge.
        let a = through(addr, "/orders/7", Some(&writer), false).await;
        assert_eq!(
            (a.status, a.upstream.is_none()),
            (403, true),
            "{proxy}: writer"
        );
        let a = through(addr, "/orders/7", Some(&foreign), false).await;
        assert_eq!(a.status, 401, "{proxy}: other pool");

        let a = through(addr, "/orders/7", None, true).await;
        assert_eq!(a.status, 401, "{proxy}: no token");
        assert!(
            a.challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer realm=\"signet\"")),
            "{proxy}: {:?}",
            a.challenge
        );
        // No route for the path: 403.
        let a = through(addr, "/admin", Some(&reader), false).await;
        assert_eq!(a.status, 403, "{proxy}: no route");
    }
    // Expired: the same reader token judged two hours later — by a gateway whose clock is
    // two hours ahead (never ready: its clock is too far from the stores'; it still loads
    // the published keys and answers the proxies), behind its own nginx and Caddy.
    {
        let mut cfg = test_gateway_config();
        cfg.authorizer = AuthorizerConfig::from_toml(&format!(
            "[[route]]\nprefix = \"/orders\"\npools = [\"{p1}\"]\nscopes = [\"{READ}\"]\n"
        ))
        .unwrap();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        cfg.clock = signet_gateway::ManualClock::at(now_ms + 2 * 3600 * 1000);
        let store = signet_store::StoreClient::new(cluster.api_addrs());
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let late = signet_gateway::start(cfg, store, grpc, http).await.unwrap();
        let late_addr = late.http_addr().to_string();
        let [(_n, n_addr), (_c, c_addr)] =
            both_proxies(dir.path(), "late", &late_addr, &upstream).await;
        for (proxy, addr) in [("nginx", &n_addr), ("caddy", &c_addr)] {
            let start = Instant::now();
            let a = loop {
                let a = through(addr, "/orders/7", Some(&reader), false).await;
                // Until the late gateway has loaded the published keys, the token is
                // "signed by an unknown key": wait for the answer about its expiry.
                if a.challenge
                    .as_deref()
                    .is_some_and(|c| !c.contains("unknown"))
                {
                    break a;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "{:?}",
                    a.challenge
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            assert_eq!(
                (a.status, a.upstream.is_none()),
                (401, true),
                "{proxy}: expired"
            );
            assert!(
                a.challenge
                    .as_deref()
                    .is_some_and(|c| c.contains("the token has expired")),
                "{proxy}: {:?}",
                a.challenge
            );
        }
        late.shutdown().await;
    }

    // nginx passes the raw request target: a dot segment is refused, not normalised past
    // the routes.
    let a = through(&nginx_addr, "/me/../orders/7", Some(&alice), false).await;
    assert_ne!(a.status, 200, "dot segments");

    // Alice signs out (on the other gateway): within a second both proxies refuse her.
    auth_client(&admin_gw)
        .await
        .global_sign_out(pb::AccessTokenRequest {
            access_token: alice.clone(),
        })
        .await
        .expect("GlobalSignOut");
    let start = Instant::now();
    for addr in [&nginx_addr, &caddy_addr] {
        loop {
            let a = through(addr, "/me", Some(&alice), false).await;
            if a.status == 401 {
                assert!(a.upstream.is_none());
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "still allowed after 1 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    println!(
        "a sign-out reached both proxies' decisions in {:?}",
        start.elapsed()
    );
    edge.shutdown().await;
    admin_gw.shutdown().await;
    cluster.shutdown().await;
}

/// Envoy's ext_authz `Check` of each case on `edge`'s gRPC port, as
/// tests/clients/envoy_ext_authz_check.py makes it: one answer per case.
async fn ext_authz_check(edge: &GatewayHandle, cases: serde_json::Value) -> Vec<serde_json::Value> {
    let addr = edge.grpc_addr().to_string();
    let out = tokio::task::spawn_blocking(move || {
        crate::support::clients::python_client(
            "envoy_ext_authz_check.py",
            &[&addr, &cases.to_string()],
        )
    })
    .await
    .unwrap();
    out.as_array().unwrap().clone()
}

/// Envoy's ext_authz `Check`, called by a client generated from Envoy's published protos
/// (no Envoy binary can be installed here): the same decisions as the forward-auth face,
/// in Envoy's shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoys_ext_authz_check_gets_the_same_decisions() {
    let cluster = TestCluster::start(1).await;
    let admin_gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let p1 = new_pool(&admin_gw, "shop").await;
    orders_api(&admin_gw, &p1).await;
    let reader = machine_token(&admin_gw, &p1, &[READ]).await;
    let writer = machine_token(&admin_gw, &p1, &[WRITE]).await;
    let mut cfg = test_gateway_config();
    cfg.authorizer = AuthorizerConfig::from_toml(&format!(
        "[[route]]\nprefix = \"/orders\"\npools = [\"{p1}\"]\nscopes = [\"{READ}\"]\n"
    ))
    .unwrap();
    let edge = start_gateway(cluster.api_addrs(), cfg).await;
    let case = |method: &str, path: &str, token: Option<&str>| {
        let mut headers = serde_json::Map::new();
        headers.insert("x-signet-sub".into(), "root".into());
        if let Some(t) = token {
            headers.insert("authorization".into(), format!("Bearer {t}").into());
        }
        serde_json::json!({"method": method, "path": path, "headers": headers})
    };
    let cases = serde_json::json!([
        case("GET", "/orders/7?page=2", Some(&reader)),
        case("GET", "/orders/7", Some(&writer)),
        case("GET", "/orders/7", None),
        case("GET", "/orders/../admin", Some(&reader)),
    ]);
    let out = ext_authz_check(&edge, cases).await;
    // Allowed: OK, and the trusted headers overwrite the caller's copies.
    assert_eq!(out[0]["allowed"], true, "{}", out[0]);
    assert_eq!(out[0]["status"], 0);
    assert_eq!(out[0]["overwrite"], true);
    let h = &out[0]["headers"];
    assert_eq!(h["x-signet-pool"], p1.as_str(), "{h}");
    assert_eq!(h["x-signet-scopes"], READ);
    assert_ne!(h["x-signet-sub"], "root");
    assert_eq!(h["x-signet-sub"], h["x-signet-client-id"]);
    // Wrong scope: PERMISSION_DENIED, 403; no token: UNAUTHENTICATED, 401 with a challenge.
    assert_eq!(
        (out[1]["allowed"].as_bool(), out[1]["status"].as_i64()),
        (Some(false), Some(7))
    );
    assert_eq!(out[1]["http_status"], 403);
    assert_eq!(
        (out[2]["status"].as_i64(), out[2]["http_status"].as_i64()),
        (Some(16), Some(401))
    );
    assert_eq!(
        out[2]["headers"]["www-authenticate"],
        "Bearer realm=\"signet\""
    );
    // The path Envoy reports as sent: dot segments are refused.
    assert_eq!(out[3]["allowed"], false);
    edge.shutdown().await;
    admin_gw.shutdown().await;
    cluster.shutdown().await;
}

/// Botocore's SigV4 signature (SigV4Auth, what every boto3 call signs with) of `method url
/// body` with temporary credentials `c`: every header it sent. `declare`: the body's
/// SHA-256 in `X-Amz-Content-SHA256` first, as S3 clients send it.
async fn botocore_signed(
    method: &str,
    url: &str,
    body: &str,
    c: &pb::CredentialsType,
    declare: bool,
) -> Vec<(String, String)> {
    let args: Vec<String> = [
        "sign",
        method,
        url,
        body,
        &c.access_key_id,
        &c.secret_key,
        &c.session_token,
        "eu-west-1",
        "execute-api",
        if declare { "declare-payload-hash" } else { "" },
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::support::clients::python_client("aws_sdk_calls.py", &args)
    })
    .await
    .unwrap();
    out["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
        .collect()
}

/// Send `method path` to `proxy` with `headers` (as signed; `host` is the proxy's, which
/// reqwest sets itself) and `body`, plus `extra` headers the signature does not cover.
async fn send_signed(
    proxy: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{proxy}{path}"))
        .body(body.to_string());
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length") {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = send(req).await;
    Answer {
        status: r.status,
        challenge: r.header("www-authenticate").map(str::to_string),
        upstream: (r.status == 200).then(|| r.json()),
    }
}

/// Services holding STS credentials (from GetCredentialsForIdentity) call through nginx and
/// Caddy with requests botocore signed, and through Envoy's ext_authz with the body sent:
/// the session's own policies decide; a tampered, unsigned, undeclared-body or wrong-route
/// request is refused; the upstream learns the role and identity and never a caller's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_signed_requests_with_sts_credentials_are_authorized_at_the_edge() {
    use crate::support::identity::{
        credentials, get_id, identity_pool, identity_role, logins, set_roles, user_pool_login,
    };
    let cluster = TestCluster::start(1).await;
    let admin_gw = start_gateway(cluster.api_addrs(), test_gateway_config()).await;
    let login = user_pool_login(&admin_gw, "svc").await;
    let ids = identity_pool(&admin_gw, &[(&login.provider, &login.client_id)], false).await;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "http:GET", "Resource": "/reports/*"},
        {"Effect": "Allow", "Action": "http:POST", "Resource": "/reports/upload"},
        {"Sid": "Private", "Effect": "Deny", "Action": "*", "Resource": "/reports/private/*"}
    ]})
    .to_string();
    let role_arn = identity_role(
        &admin_gw,
        "reporting",
        &ids,
        "authenticated",
        &[("reports", &policy)],
    )
    .await;
    set_roles(&admin_gw, &ids, Some(&role_arn), None).await;
    let logins = logins(&[(&login.provider, &login.id_token)]);
    let identity = get_id(&admin_gw, &ids, &logins).await.unwrap();
    let c = credentials(&admin_gw, &identity, &logins).await.unwrap();

    let mut cfg = test_gateway_config();
    cfg.authorizer = AuthorizerConfig::from_toml(&format!(
        "debug_headers = true\n\
         [[route]]\nprefix = \"/reports\"\nroles = [\"{role_arn}\"]\n\
         [[route]]\nprefix = \"/orders\"\npools = [\"{}\"]\n",
        login.pool_id
    ))
    .unwrap();
    let edge = start_gateway(cluster.api_addrs(), cfg).await;
    let gateway = edge.http_addr().to_string();
    let upstream = echo_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let [(_nginx, nginx_addr), (_caddy, caddy_addr)] =
        both_proxies(dir.path(), "edge", &gateway, &upstream).await;
    let body = r#"{"quarter": 3}"#;
    let body_hash = signet_verify::sigv4::SignableRequest::payload_hash(body.as_bytes());

    for (proxy, addr) in [("nginx", &nginx_addr), ("caddy", &caddy_addr)] {
        let at = |path: &str| format!("http://{addr}{path}");
        // Allowed by the role's policy; a caller's x-signet-* copies never pass.
        let h = botocore_signed("GET", &at("/reports/q3?fmt=csv&a=1"), "", &c, false).await;
        let a = send_signed(
            addr,
            "GET",
            "/reports/q3?fmt=csv&a=1",
            &h,
            "",
            &[("x-signet-username", "root"), ("x-signet-role", "admin")],
        )
        .await;
        assert_eq!(a.status, 200, "{proxy}: signed GET");
        let seen = a.upstream.unwrap();
        assert_eq!(seen["x-signet-role"], role_arn.as_str(), "{proxy}: {seen}");
        assert_eq!(seen["x-signet-sub"], identity.as_str(), "{proxy}: {seen}");
        assert_eq!(seen["x-signet-token-use"], "sts", "{proxy}: {seen}");
        assert_eq!(
            seen["x-signet-access-key-id"],
            c.access_key_id.as_str(),
            "{proxy}: {seen}"
        );
        assert!(
            seen.get("x-signet-username")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .is_empty(),
            "{proxy}: {seen}"
        );
        // Sent elsewhere than where it was signed for: 401.
        let a = send_signed(addr, "GET", "/reports/q4?fmt=csv&a=1", &h, "", &[]).await;
        assert_eq!(
            (a.status, a.upstream.is_none()),
            (401, true),
            "{proxy}: moved"
        );
        // The role's deny: 403.
        let h = botocore_signed("GET", &at("/reports/private/x"), "", &c, false).await;
        let a = send_signed(addr, "GET", "/reports/private/x", &h, "", &[]).await;
        assert_eq!(a.status, 403, "{proxy}: private");
        // A body the proxy does not pass on: declared, it is checked against the signature
        // and handed to the upstream to compare; undeclared, the signature fails.
        let h = botocore_signed("POST", &at("/reports/upload"), body, &c, true).await;
        let a = send_signed(addr, "POST", "/reports/upload", &h, body, &[]).await;
        assert_eq!(a.status, 200, "{proxy}: declared body");
        let seen = a.upstream.unwrap();
        assert_eq!(
            seen["x-signet-content-sha256"],
            body_hash.as_str(),
            "{proxy}: {seen}"
        );
        let h = botocore_signed("POST", &at("/reports/upload"), body, &c, false).await;
        let a = send_signed(addr, "POST", "/reports/upload", &h, body, &[]).await;
        assert_eq!(a.status, 401, "{proxy}: undeclared body");
        // No signature: 401 with an AWS4 challenge; the session token alone is not one.
        let a = through(addr, "/reports/q3", None, false).await;
        assert_eq!(a.status, 401, "{proxy}: unsigned");
        assert_eq!(
            a.challenge.as_deref(),
            Some("AWS4-HMAC-SHA256 realm=\"signet\""),
            "{proxy}"
        );
        let a = through(addr, "/reports/q3", Some(&c.session_token), false).await;
        assert_eq!(a.status, 401, "{proxy}: bare session token");
        // A route for user-pool tokens takes no signed request.
        let h = botocore_signed("GET", &at("/orders/1"), "", &c, false).await;
        let a = send_signed(addr, "GET", "/orders/1", &h, "", &[]).await;
        assert_eq!(a.status, 401, "{proxy}: signed request on a token route");
    }

    // Envoy's ext_authz with the body sent (`with_request_body`): the body is hashed, so an
    // undeclared body passes and a swapped one fails.
    let url = "https://api.example/reports/upload";
    let post = botocore_signed("POST", url, body, &c, false).await;
    let get = botocore_signed("GET", "https://api.example/reports/q3", "", &c, false).await;
    let case = |method: &str, path: &str, headers: &[(String, String)], body: &str| {
        let map: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().into()))
            .collect();
        serde_json::json!({"method": method, "path": path, "headers": map, "body": body})
    };
    let cases = serde_json::json!([
        case("GET", "/reports/q3", &get, ""),
        case("POST", "/reports/upload", &post, body),
        case("POST", "/reports/upload", &post, r#"{"quarter": 4}"#),
    ]);
    let out = ext_authz_check(&edge, cases).await;
    assert_eq!(out[0]["allowed"], true, "{}", out[0]);
    assert_eq!(out[0]["headers"]["x-signet-role"], role_arn.as_str());
    assert_eq!(out[0]["headers"]["x-signet-token-use"], "sts");
    assert_eq!(out[1]["allowed"], true, "{}", out[1]);
    assert_eq!(out[1]["headers"]["x-signet-content-sha256"], "");
    assert_eq!(out[2]["allowed"], false, "{}", out[2]);
    assert_eq!(out[2]["http_status"], 401);
    edge.shutdown().await;
    admin_gw.shutdown().await;
    cluster.shutdown().await;
}
