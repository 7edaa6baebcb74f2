//! The login providers an identity pool accepts: its user pools (by issuer and client ids)
//! and external OIDC providers.

use super::{check_name, http_url, IdentityPoolInput, IdentityPools};
use crate::urls::IDENTITY_PROVIDER;
use crate::AppError;
use signet_core::LoginProvider;
use std::collections::BTreeMap;

/// The social providers whose access tokens identity pools take (Cognito's names).
pub(crate) const SOCIAL_PROVIDERS: [&str; 2] = ["graph.facebook.com", "www.amazon.com"];

impl IdentityPools {
    pub(super) async fn providers(
        &self,
        input: &IdentityPoolInput,
    ) -> Result<Vec<LoginProvider>, AppError> {
        let mut out: Vec<LoginProvider> = Vec::new();
        let mut by_issuer: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let base = self
            .urls
            .public_url()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string();
        for (name, client) in &input.user_pools {
            let bare = name
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            let pool_id = bare
                .strip_prefix(&base)
                .and_then(|r| r.strip_prefix('/'))
                .filter(|r| !r.is_empty() && !r.contains('/'))
                .ok_or_else(|| {
                    AppError::invalid(format!(
                        "provider {name} is not a user pool of this service ({base}/<pool id>)"
                    ))
                })?;
            self.dir.pool(pool_id).await?;
            let c = self.dir.client(client).await?;
            if c.pool_id != pool_id {
                return Err(AppError::invalid(format!(
                    "client {client} does not belong to user pool {pool_id}"
                )));
            }
            by_issuer
                .entry(self.urls.issuer(pool_id))
                .or_default()
                .push(client.clone());
        }
        for (issuer, client_ids) in by_issuer {
            out.push(LoginProvider::UserPool { issuer, client_ids });
        }
        for (issuer, jwks_url, client_ids) in &input.oidc {
            http_url("issuer", issuer)?;
            // Fetched by the gateway: the outbound rule (https; loopback http if allowed).
            crate::outbound::check_outbound_url(jwks_url, self.allow_loopback_http)
                .map_err(|e| AppError::invalid(format!("jwks_url {jwks_url} {e}")))?;
            if client_ids.is_empty() || client_ids.iter().any(|c| c.is_empty()) {
                return Err(AppError::invalid(format!(
                    "OIDC provider {issuer} needs at least one client id"
                )));
            }
            out.push(LoginProvider::Oidc {
                // Exactly as configured: tokens' `iss` must equal it byte for byte.
                issuer: issuer.clone(),
                jwks_url: jwks_url.clone(),
                client_ids: client_ids.clone(),
            });
        }
        for (provider, app_id, endpoint) in &input.social {
            if !SOCIAL_PROVIDERS.contains(&provider.as_str()) {
                return Err(AppError::invalid(format!(
                    "supported login provider {provider}: graph.facebook.com or www.amazon.com"
                )));
            }
            if app_id.is_empty() || app_id.len() > 256 {
                return Err(AppError::invalid(format!(
                    "{provider} needs its app id (1 to 256 characters)"
                )));
            }
            if let Some(e) = endpoint {
                crate::outbound::check_outbound_url(e, self.allow_loopback_http)
                    .map_err(|err| AppError::invalid(format!("{provider} endpoint {e} {err}")))?;
            }
            out.push(LoginProvider::Social {
                provider: provider.clone(),
                app_id: app_id.clone(),
                endpoint: endpoint.clone(),
            });
        }
        let mut names: Vec<String> = out.iter().map(LoginProvider::name).collect();
        if let Some(d) = &input.developer_provider {
            check_name("developer_provider_name", d, 100)?;
            names.push(d.clone());
        }
        names.push(IDENTITY_PROVIDER.into());
        let n = names.len();
        names.sort();
        names.dedup();
        if names.len() != n {
            return Err(AppError::invalid(
                "provider names must be distinct (and not signet-identity)",
            ));
        }
        Ok(out)
    }
}
