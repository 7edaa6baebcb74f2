//! Delivery of codes. The dev outbox keeps them in the store (written with the code in the
//! same log entry, so every gateway sees them); a webhook POSTs each message as JSON to
//! whatever sends e-mail or SMS.

use crate::config::NotifierConfig;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use std::time::Duration;

/// One message to deliver.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// `confirm`, `reset`, `verify:email`, `temporary_password`, …
    pub purpose: String,
    /// E-mail address or phone number.
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// The code (or temporary password).
    pub code: String,
}

/// The configured delivery channel.
pub(crate) enum Notifier {
    Outbox,
    Webhook {
        url: String,
        client: Box<Client<HttpConnector, Full<Bytes>>>,
    },
}

impl Notifier {
    pub(crate) fn new(cfg: &NotifierConfig) -> Notifier {
        match cfg {
            NotifierConfig::Outbox => Notifier::Outbox,
            NotifierConfig::Webhook(url) => Notifier::Webhook {
                url: url.clone(),
                client: Box::new(Client::builder(TokioExecutor::new()).build_http()),
            },
        }
    }

    /// Whether messages go to the store's dev outbox.
    pub(crate) fn is_outbox(&self) -> bool {
        matches!(self, Notifier::Outbox)
    }

    /// Send through the webhook (no-op for the outbox, whose message was committed with
    /// the code). A failure is logged, not returned: the code is valid and the user can
    /// ask for it again.
    pub(crate) async fn deliver(&self, d: &Delivery) {
        let Notifier::Webhook { url, client } = self else {
            return;
        };
        let body = match serde_json::to_vec(d) {
            Ok(b) => b,
            Err(e) => return tracing::error!("encoding notification: {e}"),
        };
        let req = match http::Request::post(url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
        {
            Ok(r) => r,
            Err(e) => return tracing::error!("notification webhook URL {url}: {e}"),
        };
        match tokio::time::timeout(Duration::from_secs(5), client.request(req)).await {
            Ok(Ok(resp)) if resp.status().is_success() => {}
            Ok(Ok(resp)) => {
                tracing::warn!(status = %resp.status(), "notification webhook refused a message")
            }
            Ok(Err(e)) => tracing::warn!("notification webhook failed: {e}"),
            Err(_) => tracing::warn!("notification webhook timed out"),
        }
    }
}
