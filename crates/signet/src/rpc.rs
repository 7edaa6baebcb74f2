//! Shared plumbing of the gateway CLIs (`signet admin`, `signet token`): connecting to the
//! gateway, turning a gRPC error into its Cognito exception name, printing JSON.

use crate::cli::GatewayEndpoint;
use anyhow::Context;
use std::time::Duration;
use tonic::transport::Channel;

/// Connect to the gateway's gRPC address (`host:port`, `http://…`, or `https://…` /
/// `--ca` for a gateway serving TLS).
pub async fn connect(gateway: &GatewayEndpoint) -> anyhow::Result<Channel> {
    let transport = gateway.tls.gateway_transport(&gateway.endpoint)?;
    connect_to(&gateway.endpoint, &transport).await
}

/// Connect to a gateway's gRPC address over `transport`.
pub async fn connect_to(
    endpoint: &str,
    transport: &signet_tls::Transport,
) -> anyhow::Result<Channel> {
    // Password calls wait for argon2; a loaded gateway may queue them for a while.
    signet_tls::connect(
        endpoint,
        transport,
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await
    .map_err(|e| {
        // tonic's own message is just "transport error": name the cause (refused,
        // unknown CA, …).
        let mut why = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            why = format!("{why}: {s}");
            source = s.source();
        }
        anyhow::anyhow!("cannot connect to the gateway at {endpoint} (is it running?): {why}")
    })
}

/// A gRPC error as the user should see it: the Cognito exception name, then the message.
pub fn status_error(status: tonic::Status) -> anyhow::Error {
    let name =
        signet_gateway::exception_name(&status).unwrap_or_else(|| format!("{:?}", status.code()));
    anyhow::anyhow!("{name}: {}", status.message())
}

/// Unwrap a gRPC answer, mapping the error with [`status_error`].
pub fn answer<T>(r: Result<tonic::Response<T>, tonic::Status>) -> anyhow::Result<T> {
    r.map(tonic::Response::into_inner).map_err(status_error)
}

/// Print pretty JSON to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(v: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r.context("writing to stdout")?),
    }
}

/// The gateway's largest page.
pub const PAGE: u32 = 60;

/// Every page of a list call: `fetch(next_token)` returns one page and the token of the
/// next (empty after the last page).
pub async fn all_pages<T>(
    mut fetch: impl AsyncFnMut(String) -> anyhow::Result<(Vec<T>, String)>,
) -> anyhow::Result<Vec<T>> {
    let (mut all, mut next_token) = (Vec::new(), String::new());
    loop {
        let (page, next) = fetch(next_token).await?;
        all.extend(page);
        if next.is_empty() {
            return Ok(all);
        }
        next_token = next;
    }
}

/// The first page of a list call (`next_token` empty), or the next one.
pub fn list_request(next_token: String) -> signet_proto::v1::ListRequest {
    signet_proto::v1::ListRequest {
        max_results: PAGE,
        next_token,
    }
}

/// Parse `name=value` (for `--attr`, `--login`, `--context`, …).
pub fn parse_attr(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected name=value, got {s:?}")),
    }
}

/// `--attr` pairs as proto attributes.
pub fn attributes(pairs: &[(String, String)]) -> Vec<signet_proto::v1::AttributeType> {
    pairs
        .iter()
        .map(|(name, value)| signet_proto::v1::AttributeType {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_split_on_the_first_equals_sign() {
        assert_eq!(
            parse_attr("custom:note=a=b").unwrap(),
            ("custom:note".to_string(), "a=b".to_string())
        );
        assert_eq!(
            parse_attr("email=").unwrap(),
            ("email".into(), String::new())
        );
        assert!(parse_attr("email").is_err());
        assert!(parse_attr("=x").is_err());
    }
}
