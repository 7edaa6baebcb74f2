//! Shared plumbing of the gateway clients (`signet admin`, `signet token`, …, `signet
//! bench`): connecting to a gateway, the admin secret on every admin call, turning a gRPC
//! error into its Cognito exception name, paging through list calls.

use anyhow::Context;
use std::path::Path;
use std::time::Duration;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

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

/// Adds `authorization: Bearer <admin secret>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// A channel to the gateway whose calls carry the admin secret (for any admin service).
pub type AdminChannel = InterceptedService<Channel, Bearer>;

/// The admin secret: the flag or variable, else the dev data dir's secrets file.
pub fn admin_secret(given: Option<String>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(s) = given {
        return Ok(s);
    }
    let path = data_dir.join("dev-secrets.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no admin secret: pass --admin-secret (or SIGNET_ADMIN_SECRET), or the --data-dir \
             of `signet dev` (cannot read {})",
            path.display()
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    v["admin_secret"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{} has no admin_secret", path.display()))
}

/// `channel` with the admin secret on every call.
pub fn with_secret(channel: Channel, secret: &str) -> anyhow::Result<AdminChannel> {
    let bearer: MetadataValue<Ascii> = format!("Bearer {secret}")
        .parse()
        .context("the admin secret contains characters not allowed in a header")?;
    Ok(InterceptedService::new(channel, Bearer(bearer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_comes_from_the_flag_first_then_the_dev_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            admin_secret(Some("given".into()), dir.path()).unwrap(),
            "given"
        );
        let missing = admin_secret(None, dir.path()).unwrap_err();
        assert!(format!("{missing:#}").contains("--admin-secret"));
        std::fs::write(
            dir.path().join("dev-secrets.json"),
            r#"{"admin_secret":"from-file","server_secret_hex":"00"}"#,
        )
        .unwrap();
        assert_eq!(admin_secret(None, dir.path()).unwrap(), "from-file");
    }
}
