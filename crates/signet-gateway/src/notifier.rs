//! Delivery of codes. The dev outbox keeps them in the store (written with the code in the
//! same log entry, so every gateway sees them; plaintext, so dev only); a webhook POSTs
//! each message as signed JSON over https to whatever sends e-mail or SMS.

use crate::config::NotifierConfig;
use crate::outbound::{self, OutboundClient};
use crate::AppError;
use serde::Serialize;
use signet_crypto::Secret;
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
    /// The message to send, the code in it, when the pool's CustomMessage hook wrote one
    /// (else the sender composes its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The e-mail subject the hook wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The configured delivery channel.
pub(crate) enum Notifier {
    Outbox,
    Webhook {
        url: String,
        secret: Secret,
        allow_loopback_http: bool,
        client: Box<OutboundClient>,
    },
}

impl Notifier {
    /// The channel `cfg` names; a webhook needs a URL that passes the outbound rule and a
    /// signing secret.
    pub(crate) fn new(
        cfg: &NotifierConfig,
        secret: Option<&Secret>,
        allow_loopback_http: bool,
    ) -> Result<Notifier, AppError> {
        match cfg {
            NotifierConfig::Outbox => Ok(Notifier::Outbox),
            NotifierConfig::Webhook(url) => {
                outbound::check_outbound_url(url, allow_loopback_http)
                    .map_err(|e| AppError::invalid(format!("webhook URL {url}: {e}")))?;
                let secret = secret.cloned().ok_or_else(|| {
                    AppError::invalid("a webhook needs a signing secret (webhook_secret)")
                })?;
                Ok(Notifier::Webhook {
                    url: url.clone(),
                    secret,
                    allow_loopback_http,
                    client: Box::new(outbound::client()),
                })
            }
        }
    }

    /// Whether messages go to the store's dev outbox.
    pub(crate) fn is_outbox(&self) -> bool {
        matches!(self, Notifier::Outbox)
    }

    /// Send through the webhook (no-op for the outbox, whose message was committed with
    /// the code). A failure is logged, not returned: the code is valid and the user can
    /// ask for it again.
    pub(crate) async fn deliver(&self, d: &Delivery, now_ms: u64) {
        let Notifier::Webhook {
            url,
            secret,
            allow_loopback_http,
            client,
        } = self
        else {
            return;
        };
        // Checked at start too; checked again so no code ever leaves in the clear.
        if let Err(e) = outbound::check_outbound_url(url, *allow_loopback_http) {
            return tracing::error!("notification webhook URL {url}: {e}");
        }
        let body = match serde_json::to_vec(d) {
            Ok(b) => b,
            Err(e) => return tracing::error!("encoding notification: {e}"),
        };
        let req = match outbound::signed_post(url, body, secret, now_ms) {
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
