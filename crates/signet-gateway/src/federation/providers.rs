//! A pool's identity providers: create, describe, update, delete, list, find by identifier.
//! Checked here once: the name (the social types are named after themselves), the details
//! each type needs (endpoints obey the outbound rule), the attribute mapping (to the pool's
//! attributes), the identifiers. Secrets are sealed before they are proposed and never
//! returned.

use super::Federation;
use crate::outbound::check_outbound_url;
use crate::validate::STANDARD_ATTRIBUTES;
use crate::AppError;
use signet_core::{
    Command, DeleteIdentityProvider, IdentityProvider, ProviderType, PutIdentityProvider, Query,
    UserPool,
};
use signet_store_client::ReadConsistency::Linearizable;
use std::collections::BTreeMap;

/// Details whose values are secrets: sealed at rest, never returned.
pub(crate) const SECRET_DETAILS: [&str; 2] = ["client_secret", "private_key"];

/// Google's issuer (its endpoints come from its discovery document).
pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The longest SAML metadata document (Cognito's bound).
const MAX_METADATA_LEN: usize = 131_072;

/// Details that name an endpoint Signet calls or sends browsers to.
const URL_DETAILS: [&str; 5] = [
    "oidc_issuer",
    "authorize_url",
    "token_url",
    "attributes_url",
    "jwks_uri",
];

/// An identity provider as given (Create, or Update where empty keeps).
#[derive(Debug, Clone, Default)]
pub struct ProviderInput {
    /// Provider name.
    pub name: String,
    /// Cognito's type name.
    pub provider_type: String,
    /// Cognito's ProviderDetails.
    pub details: BTreeMap<String, String>,
    /// Pool attribute → provider claim.
    pub attribute_mapping: BTreeMap<String, String>,
    /// Identifiers.
    pub identifiers: Vec<String>,
}

fn invalid(m: impl Into<String>) -> AppError {
    AppError::invalid(m.into())
}

fn check_name(name: &str, t: ProviderType) -> Result<(), AppError> {
    let ok = (1..=32).contains(&name.chars().count())
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        && !name.starts_with('_')
        && name != crate::pools::redirects::COGNITO_PROVIDER;
    if !ok {
        return Err(invalid(format!(
            "ProviderName {name:?}: 1 to 32 characters, no spaces, not COGNITO"
        )));
    }
    if !matches!(t, ProviderType::Oidc | ProviderType::Saml) && name != t.name() {
        return Err(invalid(format!(
            "a {} provider is named {}",
            t.name(),
            t.name()
        )));
    }
    Ok(())
}

/// The details a type needs, with defaults; the outbound rule on every endpoint.
fn check_details(
    t: ProviderType,
    d: &mut BTreeMap<String, String>,
    allow_loopback_http: bool,
) -> Result<(), AppError> {
    match t {
        ProviderType::Oidc | ProviderType::Google => {}
        ProviderType::Facebook | ProviderType::LoginWithAmazon => {
            return check_oauth_details(t, d, allow_loopback_http)
        }
        ProviderType::SignInWithApple => return check_apple_details(d, allow_loopback_http),
        // Its metadata was read (and fetched) by `saml_details` before.
        ProviderType::Saml => return endpoints_and_sizes(d, allow_loopback_http),
    }
    if t == ProviderType::Google {
        d.entry("oidc_issuer".into())
            .or_insert_with(|| GOOGLE_ISSUER.into());
        d.entry("authorize_scopes".into())
            .or_insert_with(|| "openid email profile".into());
    }
    for k in ["client_id", "authorize_scopes", "oidc_issuer"] {
        if d.get(k).is_none_or(|v| v.is_empty()) {
            return Err(invalid(format!("ProviderDetails needs {k}")));
        }
    }
    if !d["authorize_scopes"].split(' ').any(|s| s == "openid") {
        return Err(invalid("authorize_scopes must include openid"));
    }
    match d.get("attributes_request_method").map(String::as_str) {
        None | Some("GET") | Some("POST") => {}
        Some(m) => {
            return Err(invalid(format!(
                "attributes_request_method {m}: GET or POST"
            )))
        }
    }
    endpoints_and_sizes(d, allow_loopback_http)
}

/// Every type's last check: the endpoints it names obey the outbound rule, and the details
/// are bounded.
fn endpoints_and_sizes(
    d: &BTreeMap<String, String>,
    allow_loopback_http: bool,
) -> Result<(), AppError> {
    for k in URL_DETAILS {
        if let Some(u) = d.get(k) {
            check_outbound_url(u, allow_loopback_http)
                .map_err(|e| invalid(format!("ProviderDetails {k}: {e}")))?;
        }
    }
    let too_long = |k: &str, v: &str| {
        let most = if k == super::saml::METADATA_FILE {
            MAX_METADATA_LEN
        } else {
            4096
        };
        k.len() > 64 || v.len() > most
    };
    if d.len() > 30 || d.iter().any(|(k, v)| too_long(k, v)) {
        return Err(invalid(
            "ProviderDetails: at most 30 entries of bounded size (MetadataFile: 128 KiB)",
        ));
    }
    Ok(())
}

/// Facebook's and Login with Amazon's OAuth 2.0 endpoints (each may be given instead, so
/// tests and proxies can stand in for them), and where they say who the user is.
pub(crate) fn oauth_defaults(t: ProviderType) -> [(&'static str, &'static str); 4] {
    match t {
        ProviderType::Facebook => [
            (
                "authorize_url",
                "https://www.facebook.com/v19.0/dialog/oauth",
            ),
            (
                "token_url",
                "https://graph.facebook.com/v19.0/oauth/access_token",
            ),
            (
                "attributes_url",
                "https://graph.facebook.com/v19.0/me?fields=id,name,email,first_name,last_name",
            ),
            ("authorize_scopes", "public_profile email"),
        ],
        _ => [
            ("authorize_url", "https://www.amazon.com/ap/oa"),
            ("token_url", "https://api.amazon.com/auth/o2/token"),
            ("attributes_url", "https://api.amazon.com/user/profile"),
            ("authorize_scopes", "profile"),
        ],
    }
}

/// Apple's issuer (its endpoints come from its discovery document).
pub(crate) const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// Sign in with Apple: the Services ID (`client_id`), and what signs its client secret —
/// the team, the key id and the `.p8` private key (PKCS#8 PEM, checked here, sealed at
/// rest). Apple's scopes are `name` and `email` (its ID tokens come without `openid`).
fn check_apple_details(
    d: &mut BTreeMap<String, String>,
    allow_loopback_http: bool,
) -> Result<(), AppError> {
    d.entry("oidc_issuer".into())
        .or_insert_with(|| APPLE_ISSUER.into());
    d.entry("authorize_scopes".into())
        .or_insert_with(|| "name email".into());
    for k in ["client_id", "team_id", "key_id", "private_key"] {
        if d.get(k).is_none_or(|v| v.is_empty()) {
            return Err(invalid(format!("ProviderDetails needs {k}")));
        }
    }
    signet_crypto::SigningKeyPair::es256_from_pkcs8_pem(&d["private_key"], &d["key_id"])
        .map_err(|_| invalid("private_key must be the PKCS#8 PEM of a P-256 key (Apple's .p8)"))?;
    if d.contains_key("client_secret") {
        return Err(invalid(
            "Sign in with Apple takes no client_secret: Signet signs one with private_key",
        ));
    }
    endpoints_and_sizes(d, allow_loopback_http)
}

fn check_oauth_details(
    t: ProviderType,
    d: &mut BTreeMap<String, String>,
    allow_loopback_http: bool,
) -> Result<(), AppError> {
    for (k, v) in oauth_defaults(t) {
        d.entry(k.into()).or_insert_with(|| v.into());
    }
    for k in ["client_id", "client_secret"] {
        if d.get(k).is_none_or(|v| v.is_empty()) {
            return Err(invalid(format!("ProviderDetails needs {k}")));
        }
    }
    endpoints_and_sizes(d, allow_loopback_http)
}

fn check_mapping(pool: &UserPool, m: &BTreeMap<String, String>) -> Result<(), AppError> {
    if m.len() > 50 {
        return Err(invalid("AttributeMapping has at most 50 entries"));
    }
    for (attr, claim) in m {
        let known = attr == "username"
            || STANDARD_ATTRIBUTES.contains(&attr.as_str())
            || (attr.starts_with("custom:") && pool.config.schema.iter().any(|a| &a.name == attr));
        if !known || attr == "sub" || attr == "identities" {
            return Err(invalid(format!(
                "AttributeMapping: {attr:?} is not a mappable attribute of the user pool"
            )));
        }
        if claim.is_empty() || claim.len() > 131 {
            return Err(invalid(format!(
                "AttributeMapping {attr}: 1 to 131 characters"
            )));
        }
    }
    Ok(())
}

fn check_identifiers(ids: &[String]) -> Result<(), AppError> {
    if ids.len() > 50 {
        return Err(invalid("IdpIdentifiers has at most 50 entries"));
    }
    for (i, id) in ids.iter().enumerate() {
        if !(1..=40).contains(&id.chars().count())
            || id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!(
                "IdpIdentifiers: {id:?} is 1 to 40 characters, no spaces"
            )));
        }
        if ids[..i].contains(id) {
            return Err(invalid(format!("IdpIdentifiers: {id} is given twice")));
        }
    }
    Ok(())
}

