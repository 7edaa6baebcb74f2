//! USER_SRP_AUTH and its PASSWORD_VERIFIER challenge, as Cognito's SRP clients speak them
//! (the arithmetic in `signet_crypto::srp`): the password is proven, never sent.
//!
//! InitiateAuth(USER_SRP_AUTH, SRP_A) reads the user and answers PASSWORD_VERIFIER with the
//! salt, B and a SECRET_BLOCK: the server's side of the exchange (its secret b, A, B, the
//! user, pool, client, expiry) sealed under the server key, so that any gateway can take
//! the answer (the clients send it back as PASSWORD_CLAIM_SECRET_BLOCK, and no session).
//! An unknown user, or one with no verifier yet (a password set before SRP existed or an
//! import, until its next USER_PASSWORD_AUTH or password change), gets a decoy of the same
//! shape that no proof matches.
//!
//! The answer is checked like a password (DESIGN §8): the attempt is counted through the
//! log first, then the claim (HMAC under the SRP key of pool ‖ user ‖ block ‖ timestamp) is
//! compared in constant time. What follows is the password flow's: disabled, unconfirmed,
//! NEW_PASSWORD_REQUIRED, the second factor, tokens.

use super::mfa::{next_factor, Next};
use super::password::refusal;
use super::{Auth, AuthOutcome};
use crate::names::Challenge;
use crate::passwords::srp_pool_name;
use crate::AppError;
use base64::Engine;
use serde::{Deserialize, Serialize};
use signet_core::{AppClient, UserPool};
use signet_crypto::{SrpEphemeral, SrpVerifier};
use std::collections::BTreeMap;

/// Sealing purpose of SECRET_BLOCKs.
const BLOCK_PURPOSE: &str = "srp-secret-block";
/// How far TIMESTAMP may be from this gateway's clock.
const TIMESTAMP_SKEW_S: i64 = 5 * 60;

