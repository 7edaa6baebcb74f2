//! Tokens: the user-pool tokens this gateway signs (claims in `claims`), the refresh
//! tokens it seals, and the checks of the tokens it is shown back — each done here once.
//!
//! A shared handle: auth, oauth, the self-service calls, identity pools and STS hold a
//! clone.

mod check;
mod claims;
mod refresh;

pub use claims::USER_ADMIN_SCOPE;
pub(crate) use claims::{
    access_claims, id_claims, CustomState, RefreshPayload, SessionPayload, Subject,
    REFRESH_PURPOSE, SESSION_PURPOSE,
};

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::hooks::{edit_claims, edit_scopes, HookEvent, Hooks, Trigger};
use crate::keys::KeyManager;
use crate::keys::Published;
use crate::metrics::{Issued, Metrics};
use crate::store::Store;
use crate::urls::Urls;
use crate::AppError;
use serde_json::Value;
use signet_core::{AppClient, Group, User, UserPool};
use signet_crypto::Sealer;
use std::sync::Arc;

/// Clock skew tolerated on Signet's own APIs.
const LEEWAY_S: u64 = 30;

/// Tokens of a successful sign-in or refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// Access token.
    pub access_token: String,
    /// ID token.
    pub id_token: String,
    /// Refresh token (on sign-in, and on refresh when the client rotates them).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// A device key and its user's group key, when the pool tracks devices and the
    /// sign-in named no known device (Cognito's NewDeviceMetadata).
    pub new_device: Option<(String, String)>,
    /// The access token's scopes when they were chosen at the hosted sign-in (the code
    /// grant and the refreshes of its family); `None`: the user-pool API's scope.
    pub scope: Option<String>,
}

impl AuthResult {
    /// Whether the token endpoint returns the ID token: always for the user-pool APIs'
    /// sign-ins, and for a hosted sign-in's only when `openid` was granted (OIDC Core §3.1.2.1).
    pub fn has_id_token(&self) -> bool {
        self.scope
            .as_deref()
            .is_none_or(|s| s.split(' ').any(|s| s == "openid"))
    }
}

/// The device a sign-in's access token names (its `device_key` claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceClaim {
    /// Device key.
    pub key: String,
    /// The user's device group key, when the device is new (returned for ConfirmDevice).
    pub new_group_key: Option<String>,
}

/// How a refresh continues an existing family.
pub(crate) struct Continuation {
    pub family: String,
    pub generation: u32,
    pub expires_at_ms: u64,
    pub auth_time: u64,
    pub rotate: bool,
    /// Scopes granted at a hosted sign-in (`None`: the user-pool API's scope).
    pub scope: Option<String>,
    /// The authorize request's `nonce`, for the ID token of a code grant (never on refresh:
    /// OIDC Core §12.2).
    pub nonce: Option<String>,
}

fn revoked() -> AppError {
    AppError::NotAuthorized("Access Token has been revoked".into())
}

/// See the module doc.
#[derive(Clone)]
pub(crate) struct Tokens {
    store: Store,
    dir: Directory,
    published: Arc<Published>,
    keys: Arc<KeyManager>,
    sealer: Sealer,
    hooks: Hooks,
    metrics: Arc<Metrics>,
    urls: Urls,
    clock: SharedClock,
    /// Verifications of this cluster's tokens, remembered (shared by every clone).
    own: Arc<crate::keys::OwnTokens>,
}

impl Tokens {
    /// Built by the composition root.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        published: Arc<Published>,
        keys: Arc<KeyManager>,
        sealer: Sealer,
        hooks: Hooks,
        metrics: Arc<Metrics>,
        urls: Urls,
        clock: SharedClock,
    ) -> Tokens {
        Tokens {
            store,
            dir,
            published,
            keys,
            sealer,
            hooks,
            metrics,
            urls,
            clock,
            own: Arc::default(),
        }
    }

    /// Sign ID and access tokens (and seal a refresh token when one is due), after the
    /// pool's pre-token-generation hook, if it has one.
    #[allow(clippy::too_many_arguments)] // each names a different input of the tokens
    pub(crate) async fn issue(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        groups: &[Group],
        cont: Option<Continuation>,
        trigger: Trigger,
        device: Option<DeviceClaim>,
    ) -> Result<AuthResult, AppError> {
        let alg = pool.config.signing_alg;
        let key = self.keys.signer(alg)?;
        let now_ms = self.clock.now_ms();
        let now = now_ms / 1000;
        let (family, generation, exp_ms, auth_time, new_refresh, scope, nonce) = match cont {
            None => (
                crate::ids::new_family_id(now_ms),
                0,
                now_ms + client.validity.refresh_s * 1000,
                now,
                true,
                None,
                None,
            ),
            Some(c) => (
                c.family,
                c.generation,
                c.expires_at_ms,
                c.auth_time,
                c.rotate,
                c.scope,
                c.nonce,
            ),
        };
        let issuer = self.urls.issuer(&pool.id);
        let subject = Subject {
            issuer: &issuer,
            client,
            user,
            groups,
            auth_time,
            family: &family,
            now,
        };
        let sign_err = |e: signet_crypto::SigningError| AppError::Internal(e.to_string());
        let mut id = id_claims(&subject);
        let mut access = access_claims(&subject);
        if let (Some(d), Value::Object(m)) = (&device, &mut access) {
            m.insert("device_key".into(), Value::String(d.key.clone()));
        }
        if let (Some(s), Value::Object(m)) = (&scope, &mut access) {
            m.insert("scope".into(), Value::String(s.clone()));
        }
        if let (Some(n), Value::Object(m)) = (&nonce, &mut id) {
            m.insert("nonce".into(), Value::String(n.clone()));
        }
        let event = HookEvent {
            trigger,
            client_id: &client.client_id,
            user: Some((user, groups)),
            scopes: match &scope {
                Some(s) => s.split(' ').map(str::to_string).collect(),
                None => vec![crate::tokens::USER_ADMIN_SCOPE.to_string()],
            },
        };
        if let Some(e) = self.hooks.pre_token(pool, event).await? {
            edit_claims(&mut id, &e.id_add, &e.id_suppress);
            edit_claims(&mut access, &e.access_add, &e.access_suppress);
            edit_scopes(&mut access, &e.scopes_add, &e.scopes_suppress);
        }
        let id_token = key.sign(&id).map_err(sign_err)?;
        let access_token = key.sign(&access).map_err(sign_err)?;
        self.metrics.issued(if trigger == Trigger::RefreshTokens {
            Issued::Refresh
        } else {
            Issued::SignIn
        });
        let refresh_token = new_refresh.then(|| {
            let payload = RefreshPayload {
                v: 1,
                pool: pool.id.clone(),
                client: client.client_id.clone(),
                sub: user.sub.clone(),
                username: user.username.clone(),
                fam: family.clone(),
                gen: generation,
                iat_ms: now_ms,
                exp_ms,
                auth_time,
                scope: scope.clone(),
            };
            self.sealer.seal(
                REFRESH_PURPOSE,
                &serde_json::to_vec(&payload).expect("payload serialises"),
            )
        });
        Ok(AuthResult {
            access_token,
            id_token,
            refresh_token,
            expires_in: client.validity.access_s,
            new_device: device.and_then(|d| d.new_group_key.map(|g| (d.key, g))),
            scope,
        })
    }
}
