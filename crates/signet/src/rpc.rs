//! Shared plumbing of the gateway CLIs (`signet admin`, `signet token`): connecting to the
//! gateway, turning a gRPC error into its Cognito exception name, printing JSON.

use anyhow::Context;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// Connect to the gateway's gRPC address (`host:port` or `http://host:port`).
pub async fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    let url = if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("http://{endpoint}")
    };
    Endpoint::from_shared(url.clone())
        .with_context(|| format!("bad gateway endpoint {endpoint:?}"))?
        .connect_timeout(Duration::from_secs(5))
        // Password calls wait for argon2; a loaded gateway may queue them for a while.
        .timeout(Duration::from_secs(60))
        .connect()
        .await
        .with_context(|| format!("cannot connect to the gateway at {url} (is it running?)"))
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
