//! proto ↔ domain conversions.

use crate::auth::AuthOutcome;
use crate::codes::CodeDelivery;
use crate::pools::{ClientInput, PoolInput};
use crate::AppError;
use signet_core::{
    Algorithm, AppClient, AttributeType, Group, PasswordPolicy, PoolConfig, SchemaAttribute,
    TokenHook, TriggerHook, Triggers, User, UserPool,
};
use signet_proto::v1 as pb;

pub(super) fn attrs(a: &[pb::AttributeType]) -> Vec<(String, String)> {
    a.iter()
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect()
}

pub(super) fn policy(p: &Option<pb::PasswordPolicyType>) -> PasswordPolicy {
    match p {
        None => PasswordPolicy::default(),
        Some(p) => PasswordPolicy {
            minimum_length: p.minimum_length,
            require_uppercase: p.require_uppercase,
            require_lowercase: p.require_lowercase,
            require_numbers: p.require_numbers,
            require_symbols: p.require_symbols,
            temporary_password_validity_days: if p.temporary_password_validity_days == 0 {
                7
            } else {
                p.temporary_password_validity_days
            },
        },
    }
}

/// Cognito's `AttributeDataType`; unset means String. Any other word is refused: read as
/// String, a `Number` misspelt would have silently lost its checks.
fn data_type(s: &str) -> Result<AttributeType, AppError> {
    match s {
        "" | "String" => Ok(AttributeType::String),
        "Number" => Ok(AttributeType::Number),
        "Boolean" => Ok(AttributeType::Boolean),
        "DateTime" => Ok(AttributeType::DateTime),
        other => Err(AppError::invalid(format!(
            "AttributeDataType must be String, Number, DateTime or Boolean, not {other:?}"
        ))),
    }
}

/// Schema attributes as given, at most `take` of them (the limits are the use case's).
pub(super) fn schema(
    given: &[pb::SchemaAttributeType],
    take: usize,
) -> Result<Vec<SchemaAttribute>, AppError> {
    given
        .iter()
        .take(take)
        .map(|a| {
            Ok(SchemaAttribute {
                name: a.name.clone(),
                data_type: data_type(&a.attribute_data_type)?,
                mutable: a.mutable,
                required: a.required,
                max_length: a.max_length,
            })
        })
        .collect()
}

pub(super) fn pool_input(r: &pb::CreateUserPoolRequest) -> Result<PoolInput, AppError> {
    // Bounded before conversion: the limit itself is checked with the rest of the config.
    let schema = schema(&r.schema, crate::pools::MAX_CUSTOM_ATTRIBUTES * 4)?;
    if r.schema.len() > schema.len() {
        return Err(AppError::invalid(format!(
            "A user pool has at most {} custom attributes ({} schema entries given).",
            crate::pools::MAX_CUSTOM_ATTRIBUTES,
            r.schema.len()
        )));
    }
    Ok(PoolInput {
        name: r.pool_name.clone(),
        config: PoolConfig {
            password_policy: policy(&r.password_policy),
            username_attributes: r.username_attributes.clone(),
            alias_attributes: r.alias_attributes.clone(),
            auto_verified_attributes: r.auto_verified_attributes.clone(),
            schema,
            prevent_user_existence_errors: r.prevent_user_existence_errors.unwrap_or(true),
            case_sensitive_usernames: r.case_sensitive_usernames,
            // Absent: EdDSA. Anything else must name an algorithm (parsed here, once).
            signing_alg: if r.signing_alg.is_empty() {
                Algorithm::EdDSA
            } else {
                Algorithm::from_name(&r.signing_alg)
                    .ok_or_else(|| AppError::invalid("signing_alg must be EdDSA, ES256 or RS256"))?
            },
            deletion_protection: r.deletion_protection,
            pre_token_generation: r.pre_token_generation.as_ref().map(hook_in),
            // Set with SetUserPoolMfaConfig; CreateUserPool starts with MFA off.
            mfa: Default::default(),
            devices: r.device_configuration.as_ref().map(device_config_in),
            ui: r.ui_customization.as_ref().map(ui_in),
            admin_create_user_only: r.admin_create_user_only,
            triggers: Box::new(
                r.lambda_config
                    .as_ref()
                    .map(triggers_in)
                    .unwrap_or_default(),
            ),
        },
    })
}

