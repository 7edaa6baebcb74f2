//! The checks of a SAML Response to an AuthnRequest of ours (SAML Profiles §4.1.4, with the
//! lessons of the signature-wrapping and comment-truncation attacks):
//!
//! * the document is one `samlp:Response` holding exactly one `saml:Assertion` (as a direct
//!   child; no other Assertion, no EncryptedAssertion, no ID given twice, no signature
//!   anywhere but on the Response or that Assertion);
//! * the Response, the Assertion or both are signed by a key of the IdP's metadata, and
//!   every signature present holds (see [`crate::dsig`]); the values are then read from the
//!   very elements verified;
//! * issuer, destination, status, audience, bearer confirmation (recipient, NotOnOrAfter,
//!   InResponseTo = our request) and the validity window, with a bounded clock leeway.
//!
//! What it returns includes the assertion's ID and how long it must be remembered: the
//! caller accepts an assertion once (the replay cache).

use crate::dsig::{self, DSIG_NS};
use crate::metadata::IdpMetadata;
use crate::xml::Document;
use crate::{SamlError, ASSERTION_NS, PROTOCOL_NS};
use base64::Engine;
use std::collections::BTreeMap;

/// The largest SAMLResponse accepted, decoded.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the answer must match.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// Our entity ID (the audience).
    pub sp_entity_id: &'a str,
    /// Our assertion consumer service URL (destination and recipient).
    pub acs: &'a str,
    /// The IdP, from its metadata.
    pub idp: &'a IdpMetadata,
    /// The ID of the AuthnRequest this answers.
    pub request_id: &'a str,
    /// Now, Unix seconds.
    pub now_s: i64,
    /// Clock leeway, seconds.
    pub leeway_s: i64,
}

/// A checked assertion: who the IdP says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// The assertion's ID (accept it once).
    pub id: String,
    /// The IdP's entity ID.
    pub issuer: String,
    /// The subject's NameID (all its text).
    pub name_id: String,
    /// The NameID's Format, if given.
    pub name_id_format: Option<String>,
    /// The SessionIndex of the AuthnStatement, if given.
    pub session_index: Option<String>,
    /// Attributes: Name → values.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Until when (Unix seconds) the assertion could be presented: the replay cache keeps
    /// its ID at least this long.
    pub remember_until_s: i64,
}

fn invalid(m: impl Into<String>) -> SamlError {
    SamlError::Invalid(m.into())
}

/// An xs:dateTime as Unix seconds.
fn time_of(v: &str) -> Result<i64, SamlError> {
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| invalid(format!("{v:?} is not a dateTime")))
}

fn time_attr(doc: &Document, i: usize, name: &str) -> Result<Option<i64>, SamlError> {
    doc.attr(i, name).map(time_of).transpose()
}

/// Decode the base64 `SAMLResponse` of the HTTP-POST binding.
pub fn decode(saml_response: &str) -> Result<String, SamlError> {
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.len() > MAX_RESPONSE_BYTES / 3 * 4 + 4 {
        return Err(invalid("the SAMLResponse is too large"));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid("the SAMLResponse is not base64"))?;
    String::from_utf8(raw).map_err(|_| invalid("the SAMLResponse is not UTF-8"))
}

/// The structural rules that leave no room to wrap: see the module's first point.
fn structure(doc: &Document) -> Result<(usize, usize), SamlError> {
    let root = doc.root();
    if !doc.is(root, PROTOCOL_NS, "Response") {
        return Err(invalid("not a SAML Response"));
    }
    if doc.attr(root, "Version") != Some("2.0") {
        return Err(invalid("not a SAML 2.0 Response"));
    }
    if doc
        .all_named(ASSERTION_NS, "EncryptedAssertion")
        .next()
        .is_some()
    {
        return Err(invalid(
            "encrypted assertions are not supported: configure the IdP to sign, not encrypt",
        ));
    }
    let all: Vec<usize> = doc.all_named(ASSERTION_NS, "Assertion").collect();
    let [assertion] = all.as_slice() else {
        return Err(invalid("a Response must hold exactly one Assertion"));
    };
    if doc.elem(*assertion).parent != Some(root) {
        return Err(invalid("the Assertion must be a child of the Response"));
    }
    let mut ids: Vec<&str> = (0..doc.len())
        .flat_map(|i| {
            doc.elem(i)
                .attrs
                .iter()
                .filter(|a| a.ns.is_none() && matches!(a.local.as_str(), "ID" | "Id" | "id"))
                .map(|a| a.value.as_str())
        })
        .collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid("an ID is given twice"));
    }
    Ok((root, *assertion))
}

