//! The AuthnRequest, sent by the HTTP-Redirect binding (SAML Bindings §3.4): the XML,
//! DEFLATEd raw, base64, in `SAMLRequest`, with the `RelayState`. Unsigned (the SP's
//! metadata says so); what binds the answer to it is its ID, which the answer's
//! InResponseTo must repeat, and the sealed RelayState.

use crate::{escape, instant, ASSERTION_NS, PROTOCOL_NS};
use base64::Engine;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::Write;

/// An authentication request to an IdP.
#[derive(Debug, Clone)]
pub struct AuthnRequest {
    /// Its ID (an NCName: starts with a letter or `_`), 128 random bits or more.
    pub id: String,
    /// When it was made, Unix seconds.
    pub issued_s: i64,
    /// The IdP's single sign-on URL.
    pub destination: String,
    /// Where the answer is to be posted.
    pub acs: String,
    /// The SP's entity ID.
    pub sp_entity_id: String,
}

impl AuthnRequest {
    /// The request's XML.
    pub fn xml(&self) -> String {
        format!(
            concat!(
                "<samlp:AuthnRequest xmlns:samlp=\"{p}\" xmlns:saml=\"{a}\" ID=\"{id}\" ",
                "Version=\"2.0\" IssueInstant=\"{at}\" Destination=\"{dest}\" ",
                "AssertionConsumerServiceURL=\"{acs}\" ",
                "ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">",
                "<saml:Issuer>{sp}</saml:Issuer>",
                "<samlp:NameIDPolicy AllowCreate=\"true\"/>",
                "</samlp:AuthnRequest>"
            ),
            p = PROTOCOL_NS,
            a = ASSERTION_NS,
            id = escape(&self.id),
            at = instant(self.issued_s),
            dest = escape(&self.destination),
            acs = escape(&self.acs),
            sp = escape(&self.sp_entity_id),
        )
    }

    /// The URL that sends a browser to the IdP with this request and `relay_state`.
    pub fn redirect_url(&self, relay_state: &str) -> String {
        let mut deflate = DeflateEncoder::new(Vec::new(), Compression::default());
        deflate
            .write_all(self.xml().as_bytes())
            .expect("writing to memory");
        let raw = deflate.finish().expect("writing to memory");
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let mut url = url::Url::parse(&self.destination)
            .unwrap_or_else(|_| url::Url::parse("about:blank").expect("a URL"));
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &b64)
            .append_pair("RelayState", relay_state);
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::DeflateDecoder;
    use std::io::Read;

    #[test]
    fn the_request_inflates_back_and_keeps_the_idps_query() {
        let r = AuthnRequest {
            id: "_abc".into(),
            issued_s: 1_800_000_000,
            destination: "https://idp.example/sso?tenant=1".into(),
            acs: "https://sp.example/p/saml2/idpresponse".into(),
            sp_entity_id: "urn:signet:sp:p".into(),
        };
        let url = url::Url::parse(&r.redirect_url("st&ate")).unwrap();
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(q[0], ("tenant".into(), "1".into()));
        assert_eq!(q[2], ("RelayState".into(), "st&ate".into()));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&q[1].1)
            .unwrap();
        let mut xml = String::new();
        DeflateDecoder::new(&raw[..])
            .read_to_string(&mut xml)
            .unwrap();
        assert_eq!(xml, r.xml());
        assert!(
            xml.contains("IssueInstant=\"2027-01-15T08:00:00Z\""),
            "{xml}"
        );
        crate::xml::Document::parse(&xml).unwrap();
    }
}
