//! A small scripted browser for the hosted pages: follows nothing by itself (each redirect
//! is looked at), keeps cookies as a browser would (per name; `Max-Age=0` deletes), sends
//! `Origin` on posts, and reads forms out of the HTML. URLs under the test public URL are
//! fetched from the gateway it was made for.

use super::oauth::{http, Reply};
use oauth2::url::Url;
use signet_gateway::GatewayHandle;
use signet_testkit::TEST_PUBLIC_URL;
use std::collections::BTreeMap;

pub struct Browser {
    http: oauth2::reqwest::Client,
    local: String,
    pub jar: BTreeMap<String, String>,
    /// The `Origin` posts carry (a page loaded from the public URL).
    pub origin: String,
}

impl Browser {
    pub fn new(gw: &GatewayHandle) -> Browser {
        Browser {
            http: http(),
            local: format!("http://{}", gw.http_addr()),
            jar: BTreeMap::new(),
            origin: TEST_PUBLIC_URL.to_string(),
        }
    }

    /// The same browser (cookies and all) talking to another gateway.
    pub fn via(&self, gw: &GatewayHandle) -> Browser {
        Browser {
            http: http(),
            local: format!("http://{}", gw.http_addr()),
            jar: self.jar.clone(),
            origin: self.origin.clone(),
        }
    }

    fn fetchable(&self, url: &str) -> String {
        match url.strip_prefix(TEST_PUBLIC_URL) {
            Some(rest) => format!("{}{rest}", self.local),
            None => url.to_string(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, r: &Reply) {
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().expect("ascii cookie");
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        let req = self
            .http
            .get(self.fetchable(url))
            .header("cookie", self.cookie_header());
        let r = super::oauth::send(req).await;
        self.keep_cookies(&r);
        r
    }

    pub async fn post(&mut self, url: &str, pairs: &[(&str, &str)]) -> Reply {
        let req = self
            .http
            .post(self.fetchable(url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.cookie_header())
            .header("origin", &self.origin)
            .body(super::oauth::form(pairs));
        let r = super::oauth::send(req).await;
        self.keep_cookies(&r);
        r
    }

    /// Submit the page's (first) form from `page_url` with its hidden fields and `fields`.
    pub async fn submit(&mut self, page_url: &str, page: &Reply, fields: &[(&str, &str)]) -> Reply {
        let action = form_action(&page.body);
        let target = Url::parse(page_url)
            .expect("page URL")
            .join(&action)
            .expect("form action")
            .to_string();
        let mut pairs: Vec<(String, String)> = hidden_fields(&page.body);
        for (k, v) in fields {
            pairs.push((k.to_string(), v.to_string()));
        }
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(&target, &refs).await
    }
}

/// A redirect's `Location`.
pub fn location(r: &Reply) -> String {
    assert!(
        [302, 303].contains(&r.status),
        "expected a redirect, got {}: {}",
        r.status,
        r.body
    );
    r.header("location").expect("Location").to_string()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `attr` in the tag text `tag`.
fn attribute(tag: &str, attr: &str) -> Option<String> {
    let start = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The first form's `action`.
pub fn form_action(html: &str) -> String {
    let i = html.find("<form").expect("a form on the page");
    let tag = &html[i..i + html[i..].find('>').expect("tag end")];
    attribute(tag, "action").expect("action")
}

/// Every `<input type="hidden">` of the page: (name, value).
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>').expect("tag end")];
        if tag.contains("type=\"hidden\"") {
            out.push((
                attribute(tag, "name").expect("name"),
                attribute(tag, "value").unwrap_or_default(),
            ));
        }
        rest = &rest[i + 6..];
    }
    out
}

/// The value of the hidden field `name`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    hidden_fields(html)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}
