//! Responses made by a SAML IdP nobody here wrote — pysaml2 7.5, signing with xmlsec1
//! (`tests/clients/saml_idp.py`) — checked by signet-saml: the Assertion signed, the
//! Response signed, both. And the same responses changed by one byte, sent too late, to
//! another service, or for another request: each refused for its reason.
//!
//! The fixtures were made once by that IdP (its certificate is `idp-cert.pem`; its key was
//! thrown away), for the SP `urn:signet:sp:us-east-1_selftest`.

use base64::Engine;
use signet_saml::dsig::VerifyingKey;
use signet_saml::metadata::IdpMetadata;
use signet_saml::response::{check, Expect};
use signet_saml::SamlError;

const ACS: &str = "http://127.0.0.1:36425/us-east-1_selftest/saml2/idpresponse";
const SP: &str = "urn:signet:sp:us-east-1_selftest";
const IDP: &str = "http://127.0.0.1:41821/metadata";
/// 2026-12-06T18:37:00Z: eight seconds after the IdP answered.
const NOW: i64 = 1_796_582_220;

fn fixture(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn idp() -> IdpMetadata {
    let pem = fixture("idp-cert.pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    IdpMetadata {
        entity_id: IDP.into(),
        sso_redirect: "http://127.0.0.1:41821/sso/redirect".into(),
        slo_redirect: None,
        signing_keys: vec![VerifyingKey::from_certificate(&der).unwrap()],
    }
}

/// The request a fixture answers (its InResponseTo).
fn request_of(xml: &str) -> String {
    let at = xml.find("InResponseTo=\"").unwrap() + 14;
    xml[at..at + xml[at..].find('"').unwrap()].to_string()
}

fn run(
    xml: &str,
    edit: impl FnOnce(&mut Expect<'_>),
) -> Result<signet_saml::response::Assertion, SamlError> {
    let idp = idp();
    let request = request_of(xml);
    let mut e = Expect {
        sp_entity_id: SP,
        acs: ACS,
        idp: &idp,
        request_id: &request,
        now_s: NOW,
        leeway_s: 60,
    };
    edit(&mut e);
    check(xml, &e)
}

#[test]
fn pysaml2_responses_signed_every_way_are_accepted() {
    for name in [
        "response-assertion.xml",
        "response-response.xml",
        "response-both.xml",
    ] {
        let a = run(&fixture(name), |_| {}).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.name_id, "alice", "{name}");
        assert_eq!(a.issuer, IDP);
        assert_eq!(a.attributes["email"], vec!["alice@example.com".to_string()]);
        assert_eq!(a.attributes["groups"], vec!["staff".to_string()]);
        assert!(a.id.starts_with("id-"), "{}", a.id);
        // Remembered until the assertion's last valid second, plus the leeway.
        assert_eq!(a.remember_until_s, NOW + 292 + 60, "{name}");
    }
}

#[test]
fn one_changed_byte_breaks_each_signature() {
    for name in [
        "response-assertion.xml",
        "response-response.xml",
        "response-both.xml",
    ] {
        let xml = fixture(name).replace(">alice</", ">alicf</");
        let e = run(&xml, |_| {}).unwrap_err();
        assert!(
            matches!(e, SamlError::Signature(ref m) if m.contains("digest")),
            "{name}: {e}"
        );
    }
    // A changed signature value: the key did not make it.
    let xml = fixture("response-assertion.xml");
    let at = xml.find("<ns2:SignatureValue>").unwrap() + 20;
    let mut bytes = xml.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let e = run(&String::from_utf8(bytes).unwrap(), |_| {}).unwrap_err();
    assert!(
        matches!(e, SamlError::Signature(ref m) if m.contains("metadata")),
        "{e}"
    );
}

#[test]
fn a_key_not_in_the_metadata_is_not_trusted() {
    let xml = fixture("response-both.xml");
    let other = IdpMetadata {
        signing_keys: vec![VerifyingKey::Rsa(vec![0x30, 0x03, 0x02, 0x01, 0x03])],
        ..idp()
    };
    let request = request_of(&xml);
    let e = check(
        &xml,
        &Expect {
            sp_entity_id: SP,
            acs: ACS,
            idp: &other,
            request_id: &request,
            now_s: NOW,
            leeway_s: 60,
        },
    )
    .unwrap_err();
    assert!(matches!(e, SamlError::Signature(_)), "{e}");
}

/// A change to what is expected.
type Edit = Box<dyn FnOnce(&mut Expect<'_>)>;

#[test]
fn another_request_service_audience_or_time_is_refused() {
    let xml = fixture("response-assertion.xml");
    let cases: Vec<(&str, Edit)> = vec![
        ("another request", Box::new(|e| e.request_id = "_other")),
        (
            "another ACS",
            Box::new(|e| e.acs = "http://127.0.0.1:1/p/saml2/idpresponse"),
        ),
        (
            "another SP",
            Box::new(|e| e.sp_entity_id = "urn:signet:sp:us-east-1_other"),
        ),
        ("too late", Box::new(|e| e.now_s = NOW + 292 + 61)),
        ("too early", Box::new(|e| e.now_s = NOW - 8 - 61)),
    ];
    for (what, edit) in cases {
        let e = run(&xml, edit).unwrap_err();
        assert!(matches!(e, SamlError::Invalid(_)), "{what}: {e}");
    }
    // Within the leeway either side, it holds.
    run(&xml, |e| e.now_s = NOW + 292 + 59).unwrap();
    run(&xml, |e| e.now_s = NOW - 8 - 59).unwrap();
}

#[test]
fn an_unsigned_response_is_refused() {
    let xml = fixture("response-assertion.xml");
    let start = xml.find("<ns2:Signature ").unwrap();
    let end = xml.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    let unsigned = format!("{}{}", &xml[..start], &xml[end..]);
    let e = run(&unsigned, |_| {}).unwrap_err();
    assert!(
        matches!(e, SamlError::Signature(ref m) if m.contains("neither")),
        "{e}"
    );
}

#[test]
fn a_comment_inside_the_name_id_does_not_cut_it_short() {
    // Exclusive c14n without comments makes this the same signed content: the signature
    // holds, and the NameID read is all of it, not the text before the comment.
    let xml = fixture("response-assertion.xml").replace(">alice</", ">ali<!---->ce</");
    let a = run(&xml, |_| {}).unwrap();
    assert_eq!(a.name_id, "alice");
}

#[test]
fn a_signature_moved_or_padded_does_not_vouch_for_anything_else() {
    let xml = fixture("response-assertion.xml");
    let start = xml.find("<ns2:Signature ").unwrap();
    let end = xml.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    let sig = &xml[start..end];
    // Moved up to the Response: it names the Assertion, not the element carrying it.
    let without = format!("{}{}", &xml[..start], &xml[end..]);
    let status = without.find("<ns0:Status>").unwrap();
    let moved = format!("{}{sig}{}", &without[..status], &without[status..]);
    let e = run(&moved, |_| {}).unwrap_err();
    assert!(
        matches!(e, SamlError::Signature(ref m) if m.contains("not over the element")),
        "{e}"
    );
    // An Object inside the signature (where wrapping attacks hide the original).
    let padded = xml.replace("</ns2:KeyInfo>", "</ns2:KeyInfo><ns2:Object>x</ns2:Object>");
    let e = run(&padded, |_| {}).unwrap_err();
    assert!(
        matches!(e, SamlError::Signature(ref m) if m.contains("at most KeyInfo")),
        "{e}"
    );
    // SHA-1 is not accepted, whatever else holds.
    let sha1 = xml.replace(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    let e = run(&sha1, |_| {}).unwrap_err();
    assert!(
        matches!(e, SamlError::Signature(ref m) if m.contains("SHA-256")),
        "{e}"
    );
    // An encrypted assertion is refused by name.
    let enc = xml.replace("</ns0:Status>", "</ns0:Status><ns1:EncryptedAssertion/>");
    let e = run(&enc, |_| {}).unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");
}
