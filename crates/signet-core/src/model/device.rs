//! Remembered devices (Cognito's device tracking): a device a user confirmed after a
//! sign-in, with the SRP verifier of a secret only the device holds. A remembered device
//! proves that secret (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER) in place of the second
//! factor; it never replaces the password.

use serde::{Deserialize, Serialize};

/// A pool's device tracking (Cognito's `DeviceConfiguration`). Absent: devices are not
/// tracked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceConfig {
    /// A new device answers the second factor before it can be remembered. Always true in
    /// Signet (a device is confirmed with the access token of a sign-in that answered
    /// every factor); kept so that the setting reads back as written.
    pub challenge_required_on_new_device: bool,
    /// A confirmed device is remembered only when the user says so (UpdateDeviceStatus);
    /// otherwise at once.
    pub device_only_remembered_on_user_prompt: bool,
}

/// Most devices one user may have confirmed at a time.
pub const MAX_DEVICES_PER_USER: usize = 100;

/// A user's confirmed device, keyed by pool, the user's `sub` and the device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Device key (`DeviceKey`), issued at the sign-in that returned it.
    pub key: String,
    /// The name the device gave (`DeviceName`, the `device_name` attribute).
    #[serde(default)]
    pub name: String,
    /// The SRP salt and verifier the device made from its secret, sealed by the gateways.
    pub sealed_verifier: String,
    /// Remembered: it may stand in for the second factor.
    pub remembered: bool,
    /// Confirmed, Unix ms.
    pub created_at_ms: u64,
    /// Last change, Unix ms.
    pub updated_at_ms: u64,
}
