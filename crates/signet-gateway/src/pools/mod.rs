//! User pools: create, read, update, delete, list, and the limits of what a pool holds.
//! App clients are in `clients.rs`.

mod client_secrets;
pub(crate) mod clients;
pub(crate) mod redirects;

use crate::clock::SharedClock;
use crate::directory::Directory;
use crate::ids;
use crate::store::Store;
use crate::validate::{display_name, STANDARD_ATTRIBUTES};
use crate::AppError;
use signet_core::{
    AddCustomAttributes, Command, CreateUserPool, DeleteUserPool, MfaMode, PasswordPolicy,
    PoolConfig, PoolMfa, Query, SchemaAttribute, SetUserPoolMfa, UpdateUserPool, UserPool,
};

pub use self::clients::ClientInput;
pub use self::redirects::HostedInput;

/// Most custom attributes a pool may define (Cognito's limit). With the standard ones and
/// the caps below, a pool's record stays small, so no page of pools can grow past the
/// store's reply cap.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;

/// Longest hook URL (as browsers and most proxies accept).
const MAX_URL_CHARS: usize = 2048;

/// The one check of a pool or app-client name, for Create and Update alike: 1 to 128
/// characters (Cognito's limits), no control or invisible characters.
pub(crate) fn check_display_name(what: &str, name: &str) -> Result<(), AppError> {
    display_name(what, name, 1, 128)
}

/// `given` must name distinct members of `allowed` (so it holds at most `allowed.len()`).
fn subset(given: &[String], allowed: &[&str], what: &str) -> Result<(), AppError> {
    if let Some(a) = given.iter().find(|a| !allowed.contains(&a.as_str())) {
        return Err(AppError::invalid(format!("{what}: {a} is not allowed")));
    }
    if let Some((i, a)) = given
        .iter()
        .enumerate()
        .find(|(i, a)| given[..*i].contains(a))
        .map(|(i, a)| (i, a.clone()))
    {
        return Err(AppError::invalid(format!(
            "{what}: {a} is given twice (entry {i})"
        )));
    }
    Ok(())
}

/// Settings of a new or updated pool.
#[derive(Debug, Clone, Default)]
pub struct PoolInput {
    /// Display name.
    pub name: String,
    /// Configuration (validated before use).
    pub config: PoolConfig,
}

/// A hook's URL (bounded, and one the gateway may call) and timeout (100 ms to 5 s).
fn check_hook(
    name: &str,
    url: &str,
    timeout_ms: u32,
    allow_loopback_http: bool,
) -> Result<(), AppError> {
    if url.len() > MAX_URL_CHARS {
        return Err(AppError::invalid(format!(
            "{name}.url is longer than {MAX_URL_CHARS} characters"
        )));
    }
    crate::outbound::check_outbound_url(url, allow_loopback_http)
        .map_err(|e| AppError::invalid(format!("{name}.url {url:?} {e}")))?;
    if !(100..=5000).contains(&timeout_ms) {
        return Err(AppError::invalid(format!(
            "{name}.timeout_ms must be 100 to 5000"
        )));
    }
    Ok(())
}

/// `allow_loopback_http`: the gateway's `allow_insecure_loopback_http`.
/// The hosted pages' look: the logo an absolute https URL (the pages only load https
/// images), colours `#rrggbb` — nothing else reaches the page's style.
fn check_ui(u: &signet_core::UiCustomization) -> Result<(), AppError> {
    if let Some(logo) = &u.logo_url {
        let ok = logo.len() <= MAX_URL_CHARS
            && url::Url::parse(logo).is_ok_and(|p| p.scheme() == "https" && p.host().is_some())
            && !logo.contains(['"', '\'', '<', '>', ' ', '\\']);
        if !ok {
            return Err(AppError::invalid(format!(
                "UiCustomization.logo_url must be an absolute https URL: {logo:?}"
            )));
        }
    }
    for (what, c) in [
        ("primary_color", &u.primary_color),
        ("background_color", &u.background_color),
    ] {
        if let Some(c) = c {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit());
            if !ok {
                return Err(AppError::invalid(format!(
                    "UiCustomization.{what} must be #rrggbb: {c:?}"
                )));
            }
        }
    }
    Ok(())
}

