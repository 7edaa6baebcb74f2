//! The JSON the CLIs print for gateway answers. Field names are the proto's (Cognito's
//! parameters in snake_case), times Unix milliseconds; attributes become one object
//! (`{"email": "…", "sub": "…"}`) so `jq -r .user.attributes.sub` works.

use serde_json::{json, Map, Value};
use signet_proto::v1 as pb;

/// Attributes as a JSON object, in name order.
pub fn attributes(attrs: &[pb::AttributeType]) -> Value {
    let sorted: std::collections::BTreeMap<&str, &str> = attrs
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    json!(sorted)
}

pub fn pool(p: &pb::UserPoolType) -> Value {
    let policy = p.password_policy.as_ref().map(|pp| {
        json!({
            "minimum_length": pp.minimum_length,
            "require_uppercase": pp.require_uppercase,
            "require_lowercase": pp.require_lowercase,
            "require_numbers": pp.require_numbers,
            "require_symbols": pp.require_symbols,
            "temporary_password_validity_days": pp.temporary_password_validity_days,
        })
    });
    json!({
        "id": p.id,
        "name": p.name,
        "issuer": p.issuer,
        "signing_alg": p.signing_alg,
        "username_attributes": p.username_attributes,
        "alias_attributes": p.alias_attributes,
        "auto_verified_attributes": p.auto_verified_attributes,
        "password_policy": policy,
        "prevent_user_existence_errors": p.prevent_user_existence_errors,
        "case_sensitive_usernames": p.case_sensitive_usernames,
        "deletion_protection": p.deletion_protection,
        "admin_create_user_only": p.admin_create_user_only,
        "pre_token_generation": p.pre_token_generation.as_ref().map(pre_token_hook),
        "lambda_config": p.lambda_config.as_ref().map(lambda_config),
        "ui_customization": p.ui_customization.as_ref().map(|u| json!({
            "logo_url": u.logo_url,
            "primary_color": u.primary_color,
            "background_color": u.background_color,
        })),
        "creation_date": p.creation_date,
        "last_modified_date": p.last_modified_date,
    })
}

/// The pool's pre-token-generation hook (null when it has none).
pub fn pre_token_hook(h: &pb::PreTokenGenerationConfigType) -> Value {
    json!({
        "url": h.url,
        "version": h.version,
        "timeout_ms": h.timeout_ms,
        "fail_open": h.fail_open,
    })
}

/// The pool's triggers, by Cognito's LambdaConfig names (a trigger not set is left out).
pub fn lambda_config(l: &pb::LambdaConfigType) -> Value {
    let mut m = serde_json::Map::new();
    for (name, h) in [
        ("PreSignUp", &l.pre_sign_up),
        ("PostConfirmation", &l.post_confirmation),
        ("PreAuthentication", &l.pre_authentication),
        ("PostAuthentication", &l.post_authentication),
        ("UserMigration", &l.user_migration),
        ("DefineAuthChallenge", &l.define_auth_challenge),
        ("CreateAuthChallenge", &l.create_auth_challenge),
        (
            "VerifyAuthChallengeResponse",
            &l.verify_auth_challenge_response,
        ),
        ("CustomMessage", &l.custom_message),
    ] {
        if let Some(h) = h {
            m.insert(
                name.into(),
                json!({"url": h.url, "timeout_ms": h.timeout_ms, "fail_open": h.fail_open}),
            );
        }
    }
    Value::Object(m)
}

/// One event of a user's audit trail.
pub fn auth_event(e: &pb::AuthEventType) -> Value {
    json!({
        "event_id": e.event_id,
        "event_type": e.event_type,
        "creation_date": e.creation_date,
        "event_response": e.event_response,
        "action": e.action,
        "exception": e.exception,
        "challenge_name": e.challenge_name,
        "ip_address": e.ip_address,
        "client_id": e.client_id,
        "actor": e.actor,
        "target": e.target,
    })
}

pub fn client(c: &pb::UserPoolClientType) -> Value {
    let mut v = json!({
        "client_id": c.client_id,
        "user_pool_id": c.user_pool_id,
        "client_name": c.client_name,
        "has_secret": c.has_secret,
        "explicit_auth_flows": c.explicit_auth_flows,
        "access_token_validity_seconds": c.access_token_validity_seconds,
        "id_token_validity_seconds": c.id_token_validity_seconds,
        "refresh_token_validity_seconds": c.refresh_token_validity_seconds,
        "enable_refresh_token_rotation": c.enable_refresh_token_rotation,
        "retry_grace_period_seconds": c.retry_grace_period_seconds,
        "read_attributes": c.read_attributes,
        "write_attributes": c.write_attributes,
        "allowed_oauth_flows": c.allowed_oauth_flows,
        "allowed_oauth_scopes": c.allowed_oauth_scopes,
        "callback_urls": c.callback_urls,
        "logout_urls": c.logout_urls,
        "default_redirect_uri": c.default_redirect_uri,
        "supported_identity_providers": c.supported_identity_providers,
        "disabled": c.disabled,
        "creation_date": c.creation_date,
        "last_modified_date": c.last_modified_date,
    });
    // Only CreateUserPoolClient returns the secret (once).
    if !c.client_secret.is_empty() {
        v["client_secret"] = json!(c.client_secret);
    }
    v
}

