//! Evidence for the report's `"transport"`: when the stores are reached over mutual TLS,
//! each one is asked for its Status three ways before the workloads start: with the
//! operator certificate (it must answer, or the probe proves nothing), in plaintext, and
//! over TLS without a client certificate (both must be refused). A store that answers
//! either of the last two is open to anyone who reaches its port (DESIGN §1).

use super::endpoints::Endpoints;
use serde_json::{json, Value};
use signet_store::StoreClient;
use signet_tls::{TlsFiles, TlsSource, Transport};
use std::time::Duration;

/// How long one probe may take; a refused handshake fails at once.
const ATTEMPT: Duration = Duration::from_secs(3);

async fn answers(api: &str, transport: Transport) -> bool {
    StoreClient::with_transport(vec![api.to_string()], ATTEMPT, ATTEMPT, transport)
        .status_of(api)
        .await
        .is_ok()
}

/// The probe of every store (`null` when the stores are reached in plaintext: there is
/// nothing to refuse): how many stores there are, how many answered the operator, and
/// how many refused a plaintext client and a TLS client without a certificate; the stores
/// that let either in are listed.
pub async fn probe(e: &Endpoints) -> anyhow::Result<Value> {
    let Transport::Tls { source, expect } = &e.store_transport else {
        return Ok(Value::Null);
    };
    // The same CA and trust domain, no certificate of our own.
    let anonymous = Transport::Tls {
        source: TlsSource::load(TlsFiles {
            ca: source.files().ca.clone(),
            cert: None,
            trust_domain: source.trust_domain().to_string(),
        })?,
        expect: *expect,
    };
    let (mut operator, mut plaintext, mut no_certificate) = (0, 0, 0);
    let mut let_in = Vec::new();
    for api in &e.stores {
        if !answers(api, e.store_transport.clone()).await {
            continue;
        }
        operator += 1;
        let (plain, anon) = (
            answers(api, Transport::Plaintext).await,
            answers(api, anonymous.clone()).await,
        );
        plaintext += usize::from(!plain);
        no_certificate += usize::from(!anon);
        if plain || anon {
            let_in.push(api.clone());
        }
    }
    Ok(json!({
        "stores": e.stores.len(),
        "answered_operator": operator,
        "refused_plaintext": plaintext,
        "refused_without_certificate": no_certificate,
        "let_in": let_in,
    }))
}