fn check_config(c: &PoolConfig, allow_loopback_http: bool) -> Result<(), AppError> {
    if let Some(u) = &c.ui {
        check_ui(u)?;
    }
    if let Some(h) = &c.pre_token_generation {
        check_hook(
            "pre_token_generation",
            &h.url,
            h.timeout_ms,
            allow_loopback_http,
        )?;
        if !(1..=3).contains(&h.version) {
            return Err(AppError::invalid(
                "pre_token_generation.version must be V1_0, V2_0 or V3_0",
            ));
        }
    }
    for (name, hook) in c.triggers.each() {
        if let Some(h) = hook {
            let name = format!("LambdaConfig.{name}");
            check_hook(&name, &h.url, h.timeout_ms, allow_loopback_http)?;
        }
    }
    let custom = [
        &c.triggers.define_auth_challenge,
        &c.triggers.create_auth_challenge,
        &c.triggers.verify_auth_challenge_response,
    ];
    if custom.iter().any(|h| h.is_some()) && !c.triggers.custom_auth() {
        return Err(AppError::invalid(
            "DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallengeResponse go together: set all three or none",
        ));
    }
    subset(
        &c.username_attributes,
        &["email", "phone_number"],
        "username_attributes",
    )?;
    subset(
        &c.alias_attributes,
        &["email", "phone_number", "preferred_username"],
        "alias_attributes",
    )?;
    subset(
        &c.auto_verified_attributes,
        &["email", "phone_number"],
        "auto_verified_attributes",
    )?;
    if !c.username_attributes.is_empty() && !c.alias_attributes.is_empty() {
        return Err(AppError::invalid(
            "username_attributes and alias_attributes cannot both be set",
        ));
    }
    let p: &PasswordPolicy = &c.password_policy;
    if !(6..=99).contains(&p.minimum_length) {
        return Err(AppError::invalid("minimum_length must be between 6 and 99"));
    }
    if !(1..=365).contains(&p.temporary_password_validity_days) {
        return Err(AppError::invalid(
            "temporary_password_validity_days must be between 1 and 365",
        ));
    }
    check_schema(&c.schema)?;
    Ok(())
}

/// A pool's schema, wherever one is written: known or well-formed names, each once, and
/// at most [`MAX_CUSTOM_ATTRIBUTES`] custom ones.
fn check_schema(schema: &[SchemaAttribute]) -> Result<(), AppError> {
    let custom = schema
        .iter()
        .filter(|a| a.name.starts_with("custom:"))
        .count();
    if custom > MAX_CUSTOM_ATTRIBUTES {
        return Err(AppError::invalid(format!(
            "A user pool has at most {MAX_CUSTOM_ATTRIBUTES} custom attributes ({custom} given)."
        )));
    }
    // Bounded now: at most 50 custom and the standard ones, if each is named once.
    for (i, a) in schema.iter().enumerate() {
        check_schema_attribute(a)?;
        if schema[..i].iter().any(|b| b.name == a.name) {
            return Err(AppError::invalid(format!(
                "schema attribute {} is given twice",
                a.name
            )));
        }
    }
    Ok(())
}

