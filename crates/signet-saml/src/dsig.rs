//! XML-DSig, the one shape SAML uses: an enveloped signature, a direct child of the element
//! it signs, with one Reference to that element's own ID, exclusive canonicalization and
//! SHA-256 or SHA-512 — checked against the IdP's keys from its metadata, never a key the
//! message carries.
//!
//! Why so narrow: signature wrapping attacks work by making the checked element and the
//! used element differ. Here nothing is looked up by ID: the signature must sit inside the
//! element it covers and name that element's ID, so the element verified is the element the
//! caller then reads. Anything else a signature could be (several References, XPath or
//! inclusive-c14n transforms, Objects, SHA-1, HMAC) is refused.

use crate::c14n;
use crate::xml::Document;
use crate::SamlError;
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;

/// The XML-DSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive canonicalization without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSA PKCS#1 v1.5 with SHA-256.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSA PKCS#1 v1.5 with SHA-512.
pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
/// ECDSA P-256 with SHA-256.
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
/// SHA-256 digests.
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SHA-512 digests.
pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";

/// A public key an IdP signs with (from a certificate in its metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyingKey {
    /// An RSA key: its PKCS#1 RSAPublicKey DER.
    Rsa(Vec<u8>),
    /// A P-256 key: its uncompressed point.
    EcP256(Vec<u8>),
}

const RSA_OID: &str = "1.2.840.113549.1.1.1";
const EC_OID: &str = "1.2.840.10045.2.1";
const P256_OID: &str = "1.2.840.10045.3.1.7";

impl VerifyingKey {
    /// The key of an X.509 certificate (DER). Its validity dates and issuer are not
    /// checked: as in every SAML deployment, the metadata is the trust anchor.
    pub fn from_certificate(der: &[u8]) -> Result<VerifyingKey, SamlError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| SamlError::Metadata(format!("a certificate does not parse: {e}")))?;
        let spki = &cert.tbs_certificate.subject_pki;
        let bits = spki.subject_public_key.data.to_vec();
        match spki.algorithm.algorithm.to_id_string().as_str() {
            RSA_OID => Ok(VerifyingKey::Rsa(bits)),
            EC_OID => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string());
                if curve.as_deref() != Some(P256_OID) {
                    return Err(SamlError::Metadata(
                        "an EC signing key must be on P-256".into(),
                    ));
                }
                Ok(VerifyingKey::EcP256(bits))
            }
            other => Err(SamlError::Metadata(format!(
                "a signing key of algorithm {other} is not supported (RSA or P-256)"
            ))),
        }
    }

    fn verify(&self, alg: &str, msg: &[u8], sig: &[u8]) -> bool {
        let (bytes, algorithm): (&[u8], &'static dyn signature::VerificationAlgorithm) =
            match (self, alg) {
                (VerifyingKey::Rsa(k), RSA_SHA256) => (k, &signature::RSA_PKCS1_2048_8192_SHA256),
                (VerifyingKey::Rsa(k), RSA_SHA512) => (k, &signature::RSA_PKCS1_2048_8192_SHA512),
                (VerifyingKey::EcP256(k), ECDSA_SHA256) => (k, &signature::ECDSA_P256_SHA256_FIXED),
                _ => return false,
            };
        UnparsedPublicKey::new(algorithm, bytes)
            .verify(msg, sig)
            .is_ok()
    }
}

fn invalid(m: impl Into<String>) -> SamlError {
    SamlError::Signature(m.into())
}

fn decode_b64(text: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| invalid("a signature or digest value is not base64"))
}

/// The InclusiveNamespaces PrefixList under a CanonicalizationMethod or Transform.
fn inclusive_prefixes(doc: &Document, method: usize) -> Result<Vec<String>, SamlError> {
    let mut out = Vec::new();
    for c in doc.children(method) {
        if !doc.is(c, EXC_C14N, "InclusiveNamespaces") {
            return Err(invalid(
                "an unexpected element in a canonicalization method",
            ));
        }
        let list = doc.attr(c, "PrefixList").unwrap_or("");
        out.extend(list.split_ascii_whitespace().map(str::to_string));
    }
    Ok(out)
}

/// Whether element `signed` carries a signature (a `ds:Signature` child).
pub fn has_signature(doc: &Document, signed: usize) -> bool {
    doc.children_named(signed, DSIG_NS, "Signature")
        .next()
        .is_some()
}

