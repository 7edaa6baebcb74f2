//! STS: temporary credentials for a role, and the calls services use to check them.
//!
//! Credentials are stateless. The access key id is 130 random bits; the secret is an HMAC of
//! it under the server key, so any gateway of the cluster (and nothing else) can derive it
//! again; the session token is a JWT signed by the cluster (EdDSA) carrying the access key
//! id, the role, the subject and the effective policies, so services can verify it offline
//! with the JWKS. Nothing is written to the log when credentials are issued.

mod assume;
mod chain;
mod credentials;
mod session;

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::keys::KeyManager;
use crate::metrics::Metrics;
use crate::tokens::Tokens;
use crate::urls::Urls;
use crate::AppError;
use serde_json::{Map, Value};
use signet_core::Role;
use signet_crypto::KeyedHasher;
use signet_verify::policy::PolicyDocument;
use signet_verify::{VerifyError, MAX_TOKEN_BYTES};
use std::sync::Arc;
use std::time::Duration;

/// The action trust policies are asked about.
pub const ASSUME_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// Largest clock difference a signed request may have.
pub const MAX_SIGNATURE_SKEW: Duration = Duration::from_secs(300);

/// Default session, seconds.
const DEFAULT_SESSION_S: u64 = 3600;

/// A role's trust policy parsed and its permission policies as JSON values, with the
/// text they came from (the cache key).
pub(crate) struct RoleDocs {
    role_id: String,
    trust_text: String,
    policy_texts: std::collections::BTreeMap<String, String>,
    trust: PolicyDocument,
    policies: Map<String, Value>,
}

/// Temporary credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Access key id (`ASIA…`).
    pub access_key_id: String,
    /// Secret access key: signs requests; never stored.
    pub secret_access_key: String,
    /// Session token (a JWT).
    pub session_token: String,
    /// Expiry, Unix ms.
    pub expiration_ms: u64,
}

/// Who a session is for and what it may do.
pub(crate) struct SessionSpec<'a> {
    pub role: &'a Role,
    pub subject: &'a str,
    pub session_name: &'a str,
    pub provider: &'a str,
    pub audience: &'a str,
    pub amr: Vec<String>,
    pub identity_pool: Option<&'a str>,
    pub duration_s: u64,
    pub session_policy: Option<Value>,
}

/// AssumeRoleWithWebIdentity's input.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleInput {
    /// The role's ARN.
    pub role_arn: String,
    /// Names the session (2 to 64 of `[\w+=,.@-]`).
    pub role_session_name: String,
    /// A Signet identity-pool OpenID token or a Signet user-pool ID token.
    pub web_identity_token: String,
    /// 0 = one hour (capped at the role's maximum).
    pub duration_seconds: u64,
    /// Inline session policy (JSON), empty for none.
    pub policy: String,
}

impl Sts {
    /// The session length for `asked` seconds (0: an hour, capped at `max`), or why not:
    /// between the shortest session allowed and `max`.
    fn session_duration(&self, asked: u64, max: u64) -> Result<u64, String> {
        let min = self.min_session.as_secs().max(1);
        match asked {
            0 => Ok(DEFAULT_SESSION_S.min(max)),
            d if (min..=max).contains(&d) => Ok(d),
            d => Err(format!("DurationSeconds {d} is outside {min}..={max}")),
        }
    }
}

impl AssumeRoleInput {
    /// The checks both AssumeRole calls make of their input: the session name, the role's
    /// name in its ARN, and the session policy parsed (`None` when not given).
    fn checked(&self) -> Result<(&str, Option<Value>), AppError> {
        crate::roles::check_iam_name("RoleSessionName", &self.role_session_name, 2..=64)?;
        let name = Role::name_in(&self.role_arn)
            .ok_or_else(|| AppError::invalid(format!("{} is not a role ARN", self.role_arn)))?;
        let session_policy = match self.policy.trim() {
            "" => None,
            p => {
                PolicyDocument::parse(p).map_err(|e| AppError::MalformedPolicy(e.to_string()))?;
                Some(
                    serde_json::from_str::<Value>(p)
                        .map_err(|e| AppError::MalformedPolicy(e.to_string()))?,
                )
            }
        };
        Ok((name, session_policy))
    }
}

/// AssumeRoleWithWebIdentity's answer.
#[derive(Debug, Clone)]
pub struct AssumeRoleOutput {
    /// The credentials.
    pub credentials: Credentials,
    /// `sub` of the web identity token.
    pub subject: String,
    /// `{role_id}:{session name}`.
    pub assumed_role_id: String,
    /// `arn:signet:sts:::assumed-role/{role}/{session}`.
    pub assumed_role_arn: String,
    /// The provider that vouched for the subject.
    pub provider: String,
    /// The web identity token's audience.
    pub audience: String,
}

/// Authorize's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeOutput {
    /// Allowed or not.
    pub allowed: bool,
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub decision: &'static str,
    /// Deciding statement: policy name, index, sid.
    pub statement: Option<(String, usize, Option<String>)>,
    /// The session's role.
    pub role_arn: String,
    /// The session's subject.
    pub subject: String,
}

/// VerifyRequestSignature's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureCheck {
    /// Whether the signature is good and the credentials current.
    pub valid: bool,
    /// Why not.
    pub reason: String,
    /// The signer's access key id.
    pub access_key_id: String,
    /// The signer's role.
    pub role_arn: String,
    /// The signer's subject.
    pub subject: String,
    /// When the credentials expire, Unix ms.
    pub expiration_ms: u64,
    /// The service of the signature's scope.
    pub service: String,
    /// The region of the signature's scope.
    pub region: String,
}

fn assumed_role_arn(role: &Role, session: &str) -> String {
    format!("arn:signet:sts:::assumed-role/{}/{session}", role.name)
}

/// The payload of a JWT, undecoded by any verifier: only to choose which checks apply.
fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn token_error(what: &str, e: VerifyError) -> AppError {
    match e {
        VerifyError::Expired => AppError::ExpiredToken(format!("The {what} has expired.")),
        other => AppError::InvalidIdentityToken(format!("The {what} is not valid: {other}")),
    }
}

/// The STS feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Sts {
    dir: Directory,
    clock: SharedClock,
    urls: Urls,
    keyed: KeyedHasher,
    keys: Arc<KeyManager>,
    metrics: Arc<Metrics>,
    tokens: Tokens,
    min_session: std::time::Duration,
    /// Parsed role documents, by role name.
    doc_cache: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<RoleDocs>>>>,
}

impl Sts {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        dir: Directory,
        clock: SharedClock,
        urls: Urls,
        keyed: KeyedHasher,
        keys: Arc<KeyManager>,
        metrics: Arc<Metrics>,
        tokens: Tokens,
        min_session: std::time::Duration,
    ) -> Sts {
        Sts {
            dir,
            clock,
            urls,
            keyed,
            keys,
            metrics,
            tokens,
            min_session,
            doc_cache: Arc::default(),
        }
    }
}

impl Sts {}
