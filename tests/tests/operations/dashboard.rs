//! The Grafana dashboard in deploy/grafana graphs only metrics the servers really export:
//! every `signet_*` (and process) series its queries name appears in a scrape of a mutual-TLS
//! cluster's stores and of a gateway serving public TLS.

use signet_core::{Command, RenewKeyLease};
use signet_testkit::{start_gateway_on, test_gateway_config, TestCluster, TestPki};
use signet_tls::certs::{issue, LeafRequest};
use signet_tls::{Role, TlsFiles, TlsSource};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: &str, path: &str, tls: Option<&TlsSource>) -> String {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut raw = Vec::new();
    match tls {
        None => {
            let mut s = tcp;
            s.write_all(req.as_bytes()).await.expect("write");
            s.read_to_end(&mut raw).await.expect("read");
        }
        Some(source) => {
            let config = source.client_config(None).expect("client config");
            let name = rustls_name("localhost");
            let mut s = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .expect("TLS handshake with the gateway");
            s.write_all(req.as_bytes()).await.expect("write");
            // The server may close without a TLS close_notify; what was read counts.
            let _ = s.read_to_end(&mut raw).await;
        }
    }
    let raw = String::from_utf8_lossy(&raw).to_string();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    raw
}

fn rustls_name(host: &str) -> rustls::pki_types::ServerName<'static> {
    rustls::pki_types::ServerName::try_from(host.to_string()).expect("name")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_on_the_dashboard_is_exported() {
    let mut cluster = TestCluster::start_tls(3, TestPki::new()).await;
    let pki = cluster.pki().expect("pki");
    // The gateway's public certificate, and a client that trusts it.
    let dir = tempfile::tempdir().expect("dir");
    let server = issue(
        pki.ca(),
        &LeafRequest {
            identity: None,
            trust_domain: signet_testkit::TEST_TRUST_DOMAIN.into(),
            dns: vec!["localhost".into()],
            ips: vec![],
            days: 1,
        },
    )
    .expect("server cert");
    let (cert, key) = (dir.path().join("gw.crt"), dir.path().join("gw.key"));
    std::fs::write(&cert, server.cert).expect("write");
    std::fs::write(&key, server.key).expect("write");
    let mut config = test_gateway_config();
    config.tls = Some(
        TlsSource::load(TlsFiles {
            ca: None,
            cert: Some((cert, key)),
            trust_domain: signet_testkit::TEST_TRUST_DOMAIN.into(),
        })
        .expect("public tls"),
    );
    let trust = TlsSource::load(TlsFiles {
        ca: Some(pki.ca_path()),
        cert: None,
        trust_domain: signet_testkit::TEST_TRUST_DOMAIN.into(),
    })
    .expect("ca");
    let store = cluster.client_with(pki.transport(Role::Gateway, "gw-1"));
    let gw = start_gateway_on(store, config).await;

    // Some writes and a snapshot, so every series has something to say.
    let operator = cluster.client();
    operator
        .write(Command::RenewKeyLease(RenewKeyLease {
            owner: "dashboard".into(),
            until_ms: 1,
        }))
        .await
        .expect("write");
    let leader = cluster.wait_leader(Duration::from_secs(10)).await;
    operator
        .snapshot_of(&cluster.api_addr(leader), false)
        .await
        .expect("snapshot");
    // A gRPC call over the public TLS listener, and a first scrape, so per-RPC and
    // per-route latencies exist.
    let port = gw.grpc_addr().port();
    let channel = signet_tls::connect(
        &format!("localhost:{port}"),
        &signet_tls::Transport::Tls {
            source: trust.clone(),
            expect: None,
        },
        Duration::from_secs(5),
        Duration::from_secs(30),
    )
    .await
    .expect("TLS channel to the gateway");
    signet_proto::v1::user_pool_admin_client::UserPoolAdminClient::new(channel)
        .list_user_pools(signet_testkit::admin(signet_proto::v1::ListRequest {
            max_results: 10,
            next_token: String::new(),
        }))
        .await
        .expect("list pools over TLS");
    get(&gw.http_addr().to_string(), "/metrics", Some(&trust)).await;
    let mut scraped = String::new();
    for id in cluster.running() {
        let addr = cluster.serve_ops(id).await;
        scraped += &get(&addr.to_string(), "/metrics", None).await;
    }
    scraped += &get(&gw.http_addr().to_string(), "/metrics", Some(&trust)).await;

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/grafana/signet-dashboard.json"
        ))
        .expect("read the dashboard"),
    )
    .expect("the dashboard is JSON");
    let mut names = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            names.extend(
                expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with("signet_") || w.starts_with("process_"))
                    .map(str::to_string),
            );
        }
    }
    names.sort();
    names.dedup();
    assert!(names.len() >= 15, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !scraped.lines().any(|l| l.starts_with(n.as_str())))
        .collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
    gw.shutdown().await;
    cluster.shutdown().await;
}