fn check_schema_attribute(a: &SchemaAttribute) -> Result<(), AppError> {
    let standard = STANDARD_ATTRIBUTES.contains(&a.name.as_str());
    let custom = a.name.strip_prefix("custom:").is_some_and(|n| {
        !n.is_empty() && n.len() <= 20 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !standard && !custom {
        return Err(AppError::invalid(format!(
            "schema attribute {} must be standard or custom:<1-20 letters, digits, _>",
            a.name
        )));
    }
    Ok(())
}

/// The user pools feature: it holds only the handles it uses, built by `app.rs`.
#[derive(Clone)]
pub(crate) struct Pools {
    store: Store,
    dir: Directory,
    clock: SharedClock,
    allow_loopback_http: bool,
}

impl Pools {
    /// Built by the composition root.
    pub(crate) fn new(
        store: Store,
        dir: Directory,
        clock: SharedClock,
        allow_loopback_http: bool,
    ) -> Pools {
        Pools {
            store,
            dir,
            clock,
            allow_loopback_http,
        }
    }
}

impl Pools {
    /// CreateUserPool.
    pub async fn create_user_pool(&self, input: PoolInput) -> Result<UserPool, AppError> {
        check_display_name("PoolName", &input.name)?;
        check_config(&input.config, self.allow_loopback_http)?;
        let now = self.clock.now_ms();
        let pool = UserPool {
            id: ids::pool_id(),
            name: input.name,
            created_at_ms: now,
            updated_at_ms: now,
            config: input.config,
        };
        self.store
            .write(Command::CreateUserPool(CreateUserPool {
                pool: pool.clone(),
            }))
            .await?;
        Ok(pool)
    }

    /// DescribeUserPool (linearizable: an admin sees its own changes).
    pub async fn describe_user_pool(&self, pool_id: &str) -> Result<UserPool, AppError> {
        self.dir.pool_record(pool_id).await
    }

    /// UpdateUserPool: replaces the name and configuration.
    pub async fn update_user_pool(
        &self,
        pool_id: &str,
        input: PoolInput,
    ) -> Result<UserPool, AppError> {
        crate::validate::pool_id(pool_id)?;
        check_display_name("PoolName", &input.name)?;
        check_config(&input.config, self.allow_loopback_http)?;
        self.store
            .write(Command::UpdateUserPool(UpdateUserPool {
                pool_id: pool_id.into(),
                name: input.name,
                config: input.config,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        self.describe_user_pool(pool_id).await
    }

    /// AddCustomAttributes: `custom:` is put in front of names that lack it, as Cognito
    /// does; users already in the pool are untouched. A custom attribute cannot be required
    /// (existing users would lack it).
    pub async fn add_custom_attributes(
        &self,
        pool_id: &str,
        attributes: Vec<SchemaAttribute>,
    ) -> Result<(), AppError> {
        if attributes.is_empty() || attributes.len() > MAX_CUSTOM_ATTRIBUTES {
            return Err(AppError::invalid(format!(
                "CustomAttributes must name 1 to {MAX_CUSTOM_ATTRIBUTES} attributes"
            )));
        }
        let current = self.describe_user_pool(pool_id).await?;
        let mut added = Vec::with_capacity(attributes.len());
        for mut a in attributes {
            if !a.name.starts_with("custom:") {
                a.name = format!("custom:{}", a.name);
            }
            check_schema_attribute(&a)?;
            if a.required {
                return Err(AppError::invalid(format!(
                    "{} cannot be required: custom attributes are optional",
                    a.name
                )));
            }
            if current
                .config
                .schema
                .iter()
                .chain(&added)
                .any(|b| b.name == a.name)
            {
                return Err(AppError::invalid(format!(
                    "Existing attribute already has name {}.",
                    a.name
                )));
            }
            added.push(a);
        }
        let mut would_be = current.config.schema.clone();
        would_be.extend(added.iter().cloned());
        check_schema(&would_be)?;
        self.store
            .write(Command::AddCustomAttributes(AddCustomAttributes {
                pool_id: pool_id.into(),
                attributes: added,
                max_custom: MAX_CUSTOM_ATTRIBUTES as u32,
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
            .map_err(|e| match e {
                // Added meanwhile by another call: the same answer as above, in general.
                AppError::NotAuthorized(_) => AppError::invalid(
                    "The schema changed meanwhile (an attribute of that name, or the limit); \
                     describe the pool and try again.",
                ),
                other => other,
            })
    }

    /// SetUserPoolMfaConfig: `mode` and factors left `None` stay as they are. MFA ON or
    /// OPTIONAL needs a factor to offer.
    pub async fn set_mfa_config(
        &self,
        pool_id: &str,
        mode: Option<&str>,
        factors: MfaFactors,
    ) -> Result<PoolMfa, AppError> {
        let mut mfa = self.describe_user_pool(pool_id).await?.config.mfa;
        if let Some(mode) = mode {
            mfa.mode = match mode {
                "OFF" => MfaMode::Off,
                "ON" => MfaMode::On,
                "OPTIONAL" => MfaMode::Optional,
                other => {
                    return Err(AppError::invalid(format!(
                        "MfaConfiguration must be OFF, ON or OPTIONAL, not {other:?}"
                    )))
                }
            };
        }
        if let Some(on) = factors.software_token {
            mfa.software_token = on;
        }
        if let Some(on) = factors.sms {
            mfa.sms = on;
        }
        if let Some(on) = factors.email {
            mfa.email = on;
        }
        if mfa.mode != MfaMode::Off && !(mfa.software_token || mfa.sms || mfa.email) {
            return Err(AppError::invalid(
                "Invalid MFA configuration given, can't turn on MFA and have no enabled MFA",
            ));
        }
        self.store
            .write(Command::SetUserPoolMfa(SetUserPoolMfa {
                pool_id: pool_id.into(),
                mfa,
                at_ms: self.clock.now_ms(),
            }))
            .await?;
        Ok(self.describe_user_pool(pool_id).await?.config.mfa)
    }

    /// DeleteUserPool.
    pub async fn delete_user_pool(&self, pool_id: &str) -> Result<(), AppError> {
        self.store
            .write(Command::DeleteUserPool(DeleteUserPool {
                pool_id: pool_id.into(),
                at_ms: self.clock.now_ms(),
            }))
            .await
            .map(|_| ())
    }

    /// ListUserPools: a page and the token of the next one.
    pub async fn list_user_pools(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<UserPool>, Option<String>), AppError> {
        self.store
            .list(
                limit,
                |limit| Query::ListUserPools { after, limit },
                |p: &UserPool| p.id.clone(),
            )
            .await
    }
}

/// The factors SetUserPoolMfaConfig turns on or off (`None`: as they are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MfaFactors {
    /// TOTP (SoftwareTokenMfaConfiguration).
    pub software_token: Option<bool>,
    /// Codes by SMS (SmsMfaConfiguration).
    pub sms: Option<bool>,
    /// Codes by email (EmailMfaConfiguration).
    pub email: Option<bool>,
}
