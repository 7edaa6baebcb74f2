//! Code delivery through the webhook notifier: the code reaches the webhook as JSON, is
//! never stored in plaintext (the outbox stays empty), and confirms the sign-up.

use signet_gateway::NotifierConfig;
use signet_proto::v1 as pb;
use signet_testkit::{
    admin, admin_client, auth_client, start_gateway, test_gateway_config, TestCluster,
};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A one-route HTTP server that forwards every POSTed body and answers 204.
async fn webhook_sink() -> (String, mpsc::Receiver<serde_json::Value>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/codes", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read headers, then exactly Content-Length bytes of body.
                let body = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break body[..len].to_string();
                        }
                    }
                };
                let _ = sock
                    .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    .await;
                if let Ok(v) = serde_json::from_str(&body) {
                    let _ = tx.send(v).await;
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_go_to_the_webhook_and_are_not_stored_in_plaintext() {
    let cluster = TestCluster::start(1).await;
    let (url, mut received) = webhook_sink().await;
    let mut cfg = test_gateway_config();
    cfg.notifier = NotifierConfig::Webhook(url);
    let gw = start_gateway(cluster.api_addrs(), cfg).await;
    let (pool_id, client_id) = crate::support::pools::pool_and_client(&gw, false).await;

    let mut auth = auth_client(&gw).await;
    auth.sign_up(pb::SignUpRequest {
        client_id: client_id.clone(),
        username: "carol".into(),
        password: "Sup3r-Secret!".into(),
        user_attributes: vec![pb::AttributeType {
            name: "email".into(),
            value: "carol@example.com".into(),
        }],
        ..Default::default()
    })
    .await
    .expect("sign up");

    let msg = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("webhook called within 10 s")
        .expect("a message");
    assert_eq!(msg["pool_id"], pool_id.as_str());
    assert_eq!(msg["username"], "carol");
    assert_eq!(msg["purpose"], "confirm");
    assert_eq!(msg["destination"], "carol@example.com");
    assert_eq!(msg["medium"], "EMAIL");
    let code = msg["code"].as_str().unwrap().to_string();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));

    // With a real notifier nothing readable is kept: the outbox is empty.
    let outbox = admin_client(&gw)
        .await
        .list_outbox(admin(pb::UserPoolRef {
            user_pool_id: pool_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert!(outbox.is_empty(), "{outbox:?}");

    auth.confirm_sign_up(pb::ConfirmSignUpRequest {
        client_id,
        username: "carol".into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .expect("the webhook's code confirms");
    gw.shutdown().await;
    cluster.shutdown().await;
}
