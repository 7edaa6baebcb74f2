use serde::{Deserialize, Serialize};

/// Events kept per user (and per pool, for events about no user): the oldest is
/// overwritten when the ring is full.
pub const AUDIT_RING: u64 = 100;

/// Longest text of any field of an [`AuditEvent`], in bytes (longer is cut).
pub const MAX_AUDIT_FIELD: usize = 256;

/// A security event: a call that signs in, changes a credential, signs out, revokes, or
/// changes users, clients, roles or keys as an administrator — who, what, from where, and
/// how it ended. It never holds a password, a code, a token or a secret: its fields are
/// names, ids and outcomes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id, chosen by the gateway.
    pub id: String,
    /// When, Unix ms (the gateway's clock).
    pub at_ms: u64,
    /// The call (Cognito's action name: `InitiateAuth`, `AdminDisableUser`, …).
    pub action: String,
    /// `Pass`, `Fail`, or `InProgress` (a challenge follows).
    pub outcome: String,
    /// The exception a failed call answered (Cognito's name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exception: String,
    /// The challenge that follows (`InProgress`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub challenge: String,
    /// `user` (a public call) or `admin`.
    pub actor: String,
    /// The user pool, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pool_id: String,
    /// The user the call was about (canonical username), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// The app client named by the call.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    /// What else the call named (a client, group, role, identity pool, key id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// The caller's address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_ip: String,
    /// The gateway instance that served the call.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// Why a call failed, when the exception does not say and the caller must not be told
    /// (`locked`: refused by the lockout, whatever the answer looked like).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl AuditEvent {
    /// Cut every field to [`MAX_AUDIT_FIELD`] bytes (at a character boundary).
    pub fn bounded(mut self) -> AuditEvent {
        for f in [
            &mut self.id,
            &mut self.action,
            &mut self.outcome,
            &mut self.exception,
            &mut self.challenge,
            &mut self.actor,
            &mut self.pool_id,
            &mut self.username,
            &mut self.client_id,
            &mut self.target,
            &mut self.source_ip,
            &mut self.gateway,
            &mut self.reason,
        ] {
            if f.len() > MAX_AUDIT_FIELD {
                let mut end = MAX_AUDIT_FIELD;
                while !f.is_char_boundary(end) {
                    end -= 1;
                }
                f.truncate(end);
            }
        }
        self
    }
}