/// A hook's settings as given (validated by the pool use cases).
pub(super) fn hook_in(h: &pb::PreTokenGenerationConfigType) -> TokenHook {
    TokenHook {
        url: h.url.clone(),
        version: match h.version.as_str() {
            "V1_0" | "1" => 1,
            "V2_0" | "2" => 2,
            "V3_0" | "3" => 3,
            _ => 0,
        },
        timeout_ms: if h.timeout_ms == 0 {
            1000
        } else {
            h.timeout_ms
        },
        fail_open: h.fail_open,
    }
}

/// A pool's triggers as given (validated by the pool use cases).
pub(super) fn triggers_in(l: &pb::LambdaConfigType) -> Triggers {
    let one = |h: &Option<pb::TriggerHookType>| {
        h.as_ref().map(|h| TriggerHook {
            url: h.url.clone(),
            timeout_ms: if h.timeout_ms == 0 {
                1000
            } else {
                h.timeout_ms
            },
            fail_open: h.fail_open,
        })
    };
    Triggers {
        pre_sign_up: one(&l.pre_sign_up),
        post_confirmation: one(&l.post_confirmation),
        pre_authentication: one(&l.pre_authentication),
        post_authentication: one(&l.post_authentication),
        user_migration: one(&l.user_migration),
        define_auth_challenge: one(&l.define_auth_challenge),
        create_auth_challenge: one(&l.create_auth_challenge),
        verify_auth_challenge_response: one(&l.verify_auth_challenge_response),
        custom_message: one(&l.custom_message),
    }
}

fn triggers_out(t: &Triggers) -> Option<pb::LambdaConfigType> {
    let one = |h: &Option<TriggerHook>| {
        h.as_ref().map(|h| pb::TriggerHookType {
            url: h.url.clone(),
            timeout_ms: h.timeout_ms,
            fail_open: h.fail_open,
        })
    };
    (!t.is_empty()).then(|| pb::LambdaConfigType {
        pre_sign_up: one(&t.pre_sign_up),
        post_confirmation: one(&t.post_confirmation),
        pre_authentication: one(&t.pre_authentication),
        post_authentication: one(&t.post_authentication),
        user_migration: one(&t.user_migration),
        define_auth_challenge: one(&t.define_auth_challenge),
        create_auth_challenge: one(&t.create_auth_challenge),
        verify_auth_challenge_response: one(&t.verify_auth_challenge_response),
        custom_message: one(&t.custom_message),
    })
}

fn hook_out(h: &TokenHook) -> pb::PreTokenGenerationConfigType {
    pb::PreTokenGenerationConfigType {
        url: h.url.clone(),
        version: format!("V{}_0", h.version),
        timeout_ms: h.timeout_ms,
        fail_open: h.fail_open,
    }
}

