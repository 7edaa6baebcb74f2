//! A small, strict XML tree: what a SAML message may be, and nothing more.
//!
//! Refused outright: a DOCTYPE (so no entity of any kind beyond the five predefined ones and
//! character references — no billion laughs, no external entities), more than one root,
//! text outside the root, unknown prefixes, a duplicate attribute, more than
//! [`MAX_DEPTH`] levels or [`MAX_ELEMENTS`] elements. The tree keeps what exclusive
//! canonicalization needs (each name's prefix as written, the namespace declarations of
//! each element), with attribute values normalised and line ends folded as the XML spec
//! says a parser must.

use crate::SamlError;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 20_000;

/// The `xml` prefix's namespace (always bound, never declared).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A parsed document: elements in document order; the root is element 0.
#[derive(Debug)]
pub struct Document {
    elems: Vec<Elem>,
}

/// An element.
#[derive(Debug)]
pub struct Elem {
    /// The prefix as written (`None`: unprefixed).
    pub prefix: Option<String>,
    /// The local name.
    pub local: String,
    /// Its namespace (`None`: none).
    pub ns: Option<String>,
    /// Attributes other than namespace declarations, in document order.
    pub attrs: Vec<Attr>,
    /// The namespace declarations on this element: (prefix, URI); `(None, "")` is `xmlns=""`.
    pub ns_decls: Vec<(Option<String>, String)>,
    /// Children in document order.
    pub children: Vec<Child>,
    /// The parent element (`None` for the root).
    pub parent: Option<usize>,
}

/// An attribute.
#[derive(Debug)]
pub struct Attr {
    /// The prefix as written.
    pub prefix: Option<String>,
    /// The local name.
    pub local: String,
    /// Its namespace (unprefixed attributes have none).
    pub ns: Option<String>,
    /// The normalised value.
    pub value: String,
}

/// A child of an element.
#[derive(Debug)]
pub enum Child {
    /// An element, by index.
    Elem(usize),
    /// Character data (CDATA sections included), unescaped.
    Text(String),
    /// A comment (kept only as a marker: canonicalization without comments drops it).
    Comment,
    /// A processing instruction's raw content (`target data`).
    Pi(String),
}

fn bad(m: impl Into<String>) -> SamlError {
    SamlError::Malformed(m.into())
}

/// Fold line ends as XML 1.0 §2.11 says: CRLF and a lone CR become LF.
fn fold_line_ends(raw: &str) -> String {
    raw.replace("\r\n", "\n").replace('\r', "\n")
}

/// Replace the five predefined entities and character references; any other `&` is an error.
fn unescape(raw: &str) -> Result<String, SamlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail
            .find(';')
            .filter(|&e| e <= 12)
            .ok_or_else(|| bad("an & that starts no reference"))?;
        let name = &tail[..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    return Err(bad(format!("entity &{name}; is not allowed")));
                };
                code.and_then(char::from_u32)
                    .filter(|c| *c != '\0')
                    .ok_or_else(|| bad(format!("bad character reference &{name};")))?
            }
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A qualified name split at its colon.
fn split_qname(raw: &[u8]) -> Result<(Option<String>, String), SamlError> {
    let s = std::str::from_utf8(raw).map_err(|_| bad("a name is not UTF-8"))?;
    let ok = |p: &str| !p.is_empty() && !p.contains(char::is_whitespace);
    match s.split_once(':') {
        Some((p, l)) if ok(p) && ok(l) && !l.contains(':') => {
            Ok((Some(p.to_string()), l.to_string()))
        }
        None if ok(s) => Ok((None, s.to_string())),
        _ => Err(bad(format!("bad name {s:?}"))),
    }
}

