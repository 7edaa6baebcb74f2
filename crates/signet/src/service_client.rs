//! A confidential app client allowed the client_credentials grant, as `signet bench` and
//! `signet chaos` use it: made once through the admin API, then asked for tokens over
//! HTTP with client_secret_basic.

use crate::rpc::{status_error, AdminChannel};
use anyhow::Context;
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_admin_client::UserPoolAdminClient;

/// Create a client with a secret, allowed client_credentials for `scopes`; its id and
/// secret.
pub(crate) async fn create(
    a: &mut UserPoolAdminClient<AdminChannel>,
    pool_id: &str,
    name: &str,
    scopes: Vec<String>,
) -> anyhow::Result<(String, String)> {
    let client = a
        .create_user_pool_client(pb::CreateUserPoolClientRequest {
            user_pool_id: pool_id.into(),
            client_name: name.into(),
            generate_secret: true,
            allowed_oauth_flows: vec!["client_credentials".into()],
            allowed_oauth_scopes: scopes,
            ..Default::default()
        })
        .await
        .map_err(status_error)
        .context("CreateUserPoolClient (service)")?
        .into_inner()
        .user_pool_client
        .context("CreateUserPoolClient answered without a client")?;
    anyhow::ensure!(
        !client.client_secret.is_empty(),
        "CreateUserPoolClient did not return the client secret"
    );
    Ok((client.client_id, client.client_secret))
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 appendix B).
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `Authorization` header value of client_secret_basic (RFC 6749 §2.3.1: id and secret
/// form-encoded, then base64).
pub(crate) fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The body of a client_credentials token request for `scope`.
pub(crate) fn token_body(scope: &str) -> String {
    format!("grant_type=client_credentials&scope={}", form_encode(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_form_encoded() {
        assert_eq!(form_encode("a b/c:d+é"), "a+b%2Fc%3Ad%2B%C3%A9");
        assert_eq!(
            token_body("x/read"),
            "grant_type=client_credentials&scope=x%2Fread"
        );
        // "id:s%2F" in base64.
        assert_eq!(basic_authorization("id", "s/"), "Basic aWQ6cyUyRg==");
    }
}