/// A client secret's id and date; its value only in the answer to `client-secrets add`.
pub fn client_secret(s: &pb::ClientSecretDescriptorType) -> Value {
    let mut v = json!({
        "client_secret_id": s.client_secret_id,
        "client_secret_create_date": s.client_secret_create_date,
    });
    if !s.client_secret_value.is_empty() {
        v["client_secret_value"] = json!(s.client_secret_value);
    }
    v
}

pub fn identity_provider(p: &pb::IdentityProviderType) -> Value {
    let sorted = |m: &std::collections::HashMap<String, String>| {
        m.iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    json!({
        "user_pool_id": p.user_pool_id,
        "provider_name": p.provider_name,
        "provider_type": p.provider_type,
        "provider_details": sorted(&p.provider_details),
        "attribute_mapping": sorted(&p.attribute_mapping),
        "idp_identifiers": p.idp_identifiers,
        "creation_date": p.creation_date,
        "last_modified_date": p.last_modified_date,
    })
}

pub fn resource_server(r: &pb::ResourceServerType) -> Value {
    let scopes: Vec<Value> = r
        .scopes
        .iter()
        .map(|s| json!({ "scope_name": s.scope_name, "scope_description": s.scope_description }))
        .collect();
    json!({
        "user_pool_id": r.user_pool_id,
        "identifier": r.identifier,
        "name": r.name,
        "scopes": scopes,
    })
}

pub fn user(u: &pb::UserType) -> Value {
    json!({
        "username": u.username,
        "user_status": u.user_status,
        "enabled": u.enabled,
        "attributes": attributes(&u.attributes),
        "user_create_date": u.user_create_date,
        "user_last_modified_date": u.user_last_modified_date,
    })
}

pub fn group(g: &pb::GroupType) -> Value {
    json!({
        "group_name": g.group_name,
        "user_pool_id": g.user_pool_id,
        "description": g.description,
        "role_arn": g.role_arn,
        "precedence": g.precedence,
        "creation_date": g.creation_date,
        "last_modified_date": g.last_modified_date,
    })
}

pub fn outbox_message(m: &pb::OutboxMessageType) -> Value {
    json!({
        "username": m.username,
        "purpose": m.purpose,
        "destination": m.destination,
        "code": m.code,
        "issued_at": m.issued_at,
    })
}

pub fn delivery(d: Option<&pb::CodeDeliveryDetailsType>) -> Value {
    match d {
        Some(d) => json!({
            "destination": d.destination,
            "delivery_medium": d.delivery_medium,
            "attribute_name": d.attribute_name,
        }),
        None => Value::Null,
    }
}

/// Tokens (`authentication_result`), or the challenge to answer.
/// A pool's MFA configuration.
pub fn mfa_config(r: &pb::UserPoolMfaConfigResponse) -> Value {
    json!({
        "mfa_configuration": r.mfa_configuration,
        "software_token_mfa": r.software_token_mfa_configuration.is_some_and(|c| c.enabled),
        "sms_mfa": r.sms_mfa_configuration.is_some_and(|c| c.enabled),
        "email_otp": r.email_mfa_configuration.is_some_and(|c| c.enabled),
    })
}

pub fn auth(r: &pb::AuthResponse) -> Value {
    if let Some(t) = &r.authentication_result {
        let mut result = json!({
            "access_token": t.access_token,
            "id_token": t.id_token,
            "expires_in": t.expires_in,
            "token_type": t.token_type,
        });
        // A refresh without rotation returns no new refresh token.
        if !t.refresh_token.is_empty() {
            result["refresh_token"] = json!(t.refresh_token);
        }
        return json!({ "authentication_result": result });
    }
    let params: Map<String, Value> = r
        .challenge_parameters
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "challenge_name": r.challenge_name,
        "session": r.session,
        "challenge_parameters": params,
    })
}

/// The answer of client_credentials: an access token for the client itself.
pub fn client_token(t: &pb::IssueClientTokenResponse) -> Value {
    json!({
        "access_token": t.access_token,
        "token_type": t.token_type,
        "expires_in": t.expires_in,
        "scope": t.scope,
    })
}

pub fn signing_key(k: &pb::SigningKeyType) -> Value {
    json!({
        "kid": k.kid,
        "owner": k.owner,
        "alg": k.alg,
        "state": k.state,
        "published_at": k.published_at,
        "usable_from": k.usable_from,
        "retired_at": k.retired_at,
        "revoked_at": k.revoked_at,
        "drop_after": k.drop_after,
    })
}