/// Check a Response (its XML, decoded) against `expect`; the assertion it carries.
pub fn check(xml: &str, expect: &Expect<'_>) -> Result<Assertion, SamlError> {
    let doc = Document::parse(xml)?;
    let (root, assertion) = structure(&doc)?;
    // Signatures: where they may be, and each one that is there holds.
    let mut verified = Vec::new();
    for signed in [root, assertion] {
        if dsig::has_signature(&doc, signed) {
            verified.push(dsig::verify_enveloped(
                &doc,
                signed,
                "ID",
                &expect.idp.signing_keys,
            )?);
        }
    }
    if verified.is_empty() {
        return Err(SamlError::Signature(
            "neither the Response nor its Assertion is signed".into(),
        ));
    }
    if doc.all_named(DSIG_NS, "Signature").count() != verified.len() {
        return Err(SamlError::Signature(
            "a signature where none belongs".into(),
        ));
    }
    let response_signed = dsig::has_signature(&doc, root);
    // The Response.
    match doc.attr(root, "Destination") {
        Some(d) if d == expect.acs => {}
        Some(_) => return Err(invalid("the Response is for another destination")),
        None if response_signed => {
            return Err(invalid("a signed Response must name its Destination"))
        }
        None => {}
    }
    if let Some(irt) = doc.attr(root, "InResponseTo") {
        if irt != expect.request_id {
            return Err(invalid("the Response answers another request"));
        }
    }
    if let Some(i) = doc.children_named(root, ASSERTION_NS, "Issuer").next() {
        if doc.text(i).trim() != expect.idp.entity_id {
            return Err(invalid("the Response comes from another issuer"));
        }
    }
    let status = doc.only_child(root, PROTOCOL_NS, "Status")?;
    let code = doc.only_child(status, PROTOCOL_NS, "StatusCode")?;
    let value = doc.attr(code, "Value").unwrap_or("");
    if value != SUCCESS {
        let detail = doc
            .children_named(code, PROTOCOL_NS, "StatusCode")
            .next()
            .and_then(|c| doc.attr(c, "Value"))
            .unwrap_or(value);
        let short = detail.rsplit(':').next().unwrap_or(detail).to_string();
        return Err(SamlError::Status(short));
    }
    read_assertion(&doc, assertion, expect)
}

