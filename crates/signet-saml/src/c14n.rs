//! Exclusive XML Canonicalization 1.0, without comments
//! (<https://www.w3.org/TR/xml-exc-c14n/>), of one element's subtree, optionally leaving one
//! descendant out (the enveloped-signature transform). The only canonicalization a SAML
//! signature is checked with here.
//!
//! A namespace declaration is rendered on an element when the element or one of its
//! attributes uses the prefix (or the prefix is in the InclusiveNamespaces list) and the
//! nearest rendered ancestor did not already declare it with the same URI. Declarations
//! come first, sorted by prefix (the default one first); attributes follow, sorted by
//! namespace URI then local name. Empty elements get an end tag; no XML declaration.

use crate::xml::{Child, Document};
use std::collections::BTreeMap;

/// The canonical form of element `apex` of `doc`, without `exclude` (and its subtree);
/// `inclusive`: the InclusiveNamespaces PrefixList (`#default` names the default namespace).
pub fn exclusive(
    doc: &Document,
    apex: usize,
    exclude: Option<usize>,
    inclusive: &[String],
) -> Vec<u8> {
    let mut out = String::new();
    let rendered = BTreeMap::new();
    render(doc, apex, exclude, inclusive, &rendered, &mut out);
    out.into_bytes()
}

fn render(
    doc: &Document,
    i: usize,
    exclude: Option<usize>,
    inclusive: &[String],
    rendered: &BTreeMap<Option<String>, String>,
    out: &mut String,
) {
    let e = doc.elem(i);
    // Prefixes this element needs declared.
    let mut used: Vec<Option<String>> = vec![e.prefix.clone()];
    for a in &e.attrs {
        if a.prefix.is_some() && a.prefix.as_deref() != Some("xml") {
            used.push(a.prefix.clone());
        }
    }
    for p in inclusive {
        let p = if p == "#default" {
            None
        } else {
            Some(p.clone())
        };
        if doc.lookup(i, p.as_deref()).is_some() {
            used.push(p);
        }
    }
    used.sort();
    used.dedup();
    let mut scope = rendered.clone();
    let mut decls: Vec<(Option<String>, String)> = Vec::new();
    for p in used {
        if p.as_deref() == Some("xml") {
            continue;
        }
        let uri = doc.lookup(i, p.as_deref()).unwrap_or("").to_string();
        let before = rendered.get(&p).map(String::as_str).unwrap_or("");
        let differs = match &p {
            None => uri != before,
            Some(_) => rendered.get(&p) != Some(&uri),
        };
        if differs {
            scope.insert(p.clone(), uri.clone());
            decls.push((p, uri));
        }
    }
    let name = qname(&e.prefix, &e.local);
    out.push('<');
    out.push_str(&name);
    for (p, uri) in &decls {
        match p {
            None => out.push_str(" xmlns=\""),
            Some(p) => {
                out.push_str(" xmlns:");
                out.push_str(p);
                out.push_str("=\"");
            }
        }
        escape_attr(uri, out);
        out.push('"');
    }
    let mut attrs: Vec<_> = e.attrs.iter().collect();
    attrs.sort_by(|a, b| {
        (a.ns.as_deref().unwrap_or(""), a.local.as_str())
            .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
    });
    for a in attrs {
        out.push(' ');
        out.push_str(&qname(&a.prefix, &a.local));
        out.push_str("=\"");
        escape_attr(&a.value, out);
        out.push('"');
    }
    out.push('>');
    for c in &e.children {
        match c {
            Child::Elem(c) if Some(*c) == exclude => {}
            Child::Elem(c) => render(doc, *c, exclude, inclusive, &scope, out),
            Child::Text(t) => escape_text(t, out),
            Child::Comment => {}
            Child::Pi(raw) => {
                out.push_str("<?");
                out.push_str(raw);
                out.push_str("?>");
            }
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
}

fn qname(prefix: &Option<String>, local: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{local}"),
        None => local.to_string(),
    }
}

fn escape_text(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, apex_local: &str) -> String {
        let d = Document::parse(xml).unwrap();
        let apex = (0..d.len())
            .find(|&i| d.elem(i).local == apex_local)
            .unwrap();
        String::from_utf8(exclusive(&d, apex, None, &[])).unwrap()
    }

    #[test]
    fn only_used_namespaces_are_rendered_once() {
        // The W3C exc-c14n spec's motivating example: the unused `n1` of the ancestor is
        // not imported into the apex.
        let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            c14n(xml, "elem2"),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn attributes_sort_by_namespace_then_name_and_values_escape() {
        let xml = "<r xmlns=\"urn:d\" xmlns:b=\"urn:b\" xmlns:a=\"urn:a\" z=\"1\" b:y=\"&quot;&#13;\" a:y=\"&lt;\"> a&gt;b&#13; <!-- gone --><x xmlns=\"\"/></r>";
        assert_eq!(
            c14n(xml, "r"),
            "<r xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" z=\"1\" a:y=\"&lt;\" b:y=\"&quot;&#xD;\"> a&gt;b&#xD; <x xmlns=\"\"></x></r>"
        );
    }

    #[test]
    fn an_excluded_subtree_leaves_its_surroundings() {
        let d = Document::parse("<r><s>gone</s>\n<t/></r>").unwrap();
        let out = exclusive(&d, 0, Some(1), &[]);
        assert_eq!(String::from_utf8(out).unwrap(), "<r>\n<t></t></r>");
    }
}
