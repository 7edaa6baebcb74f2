//! Temporary credentials: the role's parsed documents, its trust check, and minting an
//! access key, secret and session token scoped to the role.

use super::{Credentials, RoleDocs, SessionSpec, Sts, ASSUME_ACTION};
use crate::ids;
use crate::metrics::Issued;
use crate::AppError;
use serde_json::{json, Map, Value};
use signet_core::Role;
use signet_crypto::Algorithm;
use signet_verify::policy::{evaluate, Context, PolicyDocument, Principal, Request};
use signet_verify::session::SESSION_AUDIENCE;
use signet_verify::MAX_TOKEN_BYTES;
use std::sync::Arc;

impl Sts {
    /// The secret of an access key id (an HMAC under the server key).
    pub(crate) fn secret_for(&self, access_key_id: &str) -> String {
        self.keyed
            .hash("sts-secret-v1", &[access_key_id.as_bytes()])
    }

    /// A role's documents, parsed once per version of the role: the get-credentials path
    /// would otherwise parse the trust policy and every permission policy on each call.
    /// An entry is reused only while the role's stored text is identical.
    pub(crate) fn role_docs(&self, role: &Role) -> Result<Arc<RoleDocs>, AppError> {
        let mut cache = self.doc_cache.lock().expect("role docs lock");
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
        let now = self.clock.now_ms() / 1000;
        let exp = now + s.duration_s;
        let access_key_id = ids::access_key_id();
        let policies = self.role_docs(s.role)?.policies.clone();
        let mut claims = json!({
            "iss": self.urls.sts_issuer(),
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
}