impl Document {
    /// Parse `text` (UTF-8). See the module's rules.
    pub fn parse(text: &str) -> Result<Document, SamlError> {
        let mut reader = Reader::from_str(text);
        {
            let c = reader.config_mut();
            c.expand_empty_elements = true;
            c.check_end_names = true;
            c.trim_text(false);
        }
        let mut doc = Document { elems: Vec::new() };
        let mut open: Vec<usize> = Vec::new();
        let mut closed_root = false;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| bad(format!("not well-formed XML: {e}")))?;
            match ev {
                Event::Start(start) => {
                    if closed_root || (open.is_empty() && !doc.elems.is_empty()) {
                        return Err(bad("more than one root element"));
                    }
                    if open.len() >= MAX_DEPTH || doc.elems.len() >= MAX_ELEMENTS {
                        return Err(bad("the document is too deep or too large"));
                    }
                    let parent = open.last().copied();
                    let idx = doc.elems.len();
                    let (prefix, local) = split_qname(start.name().as_ref())?;
                    let mut attrs = Vec::new();
                    let mut ns_decls = Vec::new();
                    for a in start.attributes().with_checks(true) {
                        let a = a.map_err(|e| bad(format!("bad attribute: {e}")))?;
                        let raw = std::str::from_utf8(&a.value)
                            .map_err(|_| bad("an attribute value is not UTF-8"))?;
                        if raw.contains('<') {
                            return Err(bad("'<' in an attribute value"));
                        }
                        // Attribute-value normalisation (XML 1.0 §3.3.3): literal white
                        // space becomes a space; references keep what they name.
                        let literal = fold_line_ends(raw).replace(['\n', '\t'], " ");
                        let value = unescape(&literal)?;
                        let (ap, al) = split_qname(a.key.as_ref())?;
                        match (ap.as_deref(), al.as_str()) {
                            (None, "xmlns") => ns_decls.push((None, value)),
                            (Some("xmlns"), p) => {
                                if value.is_empty()
                                    || p == "xmlns"
                                    || (p == "xml") != (value == XML_NS)
                                {
                                    return Err(bad(format!("bad declaration of prefix {p}")));
                                }
                                ns_decls.push((Some(p.to_string()), value));
                            }
                            _ => attrs.push(Attr {
                                prefix: ap,
                                local: al,
                                ns: None,
                                value,
                            }),
                        }
                    }
                    doc.elems.push(Elem {
                        prefix,
                        local,
                        ns: None,
                        attrs,
                        ns_decls,
                        children: Vec::new(),
                        parent,
                    });
                    // Names resolve against the declarations in scope, this element's too.
                    let ns = doc.resolve(idx, doc.elems[idx].prefix.as_deref(), true)?;
                    doc.elems[idx].ns = ns;
                    for i in 0..doc.elems[idx].attrs.len() {
                        let p = doc.elems[idx].attrs[i].prefix.clone();
                        let ns = match p.as_deref() {
                            None => None,
                            Some(p) => doc.resolve(idx, Some(p), false)?,
                        };
                        doc.elems[idx].attrs[i].ns = ns;
                    }
                    let e = &doc.elems[idx];
                    for (i, a) in e.attrs.iter().enumerate() {
                        if e.attrs[..i]
                            .iter()
                            .any(|b| b.ns == a.ns && b.local == a.local)
                        {
                            return Err(bad(format!("attribute {} given twice", a.local)));
                        }
                    }
                    if let Some(p) = parent {
                        doc.elems[p].children.push(Child::Elem(idx));
                    }
                    open.push(idx);
                }
                Event::End(_) => {
                    open.pop();
                    if open.is_empty() {
                        closed_root = true;
                    }
                }
                Event::Text(t) => {
                    let raw = std::str::from_utf8(&t).map_err(|_| bad("text is not UTF-8"))?;
                    match open.last() {
                        Some(&e) => {
                            let text = unescape(&fold_line_ends(raw))?;
                            doc.elems[e].children.push(Child::Text(text));
                        }
                        None if raw.trim().is_empty() => {}
                        None => return Err(bad("text outside the root element")),
                    }
                }
                Event::CData(t) => {
                    let raw = std::str::from_utf8(&t).map_err(|_| bad("text is not UTF-8"))?;
                    let e = *open.last().ok_or_else(|| bad("CDATA outside the root"))?;
                    doc.elems[e].children.push(Child::Text(fold_line_ends(raw)));
                }
                Event::Comment(_) => {
                    if let Some(&e) = open.last() {
                        doc.elems[e].children.push(Child::Comment);
                    }
                }
                Event::PI(pi) => {
                    let raw = std::str::from_utf8(&pi).map_err(|_| bad("a PI is not UTF-8"))?;
                    if let Some(&e) = open.last() {
                        doc.elems[e].children.push(Child::Pi(fold_line_ends(raw)));
                    }
                }
                Event::Decl(_) => {}
                Event::DocType(_) => return Err(bad("a DOCTYPE is not allowed")),
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                Event::Eof => break,
            }
        }
        if doc.elems.is_empty() || !open.is_empty() {
            return Err(bad("the document is empty or not closed"));
        }
        Ok(doc)
    }

    /// The namespace `prefix` names at element `at` (`default`: whether an unprefixed name
    /// takes the default namespace — elements do, attributes do not).
    fn resolve(
        &self,
        at: usize,
        prefix: Option<&str>,
        default: bool,
    ) -> Result<Option<String>, SamlError> {
        if prefix.is_none() && !default {
            return Ok(None);
        }
        match self.lookup(at, prefix) {
            Some("") => Ok(None),
            Some(uri) => Ok(Some(uri.to_string())),
            None if prefix.is_none() => Ok(None),
            None => Err(bad(format!(
                "prefix {} is not declared",
                prefix.unwrap_or("")
            ))),
        }
    }

    /// The URI `prefix` is bound to in scope at element `at` (`Some("")`: the default
    /// namespace undeclared by `xmlns=""`).
    pub fn lookup(&self, at: usize, prefix: Option<&str>) -> Option<&str> {
        if prefix == Some("xml") {
            return Some(XML_NS);
        }
        let mut cur = Some(at);
        while let Some(i) = cur {
            let e = &self.elems[i];
            if let Some((_, uri)) = e.ns_decls.iter().find(|(p, _)| p.as_deref() == prefix) {
                return Some(uri);
            }
            cur = e.parent;
        }
        None
    }

    /// The root element's index.
    pub fn root(&self) -> usize {
        0
    }

    /// Element `i`.
    pub fn elem(&self, i: usize) -> &Elem {
        &self.elems[i]
    }

    /// How many elements the document has (indices are `0..len`).
    pub fn len(&self) -> usize {
        self.elems.len()
    }

    /// Whether the document has no element (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }

    /// Whether element `i` is `{ns}local`.
    pub fn is(&self, i: usize, ns: &str, local: &str) -> bool {
        let e = &self.elems[i];
        e.local == local && e.ns.as_deref() == Some(ns)
    }

    /// The element children of `i`.
    pub fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.elems[i].children.iter().filter_map(|c| match c {
            Child::Elem(e) => Some(*e),
            _ => None,
        })
    }

    /// The element children of `i` named `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        i: usize,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        self.children(i).filter(move |&c| self.is(c, ns, local))
    }

    /// The one child `{ns}local` of `i`: none or several is an error.
    pub fn only_child(&self, i: usize, ns: &str, local: &str) -> Result<usize, SamlError> {
        let mut it = self.children_named(i, ns, local);
        match (it.next(), it.next()) {
            (Some(c), None) => Ok(c),
            (None, _) => Err(SamlError::Invalid(format!(
                "{} has no {local}",
                self.elems[i].local
            ))),
            _ => Err(SamlError::Invalid(format!(
                "{} has more than one {local}",
                self.elems[i].local
            ))),
        }
    }

    /// The value of `i`'s unqualified attribute `name`.
    pub fn attr(&self, i: usize, name: &str) -> Option<&str> {
        self.elems[i]
            .attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == name)
            .map(|a| a.value.as_str())
    }

    /// All the text under `i` (every descendant's, in order; comments contribute nothing),
    /// which is exactly what the signed canonical form holds — reading only the first text
    /// node would let a comment cut a signed value short.
    pub fn text(&self, i: usize) -> String {
        let mut out = String::new();
        self.text_into(i, &mut out);
        out
    }

    fn text_into(&self, i: usize, out: &mut String) {
        for c in &self.elems[i].children {
            match c {
                Child::Text(t) => out.push_str(t),
                Child::Elem(e) => self.text_into(*e, out),
                _ => {}
            }
        }
    }

    /// Every element of the document named `{ns}local`.
    pub fn all_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        (0..self.elems.len()).filter(move |&i| self.is(i, ns, local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_values_are_normalised() {
        let d = Document::parse(
            "<?xml version=\"1.0\"?>\r\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" k=\"x&#9;y\r\nz\"><b a:q=\"1\">t&amp;&#x41;<!--c-->u<![CDATA[<v>]]></b></a:r>",
        )
        .unwrap();
        let r = d.root();
        assert!(d.is(r, "urn:a", "r"));
        assert_eq!(d.attr(r, "k"), Some("x\ty z"));
        let b = d.children(r).next().unwrap();
        assert!(d.is(b, "urn:d", "b"));
        assert_eq!(d.elem(b).attrs[0].ns.as_deref(), Some("urn:a"));
        assert_eq!(d.text(b), "t&Au<v>");
    }

    #[test]
    fn what_a_saml_message_may_not_be_is_refused() {
        for bad in [
            "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>",
            "<r>&x;</r>",
            "<r/><s/>",
            "<r>",
            "<p:r/>",
            "<r a=\"1\" a=\"2\"/>",
            "<r xmlns:p=\"u\" xmlns:q=\"u\" p:a=\"1\" q:a=\"2\"/>",
            "<r>&#0;</r>",
            "text<r/>",
        ] {
            assert!(Document::parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(Document::parse(&deep).is_err());
    }
}
