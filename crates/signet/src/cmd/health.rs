//! `signet health`: one grpc.health.v1.Health/Check call to a gateway's gRPC address or a
//! store node's API address, for container HEALTHCHECKs, probes and scripts. It prints the
//! status on stdout and says it in its exit status.

use crate::cli::health::HealthArgs;
use crate::exit::Exit;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// Exit status when the server answered with anything but SERVING.
pub const EXIT_NOT_SERVING: u8 = 1;
/// Exit status of a bad `--endpoint` (clap's usage errors exit 2 too).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when no health answer came: no connection, no answer in time, or no
/// health service at that address.
pub const EXIT_UNREACHABLE: u8 = 3;

/// How to reach the endpoint: plaintext unless TLS files are given or the endpoint is
/// `https://`.
fn transport(a: &HealthArgs) -> anyhow::Result<signet_tls::Transport> {
    if a.store && a.tls.given() {
        let files = signet_tls::TlsFiles {
            ca: a.tls.ca.clone(),
            cert: a.tls.cert.clone().zip(a.tls.key.clone()),
            trust_domain: a.tls.trust_domain.clone(),
        };
        let source = signet_tls::TlsSource::load(files)?;
        return Ok(signet_tls::Transport::Tls {
            source,
            expect: Some(signet_tls::Role::Store),
        });
    }
    a.tls.gateway_transport(&a.endpoint)
}

/// The channel `signet health` checks through. The one place to plug in transport options
/// (TLS roots and client certificates) for health checks.
fn connect(endpoint: &str, timeout: Duration) -> Result<Endpoint, String> {
    let url = if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("http://{endpoint}")
    };
    // The whole check is bounded by `timeout` in `run`; this only ends a hanging connect.
    Endpoint::from_shared(url)
        .map(|e| e.connect_timeout(timeout))
        .map_err(|e| format!("bad endpoint {endpoint:?}: {e}"))
}

/// An error with its causes, `a: b: c` (tonic's transport errors hide the useful part in
/// their sources).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let part = c.to_string();
        // Wrappers often repeat their source's message.
        if parts.last() != Some(&part) {
            parts.push(part);
        }
        cur = c.source();
    }
    parts.join(": ")
}

enum Answer {
    Status(ServingStatus),
    Unreachable(String),
}

async fn check(channel: Channel, service: String) -> Answer {
    match HealthClient::new(channel)
        .check(HealthCheckRequest { service })
        .await
    {
        Ok(r) => Answer::Status(
            ServingStatus::try_from(r.into_inner().status).unwrap_or(ServingStatus::Unknown),
        ),
        // The health service answers NOT_FOUND for a service it does not know.
        Err(s) if s.code() == tonic::Code::NotFound => {
            Answer::Status(ServingStatus::ServiceUnknown)
        }
        Err(s) => Answer::Unreachable(format!("{}: {}", s.code(), s.message())),
    }
}

pub async fn run(a: HealthArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_millis(a.timeout_ms);
    let endpoint = connect(&a.endpoint, timeout).map_err(|message| Exit {
        code: EXIT_USAGE,
        message,
    })?;
    let transport = transport(&a).map_err(|e| Exit {
        code: EXIT_USAGE,
        message: format!("{e:#}"),
    })?;
    let call = async {
        let channel = match &transport {
            signet_tls::Transport::Plaintext => endpoint.connect().await.map_err(|e| chain(&e)),
            tls => signet_tls::connect(&a.endpoint, tls, timeout, timeout)
                .await
                .map_err(|e| chain(e.as_ref())),
        };
        match channel {
            Ok(channel) => check(channel, a.service.clone()).await,
            Err(why) => Answer::Unreachable(why),
        }
    };
    let answer = tokio::time::timeout(timeout, call)
        .await
        .unwrap_or_else(|_| Answer::Unreachable(format!("no answer within {timeout:?}")));
    let (word, failure) = match answer {
        Answer::Status(ServingStatus::Serving) => ("SERVING", None),
        Answer::Status(s) => (
            s.as_str_name(),
            Some((EXIT_NOT_SERVING, s.as_str_name().to_string())),
        ),
        Answer::Unreachable(why) => ("UNREACHABLE", Some((EXIT_UNREACHABLE, why))),
    };
    println!("{word}");
    match failure {
        None => Ok(()),
        Some((code, why)) => Err(Exit {
            code,
            message: format!("{}: {why}", a.endpoint),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_with_or_without_scheme() {
        let t = Duration::from_secs(1);
        assert_eq!(
            connect("127.0.0.1:7410", t).unwrap().uri().to_string(),
            "http://127.0.0.1:7410/"
        );
        assert_eq!(
            connect("http://[::1]:7401", t).unwrap().uri().to_string(),
            "http://[::1]:7401/"
        );
        assert!(connect("not an address", t).is_err());
    }
}