pub(super) fn pool(p: &UserPool, issuer: String) -> pb::UserPoolType {
    let c = &p.config;
    pb::UserPoolType {
        id: p.id.clone(),
        name: p.name.clone(),
        creation_date: p.created_at_ms as i64,
        last_modified_date: p.updated_at_ms as i64,
        password_policy: Some(pb::PasswordPolicyType {
            minimum_length: c.password_policy.minimum_length,
            require_uppercase: c.password_policy.require_uppercase,
            require_lowercase: c.password_policy.require_lowercase,
            require_numbers: c.password_policy.require_numbers,
            require_symbols: c.password_policy.require_symbols,
            temporary_password_validity_days: c.password_policy.temporary_password_validity_days,
        }),
        username_attributes: c.username_attributes.clone(),
        alias_attributes: c.alias_attributes.clone(),
        auto_verified_attributes: c.auto_verified_attributes.clone(),
        schema_attributes: c
            .schema
            .iter()
            .map(|a| pb::SchemaAttributeType {
                name: a.name.clone(),
                attribute_data_type: format!("{:?}", a.data_type),
                mutable: a.mutable,
                required: a.required,
                max_length: a.max_length,
            })
            .collect(),
        prevent_user_existence_errors: c.prevent_user_existence_errors,
        case_sensitive_usernames: c.case_sensitive_usernames,
        signing_alg: c.signing_alg.name().to_string(),
        deletion_protection: c.deletion_protection,
        admin_create_user_only: c.admin_create_user_only,
        issuer,
        pre_token_generation: p.config.pre_token_generation.as_ref().map(hook_out),
        lambda_config: triggers_out(&p.config.triggers),
        device_configuration: p.config.devices.map(|d| pb::DeviceConfigurationType {
            challenge_required_on_new_device: d.challenge_required_on_new_device,
            device_only_remembered_on_user_prompt: d.device_only_remembered_on_user_prompt,
        }),
        ui_customization: p.config.ui.as_ref().map(|u| pb::UiCustomizationType {
            logo_url: u.logo_url.clone().unwrap_or_default(),
            primary_color: u.primary_color.clone().unwrap_or_default(),
            background_color: u.background_color.clone().unwrap_or_default(),
        }),
    }
}

/// The hosted pages' look as given (empty fields: the default).
pub(super) fn ui_in(u: &pb::UiCustomizationType) -> signet_core::UiCustomization {
    let given = |s: &str| (!s.is_empty()).then(|| s.to_string());
    signet_core::UiCustomization {
        logo_url: given(&u.logo_url),
        primary_color: given(&u.primary_color),
        background_color: given(&u.background_color),
    }
}

pub(super) fn device_config_in(d: &pb::DeviceConfigurationType) -> signet_core::DeviceConfig {
    signet_core::DeviceConfig {
        challenge_required_on_new_device: d.challenge_required_on_new_device,
        device_only_remembered_on_user_prompt: d.device_only_remembered_on_user_prompt,
    }
}

/// A device as GetDevice and ListDevices answer it.
pub(super) fn device(d: &signet_core::Device) -> pb::DeviceType {
    let status = if d.remembered {
        "remembered"
    } else {
        "not_remembered"
    };
    pb::DeviceType {
        device_key: d.key.clone(),
        device_attributes: [
            ("device_name", d.name.as_str()),
            ("device_status", "valid"),
            ("dev:device_remembered_status", status),
        ]
        .into_iter()
        .map(|(name, value)| pb::AttributeType {
            name: name.into(),
            value: value.into(),
        })
        .collect(),
        device_create_date: d.created_at_ms as i64,
        device_last_modified_date: d.updated_at_ms as i64,
        device_last_authenticated_date: d.created_at_ms as i64,
    }
}

/// A page of devices.
pub(super) fn devices(page: (Vec<signet_core::Device>, Option<String>)) -> pb::ListDevicesResponse {
    pb::ListDevicesResponse {
        devices: page.0.iter().map(device).collect(),
        pagination_token: page.1.unwrap_or_default(),
    }
}

