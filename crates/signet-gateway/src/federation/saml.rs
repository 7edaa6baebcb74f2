//! SAML 2.0 providers, SP-initiated (the XML and its checks are `signet-saml`'s).
//!
//! Out: an AuthnRequest by the HTTP-Redirect binding, its ID in the sealed flow state that
//! travels as the RelayState. Back: the IdP posts the Response to
//! `{issuer}/saml2/idpresponse`. That cross-site POST carries no `SameSite=Lax` cookie, so
//! it is checked there completely except for the browser (signature by a key of the IdP's
//! metadata, issuer, destination, audience, recipient, times, InResponseTo = the request
//! the RelayState names) and its assertion spent once, cluster-wide, through the log; what
//! it said is sealed for one minute and the browser sent on (303) to the GET, where the
//! flow's browser binding is checked like every provider's.

use super::oidc::{FlowState, ProviderUser};
use super::Federation;
use crate::AppError;
use bytes::Bytes;
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use signet_core::{Command, IdentityProvider, StartRefreshFamily};
use signet_saml::metadata::{self, IdpMetadata};
use signet_saml::request::AuthnRequest;
use signet_saml::response::{self, Expect};
use std::collections::BTreeMap;

/// Seal purpose of a checked answer on its way from the POST to the GET.
const RESULT_PURPOSE: &str = "saml-result";
/// How long that sealed answer is good for (the browser follows a 303 at once).
const RESULT_TTL_MS: u64 = 60_000;
/// Leeway for the IdP's clock.
const LEEWAY_S: i64 = 120;
/// An assertion valid for longer than this is refused (its ID could not be remembered).
const MAX_ASSERTION_LIFE_S: i64 = 24 * 3600;

/// The detail holding the metadata in use (given, or fetched from `MetadataURL`).
pub(crate) const METADATA_FILE: &str = "MetadataFile";
/// The detail naming where the metadata is fetched from.
pub(crate) const METADATA_URL: &str = "MetadataURL";

/// A checked answer between the POST and the GET.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SamlResult {
    v: u8,
    /// The sealed flow state (the RelayState), opened again at the GET.
    pub state: String,
    subject: String,
    claims: Map<String, Value>,
    exp_ms: u64,
}

fn failed(provider: &str, m: impl std::fmt::Display) -> AppError {
    AppError::NotAuthorized(format!("Sign-in with {provider} failed: {m}"))
}

/// Our entity ID as a service provider of `pool_id`.
pub(crate) fn sp_entity_id(pool_id: &str) -> String {
    format!("urn:signet:sp:{pool_id}")
}

/// The attributes of an assertion as claims: a single value as it is, several joined by
/// commas; the NameID as `sub` and `NameID`.
fn claims_of(a: &response::Assertion) -> Map<String, Value> {
    let mut claims = Map::new();
    for (name, values) in &a.attributes {
        claims.insert(name.clone(), Value::String(values.join(",")));
    }
    claims.insert("NameID".into(), Value::String(a.name_id.clone()));
    claims.insert("sub".into(), Value::String(a.name_id.clone()));
    claims
}

impl Federation {
    fn acs(&self, pool_id: &str) -> String {
        format!("{}/saml2/idpresponse", self.urls.issuer(pool_id))
    }

    /// The pool's SP metadata document.
    pub(crate) fn sp_metadata(&self, pool_id: &str) -> String {
        metadata::sp_metadata(&sp_entity_id(pool_id), &self.acs(pool_id))
    }

    /// A SAML provider's details made whole before they are checked and stored: the
    /// metadata fetched when a URL is given, read, and the endpoints it names recorded.
    pub(crate) async fn saml_details(
        &self,
        d: &mut BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        let invalid = |m: String| AppError::invalid(m);
        for (k, refused) in [
            ("IDPSignout", "single logout at the IdP is not supported"),
            (
                "IDPInit",
                "IdP-initiated sign-in is not supported (it cannot be bound to a request)",
            ),
            (
                "EncryptedResponses",
                "encrypted assertions are not supported",
            ),
        ] {
            match d.get(k).map(String::as_str) {
                None | Some("false") => {}
                Some(_) => return Err(invalid(format!("ProviderDetails {k}: {refused}"))),
            }
        }
        if d.contains_key("RequestSigningAlgorithm") {
            return Err(invalid(
                "ProviderDetails RequestSigningAlgorithm: Signet's AuthnRequests are not signed"
                    .into(),
            ));
        }
        if let Some(url) = d.get(METADATA_URL).cloned() {
            let req = http::Request::get(&url)
                .header(
                    http::header::ACCEPT,
                    "application/samlmetadata+xml, application/xml",
                )
                .body(Full::new(Bytes::new()))
                .map_err(|e| invalid(format!("MetadataURL: {e}")))?;
            let (status, body) =
                crate::outbound::provider_call(&self.http, req, self.allow_loopback_http)
                    .await
                    .map_err(|e| invalid(format!("MetadataURL: {e}")))?;
            if !status.is_success() {
                return Err(invalid(format!("MetadataURL {url} answered {status}")));
            }
            let text = String::from_utf8(body.to_vec())
                .map_err(|_| invalid("MetadataURL: the metadata is not UTF-8".into()))?;
            d.insert(METADATA_FILE.into(), text);
        }
        let doc = d
            .get(METADATA_FILE)
            .ok_or_else(|| invalid("ProviderDetails needs MetadataURL or MetadataFile".into()))?;
        let m = metadata::parse_idp_metadata(doc).map_err(|e| invalid(e.to_string()))?;
        crate::outbound::check_outbound_url(&m.sso_redirect, self.allow_loopback_http)
            .map_err(|e| invalid(format!("the IdP's sign-on URL {}: {e}", m.sso_redirect)))?;
        d.insert("SSORedirectBindingURI".into(), m.sso_redirect);
        match m.slo_redirect {
            Some(s) => d.insert("SLORedirectBindingURI".into(), s),
            None => d.remove("SLORedirectBindingURI"),
        };
        d.insert("IDPSignout".into(), "false".into());
        Ok(())
    }

