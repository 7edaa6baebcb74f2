//! A request signed with an admin access key (AWS Signature Version 4, `AWS4-HMAC-SHA256`,
//! as botocore and every AWS SDK sign): the key exists and is active, the signature is its
//! secret's over this request, made within five minutes of now, for this service (under its
//! configured signing name, when one is) and the configured region, when one is. Only then is the call an admin's.

use super::keys::seal_purpose;
use super::Aws;
use crate::AppError;
use signet_verify::sigv4::{self, SignableRequest, SignatureError};
use std::time::{Duration, UNIX_EPOCH};

/// How far a signature's time may be from now (AWS's own bound).
const MAX_SKEW: Duration = Duration::from_secs(300);

/// Why a signed call is refused, in AWS's vocabulary.
#[derive(Debug)]
pub(crate) enum Unsigned {
    /// The caller's fault: AWS's exception name and the message.
    Refused {
        /// `MissingAuthenticationTokenException`, `IncompleteSignatureException`,
        /// `UnrecognizedClientException` or `InvalidSignatureException`.
        exception: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The store could not answer.
    Server(AppError),
}

fn refused(exception: &'static str, message: impl Into<String>) -> Unsigned {
    Unsigned::Refused {
        exception,
        message: message.into(),
    }
}

/// The parts of an HTTP request the signature covers.
pub(crate) struct Request<'a> {
    /// The method.
    pub method: &'a str,
    /// The path.
    pub path: &'a str,
    /// The raw query.
    pub query: &'a str,
    /// Every header (name, value).
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
    /// The caller's address (for the audit trail).
    pub remote: Option<std::net::SocketAddr>,
}

impl Request<'_> {
    /// What the signature covers, with the body's hash.
    pub(crate) fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            payload_sha256_hex: SignableRequest::payload_hash(self.body),
        }
    }
}

impl Aws {
    /// Who signed `req` for `service`: the admin access key's id.
    pub(crate) async fn signed_by(
        &self,
        req: &Request<'_>,
        service: &str,
    ) -> Result<String, Unsigned> {
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let Some(auth) = header("authorization") else {
            return Err(refused(
                "MissingAuthenticationTokenException",
                "This action is signed with an admin access key (AWS Signature Version 4).",
            ));
        };
        let parsed = sigv4::parse_authorization(auth)
            .map_err(|e| refused("IncompleteSignatureException", e.to_string()))?;
        if parsed.scheme != &sigv4::AWS4 {
            return Err(refused(
                "IncompleteSignatureException",
                "Admin calls are signed with AWS4-HMAC-SHA256.",
            ));
        }
        let key = match self.key(&parsed.access_key_id).await {
            Ok(k) if k.active => k,
            Ok(_) | Err(AppError::ResourceNotFound(_)) => {
                return Err(refused(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ))
            }
            Err(e) => return Err(Unsigned::Server(e)),
        };
        let secret = self
            .sealer
            .open(&seal_purpose(&key.access_key_id), &key.sealed_secret)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Unsigned::Server(AppError::Internal(
                    "an admin access key's secret does not open with this gateway's server key"
                        .into(),
                ))
            })?;
        let signable = req.signable();
        let now = UNIX_EPOCH + Duration::from_millis(self.clock.now_ms());
        match sigv4::verify_with_secret(&secret, &signable, now, MAX_SKEW) {
            Ok(_) => {}
            Err(SignatureError::Skewed { date }) => {
                return Err(refused(
                    "InvalidSignatureException",
                    format!("Signature expired: {date} is more than 5 minutes from now."),
                ))
            }
            Err(SignatureError::Mismatch) => return Err(refused(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            )),
            Err(e) => return Err(refused("IncompleteSignatureException", e.to_string())),
        }
        let service = self.signing_name(service);
        if parsed.service != service {
            return Err(refused(
                "InvalidSignatureException",
                format!(
                    "The signature is scoped to service {}, not {service}.",
                    parsed.service
                ),
            ));
        }
        if let Some(region) = self.region.as_deref().filter(|r| *r != parsed.region) {
            return Err(refused(
                "InvalidSignatureException",
                format!(
                    "The signature is scoped to region {}, not {region}.",
                    parsed.region
                ),
            ));
        }
        Ok(key.access_key_id)
    }
}
