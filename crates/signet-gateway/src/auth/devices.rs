//! Remembered devices, as Cognito's device tracking and its SRP clients speak them.
//!
//! When a pool tracks devices, a sign-in that names no known device gets a device key
//! (NewDeviceMetadata, and the access token's `device_key` claim) and the user's device
//! group key. The device makes a secret of its own and sends ConfirmDevice the SRP salt and
//! verifier of it (group key ‖ device key ‖ ":" ‖ secret), with that sign-in's access token:
//! a device key is confirmed only by the sign-in it was issued to, and once.
//!
//! At a later sign-in that names a remembered device (DEVICE_KEY), the password comes first
//! as always; then, instead of the second factor, the device proves its secret:
//! DEVICE_SRP_AUTH (SRP_A, with the session the password's step returned: a device secret
//! alone never signs in) and DEVICE_PASSWORD_VERIFIER (the claim, HMAC of group key ‖ device
//! key ‖ secret block ‖ timestamp, checked like a password: counted through the log first).
//! A device that is not remembered, or forgotten, answers the second factor.

use super::password::refusal;
use super::session::invalid_session;
use super::srp::{invalid_claim, ClaimAnswer};
use super::{Auth, AuthOutcome};
use crate::hooks::Trigger;
use crate::names::Challenge;
use crate::tokens::{DeviceClaim, SessionPayload};
use crate::AppError;
use base64::Engine;
use serde::{Deserialize, Serialize};
use signet_core::{
    AppClient, Command, ConfirmDevice, Device, ForgetDevice, Outcome, Query, Rejection,
    UpdateDeviceStatus, User, UserPool,
};
use signet_crypto::SrpEphemeral;
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

/// Sealing purpose of a device's salt and verifier at rest.
const VERIFIER_PURPOSE: &str = "device-verifier";
/// Sealing purpose of DEVICE_PASSWORD_VERIFIER's SECRET_BLOCK.
const BLOCK_PURPOSE: &str = "device-srp-secret-block";
/// Longest device name kept.
const MAX_NAME_CHARS: usize = 256;
/// Most devices a listing returns (Cognito's limit too).
const MAX_PAGE: usize = 60;

/// A device's SRP salt and verifier, hex.
#[derive(Serialize, Deserialize)]
struct Verifier {
    salt: String,
    verifier: String,
}

/// The server's side of a device's SRP exchange, sealed into SECRET_BLOCK: the sign-in's
/// session (so the one user check applies) and the exchange's numbers.
#[derive(Serialize, Deserialize)]
struct Block {
    session: SessionPayload,
    a: String,
    b: String,
    big_b: String,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A user's device group key: the same for all of the user's devices, derived, not stored
/// (it is no secret: Cognito hands it out with every new device).
pub(crate) fn group_key(pool_id: &str, sub: &str) -> String {
    let mac = signet_crypto::hmac_sha256(
        b"signet device group key v1",
        format!("{pool_id}\0{sub}").as_bytes(),
    );
    format!("-{}", &hex::encode(mac)[..12])
}

/// A new device key, `<region>_<uuid>` as Cognito's.
fn new_device_key(pool_id: &str) -> String {
    let region = pool_id.split('_').next().unwrap_or("local");
    format!("{region}_{}", crate::ids::uuid())
}

fn not_found() -> AppError {
    AppError::ResourceNotFound("Device does not exist.".into())
}

/// `remembered` / `not_remembered`.
fn remembered_status(s: &str) -> Result<bool, AppError> {
    match s {
        "remembered" => Ok(true),
        "not_remembered" => Ok(false),
        other => Err(AppError::invalid(format!(
            "DeviceRememberedStatus must be remembered or not_remembered, not {other:?}"
        ))),
    }
}

/// A page size of a device listing (0: the most).
pub(crate) fn page_size(limit: u32) -> Result<usize, AppError> {
    match limit as usize {
        0 => Ok(MAX_PAGE),
        n if n <= MAX_PAGE => Ok(n),
        _ => Err(AppError::invalid(format!(
            "Limit must be between 0 and {MAX_PAGE}"
        ))),
    }
}

/// What ConfirmDevice sends: the verifier and salt, base64.
pub struct DeviceSecret<'a> {
    /// `PasswordVerifier`.
    pub verifier: &'a str,
    /// `Salt`.
    pub salt: &'a str,
}

