//! App client secrets: made once (kept as a keyed hash to check and sealed for
//! SECRET_HASH), checked in constant time, and Cognito's SECRET_HASH.
//!
//! A shared handle: sign-in, sign-up, the client admin calls and the token endpoint hold a
//! clone.

use crate::AppError;
use base64::Engine;
use signet_core::{AppClient, ClientSecret};
use signet_crypto::{KeyedHasher, Sealer};

/// See the module doc.
#[derive(Clone)]
pub(crate) struct ClientSecrets {
    keyed: KeyedHasher,
    sealer: Sealer,
}

impl ClientSecrets {
    /// Built by the composition root.
    pub(crate) fn new(keyed: KeyedHasher, sealer: Sealer) -> ClientSecrets {
        ClientSecrets { keyed, sealer }
    }

    /// A new client secret, `given` (a secret brought from elsewhere, e.g. Cognito; checked
    /// against Cognito's rule: 24-64 of `[A-Za-z0-9_+]`) or made here: (the record kept, the
    /// plaintext shown once).
    pub(crate) fn new_secret(
        &self,
        client_id: &str,
        now: u64,
        given: Option<&str>,
    ) -> Result<(ClientSecret, String), AppError> {
        let plain = match given {
            None => signet_crypto::random_secret(),
            Some(g) => {
                let fits = (24..=64).contains(&g.len())
                    && g.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+');
                if !fits {
                    return Err(AppError::invalid(
                        "ClientSecret must be 24 to 64 characters of A-Z, a-z, 0-9, _ and +",
                    ));
                }
                g.to_string()
            }
        };
        let record = ClientSecret {
            id: signet_crypto::random_hex_id(),
            hash: self.hash(client_id, &plain),
            sealed: self
                .sealer
                .seal(&format!("client-secret:{client_id}"), plain.as_bytes()),
            created_at_ms: now,
        };
        Ok((record, plain))
    }

    /// The keyed hash a client secret is stored and checked as.
    pub(crate) fn hash(&self, client_id: &str, secret: &str) -> String {
        self.keyed
            .hash("client-secret", &[client_id.as_bytes(), secret.as_bytes()])
    }

    /// Check a client's secret material for a request: the SECRET_HASH for user flows.
    /// Clients without a secret need none; clients with one must send a matching hash.
    pub(crate) fn check_secret_hash(
        &self,
        client: &AppClient,
        username: &str,
        given: Option<&str>,
    ) -> Result<(), AppError> {
        if client.secrets.is_empty() {
            return Ok(());
        }
        let Some(given) = given.filter(|g| !g.is_empty()) else {
            return Err(AppError::NotAuthorized(format!(
                "Client {} is configured with secret but SECRET_HASH was not received",
                client.client_id
            )));
        };
        for s in &client.secrets {
            let Some(secret) = self
                .sealer
                .open(&format!("client-secret:{}", client.client_id), &s.sealed)
            else {
                continue;
            };
            let secret = String::from_utf8_lossy(&secret);
            let expected = secret_hash(&secret, username, &client.client_id);
            if signet_crypto::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return Ok(());
            }
        }
        Err(AppError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.client_id
        )))
    }

    /// The SECRET_HASH the client itself would send for `username` (from its newest
    /// secret), for the hosted pages, which act for the client in the browser; `None` for a
    /// public client.
    pub(crate) fn own_secret_hash(&self, client: &AppClient, username: &str) -> Option<String> {
        let s = client.secrets.last()?;
        let secret = self
            .sealer
            .open(&format!("client-secret:{}", client.client_id), &s.sealed)?;
        Some(secret_hash(
            &String::from_utf8_lossy(&secret),
            username,
            &client.client_id,
        ))
    }

    /// Whether `given` is one of the client's secrets (constant time per secret).
    pub(crate) fn matches(&self, client: &AppClient, given: &str) -> bool {
        let h = self.hash(&client.client_id, given);
        // Check every secret, so the time does not say which one matched.
        client.secrets.iter().fold(false, |ok, s| {
            signet_crypto::constant_time_eq(h.as_bytes(), s.hash.as_bytes()) | ok
        })
    }
}

/// Cognito's SECRET_HASH: Base64(HMAC-SHA256(key = client secret, msg = username + client id)).
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mac = signet_crypto::hmac_sha256(
        secret.as_bytes(),
        format!("{username}{client_id}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(mac)
}
