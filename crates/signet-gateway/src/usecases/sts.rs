//! STS: temporary credentials for a role, and the calls services use to check them.
//!
//! Credentials are stateless. The access key id is 130 random bits; the secret is an HMAC of
//! it under the server key, so any gateway of the cluster (and nothing else) can derive it
//! again; the session token is a JWT signed by the cluster (EdDSA) carrying the access key
//! id, the role, the subject and the effective policies, so services can verify it offline
//! with the JWKS. Nothing is written to the log when credentials are issued.

use super::identity_pools::IDENTITY_PROVIDER;
use super::ids;
use crate::metrics::Issued;
use crate::roles::check_iam_name;
use crate::{AppError, Gateway};
use serde_json::{json, Map, Value};
use signet_core::Role;
use signet_crypto::Algorithm;
use signet_verify::policy::{evaluate, Context, PolicyDocument, Principal, Reason, Request};
use signet_verify::session::{session_expected, Session, SESSION_AUDIENCE};
use signet_verify::sigv4::{self, SignableRequest};
use signet_verify::{Expected, TokenUse, VerifyError, MAX_TOKEN_BYTES};
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

impl Gateway {
    /// The secret of an access key id (an HMAC under the server key).
    pub(crate) fn secret_for(&self, access_key_id: &str) -> String {
        self.keyed
            .hash("sts-secret-v1", &[access_key_id.as_bytes()])
    }

    /// A role's documents, parsed once per version of the role: the get-credentials path
    /// would otherwise parse the trust policy and every permission policy on each call.
    /// An entry is reused only while the role's stored text is identical.
    pub(crate) fn role_docs(&self, role: &Role) -> Result<Arc<RoleDocs>, AppError> {
        let mut cache = self.role_docs.lock().expect("role docs lock");
        if let Some(d) = cache.get(&role.name) {
            if d.role_id == role.role_id
                && d.trust_text == role.trust_policy
                && d.policy_texts == role.policies
            {
                return Ok(d.clone());
            }
        }
        let trust = PolicyDocument::parse_trust(&role.trust_policy).map_err(|e| {
            AppError::Internal(format!("stored trust policy of {}: {e}", role.name))
        })?;
        let mut policies = Map::new();
        for (name, doc) in &role.policies {
            let doc: Value = serde_json::from_str(doc)
                .map_err(|e| AppError::Internal(format!("stored policy {name}: {e}")))?;
            policies.insert(name.clone(), doc);
        }
        let docs = Arc::new(RoleDocs {
            role_id: role.role_id.clone(),
            trust_text: role.trust_policy.clone(),
            policy_texts: role.policies.clone(),
            trust,
            policies,
        });
        // One entry per role name: the map is bounded by the number of roles.
        cache.insert(role.name.clone(), docs.clone());
        Ok(docs)
    }

    /// Does the role's trust policy let `provider`'s subject assume it?
    pub(crate) fn check_trust(
        &self,
        role: &Role,
        provider: &str,
        audience: &str,
        subject: &str,
        amr: &[String],
    ) -> Result<(), AppError> {
        let docs = self.role_docs(role)?;
        let trust = &docs.trust;
        let mut ctx = Context::new();
        ctx.set(&format!("{provider}:aud"), vec![audience.to_string()]);
        ctx.set(&format!("{provider}:sub"), vec![subject.to_string()]);
        ctx.set(&format!("{provider}:amr"), amr.to_vec());
        let req = Request {
            action: ASSUME_ACTION,
            resource: &role.arn,
            principal: Some(Principal {
                kind: "Federated",
                value: provider,
            }),
            context: &ctx,
        };
        if evaluate(&[("trust", trust)], None, &req).allowed {
            Ok(())
        } else {
            Err(AppError::AccessDenied(format!(
                "Not authorized to perform {ASSUME_ACTION} on {}",
                role.arn
            )))
        }
    }

    /// Issue credentials (no store access).
    pub(crate) fn mint_credentials(&self, s: SessionSpec<'_>) -> Result<Credentials, AppError> {
        let now = self.now_ms() / 1000;
        let exp = now + s.duration_s;
        let access_key_id = ids::access_key_id();
        let policies = self.role_docs(s.role)?.policies.clone();
        let mut claims = json!({
            "iss": self.sts_issuer(),
            "aud": SESSION_AUDIENCE,
            "token_use": "session",
            "sub": s.subject,
            "role": s.role.arn,
            "role_id": s.role.role_id,
            "akid": access_key_id,
            "role_session_name": s.session_name,
            "idp": s.provider,
            "src_aud": s.audience,
            "amr": s.amr,
            "iat": now,
            "exp": exp,
            "jti": signet_crypto::random_hex_id(),
            "policies": policies,
        });
        if let Some(p) = s.identity_pool {
            claims["identity_pool"] = p.into();
        }
        if let Some(p) = s.session_policy {
            claims["session_policy"] = p;
        }
        let key = self.keys.signer(Algorithm::EdDSA)?;
        let session_token = key
            .sign(&claims)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if session_token.len() > MAX_TOKEN_BYTES {
            return Err(AppError::PackedPolicyTooLarge(format!(
                "The role's policies and the session policy do not fit in a session token ({} bytes; at most {MAX_TOKEN_BYTES}).",
                session_token.len()
            )));
        }
        self.metrics.issued(Issued::Credentials);
        Ok(Credentials {
            secret_access_key: self.secret_for(&access_key_id),
            access_key_id,
            session_token,
            expiration_ms: exp * 1000,
        })
    }