pub(super) fn client(c: &AppClient, secret: Option<String>) -> pb::UserPoolClientType {
    pb::UserPoolClientType {
        client_id: c.client_id.clone(),
        user_pool_id: c.pool_id.clone(),
        client_name: c.name.clone(),
        client_secret: secret.unwrap_or_default(),
        has_secret: !c.secrets.is_empty(),
        explicit_auth_flows: c.auth_flows.iter().map(|f| f.name().to_string()).collect(),
        access_token_validity_seconds: c.validity.access_s,
        id_token_validity_seconds: c.validity.id_s,
        refresh_token_validity_seconds: c.validity.refresh_s,
        read_attributes: c.read_attributes.clone(),
        write_attributes: c.write_attributes.clone(),
        enable_refresh_token_rotation: c.refresh_token_rotation,
        creation_date: c.created_at_ms as i64,
        last_modified_date: c.updated_at_ms as i64,
        allowed_oauth_flows: c.oauth_flows.iter().map(|f| f.name().to_string()).collect(),
        allowed_oauth_scopes: c.oauth_scopes.clone(),
        disabled: c.disabled,
        retry_grace_period_seconds: c.refresh_retry_grace_s,
        callback_urls: c.callback_urls.clone(),
        logout_urls: c.logout_urls.clone(),
        default_redirect_uri: c.default_redirect_uri.clone().unwrap_or_default(),
        supported_identity_providers: c.identity_providers.clone(),
    }
}

pub(super) fn client_input_create(r: &pb::CreateUserPoolClientRequest) -> ClientInput {
    ClientInput {
        name: r.client_name.clone(),
        generate_secret: r.generate_secret,
        secret: Some(r.client_secret.clone()).filter(|s| !s.is_empty()),
        auth_flows: r.explicit_auth_flows.clone(),
        access_s: r.access_token_validity_seconds,
        id_s: r.id_token_validity_seconds,
        refresh_s: r.refresh_token_validity_seconds,
        read_attributes: r.read_attributes.clone(),
        write_attributes: r.write_attributes.clone(),
        refresh_token_rotation: r.enable_refresh_token_rotation,
        retry_grace_s: r.retry_grace_period_seconds,
        oauth_flows: r.allowed_oauth_flows.clone(),
        oauth_scopes: r.allowed_oauth_scopes.clone(),
        hosted: crate::pools::HostedInput {
            callback_urls: r.callback_urls.clone(),
            logout_urls: r.logout_urls.clone(),
            default_redirect_uri: r.default_redirect_uri.clone(),
            identity_providers: r.supported_identity_providers.clone(),
        },
        disabled: false,
    }
}

pub(super) fn user(u: &User) -> pb::UserType {
    pb::UserType {
        username: u.username.clone(),
        attributes: u
            .attributes
            .iter()
            .map(|(k, v)| pb::AttributeType {
                name: k.clone(),
                value: v.clone(),
            })
            .collect(),
        user_create_date: u.created_at_ms as i64,
        user_last_modified_date: u.updated_at_ms as i64,
        enabled: u.enabled,
        user_status: u.status.name().into(),
        preferred_mfa_setting: preferred_mfa(u),
        user_mfa_setting_list: mfa_list(u),
    }
}

/// The preferred factor's name (PreferredMfaSetting), empty when none.
pub(super) fn preferred_mfa(u: &User) -> String {
    u.mfa
        .preferred
        .filter(|f| u.factor_enabled(*f))
        .map(|f| f.name().to_string())
        .unwrap_or_default()
}

/// The factors turned on (UserMFASettingList).
pub(super) fn mfa_list(u: &User) -> Vec<String> {
    signet_core::MfaFactor::ALL
        .into_iter()
        .filter(|f| u.factor_enabled(*f))
        .map(|f| f.name().to_string())
        .collect()
}

/// SetUserMFAPreference's settings of each factor.
pub(super) fn mfa_settings(
    totp: Option<pb::MfaSettingsType>,
    sms: Option<pb::MfaSettingsType>,
    email: Option<pb::MfaSettingsType>,
) -> crate::auth::MfaSettings {
    let one = |s: Option<pb::MfaSettingsType>| {
        s.map(|s| crate::auth::MfaSetting {
            enabled: s.enabled,
            preferred: s.preferred_mfa,
        })
    };
    crate::auth::MfaSettings {
        totp: one(totp),
        sms: one(sms),
        email: one(email),
    }
}

