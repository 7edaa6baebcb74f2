//! SAML metadata: an IdP's (read: its entity ID, where its single sign-on service takes
//! HTTP-Redirect requests, its signing certificates) and ours as a service provider
//! (written).
//!
//! An IdP's metadata is trusted as the admin gave it (a document, or a URL the gateway
//! fetches over https): a signature on the metadata itself is not checked.

use crate::dsig::{VerifyingKey, DSIG_NS};
use crate::xml::Document;
use crate::{escape, SamlError, PROTOCOL_NS};
use base64::Engine;

/// The metadata namespace.
pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The HTTP-Redirect binding.
pub const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding.
pub const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What Signet needs of an IdP.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    /// Its entity ID (the Issuer of its responses).
    pub entity_id: String,
    /// Its SingleSignOnService for the HTTP-Redirect binding.
    pub sso_redirect: String,
    /// Its SingleLogoutService for the HTTP-Redirect binding, if it has one.
    pub slo_redirect: Option<String>,
    /// The keys of its signing certificates.
    pub signing_keys: Vec<VerifyingKey>,
}

fn meta(m: impl Into<String>) -> SamlError {
    SamlError::Metadata(m.into())
}

/// Read an IdP's metadata: an EntityDescriptor, or an EntitiesDescriptor holding exactly one
/// entity with an IDPSSODescriptor.
pub fn parse_idp_metadata(xml: &str) -> Result<IdpMetadata, SamlError> {
    let doc = Document::parse(xml)?;
    let root = doc.root();
    let entities: Vec<usize> = if doc.is(root, MD_NS, "EntityDescriptor") {
        vec![root]
    } else if doc.is(root, MD_NS, "EntitiesDescriptor") {
        doc.children_named(root, MD_NS, "EntityDescriptor")
            .collect()
    } else {
        return Err(meta("not SAML metadata (no EntityDescriptor)"));
    };
    let idps: Vec<(usize, usize)> = entities
        .iter()
        .flat_map(|&e| {
            doc.children_named(e, MD_NS, "IDPSSODescriptor")
                .map(move |d| (e, d))
        })
        .filter(|&(_, d)| {
            doc.attr(d, "protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|v| v == PROTOCOL_NS))
        })
        .collect();
    let [(entity, idp)] = idps.as_slice() else {
        return Err(meta(
            "the metadata must describe exactly one SAML 2.0 IdP (IDPSSODescriptor)",
        ));
    };
    let entity_id = doc
        .attr(*entity, "entityID")
        .filter(|v| !v.is_empty() && v.len() <= 1024)
        .ok_or_else(|| meta("the EntityDescriptor has no entityID"))?
        .to_string();
    let service = |local: &str| {
        doc.children_named(*idp, MD_NS, local)
            .find(|&s| doc.attr(s, "Binding") == Some(REDIRECT_BINDING))
            .and_then(|s| doc.attr(s, "Location"))
            .map(str::to_string)
    };
    let sso_redirect = service("SingleSignOnService")
        .ok_or_else(|| meta("the IdP has no SingleSignOnService for the HTTP-Redirect binding"))?;
    let mut signing_keys = Vec::new();
    for kd in doc.children_named(*idp, MD_NS, "KeyDescriptor") {
        if doc.attr(kd, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        let info = doc.only_child(kd, DSIG_NS, "KeyInfo")?;
        for data in doc.children_named(info, DSIG_NS, "X509Data") {
            for c in doc.children_named(data, DSIG_NS, "X509Certificate") {
                let b64: String = doc
                    .text(c)
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| meta("an X509Certificate is not base64"))?;
                signing_keys.push(VerifyingKey::from_certificate(&der)?);
            }
        }
    }
    if signing_keys.is_empty() {
        return Err(meta("the IdP's metadata has no signing certificate"));
    }
    Ok(IdpMetadata {
        entity_id,
        sso_redirect,
        slo_redirect: service("SingleLogoutService"),
        signing_keys,
    })
}

/// Signet's metadata as a service provider: its entity ID and assertion consumer service
/// (HTTP-POST); it asks for signed assertions and does not sign its requests.
pub fn sp_metadata(entity_id: &str, acs: &str) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<md:EntityDescriptor xmlns:md=\"{md}\" entityID=\"{id}\">\n",
            "  <md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" ",
            "protocolSupportEnumeration=\"{proto}\">\n",
            "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>\n",
            "    <md:AssertionConsumerService Binding=\"{post}\" Location=\"{acs}\" index=\"0\" isDefault=\"true\"/>\n",
            "  </md:SPSSODescriptor>\n",
            "</md:EntityDescriptor>\n"
        ),
        md = MD_NS,
        id = escape(entity_id),
        proto = PROTOCOL_NS,
        post = POST_BINDING,
        acs = escape(acs),
    )
}