    /// AssumeRoleWithWebIdentity: the token is a Signet identity-pool OpenID token
    /// (provider `signet-identity`) or a Signet user-pool ID token (provider = its issuer
    /// without the scheme); the role's trust policy decides.
    pub async fn assume_role_with_web_identity(
        &self,
        input: AssumeRoleInput,
    ) -> Result<AssumeRoleOutput, AppError> {
        check_iam_name("role_session_name", &input.role_session_name, 2..=64)?;
        let name = Role::name_in(&input.role_arn)
            .ok_or_else(|| AppError::invalid(format!("{} is not a role ARN", input.role_arn)))?;
        let session_policy = match input.policy.trim() {
            "" => None,
            p => {
                PolicyDocument::parse(p).map_err(|e| AppError::MalformedPolicy(e.to_string()))?;
                Some(
                    serde_json::from_str::<Value>(p)
                        .map_err(|e| AppError::MalformedPolicy(e.to_string()))?,
                )
            }
        };
        let token = &input.web_identity_token;
        let iss = peek_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                AppError::InvalidIdentityToken("The web identity token is malformed.".into())
            })?;
        let (provider, audience, subject, amr, identity_pool) = if iss == self.identity_issuer() {
            let expected = Expected {
                issuer: iss,
                token_use: TokenUse::Identity,
                clients: None,
                leeway_s: 0,
            };
            let claims = self
                .verify_own(token, &expected)
                .map_err(|e| token_error("web identity token", e))?;
            let aud = claims["aud"].as_str().unwrap_or_default().to_string();
            let pool = self.identity_pool(&aud).await.map_err(|_| {
                AppError::InvalidIdentityToken(format!("Identity pool {aud} no longer exists."))
            })?;
            // Cognito's rule: with the basic (classic) flow off, an identity pool's tokens
            // buy credentials only through GetCredentialsForIdentity, where the pool's role
            // mapping decides. Admitting them here, even for the pool's own roles, would let
            // a user pick a role the mapping rules deny them.
            if !pool.allow_classic_flow {
                return Err(AppError::AccessDenied(format!(
                    "Basic (classic) flow is not enabled for identity pool {aud}: its tokens cannot be used with AssumeRoleWithWebIdentity."
                )));
            }
            let amr = claims
                .get("amr")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let sub = claims["sub"].as_str().unwrap_or_default().to_string();
            (
                IDENTITY_PROVIDER.to_string(),
                aud,
                sub,
                amr,
                Some(pool.id.clone()),
            )
        } else {
            let base = format!("{}/", self.cfg.public_url);
            let pool_id = iss
                .strip_prefix(&base)
                .filter(|p| !p.is_empty() && !p.contains('/'))
                .ok_or_else(|| {
                    AppError::InvalidIdentityToken(format!(
                        "Tokens of issuer {iss} are not accepted."
                    ))
                })?
                .to_string();
            let user_pool = self.pool(&pool_id).await.map_err(|_| {
                AppError::InvalidIdentityToken(format!("User pool {pool_id} does not exist."))
            })?;
            let expected = Expected {
                issuer: iss.clone(),
                token_use: TokenUse::Id,
                clients: None,
                leeway_s: 0,
            };
            let claims = self
                .verify_own(token, &expected)
                .map_err(|e| token_error("web identity token", e))?;
            self.check_id_token_user(&user_pool, &claims)
                .await
                .map_err(|e| {
                    e.or_answer(|_| {
                        AppError::InvalidIdentityToken(
                            "The web identity token's user is disabled or signed out.".into(),
                        )
                    })
                })?;
            let provider = iss
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .to_string();
            let aud = claims["aud"].as_str().unwrap_or_default().to_string();
            let sub = claims["sub"].as_str().unwrap_or_default().to_string();
            (provider, aud, sub, vec!["authenticated".to_string()], None)
        };
        let role = self.role(name).await?;
        self.check_trust(&role, &provider, &audience, &subject, &amr)?;
        let max = u64::from(role.max_session_s);
        let min = self.cfg.sts_min_session.as_secs().max(1);
        let duration_s = match input.duration_seconds {
            0 => DEFAULT_SESSION_S.min(max),
            d if (min..=max).contains(&d) => d,
            d => {
                return Err(AppError::invalid(format!(
                    "duration_seconds {d} is outside {min}..={max}"
                )))
            }
        };
        let credentials = self.mint_credentials(SessionSpec {
            role: &role,
            subject: &subject,
            session_name: &input.role_session_name,
            provider: &provider,
            audience: &audience,
            amr,
            identity_pool: identity_pool.as_deref(),
            duration_s,
            session_policy,
        })?;
        Ok(AssumeRoleOutput {
            credentials,
            assumed_role_id: format!("{}:{}", role.role_id, input.role_session_name),
            assumed_role_arn: assumed_role_arn(&role, &input.role_session_name),
            subject,
            provider,
            audience,
        })
    }

    /// Verify a session token; returns its claims and contents.
    pub(crate) fn open_session(
        &self,
        session_token: &str,
    ) -> Result<(Map<String, Value>, Session), AppError> {
        let claims = self
            .verify_own(session_token, &session_expected(&self.sts_issuer()))
            .map_err(|e| match e {
                VerifyError::Expired => AppError::ExpiredToken(
                    "The security token included in the request is expired".into(),
                ),
                other => AppError::NotAuthorized(format!(
                    "The security token included in the request is invalid: {other}"
                )),
            })?;
        let session = Session::from_claims(&claims).map_err(|e| {
            AppError::NotAuthorized(format!("The security token is not a session: {e}"))
        })?;
        Ok((claims, session))
    }

    /// GetCallerIdentity: (user id, account, ARN) of a session.
    pub fn get_caller_identity(
        &self,
        session_token: &str,
    ) -> Result<(String, String, String), AppError> {
        let (claims, s) = self.open_session(session_token)?;
        let role_id = claims.get("role_id").and_then(Value::as_str).unwrap_or("");
        let role_name = Role::name_in(&s.role_arn).unwrap_or_default();
        Ok((
            format!("{role_id}:{}", s.session_name),
            "signet".to_string(),
            format!(
                "arn:signet:sts:::assumed-role/{role_name}/{}",
                s.session_name
            ),
        ))
    }

    /// Authorize: may this session do `action` on `resource`?
    pub fn authorize(
        &self,
        session_token: &str,
        access_key_id: Option<&str>,
        action: &str,
        resource: &str,
        context: &[(String, String)],
    ) -> Result<AuthorizeOutput, AppError> {
        if action.is_empty() || resource.is_empty() {
            return Err(AppError::invalid("action and resource are required"));
        }
        let (_, s) = self.open_session(session_token)?;
        if access_key_id.is_some_and(|a| a != s.access_key_id) {
            return Err(AppError::NotAuthorized(
                "The access key id does not belong to this session token.".into(),
            ));
        }
        // Over the request size limits: the caller's mistake, answered as an invalid argument.
        let d = s
            .authorize(action, resource, context, self.now_ms() / 1000)
            .map_err(|e| AppError::invalid(e.to_string()))?;
        Ok(AuthorizeOutput {
            allowed: d.allowed,
            decision: match d.reason {
                Reason::Allowed => "Allow",
                Reason::ExplicitDeny => "ExplicitDeny",
                Reason::ImplicitDeny => "ImplicitDeny",
            },
            statement: d.decided_by.map(|r| (r.policy, r.index, r.sid)),
            role_arn: s.role_arn,
            subject: s.subject,
        })
    }

    /// VerifyRequestSignature: check a SIGNET4-HMAC-SHA256 signature made with temporary
    /// credentials. Bad signatures are an answer (`valid: false`), not an error.
    pub fn verify_request_signature(
        &self,
        req: &SignableRequest<'_>,
        expected_service: Option<&str>,
        expected_region: Option<&str>,
    ) -> Result<SignatureCheck, AppError> {
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let refuse = |reason: String| SignatureCheck {
            reason,
            ..SignatureCheck::default()
        };
        let Some(auth) = header("authorization") else {
            return Ok(refuse("no authorization header".into()));
        };
        let parsed = match sigv4::parse_authorization(auth) {
            Ok(p) => p,
            Err(e) => return Ok(refuse(e.to_string())),
        };
        let Some(token) = header("x-signet-security-token") else {
            return Ok(refuse(
                "no x-signet-security-token: Signet issues temporary credentials only".into(),
            ));
        };
        let s = match self.open_session(token) {
            Ok((_, s)) => s,
            Err(e) => return Ok(refuse(e.to_string())),
        };
        if s.access_key_id != parsed.access_key_id {
            return Ok(refuse(
                "the access key id does not belong to the security token".into(),
            ));
        }
        let secret = self.secret_for(&parsed.access_key_id);
        if let Err(e) = sigv4::verify_with_secret(
            &secret,
            req,
            std::time::UNIX_EPOCH + Duration::from_millis(self.now_ms()),
            MAX_SIGNATURE_SKEW,
        ) {
            return Ok(refuse(e.to_string()));
        }
        if expected_service.is_some_and(|x| x != parsed.service) {
            return Ok(refuse(format!(
                "the signature is scoped to service {}",
                parsed.service
            )));
        }
        if expected_region.is_some_and(|x| x != parsed.region) {
            return Ok(refuse(format!(
                "the signature is scoped to region {}",
                parsed.region
            )));
        }
        Ok(SignatureCheck {
            valid: true,
            reason: String::new(),
            access_key_id: s.access_key_id,
            role_arn: s.role_arn,
            subject: s.subject,
            expiration_ms: s.expires_at * 1000,
            service: parsed.service,
            region: parsed.region,
        })
    }
}