impl Auth {
    async fn device_of(
        &self,
        pool_id: &str,
        sub: &str,
        key: &str,
    ) -> Result<Option<Device>, AppError> {
        if key.is_empty() || key.len() > 128 || key.contains('\0') {
            return Ok(None);
        }
        self.store
            .ask(
                Query::GetDevice {
                    pool_id: pool_id.into(),
                    sub: sub.into(),
                    device_key: key.into(),
                },
                Linearizable,
            )
            .await
    }

    /// The user's device `key`, if it is remembered (and the pool tracks devices).
    pub(super) async fn remembered_device(
        &self,
        pool: &UserPool,
        user: &User,
        key: &str,
    ) -> Result<Option<Device>, AppError> {
        if pool.config.devices.is_none() {
            return Ok(None);
        }
        Ok(self
            .device_of(&pool.id, &user.sub, key)
            .await?
            .filter(|d| d.remembered))
    }

    /// The device the tokens of a finished sign-in name: the known device the sign-in named,
    /// or a new key (returned as NewDeviceMetadata). None when the pool tracks no devices.
    pub(super) async fn device_claim(
        &self,
        pool: &UserPool,
        user: &User,
        given: Option<&str>,
    ) -> Result<Option<DeviceClaim>, AppError> {
        if pool.config.devices.is_none() {
            return Ok(None);
        }
        if let Some(key) = given {
            if self.device_of(&pool.id, &user.sub, key).await?.is_some() {
                return Ok(Some(DeviceClaim {
                    key: key.to_string(),
                    new_group_key: None,
                }));
            }
        }
        Ok(Some(DeviceClaim {
            key: new_device_key(&pool.id),
            new_group_key: Some(group_key(&pool.id, &user.sub)),
        }))
    }

    /// DEVICE_SRP_AUTH, asked of a remembered device instead of the second factor.
    pub(super) fn ask_device(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        key: &str,
    ) -> Result<AuthOutcome, AppError> {
        let name = Challenge::DeviceSrpAuth;
        let parameters = BTreeMap::from([
            ("USERNAME".to_string(), user.username.clone()),
            ("DEVICE_KEY".to_string(), key.to_string()),
        ]);
        Ok(AuthOutcome::Challenge {
            name,
            session: self.new_session_device(pool, client, user, name.name(), Some(key))?,
            parameters,
        })
    }

