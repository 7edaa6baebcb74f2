//! A pool's webhooks, Cognito's Lambda triggers over HTTP: the pre-token-generation hook
//! (`pre_token`) and the sign-up, confirmation, authentication and migration triggers
//! (`triggers`). One client calls them all: https (or http to loopback where allowed),
//! each POST signed with the pool's hook key ([`crate::outbound::pool_hook_key`]), the
//! answer bounded in size and time.
//!
//! A hook answers 2xx with the event (its `response` filled in), refuses on purpose with a
//! 4xx (its `errorMessage` or `message` is shown to the caller, as Cognito shows a Lambda's
//! error), and fails by anything else: no answer in time, a 5xx, a body that is not JSON.
//! Only failures are subject to the hook's fail-open setting; a refusal is always obeyed.

mod pre_token;
mod triggers;

pub(crate) use pre_token::{edit_claims, edit_scopes, HookEvent, Trigger};
pub(crate) use triggers::with_client_metadata;
pub(crate) use triggers::{
    apply_verdict, ChallengeResult, ConfirmSource, MessageSource, MigratedUser, MigrationSource,
    Next, SignUpSource, CODE_PARAMETER, USERNAME_PARAMETER,
};

use crate::clock::SharedClock;
use crate::outbound::{self, OutboundClient};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use signet_core::UserPool;
use signet_crypto::Secret;
use std::sync::Arc;
use std::time::Duration;

/// Largest answer read from a hook.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Longest refusal message passed on to the caller.
const MAX_REFUSAL_CHARS: usize = 256;

/// How a hook call went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HookError {
    /// The hook said no (a 4xx answer), with its message.
    Refused(String),
    /// The hook could not be asked or gave no usable answer.
    Failed(String),
}

/// Calls the pools' hooks: the HTTP client, the secret the pool keys are derived from,
/// whether plain http to loopback is allowed, and the clock of the signature.
#[derive(Clone)]
pub(crate) struct Hooks {
    client: Arc<OutboundClient>,
    secret: Option<Secret>,
    allow_loopback_http: bool,
    clock: SharedClock,
}

impl Hooks {
    /// Built by the composition root.
    pub(crate) fn new(
        secret: Option<Secret>,
        allow_loopback_http: bool,
        clock: SharedClock,
    ) -> Hooks {
        Hooks {
            client: Arc::new(outbound::client()),
            secret,
            allow_loopback_http,
            clock,
        }
    }

    /// POST `event` to `url` for `pool`, waiting at most `timeout_ms`; the answer's JSON.
    pub(crate) async fn invoke(
        &self,
        pool: &UserPool,
        url: &str,
        timeout_ms: u32,
        event: &Value,
    ) -> Result<Value, HookError> {
        let call = self.call(pool, url, event);
        match tokio::time::timeout(Duration::from_millis(u64::from(timeout_ms)), call).await {
            Ok(r) => r,
            Err(_) => Err(HookError::Failed(format!(
                "no answer within {timeout_ms} ms"
            ))),
        }
    }

    async fn call(&self, pool: &UserPool, url: &str, event: &Value) -> Result<Value, HookError> {
        let secret = self.secret()?;
        let key = outbound::pool_hook_key(secret, &pool.id);
        let (status, body) = self.send(url, event, &key).await?;
        if status.is_client_error() {
            return Err(HookError::Refused(refusal_message(status, &body)));
        }
        if !status.is_success() {
            return Err(HookError::Failed(format!("the hook answered {status}")));
        }
        serde_json::from_slice(&body)
            .map_err(|e| HookError::Failed(format!("the answer is not JSON: {e}")))
    }

    /// POST `body` to `url` signed with the webhook secret itself (the audit stream's
    /// webhook), waiting at most five seconds for a 2xx.
    pub(crate) async fn post_signed(&self, url: &str, body: &Value) -> Result<(), String> {
        let secret = self.secret().map_err(|e| format!("{e:?}"))?;
        let sent = tokio::time::timeout(Duration::from_secs(5), self.send(url, body, secret));
        match sent.await {
            Ok(Ok((status, _))) if status.is_success() => Ok(()),
            Ok(Ok((status, _))) => Err(format!("{url} answered {status}")),
            Ok(Err(e)) => Err(format!("{url}: {e:?}")),
            Err(_) => Err(format!("{url}: no answer within 5 s")),
        }
    }

    fn secret(&self) -> Result<&Secret, HookError> {
        self.secret.as_ref().ok_or_else(|| {
            HookError::Failed("the gateway has no webhook signing secret (--webhook-secret)".into())
        })
    }

    /// POST `body` to `url` signed with `key`; the status and the (bounded) answer.
    async fn send(
        &self,
        url: &str,
        body: &Value,
        key: &Secret,
    ) -> Result<(http::StatusCode, bytes::Bytes), HookError> {
        let failed = |e: String| HookError::Failed(e);
        // Checked when configured; checked again in case the rule or the flag changed
        // since (defence in depth: the events carry user attributes).
        outbound::check_outbound_url(url, self.allow_loopback_http)
            .map_err(|e| failed(format!("hook URL {url}: {e}")))?;
        let req =
            outbound::signed_post(url, body.to_string().into_bytes(), key, self.clock.now_ms())
                .map_err(|e| failed(format!("bad hook URL {url}: {e}")))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| failed(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}

/// What a refusing hook says: `errorMessage` (a Lambda error's field) or `message` of a
/// JSON body, else the status; bounded, and on one line.
fn refusal_message(status: http::StatusCode, body: &[u8]) -> String {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let said = json.as_ref().and_then(|v| {
        ["errorMessage", "message"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_string)
    });
    let msg = said.unwrap_or_else(|| format!("the hook answered {status}"));
    msg.chars()
        .filter(|c| !c.is_control())
        .take(MAX_REFUSAL_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_the_hook_said_on_one_bounded_line() {
        let s = http::StatusCode::FORBIDDEN;
        assert_eq!(
            refusal_message(s, br#"{"errorMessage":"domain not allowed"}"#),
            "domain not allowed"
        );
        assert_eq!(refusal_message(s, br#"{"message":"no"}"#), "no");
        assert_eq!(
            refusal_message(s, b"<html>"),
            "the hook answered 403 Forbidden"
        );
        let long = format!(r#"{{"message":"a\nb{}"}}"#, "x".repeat(1000));
        let m = refusal_message(s, long.as_bytes());
        assert_eq!(m.chars().count(), MAX_REFUSAL_CHARS);
        assert!(m.starts_with("abx"));
    }
}
