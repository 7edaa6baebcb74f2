//! Authorization codes: sealed (only this cluster reads them), bound to the pool, client,
//! redirect URI, user, scopes, nonce and PKCE challenge of the authorize request that
//! made them, good for five minutes, and redeemed once cluster-wide: the first redemption
//! starts the code's refresh-token family through the log (`StartRefreshFamily`), so a
//! second one is refused, and the family it would have continued is revoked.

use base64::Engine;
use serde::{Deserialize, Serialize};

/// Seal purpose: a code never opens as a refresh token or a session, nor they as a code.
pub(crate) const CODE_PURPOSE: &str = "authorization-code";

/// How long a code may wait for its exchange (Cognito's five minutes; RFC 6749 §4.1.2
/// recommends at most ten).
pub(crate) const CODE_TTL_MS: u64 = 5 * 60 * 1000;

/// What an authorization code carries (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodePayload {
    pub v: u8,
    pub pool: String,
    pub client: String,
    pub redirect_uri: String,
    pub sub: String,
    pub username: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// PKCE: BASE64URL(SHA-256(code_verifier)) (only S256 is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// The refresh-token family the code starts (its time is the sign-in's).
    pub fam: String,
    /// The sign-in's time, Unix seconds (the tokens' `auth_time`).
    pub auth_time: u64,
    pub exp_ms: u64,
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub(crate) fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is BASE64URL of 32 bytes, unpadded: exactly 43 characters.
pub(crate) fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .is_ok_and(|b| b.len() == 32)
}

pub(crate) use signet_crypto::pkce_s256 as s256;

/// Whether the token request's verifier (or its absence) answers the code's challenge (or
/// its absence). A verifier for a code made without a challenge is refused too (RFC 9700
/// §2.1.1: that is how a PKCE downgrade shows).
pub(crate) fn pkce_answers(challenge: Option<&str>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (Some(c), Some(v)) => {
            valid_verifier(v) && signet_crypto::constant_time_eq(s256(v).as_bytes(), c.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(pkce_answers(
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            Some(verifier)
        ));
    }

    #[test]
    fn pkce_refuses_wrong_missing_and_downgraded_verifiers() {
        let v = "a".repeat(43);
        let c = s256(&v);
        assert!(!pkce_answers(Some(&c), None));
        assert!(!pkce_answers(Some(&c), Some(&"b".repeat(43))));
        // The challenge itself is not a verifier ("plain" is not accepted).
        assert!(!pkce_answers(Some(&c), Some(&c)));
        assert!(!pkce_answers(None, Some(&v)));
        assert!(pkce_answers(None, None));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(!valid_challenge("plain-challenge"));
    }
}