    /// The answer to DEVICE_SRP_AUTH (SRP_A): DEVICE_PASSWORD_VERIFIER with the device's
    /// salt, B and a sealed secret block.
    pub(super) async fn device_srp_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        s: &SessionPayload,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let need = |k: &str| {
            responses
                .get(k)
                .ok_or_else(|| AppError::invalid(format!("Missing required parameter {k}")))
        };
        let (key, srp_a) = (need("DEVICE_KEY")?, need("SRP_A")?);
        if srp_a.is_empty() || srp_a.len() > 1024 || !srp_a.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::invalid("SRP_A must be a hexadecimal number"));
        }
        if s.device.as_deref() != Some(key.as_str()) {
            return Err(invalid_session());
        }
        let view = self.session_user(pool, s).await?;
        let device = self
            .remembered_device(pool, &view.user, key)
            .await?
            .ok_or_else(invalid_session)?;
        let v = self.open_verifier(&device)?;
        let verifier = v.verifier.clone();
        let eph =
            tokio::task::spawn_blocking(move || signet_crypto::srp_server_ephemeral(&verifier))
                .await
                .map_err(|e| AppError::Internal(format!("SRP task: {e}")))?
                .ok_or_else(|| {
                    AppError::Internal("a stored device verifier is out of range".into())
                })?;
        let stage = Challenge::DevicePasswordVerifier.name();
        let mut session = self.session_payload(pool, client, &view.user, stage, None);
        session.device = Some(key.clone());
        let block = Block {
            session,
            a: srp_a.to_ascii_lowercase(),
            b: eph.b,
            big_b: eph.big_b.clone(),
        };
        let sealed = self.sealer.seal(
            BLOCK_PURPOSE,
            &serde_json::to_vec(&block).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let parameters = BTreeMap::from([
            ("USERNAME".to_string(), view.user.username.clone()),
            ("DEVICE_KEY".to_string(), key.clone()),
            ("SALT".to_string(), v.salt),
            ("SRP_B".to_string(), eph.big_b),
            ("SECRET_BLOCK".to_string(), b64().encode(sealed.as_bytes())),
        ]);
        Ok(AuthOutcome::Challenge {
            name: Challenge::DevicePasswordVerifier,
            session: self.new_session_device(pool, client, &view.user, stage, Some(key))?,
            parameters,
        })
    }

    /// The answer to DEVICE_PASSWORD_VERIFIER: the device's claim, counted like a password
    /// guess, then tokens (the second factor it stands in for is done).
    pub(super) async fn device_srp_verify(
        &self,
        client_id: &str,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthOutcome, AppError> {
        let client = self.dir.active_client(client_id).await?;
        let pool = self.dir.pool(&client.pool_id).await?;
        let key = responses
            .get("DEVICE_KEY")
            .ok_or_else(|| AppError::invalid("Missing required parameter DEVICE_KEY"))?;
        let answer: ClaimAnswer<Block> = self.open_claim(&client, responses, BLOCK_PURPOSE)?;
        let ClaimAnswer {
            block,
            block_bytes,
            claim,
            timestamp,
            ..
        } = answer;
        let s = &block.session;
        let stage = Challenge::DevicePasswordVerifier.name();
        let ours = s.pool == pool.id && s.client == client.client_id && s.challenge == stage;
        if !ours || s.device.as_deref() != Some(key.as_str()) {
            return Err(invalid_claim());
        }
        self.claim_in_time(s.exp_ms, &timestamp)?;
        // The one user check, as for any session; then the device, still remembered.
        let view = self.session_user(&pool, s).await?;
        let device = self
            .remembered_device(&pool, &view.user, key)
            .await?
            .ok_or_else(invalid_claim)?;
        let verifier = self.open_verifier(&device)?.verifier;
        let (group, device_key, stamp) =
            (group_key(&pool.id, &view.user.sub), key.clone(), timestamp);
        let (a, eph) = (
            block.a.clone(),
            SrpEphemeral {
                b: block.b.clone(),
                big_b: block.big_b.clone(),
            },
        );
        let check = move || {
            let Some(k) = signet_crypto::srp_server_key(&a, &eph, &verifier) else {
                return false;
            };
            let want = signet_crypto::srp_claim(&k, &group, &device_key, &block_bytes, &stamp);
            signet_crypto::constant_time_eq(&want, &claim)
        };
        let guess = self
            .passwords
            .guess_with(&pool, &view.user.username, check, true)
            .await?;
        if let Some(e) = refusal(guess, pool.config.prevent_user_existence_errors, true) {
            return Err(e);
        }
        // Disabled or signed out while the claim was checked: no tokens.
        let view = self.session_user(&pool, &block.session).await?;
        self.signed_in(
            &pool,
            &client,
            &view,
            Trigger::Authentication,
            Some(key.as_str()),
        )
        .await
    }

    fn open_verifier(&self, device: &Device) -> Result<Verifier, AppError> {
        self.sealer
            .open(VERIFIER_PURPOSE, &device.sealed_verifier)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                AppError::Internal("a device verifier does not open with this gateway's key".into())
            })
    }

    /// ConfirmDevice: the device key the access token names becomes the user's device, with
    /// the SRP verifier of the device's secret. Returns UserConfirmationNecessary.
    pub async fn confirm_device(
        &self,
        access_token: &str,
        device_key: &str,
        secret: Option<DeviceSecret<'_>>,
        name: &str,
    ) -> Result<bool, AppError> {
        let (pool, view, claims) = self.tokens.authenticate_claims(access_token).await?;
        let Some(config) = pool.config.devices else {
            return Err(AppError::invalid("The user pool does not track devices."));
        };
        if claims.get("device_key").and_then(|v| v.as_str()) != Some(device_key) {
            return Err(AppError::invalid(
                "DeviceKey is not the device this access token's sign-in was given.",
            ));
        }
        let secret = secret.ok_or_else(|| {
            AppError::invalid("Missing required parameter DeviceSecretVerifierConfig")
        })?;
        let decode = |what: &str, s: &str, max: usize| {
            b64()
                .decode(s)
                .ok()
                .filter(|b| !b.is_empty() && b.len() <= max)
                .map(hex::encode)
                .ok_or_else(|| {
                    AppError::invalid(format!("{what} must be base64, 1 to {max} bytes"))
                })
        };
        let verifier = decode("PasswordVerifier", secret.verifier, 512)?;
        let salt = decode("Salt", secret.salt, 64)?;
        // A verifier of 0 or 1 (or past N) would make every claim provable.
        let usable = verifier.trim_start_matches('0').len() > 1
            && signet_crypto::srp_server_ephemeral(&verifier).is_some();
        if !usable {
            return Err(AppError::invalid(
                "PasswordVerifier is not a usable SRP verifier",
            ));
        }
        let sealed = self.sealer.seal(
            VERIFIER_PURPOSE,
            &serde_json::to_vec(&Verifier { salt, verifier })
                .map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let now = self.clock.now_ms();
        let written = self
            .store
            .write_raw(Command::ConfirmDevice(ConfirmDevice {
                pool_id: pool.id.clone(),
                username: view.user.username.clone(),
                sub: view.user.sub.clone(),
                device: Device {
                    key: device_key.to_string(),
                    name: name.chars().take(MAX_NAME_CHARS).collect(),
                    sealed_verifier: sealed,
                    remembered: !config.device_only_remembered_on_user_prompt,
                    created_at_ms: now,
                    updated_at_ms: now,
                },
            }))
            .await?;
        match written.outcome {
            Outcome::Applied => Ok(config.device_only_remembered_on_user_prompt),
            Outcome::Rejected(Rejection::PreconditionFailed) => {
                Err(AppError::invalid("This device is already confirmed."))
            }
            Outcome::Rejected(Rejection::TooManyAttempts) => Err(AppError::LimitExceeded(format!(
                "A user has at most {} devices: forget one first.",
                signet_core::MAX_DEVICES_PER_USER
            ))),
            Outcome::Rejected(r) => Err(crate::error::rejection(r)),
        }
    }

    /// Whose devices a call is about: an access token's user, or an administrator's choice.
    async fn device_owner(&self, who: Owner<'_>) -> Result<(String, User), AppError> {
        match who {
            Owner::Token(t) => {
                let (pool, view, _) = self.tokens.authenticate(t).await?;
                Ok((pool.id.clone(), view.user))
            }
            Owner::Admin { pool_id, username } => {
                let user = self.dir.pool_user(pool_id, username).await?;
                Ok((pool_id.to_string(), user))
            }
        }
    }

    /// GetDevice / AdminGetDevice.
    pub async fn get_device(&self, who: Owner<'_>, key: &str) -> Result<Device, AppError> {
        let (pool_id, user) = self.device_owner(who).await?;
        self.device_of(&pool_id, &user.sub, key)
            .await?
            .ok_or_else(not_found)
    }

    /// ListDevices / AdminListDevices: a page, and the token of the next one.
    pub async fn list_devices(
        &self,
        who: Owner<'_>,
        limit: u32,
        after: Option<String>,
    ) -> Result<(Vec<Device>, Option<String>), AppError> {
        let limit = page_size(limit)?;
        let (pool_id, user) = self.device_owner(who).await?;
        let sub = user.sub.clone();
        self.store
            .list(
                limit,
                |limit| Query::ListDevices {
                    pool_id,
                    sub,
                    after,
                    limit,
                },
                |d: &Device| d.key.clone(),
            )
            .await
    }

    /// ForgetDevice / AdminForgetDevice.
    pub async fn forget_device(&self, who: Owner<'_>, key: &str) -> Result<(), AppError> {
        let (pool_id, user) = self.device_owner(who).await?;
        let written = self
            .store
            .write_raw(Command::ForgetDevice(ForgetDevice {
                pool_id,
                username: user.username,
                sub: user.sub,
                device_key: key.to_string(),
            }))
            .await?;
        match written.outcome {
            Outcome::Applied => Ok(()),
            Outcome::Rejected(Rejection::UserNotFound | Rejection::InvalidKey) => Err(not_found()),
            Outcome::Rejected(r) => Err(crate::error::rejection(r)),
        }
    }

    /// UpdateDeviceStatus / AdminUpdateDeviceStatus.
    pub async fn update_device_status(
        &self,
        who: Owner<'_>,
        key: &str,
        status: &str,
    ) -> Result<(), AppError> {
        let remembered = remembered_status(status)?;
        let (pool_id, user) = self.device_owner(who).await?;
        let written = self
            .store
            .write_raw(Command::UpdateDeviceStatus(UpdateDeviceStatus {
                pool_id,
                sub: user.sub,
                device_key: key.to_string(),
                remembered,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        match written.outcome {
            Outcome::Applied => Ok(()),
            Outcome::Rejected(Rejection::UserNotFound | Rejection::InvalidKey) => Err(not_found()),
            Outcome::Rejected(r) => Err(crate::error::rejection(r)),
        }
    }
}

/// Whose devices: the holder of an access token, or a user an administrator names.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// GetDevice, ListDevices, … with the user's access token.
    Token(&'a str),
    /// AdminGetDevice, … by pool and username.
    Admin {
        /// Pool id.
        pool_id: &'a str,
        /// Username (or alias).
        username: &'a str,
    },
}