/// Check the enveloped signature of element `signed` (its one `ds:Signature` child) with
/// `keys`: the reference is to `signed` itself (its `id_attr`), the digest of its canonical
/// form matches, and one of `keys` made the signature value. Returns the signature element.
pub fn verify_enveloped(
    doc: &Document,
    signed: usize,
    id_attr: &str,
    keys: &[VerifyingKey],
) -> Result<usize, SamlError> {
    let sig = doc
        .only_child(signed, DSIG_NS, "Signature")
        .map_err(|e| invalid(e.to_string()))?;
    // Signature: SignedInfo, SignatureValue, KeyInfo? — no Object (wrapping hides there).
    let kids: Vec<usize> = doc.children(sig).collect();
    let names: Vec<&str> = kids.iter().map(|&k| doc.elem(k).local.as_str()).collect();
    let shape_ok = kids
        .iter()
        .all(|&k| doc.elem(k).ns.as_deref() == Some(DSIG_NS))
        && matches!(
            names.as_slice(),
            ["SignedInfo", "SignatureValue"] | ["SignedInfo", "SignatureValue", "KeyInfo"]
        );
    if !shape_ok {
        return Err(invalid(
            "a Signature holds SignedInfo, SignatureValue and at most KeyInfo",
        ));
    }
    let (info, value) = (kids[0], kids[1]);
    let info_kids: Vec<usize> = doc.children(info).collect();
    let [c14n_method, sig_method, reference] = info_kids.as_slice() else {
        return Err(invalid(
            "SignedInfo holds one CanonicalizationMethod, SignatureMethod and Reference",
        ));
    };
    let (c14n_method, sig_method, reference) = (*c14n_method, *sig_method, *reference);
    if !doc.is(c14n_method, DSIG_NS, "CanonicalizationMethod")
        || !doc.is(sig_method, DSIG_NS, "SignatureMethod")
        || !doc.is(reference, DSIG_NS, "Reference")
    {
        return Err(invalid("SignedInfo is not in the expected order"));
    }
    if doc.attr(c14n_method, "Algorithm") != Some(EXC_C14N) {
        return Err(invalid(
            "only exclusive canonicalization (without comments) is accepted",
        ));
    }
    let info_prefixes = inclusive_prefixes(doc, c14n_method)?;
    let alg = doc.attr(sig_method, "Algorithm").unwrap_or("");
    if ![RSA_SHA256, RSA_SHA512, ECDSA_SHA256].contains(&alg) {
        return Err(invalid(format!(
            "signature algorithm {alg} is refused (RSA-SHA256, RSA-SHA512 or ECDSA-SHA256; never SHA-1)"
        )));
    }
    if doc.children(sig_method).next().is_some() {
        return Err(invalid("SignatureMethod takes no parameters here"));
    }
    // The one Reference: to the element the signature sits in, by that element's own ID.
    let id = doc
        .attr(signed, id_attr)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid(format!("the signed element has no {id_attr}")))?;
    if doc.attr(reference, "URI") != Some(&format!("#{id}")) {
        return Err(invalid(
            "the signature is not over the element that carries it",
        ));
    }
    let ref_kids: Vec<usize> = doc.children(reference).collect();
    let [transforms, digest_method, digest_value] = ref_kids.as_slice() else {
        return Err(invalid(
            "a Reference holds Transforms, DigestMethod, DigestValue",
        ));
    };
    let (transforms, digest_method, digest_value) = (*transforms, *digest_method, *digest_value);
    if !doc.is(transforms, DSIG_NS, "Transforms")
        || !doc.is(digest_method, DSIG_NS, "DigestMethod")
        || !doc.is(digest_value, DSIG_NS, "DigestValue")
    {
        return Err(invalid(
            "a Reference holds Transforms, DigestMethod, DigestValue",
        ));
    }
    let (mut enveloped, mut exc, mut ref_prefixes) = (false, false, Vec::new());
    for t in doc.children(transforms) {
        if !doc.is(t, DSIG_NS, "Transform") {
            return Err(invalid("Transforms holds only Transform elements"));
        }
        match doc.attr(t, "Algorithm") {
            Some(ENVELOPED) if !enveloped && !exc => enveloped = true,
            Some(EXC_C14N) if !exc => {
                exc = true;
                ref_prefixes = inclusive_prefixes(doc, t)?;
            }
            other => {
                return Err(invalid(format!(
                    "transform {} is refused (enveloped-signature, then exclusive c14n)",
                    other.unwrap_or("?")
                )))
            }
        }
    }
    if !enveloped || !exc {
        return Err(invalid(
            "the reference must use the enveloped-signature and exclusive c14n transforms",
        ));
    }
    let digest_alg = match doc.attr(digest_method, "Algorithm") {
        Some(SHA256) => &digest::SHA256,
        Some(SHA512) => &digest::SHA512,
        other => {
            return Err(invalid(format!(
                "digest {} is refused (SHA-256 or SHA-512)",
                other.unwrap_or("?")
            )))
        }
    };
    let expected = decode_b64(&doc.text(digest_value))?;
    let canonical = c14n::exclusive(doc, signed, Some(sig), &ref_prefixes);
    let actual = digest::digest(digest_alg, &canonical);
    if aws_lc_rs::constant_time::verify_slices_are_equal(actual.as_ref(), &expected).is_err() {
        return Err(invalid("the signed content was changed (digest mismatch)"));
    }
    let signed_info = c14n::exclusive(doc, info, None, &info_prefixes);
    let sig_value = decode_b64(&doc.text(value))?;
    if !keys.iter().any(|k| k.verify(alg, &signed_info, &sig_value)) {
        return Err(invalid(
            "the signature was not made by a signing key in the IdP's metadata",
        ));
    }
    Ok(sig)
}