/// The server's side of one exchange, sealed into SECRET_BLOCK.
#[derive(Serialize, Deserialize)]
struct Block {
    pool: String,
    client: String,
    /// The canonical username (USER_ID_FOR_SRP), empty for a decoy.
    user: String,
    sub: String,
    a: String,
    b: String,
    big_b: String,
    exp_ms: u64,
    /// The DEVICE_KEY InitiateAuth named, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Auth {
    /// InitiateAuth USER_SRP_AUTH: the PASSWORD_VERIFIER challenge.
    pub(super) async fn srp_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        srp_a: &str,
        device: Option<&str>,
    ) -> Result<AuthOutcome, AppError> {
        if srp_a.is_empty() || srp_a.len() > 1024 || !srp_a.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::invalid("SRP_A must be a hexadecimal number"));
        }
        let (login, view) = self.user_for_login(pool, username).await?;
        if view.is_none() && !pool.config.prevent_user_existence_errors {
            return Err(AppError::UserNotFound);
        }
        self.pre_authentication(pool, client, username, view.as_ref())
            .await?;
        let verifier: Option<SrpVerifier> = view
            .as_ref()
            .and_then(|v| v.user.srp.as_deref())
            .and_then(|s| self.passwords.open_srp(s));
        let user_id = match &view {
            Some(v) => v.user.username.clone(),
            None => login.unwrap_or_else(|| username.to_string()),
        };
        // B from the verifier, or a decoy: the same work (one exponentiation) either way.
        let (salt, eph, real) = tokio::task::spawn_blocking(move || match verifier {
            Some(v) => match signet_crypto::srp_server_ephemeral(&v.verifier) {
                Some(eph) => (v.salt, eph, true),
                None => decoy(),
            },
            None => decoy(),
        })
        .await
        .map_err(|e| AppError::Internal(format!("SRP task: {e}")))?;
        let block = Block {
            pool: pool.id.clone(),
            client: client.client_id.clone(),
            user: if real { user_id.clone() } else { String::new() },
            sub: view.map(|v| v.user.sub).unwrap_or_default(),
            a: srp_a.to_ascii_lowercase(),
            b: eph.b,
            big_b: eph.big_b.clone(),
            exp_ms: self.clock.now_ms() + self.settings.session_ttl.as_millis() as u64,
            device: device.map(str::to_string),
        };
        let sealed = self.sealer.seal(
            BLOCK_PURPOSE,
            &serde_json::to_vec(&block).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let parameters = BTreeMap::from([
            ("SALT".to_string(), salt),
            ("SRP_B".to_string(), eph.big_b),
            ("SECRET_BLOCK".to_string(), b64().encode(sealed.as_bytes())),
            ("USER_ID_FOR_SRP".to_string(), user_id.clone()),
            ("USERNAME".to_string(), user_id),
        ]);
        Ok(AuthOutcome::Challenge {
            name: Challenge::PasswordVerifier,
            session: String::new(),
            parameters,
        })
    }

    /// RespondToAuthChallenge PASSWORD_VERIFIER.
    pub(super) async fn srp_verify(
        &self,
        client_id: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.dir.active_client(client_id).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        let answer: ClaimAnswer<Block> = self.open_claim(&client, responses, BLOCK_PURPOSE)?;
        let ClaimAnswer {
            block,
            block_bytes,
            claim,
            timestamp,
            username: given_user,
        } = answer;
        if block.pool != pool.id || block.client != client.client_id {
            return Err(invalid_claim());
        }
        self.claim_in_time(block.exp_ms, &timestamp)?;
        // The user now: its verifier must still be the one B was made with (a password
        // changed since fails the claim), and the same user (sub).
        let (_, view) = self.user_for_login(&pool, &block.user).await?;
        let view = view.filter(|v| !block.user.is_empty() && v.user.sub == block.sub);
        let verifier = view
            .as_ref()
            .and_then(|v| v.user.srp.as_deref())
            .and_then(|s| self.passwords.open_srp(s));
        let hidden = pool.config.prevent_user_existence_errors;
        let clear = view
            .as_ref()
            .is_none_or(|v| next_factor(&pool, v) == Next::Tokens);
        let (user_id, stamp) = (block.user.clone(), timestamp.clone());
        let block_device = block.device.clone();
        let pool_name = srp_pool_name(&pool.id).to_string();
        let check = move || {
            let eph = SrpEphemeral {
                b: block.b,
                big_b: block.big_b,
            };
            // A decoy runs the same exponentiations against a verifier of nothing.
            let v = verifier.map(|v| v.verifier).unwrap_or_else(|| "2".into());
            let Some(key) = signet_crypto::srp_server_key(&block.a, &eph, &v) else {
                return false;
            };
            let want = signet_crypto::srp_claim(&key, &pool_name, &user_id, &block_bytes, &stamp);
            signet_crypto::constant_time_eq(&want, &claim) && !user_id.is_empty()
        };
        // Counted first, under the canonical username (a decoy's is refused by the store).
        let target = view
            .as_ref()
            .map(|v| v.user.username.clone())
            .unwrap_or_else(|| given_user.clone());
        let guess = self
            .passwords
            .guess_with(&pool, &target, check, clear)
            .await?;
        let Some(view) = view else {
            return Err(if hidden {
                super::wrong_credentials()
            } else {
                AppError::UserNotFound
            });
        };
        if let Some(e) = refusal(guess, hidden, true) {
            return Err(e);
        }
        // The device named at InitiateAuth, or (as pycognito sends it) with the claim.
        let device = block_device.or_else(|| responses.get("DEVICE_KEY").cloned());
        self.after_password(&pool, &client, view, device.as_deref())
            .await
    }
}

/// An answer to PASSWORD_VERIFIER or DEVICE_PASSWORD_VERIFIER: the server's side of the
/// exchange (opened from PASSWORD_CLAIM_SECRET_BLOCK), the block's bytes (part of the signed
/// message), the claim, TIMESTAMP and USERNAME.
pub(super) struct ClaimAnswer<B> {
    pub block: B,
    pub block_bytes: Vec<u8>,
    pub claim: Vec<u8>,
    pub timestamp: String,
    pub username: String,
}

