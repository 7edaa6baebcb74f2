//! `signet token totp-*`: setting a TOTP authenticator up and trying it out.

use crate::cli::token::MfaHolder;
use crate::rpc::answer;
use serde_json::{json, Value};
use signet_proto::v1 as pb;
use signet_proto::v1::user_pool_auth_client::UserPoolAuthClient;
use tonic::transport::Channel;

/// AssociateSoftwareToken: the secret, an otpauth:// URI for an app, and (with a session)
/// the session to verify with.
pub(super) async fn totp_setup(
    c: &mut UserPoolAuthClient<Channel>,
    holder: MfaHolder,
) -> anyhow::Result<Value> {
    let r = answer(
        c.associate_software_token(pb::AssociateSoftwareTokenRequest {
            access_token: holder.access_token.unwrap_or_default(),
            session: holder.session.unwrap_or_default(),
        })
        .await,
    )?;
    let uri = format!(
        "otpauth://totp/Signet?secret={}&issuer=Signet",
        r.secret_code
    );
    let mut out = json!({ "secret_code": r.secret_code, "otpauth_uri": uri });
    if !r.session.is_empty() {
        out["session"] = json!(r.session);
    }
    Ok(out)
}

/// VerifySoftwareToken.
pub(super) async fn totp_verify(
    c: &mut UserPoolAuthClient<Channel>,
    holder: MfaHolder,
    code: String,
    device_name: String,
) -> anyhow::Result<pb::VerifySoftwareTokenResponse> {
    answer(
        c.verify_software_token(pb::VerifySoftwareTokenRequest {
            access_token: holder.access_token.unwrap_or_default(),
            session: holder.session.unwrap_or_default(),
            user_code: code,
            friendly_device_name: device_name,
        })
        .await,
    )
}

/// The current code of a base32 secret, and how long it stays current.
pub(super) fn totp_now(secret: &str) -> anyhow::Result<Value> {
    let seed = signet_crypto::base32_decode(secret)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow::anyhow!("--secret is not base32"))?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let step = signet_crypto::totp_step(now_ms);
    let left = signet_crypto::TOTP_STEP_SECS - (now_ms / 1000) % signet_crypto::TOTP_STEP_SECS;
    Ok(json!({ "code": signet_crypto::totp_code(&seed, step), "valid_for_s": left }))
}