    fn idp_metadata(&self, p: &IdentityProvider) -> Result<IdpMetadata, AppError> {
        let doc = p
            .details
            .get(METADATA_FILE)
            .ok_or_else(|| failed(&p.name, "the provider has no metadata"))?;
        metadata::parse_idp_metadata(doc).map_err(|e| failed(&p.name, e))
    }

    /// Where to send the browser: the IdP's sign-on service with our AuthnRequest; the
    /// request's ID rides in the sealed state (as its nonce).
    pub(crate) fn saml_start(
        &self,
        p: &IdentityProvider,
        mut state: FlowState,
    ) -> Result<String, AppError> {
        let m = self.idp_metadata(p)?;
        // An NCName: a letter first.
        state.nonce = format!("r{}", signet_crypto::random_hex_id());
        let req = AuthnRequest {
            id: state.nonce.clone(),
            issued_s: (self.clock.now_ms() / 1000) as i64,
            destination: m.sso_redirect.clone(),
            acs: self.acs(&p.pool_id),
            sp_entity_id: sp_entity_id(&p.pool_id),
        };
        let relay = self.seal_state(&state);
        Ok(req.redirect_url(&relay))
    }

    /// The IdP's POST: the Response checked against the request the RelayState names, its
    /// assertion spent, and the sealed answer for the GET.
    pub(crate) async fn saml_post(
        &self,
        pool_id: &str,
        saml_response: &str,
        relay_state: &str,
    ) -> Result<String, AppError> {
        let s = self.open_state_unbound(pool_id, relay_state)?;
        let p = self.describe_provider(pool_id, &s.provider).await?;
        if p.provider_type != signet_core::ProviderType::Saml {
            return Err(failed(&p.name, "it is not a SAML provider"));
        }
        let m = self.idp_metadata(&p)?;
        let now_ms = self.clock.now_ms();
        let now_s = (now_ms / 1000) as i64;
        let (sp, acs) = (sp_entity_id(pool_id), self.acs(pool_id));
        let expect = Expect {
            sp_entity_id: &sp,
            acs: &acs,
            idp: &m,
            request_id: &s.nonce,
            now_s,
            leeway_s: LEEWAY_S,
        };
        let xml = response::decode(saml_response).map_err(|e| failed(&p.name, e))?;
        let a = response::check(&xml, &expect).map_err(|e| failed(&p.name, e))?;
        if a.remember_until_s > now_s + MAX_ASSERTION_LIFE_S {
            return Err(failed(
                &p.name,
                "its assertion is valid for more than a day",
            ));
        }
        // Once, cluster-wide: the assertion's ID (with its issuer) starts a register
        // entry that lives as long as the assertion could be presented.
        let key = format!("{pool_id}\n{}\n{}\n{}", p.name, a.issuer, a.id);
        let spent = self
            .store
            .write(Command::StartRefreshFamily(StartRefreshFamily {
                family_id: format!(
                    "saml-{}",
                    hex::encode(signet_crypto::sha256(key.as_bytes()))
                ),
                expires_at_ms: (a.remember_until_s.max(0) as u64) * 1000,
            }))
            .await;
        match spent {
            Ok(_) => {}
            Err(AppError::NotAuthorized(_)) => {
                return Err(failed(&p.name, "this assertion was already used"))
            }
            Err(e) => return Err(e),
        }
        let result = SamlResult {
            v: 1,
            state: relay_state.to_string(),
            subject: a.name_id.clone(),
            claims: claims_of(&a),
            exp_ms: now_ms + RESULT_TTL_MS,
        };
        Ok(self.sealer.seal(
            RESULT_PURPOSE,
            &serde_json::to_vec(&result).expect("result serialises"),
        ))
    }

    /// The sealed answer at the GET: its flow state (bound to this browser, checked by
    /// the caller) and who the IdP said the user is.
    pub(crate) fn saml_result(&self, sealed: &str) -> Result<(String, ProviderUser), AppError> {
        let bad =
            || AppError::NotAuthorized("The sign-in could not be completed: start again.".into());
        let r: SamlResult = self
            .sealer
            .open(RESULT_PURPOSE, sealed)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        if self.clock.now_ms() >= r.exp_ms {
            return Err(bad());
        }
        Ok((
            r.state,
            ProviderUser {
                subject: r.subject,
                claims: r.claims,
            },
        ))
    }
}