/// A pool's MFA configuration as SetUserPoolMfaConfig / GetUserPoolMfaConfig answer it.
pub(super) fn pool_mfa(m: &signet_core::PoolMfa) -> pb::UserPoolMfaConfigResponse {
    pb::UserPoolMfaConfigResponse {
        mfa_configuration: match m.mode {
            signet_core::MfaMode::Off => "OFF",
            signet_core::MfaMode::On => "ON",
            signet_core::MfaMode::Optional => "OPTIONAL",
        }
        .into(),
        software_token_mfa_configuration: Some(pb::SoftwareTokenMfaConfigType {
            enabled: m.software_token,
        }),
        sms_mfa_configuration: Some(pb::SmsMfaConfigType { enabled: m.sms }),
        email_mfa_configuration: Some(pb::EmailMfaConfigType { enabled: m.email }),
    }
}

pub(super) fn group(g: &Group) -> pb::GroupType {
    pb::GroupType {
        group_name: g.name.clone(),
        user_pool_id: g.pool_id.clone(),
        description: g.description.clone(),
        role_arn: g.role_arn.clone().unwrap_or_default(),
        precedence: g.precedence,
        creation_date: g.created_at_ms as i64,
        last_modified_date: g.updated_at_ms as i64,
    }
}

pub(super) fn delivery(d: &CodeDelivery) -> pb::CodeDeliveryDetailsType {
    pb::CodeDeliveryDetailsType {
        destination: d.destination.clone(),
        delivery_medium: d.medium.clone(),
        attribute_name: d.attribute.clone(),
    }
}

pub(super) fn auth(o: AuthOutcome) -> Result<pb::AuthResponse, tonic::Status> {
    Ok(match o {
        AuthOutcome::Tokens(t) => pb::AuthResponse {
            authentication_result: Some(pb::AuthenticationResultType {
                access_token: t.access_token,
                id_token: t.id_token,
                refresh_token: t.refresh_token.unwrap_or_default(),
                expires_in: t.expires_in,
                token_type: "Bearer".into(),
                new_device_metadata: t.new_device.map(|(device_key, device_group_key)| {
                    pb::NewDeviceMetadataType {
                        device_key,
                        device_group_key,
                    }
                }),
            }),
            ..Default::default()
        },
        AuthOutcome::Challenge {
            name,
            session,
            parameters,
        } => pb::AuthResponse {
            challenge_name: name.name().to_string(),
            session,
            challenge_parameters: parameters.into_iter().collect(),
            authentication_result: None,
        },
        // Only hosted pages sign in without tokens; no gRPC call runs as one.
        AuthOutcome::SignedIn(_) => {
            return Err(tonic::Status::internal("a sign-in ended without tokens"))
        }
    })
}

/// `""` means "from the start".
pub(super) fn token(t: &str) -> Option<String> {
    (!t.is_empty()).then(|| t.to_string())
}

pub(super) fn signing_key(k: &signet_core::SigningKey) -> pb::SigningKeyType {
    use signet_core::KeyState;
    let (state, retired_at, revoked_at, drop_after) = match k.state {
        KeyState::Published => ("published", 0, 0, 0),
        KeyState::Retired {
            retired_at_ms,
            drop_after_ms,
        } => ("retired", retired_at_ms, 0, drop_after_ms),
        KeyState::Revoked {
            revoked_at_ms,
            drop_after_ms,
        } => ("revoked", 0, revoked_at_ms, drop_after_ms),
    };
    pb::SigningKeyType {
        kid: k.kid.clone(),
        owner: k.owner.clone(),
        alg: k.alg.clone(),
        state: state.into(),
        published_at: k.published_at_ms as i64,
        usable_from: k.usable_from_ms as i64,
        retired_at: retired_at as i64,
        revoked_at: revoked_at as i64,
        drop_after: drop_after as i64,
        public_jwk: k.public_jwk.clone(),
    }
}

/// A request's ClientMetadata, for the triggers it fires.
pub(super) fn metadata(
    m: &std::collections::HashMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