pub(super) fn invalid_claim() -> AppError {
    AppError::NotAuthorized("Invalid secret block or signature.".into())
}

impl Auth {
    /// Read an SRP claim's answer for `client` (its SECRET_HASH checked) and open its
    /// secret block, sealed for `purpose`.
    pub(super) fn open_claim<B: serde::de::DeserializeOwned>(
        &self,
        client: &AppClient,
        responses: &BTreeMap<String, String>,
        purpose: &str,
    ) -> Result<ClaimAnswer<B>, AppError> {
        let need = |k: &str| {
            responses
                .get(k)
                .ok_or_else(|| AppError::invalid(format!("Missing required parameter {k}")))
        };
        let (block_b64, claim_b64, timestamp) = (
            need("PASSWORD_CLAIM_SECRET_BLOCK")?,
            need("PASSWORD_CLAIM_SIGNATURE")?,
            need("TIMESTAMP")?,
        );
        let username = need("USERNAME")?;
        self.secrets.check_secret_hash(
            client,
            username,
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        let block_bytes = b64().decode(block_b64).map_err(|_| invalid_claim())?;
        let block = std::str::from_utf8(&block_bytes)
            .ok()
            .and_then(|s| self.sealer.open(purpose, s))
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_claim)?;
        Ok(ClaimAnswer {
            block,
            block_bytes,
            claim: b64().decode(claim_b64).unwrap_or_default(),
            timestamp: timestamp.clone(),
            username: username.clone(),
        })
    }

    /// The exchange has not expired (`exp_ms`) and TIMESTAMP is the client's time now.
    pub(super) fn claim_in_time(&self, exp_ms: u64, timestamp: &str) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        if now >= exp_ms {
            return Err(AppError::NotAuthorized(
                "Invalid session for the user, session is expired.".into(),
            ));
        }
        if !timestamp_ok(timestamp, now) {
            return Err(AppError::invalid(
                "TIMESTAMP must be the client's UTC time, e.g. \"Sun Dec 6 08:10:36 UTC 2026\"",
            ));
        }
        Ok(())
    }
}

/// A salt and B for nobody.
fn decoy() -> (String, SrpEphemeral, bool) {
    let (salt, big_b) = signet_crypto::srp_decoy();
    let b = hex::encode(signet_crypto::random_bytes::<32>());
    (salt, SrpEphemeral { b, big_b }, false)
}

/// A claim's TIMESTAMP is within [`TIMESTAMP_SKEW_S`] of `now_ms`.
fn timestamp_ok(timestamp: &str, now_ms: u64) -> bool {
    parse_timestamp(timestamp)
        .is_some_and(|t| (t - (now_ms / 1000) as i64).abs() <= TIMESTAMP_SKEW_S)
}

/// Cognito's TIMESTAMP, `EEE MMM d HH:mm:ss UTC yyyy` (day without a leading zero, though a
/// zero is tolerated), as Unix seconds.
fn parse_timestamp(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split(' ').collect();
    let [_weekday, month, day, time, "UTC", year] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    // Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn cognito_timestamps_parse() {
        assert_eq!(
            parse_timestamp("Sun Dec 6 08:10:36 UTC 2026"),
            Some(1_796_544_636)
        );
        assert_eq!(parse_timestamp("Thu Jan 1 00:00:00 UTC 1970"), Some(0));
        assert_eq!(
            parse_timestamp("Tue Feb 29 12:00:00 UTC 2028"),
            Some(1_835_438_400)
        );
        for bad in [
            "",
            "Sun Dec 6 08:10:36 GMT 2026",
            "Sun Foo 6 08:10:36 UTC 2026",
            "Sun Dec 32 08:10:36 UTC 2026",
            "Sun Dec 6 24:10:36 UTC 2026",
            "Sun Dec 6 08:10 UTC 2026",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