/// The Assertion's own rules, and what it says.
fn read_assertion(doc: &Document, a: usize, expect: &Expect<'_>) -> Result<Assertion, SamlError> {
    let (now, leeway) = (expect.now_s, expect.leeway_s);
    if doc.attr(a, "Version") != Some("2.0") {
        return Err(invalid("not a SAML 2.0 Assertion"));
    }
    let id = doc
        .attr(a, "ID")
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .ok_or_else(|| invalid("the Assertion has no ID"))?
        .to_string();
    let issuer = doc
        .text(doc.only_child(a, ASSERTION_NS, "Issuer")?)
        .trim()
        .to_string();
    if issuer != expect.idp.entity_id {
        return Err(invalid("the Assertion comes from another issuer"));
    }
    // Subject: the NameID, and a bearer confirmation for us, for this request, in time.
    let subject = doc.only_child(a, ASSERTION_NS, "Subject")?;
    if doc
        .children_named(subject, ASSERTION_NS, "EncryptedID")
        .next()
        .is_some()
    {
        return Err(invalid("encrypted NameIDs are not supported"));
    }
    let name_el = doc.only_child(subject, ASSERTION_NS, "NameID")?;
    let name_id = doc.text(name_el).trim().to_string();
    if name_id.is_empty() || name_id.len() > 1024 || name_id.chars().any(char::is_control) {
        return Err(invalid("the NameID is empty, too long or not text"));
    }
    let mut until = None;
    for sc in doc.children_named(subject, ASSERTION_NS, "SubjectConfirmation") {
        if doc.attr(sc, "Method") != Some(BEARER) {
            continue;
        }
        let Some(d) = doc
            .children_named(sc, ASSERTION_NS, "SubjectConfirmationData")
            .next()
        else {
            continue;
        };
        let fits = doc.attr(d, "Recipient") == Some(expect.acs)
            && doc.attr(d, "InResponseTo") == Some(expect.request_id);
        let not_after = time_attr(doc, d, "NotOnOrAfter")?;
        let not_before = time_attr(doc, d, "NotBefore")?;
        if fits
            && not_after.is_some_and(|t| now < t + leeway)
            && not_before.is_none_or(|t| t <= now + leeway)
        {
            until = not_after;
            break;
        }
    }
    let mut until = until.ok_or_else(|| {
        invalid(
            "no bearer confirmation for this service, for this request, in time \
             (Recipient, InResponseTo, NotOnOrAfter)",
        )
    })?;
    // Conditions: the window, and every AudienceRestriction names us.
    let conditions = doc.only_child(a, ASSERTION_NS, "Conditions")?;
    if let Some(t) = time_attr(doc, conditions, "NotBefore")? {
        if now + leeway < t {
            return Err(invalid("the Assertion is not valid yet"));
        }
    }
    if let Some(t) = time_attr(doc, conditions, "NotOnOrAfter")? {
        if now >= t + leeway {
            return Err(invalid("the Assertion has expired"));
        }
        // Accepted only while both windows hold: remembered that long.
        until = until.min(t);
    }
    let mut audiences = 0;
    for c in doc.children(conditions) {
        let e = doc.elem(c);
        match (e.ns.as_deref(), e.local.as_str()) {
            (Some(ASSERTION_NS), "AudienceRestriction") => {
                audiences += 1;
                let ours = doc
                    .children_named(c, ASSERTION_NS, "Audience")
                    .any(|x| doc.text(x).trim() == expect.sp_entity_id);
                if !ours {
                    return Err(invalid("the Assertion is for another audience"));
                }
            }
            (Some(ASSERTION_NS), "OneTimeUse" | "ProxyRestriction") => {}
            _ => return Err(invalid(format!("unknown condition {}", e.local))),
        }
    }
    if audiences == 0 {
        return Err(invalid("the Assertion names no audience"));
    }
    // The authentication itself.
    let authn = doc
        .children_named(a, ASSERTION_NS, "AuthnStatement")
        .next()
        .ok_or_else(|| invalid("the Assertion has no AuthnStatement"))?;
    if let Some(t) = time_attr(doc, authn, "SessionNotOnOrAfter")? {
        if now >= t + leeway {
            return Err(invalid("the IdP's session has ended"));
        }
    }
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for st in doc.children_named(a, ASSERTION_NS, "AttributeStatement") {
        for at in doc.children_named(st, ASSERTION_NS, "Attribute") {
            let Some(name) = doc.attr(at, "Name") else {
                continue;
            };
            let values = doc
                .children_named(at, ASSERTION_NS, "AttributeValue")
                .map(|v| doc.text(v));
            attributes
                .entry(name.to_string())
                .or_default()
                .extend(values);
        }
    }
    Ok(Assertion {
        id,
        issuer,
        name_id,
        name_id_format: doc.attr(name_el, "Format").map(str::to_string),
        session_index: doc.attr(authn, "SessionIndex").map(str::to_string),
        attributes,
        remember_until_s: until + leeway,
    })
}
