//! Token contents: Cognito-compatible ID and access claims, and the sealed refresh and
//! session tokens only this cluster can read.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use signet_core::{AppClient, Group, User};

/// Scope of access tokens from the user-pool APIs (Cognito's).
pub const USER_ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Seal purposes: a value sealed for one never opens as another.
pub(crate) const REFRESH_PURPOSE: &str = "refresh-token";
pub(crate) const SESSION_PURPOSE: &str = "auth-session";

/// What a refresh token carries (sealed; opaque to clients). The family id is 128 random
/// bits; every token descending from one sign-in shares it, and `gen` counts rotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefreshPayload {
    pub v: u8,
    pub pool: String,
    pub client: String,
    pub sub: String,
    pub username: String,
    pub fam: String,
    pub gen: u32,
    pub iat_ms: u64,
    pub exp_ms: u64,
    pub auth_time: u64,
    /// Scopes granted at a hosted sign-in; kept by every refresh of the family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// What a challenge session carries (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionPayload {
    pub v: u8,
    pub pool: String,
    pub client: String,
    pub username: String,
    pub challenge: String,
    pub exp_ms: u64,
    /// The user's `sub` when the challenge was issued: a new user made under the same name
    /// is someone else. (Sessions sealed before this field existed read "" and are refused.)
    #[serde(default)]
    pub sub: String,
    /// When the challenge was issued (Unix ms). Like a token's family, a session older than
    /// the user's `tokens_valid_after_ms` (disabled, signed out, another password set) is void.
    #[serde(default)]
    pub iat_ms: u64,
    /// CUSTOM_AUTH's state, sealed with the rest: the client never reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomState>,
    /// The DEVICE_KEY the sign-in named (device tracking), for the tokens at its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// Where a CUSTOM_AUTH sign-in stands: the challenges answered so far, and the private
/// parameters and metadata of the one being asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CustomState {
    pub history: Vec<crate::hooks::ChallengeResult>,
    pub private: std::collections::BTreeMap<String, String>,
    pub metadata: String,
}

/// Everything the claims of one sign-in depend on.
pub(crate) struct Subject<'a> {
    pub issuer: &'a str,
    pub client: &'a AppClient,
    pub user: &'a User,
    pub groups: &'a [Group],
    pub auth_time: u64,
    pub family: &'a str,
    pub now: u64,
}

fn groups_and_roles(claims: &mut Map<String, Value>, groups: &[Group]) {
    if groups.is_empty() {
        return;
    }
    claims.insert(
        "cognito:groups".into(),
        groups.iter().map(|g| Value::from(g.name.clone())).collect(),
    );
    let roles: Vec<Value> = groups
        .iter()
        .filter_map(|g| g.role_arn.clone().map(Value::from))
        .collect();
    if !roles.is_empty() {
        // Groups come lowest precedence first: the first role is the preferred one.
        claims.insert("cognito:preferred_role".into(), roles[0].clone());
        claims.insert("cognito:roles".into(), Value::Array(roles));
    }
}

/// Claims of an ID token.
pub(crate) fn id_claims(s: &Subject<'_>) -> Value {
    let mut c = Map::new();
    let readable = |name: &str| {
        s.client.read_attributes.is_empty() || s.client.read_attributes.iter().any(|a| a == name)
    };
    for (k, v) in &s.user.attributes {
        if !readable(k) {
            continue;
        }
        let value = match k.as_str() {
            "email_verified" | "phone_number_verified" => Value::Bool(v == "true"),
            // A federated user's providers, as Cognito's ID tokens carry them: an array.
            "identities" => serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone())),
            _ => Value::String(v.clone()),
        };
        c.insert(k.clone(), value);
    }
    c.insert("sub".into(), s.user.sub.clone().into());
    c.insert("iss".into(), s.issuer.into());
    c.insert("aud".into(), s.client.client_id.clone().into());
    c.insert("token_use".into(), "id".into());
    c.insert("cognito:username".into(), s.user.username.clone().into());
    c.insert("auth_time".into(), s.auth_time.into());
    c.insert("iat".into(), s.now.into());
    c.insert("exp".into(), (s.now + s.client.validity.id_s).into());
    c.insert("jti".into(), signet_crypto::random_hex_id().into());
    c.insert("origin_jti".into(), s.family.into());
    groups_and_roles(&mut c, s.groups);
    Value::Object(c)
}

/// Claims of an access token.
pub(crate) fn access_claims(s: &Subject<'_>) -> Value {
    let mut c = json!({
        "sub": s.user.sub,
        "iss": s.issuer,
        "client_id": s.client.client_id,
        "token_use": "access",
        "scope": USER_ADMIN_SCOPE,
        "auth_time": s.auth_time,
        "iat": s.now,
        "exp": s.now + s.client.validity.access_s,
        "jti": signet_crypto::random_hex_id(),
        "origin_jti": s.family,
        "username": s.user.username,
    });
    if let Value::Object(m) = &mut c {
        groups_and_roles(m, s.groups);
    }
    c
}
