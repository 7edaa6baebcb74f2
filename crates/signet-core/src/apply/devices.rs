//! A user's remembered devices: confirmed once per device key, remembered or not, forgotten.
//! Every change names the user by `sub` as well as by name, so a device never moves to
//! another user made later under the same name.

use super::mfa::load_same;
use super::{get, put, reject, valid_parts, Apply};
use crate::kv::{compound, key};
use crate::{CoreError, Device, KvTxn, Outcome, Rejection, Table, MAX_DEVICES_PER_USER};
use serde::{Deserialize, Serialize};

fn device_key(pool_id: &str, sub: &str, device: &str) -> Vec<u8> {
    key(&[pool_id, sub, device])
}

/// ConfirmDevice: the device becomes the user's (once per key; at most
/// [`MAX_DEVICES_PER_USER`] per user: `TooManyAttempts` beyond).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmDevice {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user's `sub` (the user the access token named).
    pub sub: String,
    /// The device.
    pub device: Device,
}

impl Apply for ConfirmDevice {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.pool_id, &self.sub, &self.device.key]) {
            return reject(Rejection::InvalidKey);
        }
        let mut user = match load_same(txn, &self.pool_id, &self.username, &self.sub)? {
            Ok(u) => u,
            Err(r) => return reject(r),
        };
        let k = device_key(&self.pool_id, &self.sub, &self.device.key);
        if txn.get(Table::Devices, &k)?.is_some() {
            return reject(Rejection::PreconditionFailed);
        }
        if user.devices as usize >= MAX_DEVICES_PER_USER {
            return reject(Rejection::TooManyAttempts);
        }
        user.devices += 1;
        put(txn, Table::Devices, &k, &self.device)?;
        put(
            txn,
            Table::Users,
            &compound(&self.pool_id, &self.username),
            &user,
        )?;
        Ok(Outcome::Applied)
    }
}

/// UpdateDeviceStatus: remembered or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDeviceStatus {
    /// Pool id.
    pub pool_id: String,
    /// The user's `sub`.
    pub sub: String,
    /// Device key.
    pub device_key: String,
    /// Remembered.
    pub remembered: bool,
    /// Time of the change, Unix ms.
    pub at_ms: u64,
}

impl Apply for UpdateDeviceStatus {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.pool_id, &self.sub, &self.device_key]) {
            return reject(Rejection::InvalidKey);
        }
        let k = device_key(&self.pool_id, &self.sub, &self.device_key);
        let Some(mut device) = get::<Device>(txn, Table::Devices, &k)? else {
            return reject(Rejection::UserNotFound);
        };
        device.remembered = self.remembered;
        device.updated_at_ms = self.at_ms;
        put(txn, Table::Devices, &k, &device)?;
        Ok(Outcome::Applied)
    }
}

/// ForgetDevice: the device is no longer the user's (its key never signs in again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetDevice {
    /// Pool id.
    pub pool_id: String,
    /// Canonical username.
    pub username: String,
    /// The user's `sub`.
    pub sub: String,
    /// Device key.
    pub device_key: String,
}

impl Apply for ForgetDevice {
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError> {
        if !valid_parts(&[&self.pool_id, &self.sub, &self.device_key]) {
            return reject(Rejection::InvalidKey);
        }
        let k = device_key(&self.pool_id, &self.sub, &self.device_key);
        if txn.get(Table::Devices, &k)?.is_none() {
            return reject(Rejection::UserNotFound);
        }
        txn.delete(Table::Devices, &k)?;
        // The count belongs to the user of this name only while it is the same user.
        if let Ok(mut user) = load_same(txn, &self.pool_id, &self.username, &self.sub)? {
            user.devices = user.devices.saturating_sub(1);
            put(
                txn,
                Table::Users,
                &compound(&self.pool_id, &self.username),
                &user,
            )?;
        }
        Ok(Outcome::Applied)
    }
}