/// A policy document as JSON when it parses (so `jq` can look inside), else as text.
pub fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| json!(text))
}

pub fn identity_pool(p: &pb::IdentityPoolType) -> Value {
    let user_pools: Vec<Value> = p
        .cognito_identity_providers
        .iter()
        .map(|c| json!({ "provider_name": c.provider_name, "client_id": c.client_id }))
        .collect();
    let oidc: Vec<Value> = p
        .open_id_connect_providers
        .iter()
        .map(|o| json!({ "issuer": o.issuer, "jwks_url": o.jwks_url, "client_ids": o.client_ids }))
        .collect();
    json!({
        "identity_pool_id": p.identity_pool_id,
        "identity_pool_name": p.identity_pool_name,
        "allow_unauthenticated_identities": p.allow_unauthenticated_identities,
        "allow_classic_flow": p.allow_classic_flow,
        "cognito_identity_providers": user_pools,
        "supported_login_providers": p
            .supported_login_providers
            .iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
        "open_id_connect_providers": oidc,
        "developer_provider_name": p.developer_provider_name,
        "creation_date": p.creation_date,
        "last_modified_date": p.last_modified_date,
    })
}

/// Default roles and role mappings; `role_mappings` has the shape `--mapping-json` reads.
pub fn identity_pool_roles(r: &pb::IdentityPoolRolesType) -> Value {
    let mappings: Map<String, Value> = r
        .role_mappings
        .iter()
        .map(|(provider, m)| {
            let rules: Vec<Value> = m
                .rules
                .iter()
                .map(|r| {
                    json!({
                        "claim": r.claim,
                        "match_type": r.match_type,
                        "value": r.value,
                        "role_arn": r.role_arn,
                    })
                })
                .collect();
            let mapping = json!({
                "type": m.r#type,
                "ambiguous_role_resolution": m.ambiguous_role_resolution,
                "rules": rules,
            });
            (provider.clone(), mapping)
        })
        .collect();
    json!({
        "identity_pool_id": r.identity_pool_id,
        "roles": r.roles,
        "role_mappings": mappings,
    })
}

pub fn identity(i: &pb::IdentityDescription) -> Value {
    json!({
        "identity_id": i.identity_id,
        "logins": i.logins,
        "creation_date": i.creation_date,
        "last_modified_date": i.last_modified_date,
    })
}

pub fn role(r: &pb::RoleType) -> Value {
    json!({
        "role_name": r.role_name,
        "arn": r.arn,
        "role_id": r.role_id,
        "description": r.description,
        "assume_role_policy_document": document(&r.assume_role_policy_document),
        "max_session_duration": r.max_session_duration,
        "policy_names": r.policy_names,
        "create_date": r.create_date,
    })
}

pub fn credentials(c: Option<&pb::CredentialsType>) -> Value {
    match c {
        Some(c) => json!({
            "access_key_id": c.access_key_id,
            "secret_key": c.secret_key,
            "session_token": c.session_token,
            "expiration": c.expiration,
        }),
        None => Value::Null,
    }
}

/// The decision; the deciding statement's fields are null when none decided (ImplicitDeny).
pub fn authorization(r: &pb::AuthorizeResponse) -> Value {
    let decided = !r.policy_name.is_empty();
    json!({
        "allowed": r.allowed,
        "decision": r.decision,
        "policy_name": decided.then_some(&r.policy_name),
        "statement_index": decided.then_some(r.statement_index),
        "sid": Some(&r.sid).filter(|s| !s.is_empty()),
        "role_arn": r.role_arn,
        "subject": r.subject,
    })
}

pub fn import_job(j: &pb::UserImportJobType) -> Value {
    let row_errors: Vec<Value> = j
        .row_errors
        .iter()
        .map(|e| json!({ "line": e.line, "reason": e.reason }))
        .collect();
    json!({
        "job_id": j.job_id,
        "job_name": j.job_name,
        "user_pool_id": j.user_pool_id,
        "status": j.status,
        "pre_signed_url": j.pre_signed_url,
        "creation_date": j.creation_date,
        "start_date": j.start_date,
        "completion_date": j.completion_date,
        "staged_users": j.staged_users,
        "imported_users": j.imported_users,
        "skipped_users": j.skipped_users,
        "failed_users": j.failed_users,
        "completion_message": j.completion_message,
        "row_errors": row_errors,
    })
}

/// A remembered device.
pub fn device(d: &pb::DeviceType) -> Value {
    let attributes: serde_json::Map<String, Value> = d
        .device_attributes
        .iter()
        .map(|a| (a.name.clone(), Value::String(a.value.clone())))
        .collect();
    json!({
        "device_key": d.device_key,
        "attributes": attributes,
        "created_ms": d.device_create_date,
        "modified_ms": d.device_last_modified_date,
    })
}