impl Federation {
    fn seal_purpose(pool_id: &str, name: &str, key: &str) -> String {
        format!("idp-{key}:{pool_id}:{name}")
    }

    /// A detail's plaintext (a secret opened).
    pub(crate) fn detail(&self, p: &IdentityProvider, key: &str) -> Option<String> {
        let v = p.details.get(key)?;
        if SECRET_DETAILS.contains(&key) {
            let opened = self
                .sealer
                .open(&Self::seal_purpose(&p.pool_id, &p.name, key), v)?;
            return String::from_utf8(opened).ok();
        }
        Some(v.clone())
    }

    /// CreateIdentityProvider.
    pub async fn create_provider(
        &self,
        pool_id: &str,
        input: ProviderInput,
    ) -> Result<IdentityProvider, AppError> {
        let pool = self.dir.pool_record(pool_id).await?;
        let t = ProviderType::from_name(&input.provider_type)
            .ok_or_else(|| invalid(format!("unknown ProviderType {:?}", input.provider_type)))?;
        check_name(&input.name, t)?;
        let mut details = input.details.clone();
        if t == ProviderType::Saml {
            self.saml_details(&mut details).await?;
        }
        check_details(t, &mut details, self.allow_loopback_http)?;
        check_mapping(&pool, &input.attribute_mapping)?;
        check_identifiers(&input.identifiers)?;
        self.seal_secrets(pool_id, &input.name, &mut details);
        let now = self.clock.now_ms();
        let p = IdentityProvider {
            pool_id: pool_id.to_string(),
            name: input.name.clone(),
            provider_type: t,
            details,
            attribute_mapping: input.attribute_mapping.clone(),
            identifiers: input.identifiers.clone(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .write(Command::PutIdentityProvider(PutIdentityProvider {
                provider: p.clone(),
                create: true,
            }))
            .await?;
        Ok(p)
    }

    fn seal_secrets(&self, pool_id: &str, name: &str, details: &mut BTreeMap<String, String>) {
        for key in SECRET_DETAILS {
            if let Some(v) = details.get_mut(key) {
                *v = self
                    .sealer
                    .seal(&Self::seal_purpose(pool_id, name, key), v.as_bytes());
            }
        }
    }

    /// DescribeIdentityProvider (linearizable: an admin reads what they just wrote).
    pub async fn describe_provider(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<IdentityProvider, AppError> {
        crate::validate::pool_id(pool_id)?;
        self.store
            .ask::<Option<IdentityProvider>>(
                Query::GetIdentityProvider {
                    pool_id: pool_id.into(),
                    name: name.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!("Identity provider {name} does not exist."))
            })
    }

    /// UpdateIdentityProvider: given details replace the current ones (the secret stays
    /// unless a new one is given); an empty mapping or identifier list keeps the current.
    pub async fn update_provider(
        &self,
        pool_id: &str,
        input: ProviderInput,
    ) -> Result<IdentityProvider, AppError> {
        let pool = self.dir.pool_record(pool_id).await?;
        let mut p = self.describe_provider(pool_id, &input.name).await?;
        if !input.details.is_empty() {
            let mut details = input.details.clone();
            if p.provider_type == ProviderType::Saml {
                self.saml_details(&mut details).await?;
            }
            check_details(p.provider_type, &mut details, self.allow_loopback_http)?;
            self.seal_secrets(pool_id, &p.name, &mut details);
            for key in SECRET_DETAILS {
                if let (None, Some(old)) = (details.get(key), p.details.get(key)) {
                    details.insert(key.to_string(), old.clone());
                }
            }
            p.details = details;
        }
        if !input.attribute_mapping.is_empty() {
            check_mapping(&pool, &input.attribute_mapping)?;
            p.attribute_mapping = input.attribute_mapping.clone();
        }
        if !input.identifiers.is_empty() {
            check_identifiers(&input.identifiers)?;
            p.identifiers = input.identifiers.clone();
        }
        p.updated_at_ms = self.clock.now_ms();
        self.store
            .write(Command::PutIdentityProvider(PutIdentityProvider {
                provider: p.clone(),
                create: false,
            }))
            .await?;
        Ok(p)
    }

    /// DeleteIdentityProvider.
    pub async fn delete_provider(&self, pool_id: &str, name: &str) -> Result<(), AppError> {
        crate::validate::pool_id(pool_id)?;
        self.store
            .write(Command::DeleteIdentityProvider(DeleteIdentityProvider {
                pool_id: pool_id.into(),
                name: name.into(),
            }))
            .await?;
        Ok(())
    }

    /// ListIdentityProviders.
    pub async fn list_providers(
        &self,
        pool_id: &str,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<IdentityProvider>, Option<String>), AppError> {
        self.dir.pool(pool_id).await?;
        self.store
            .list(
                limit,
                |limit| Query::ListIdentityProviders {
                    pool_id: pool_id.into(),
                    after,
                    limit,
                },
                |p: &IdentityProvider| p.name.clone(),
            )
            .await
    }

    /// GetIdentityProviderByIdentifier.
    pub async fn provider_by_identifier(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<IdentityProvider, AppError> {
        crate::validate::pool_id(pool_id)?;
        self.store
            .ask::<Option<IdentityProvider>>(
                Query::GetIdentityProviderByIdentifier {
                    pool_id: pool_id.into(),
                    identifier: identifier.into(),
                },
                Linearizable,
            )
            .await?
            .ok_or_else(|| {
                AppError::ResourceNotFound(format!(
                    "No identity provider has identifier {identifier}."
                ))
            })
    }
}

/// A provider as an admin sees it: secrets left out.
pub(crate) fn without_secrets(p: &IdentityProvider) -> IdentityProvider {
    let mut p = p.clone();
    for k in SECRET_DETAILS {
        p.details.remove(k);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_checked_per_type_and_google_gets_its_issuer() {
        let mut d = BTreeMap::from([
            ("client_id".to_string(), "c".to_string()),
            ("client_secret".to_string(), "s".to_string()),
        ]);
        check_details(ProviderType::Google, &mut d, false).unwrap();
        assert_eq!(d["oidc_issuer"], GOOGLE_ISSUER);
        assert!(d["authorize_scopes"].contains("openid"));
        let mut oidc = BTreeMap::from([
            ("client_id".to_string(), "c".to_string()),
            ("authorize_scopes".to_string(), "email".to_string()),
            ("oidc_issuer".to_string(), "https://idp.example".to_string()),
        ]);
        assert!(
            check_details(ProviderType::Oidc, &mut oidc, false).is_err(),
            "no openid"
        );
        oidc.insert("authorize_scopes".into(), "openid email".into());
        check_details(ProviderType::Oidc, &mut oidc, false).unwrap();
        oidc.insert("token_url".into(), "http://idp.example/token".into());
        assert!(
            check_details(ProviderType::Oidc, &mut oidc, true).is_err(),
            "plain http"
        );
        oidc.insert("token_url".into(), "http://127.0.0.1:9/token".into());
        assert!(check_details(ProviderType::Oidc, &mut oidc, false).is_err());
        check_details(ProviderType::Oidc, &mut oidc, true).unwrap();
        assert!(check_name("Google", ProviderType::Google).is_ok());
        assert!(check_name("Gmail", ProviderType::Google).is_err());
        assert!(check_name("COGNITO", ProviderType::Oidc).is_err());
        assert!(check_name("my idp", ProviderType::Oidc).is_err());
    }
}
