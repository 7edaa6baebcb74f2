//! SigV4-style request signing and verification (`SIGNET4-HMAC-SHA256`). Pure: no I/O.
//!
//! A client holding temporary credentials signs each request with [`sign`]; the service
//! reads the access key id with [`parse_authorization`], looks up the matching secret, and
//! checks the request with [`verify_with_secret`]. The secret itself never travels.
//!
//! # The algorithm
//!
//! ```text
//! canonical request = METHOD \n CANONICAL_URI \n CANONICAL_QUERY \n
//!                     CANONICAL_HEADERS \n SIGNED_HEADERS \n PAYLOAD_HASH
//! scope             = YYYYMMDD/region/service/signet4_request
//! string to sign    = SIGNET4-HMAC-SHA256 \n x-signet-date \n scope \n
//!                     hex(sha256(canonical request))
//! signing key       = HMAC(HMAC(HMAC(HMAC("SIGNET4" + secret, YYYYMMDD), region),
//!                     service), "signet4_request")
//! signature         = hex(HMAC(signing key, string to sign))
//! authorization     = SIGNET4-HMAC-SHA256 Credential=akid/scope,
//!                     SignedHeaders=h1;h2, Signature=hex
//! ```
//!
//! * URI: every path segment is percent-decoded then encoded per RFC 3986 (unreserved
//!   `A-Z a-z 0-9 - . _ ~` kept, everything else `%XX`, upper case); `/` separates segments;
//!   an empty path is `/`.
//! * Query: split on `&`, each `key=value` (no `=`: empty value) decoded then encoded, sorted
//!   by key then value, joined with `&`.
//! * Headers: only the signed ones; names lower-cased; values trimmed and inner whitespace
//!   runs folded to one space; repeated headers joined with `,` in order; sorted by name;
//!   each `name:value\n`. Signed headers: sorted, `;`-joined.
//!
//! The verifier requires `host` and `x-signet-date` to be signed (and
//! `x-signet-security-token` when present), the scope's date to be the date of
//! `x-signet-date`, and that time to be within the allowed skew of now. The caller must still
//! check the returned access key id, region and service.

use aws_lc_rs::{digest, hmac};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;

/// The algorithm name, first word of the `authorization` header.
pub const ALGORITHM: &str = "SIGNET4-HMAC-SHA256";
/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ` (UTC).
pub const DATE_HEADER: &str = "x-signet-date";
/// The header carrying the session token of temporary credentials.
pub const SECURITY_TOKEN_HEADER: &str = "x-signet-security-token";
/// The header carrying the signature.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// The names one flavour of the algorithm uses: Signet's own ([`SIGNET4`]) or AWS's
/// standard Signature Version 4 ([`AWS4`], what botocore and every AWS SDK sign with). The
/// computation is the same; only these names differ.
#[derive(Debug, PartialEq, Eq)]
pub struct Scheme {
    /// First word of the `authorization` header and of the string to sign.
    pub algorithm: &'static str,
    /// The header carrying the signing time.
    pub date_header: &'static str,
    /// The header carrying a session token.
    pub token_header: &'static str,
    /// The last element of a credential scope.
    pub terminator: &'static str,
    /// Prefixed to the secret to key the first HMAC.
    key_prefix: &'static str,
}

/// Signet's own names (`SIGNET4-HMAC-SHA256`, `x-signet-date`, …).
pub const SIGNET4: Scheme = Scheme {
    algorithm: ALGORITHM,
    date_header: DATE_HEADER,
    token_header: SECURITY_TOKEN_HEADER,
    terminator: "signet4_request",
    key_prefix: "SIGNET4",
};

/// AWS's (`AWS4-HMAC-SHA256`, `x-amz-date`, `x-amz-security-token`, `aws4_request`).
pub const AWS4: Scheme = Scheme {
    algorithm: "AWS4-HMAC-SHA256",
    date_header: "x-amz-date",
    token_header: "x-amz-security-token",
    terminator: "aws4_request",
    key_prefix: "AWS4",
};

/// Why a request could not be signed or did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// A required header is absent: `authorization`, `x-signet-date` or `host`.
    #[error("missing {0} header")]
    Missing(&'static str),
    /// A header, the request line or a credential is not in the expected form.
    #[error("malformed signed request: {0}")]
    Malformed(String),
    /// A header that must be signed is not in `SignedHeaders`.
    #[error("header {0} must be signed")]
    NotSigned(&'static str),
    /// A header named in `SignedHeaders` is not in the request.
    #[error("signed header {0} is not in the request")]
    SignedHeaderAbsent(String),
    /// The credential scope's date is not the date of the date header.
    #[error("credential scope date {scope} does not match the request's date {header}")]
    DateMismatch {
        /// The scope's `YYYYMMDD`.
        scope: String,
        /// The date header (`x-signet-date` or `x-amz-date`).
        header: String,
    },
    /// The date header is further from now than the allowed skew: a stale (or future)
    /// request.
    #[error("request time {date} is outside the allowed clock skew")]
    Skewed {
        /// The date header.
        date: String,
    },
    /// The signature is not the one the secret gives for this request.
    #[error("signature does not match")]
    Mismatch,
}

/// Keys to sign with.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The access key id, sent in the clear in the credential scope.
    pub access_key_id: &'a str,
    /// The secret; only used to derive the signing key.
    pub secret_access_key: &'a str,
    /// The session token of temporary credentials, sent (and signed) as
    /// `x-signet-security-token`.
    pub session_token: Option<&'a str>,
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .finish()
    }
}

/// The parts of an HTTP request a signature covers.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    /// The method, e.g. `GET`; used as given (methods are case-sensitive).
    pub method: &'a str,
    /// The path, e.g. `/pools/eu-west-1_X/users`; percent-encoded or not.
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: &'a str,
    /// The headers (name, value); names in any case, a name may repeat.
    pub headers: &'a [(String, String)],
    /// Lower-case hex SHA-256 of the body ([`SignableRequest::payload_hash`]).
    pub payload_sha256_hex: String,
}

impl SignableRequest<'_> {
    /// Lower-case hex SHA-256 of `body`.
    pub fn payload_hash(body: &[u8]) -> String {
        hex::encode(digest::digest(&digest::SHA256, body))
    }
}

/// The `authorization` header, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// Which names it was signed with.
    pub scheme: &'static Scheme,
    /// Who signed.
    pub access_key_id: String,
    /// The scope's date, `YYYYMMDD`.
    pub date: String,
    /// The scope's region.
    pub region: String,
    /// The scope's service.
    pub service: String,
    /// The signed header names: lower case, sorted, distinct.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature (64 characters).
    pub signature: String,
}

/// The canonical request over `signed_headers` (any case or order; each must be in
/// `req.headers`).
pub fn canonical_request(
    req: &SignableRequest,
    signed_headers: &[String],
) -> Result<String, SignatureError> {
    if req.method.is_empty() || !req.method.bytes().all(is_token_byte) {
        return Err(SignatureError::Malformed(format!(
            "invalid method {:?}",
            req.method
        )));
    }
    let hash = &req.payload_sha256_hex;
    if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(SignatureError::Malformed(
            "the payload hash must be 64 lower-case hex digits".into(),
        ));
    }
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let mut headers = String::new();
    for name in &names {
        check_header_name(name)?;
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| fold_whitespace(v))
            .collect();
        if values.is_empty() {
            return Err(SignatureError::SignedHeaderAbsent(name.clone()));
        }
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path)?,
        canonical_query(req.query)?,
        headers,
        names.join(";"),
        hash
    ))
}

/// Sign `req` at `now`. Returns the headers to add to the request, in this order:
/// `x-signet-date`, `x-signet-security-token` (with a session token) and `authorization`.
///
/// Signs `host` (which `req.headers` must contain), `x-signet-date`,
/// `x-signet-security-token` and every header in `req.headers`; so add any header that must
/// not be signed after signing. `req.headers` must not already hold any of the headers this
/// adds.
pub fn sign(
    creds: &Credentials,
    req: &SignableRequest,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Result<Vec<(String, String)>, SignatureError> {
    sign_with(&SIGNET4, creds, req, region, service, now)
}

/// [`sign`] with the names of `scheme` (its date and token headers instead of
/// `x-signet-date` and `x-signet-security-token`).
pub fn sign_with(
    scheme: &'static Scheme,
    creds: &Credentials,
    req: &SignableRequest,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Result<Vec<(String, String)>, SignatureError> {
    for (what, value) in [
        ("access key id", creds.access_key_id),
        ("region", region),
        ("service", service),
    ] {
        if !is_scope_part(value) {
            return Err(SignatureError::Malformed(format!(
                "invalid {what} {value:?}"
            )));
        }
    }
    for (name, _) in req.headers {
        for own in [
            AUTHORIZATION_HEADER,
            scheme.date_header,
            scheme.token_header,
        ] {
            if name.eq_ignore_ascii_case(own) {
                return Err(SignatureError::Malformed(format!(
                    "the request already has a {own} header; sign adds it"
                )));
            }
        }
    }
    if !req
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        return Err(SignatureError::Missing("host"));
    }
    let date_time = format_date_time(now)?;
    let mut added = vec![(scheme.date_header.to_owned(), date_time.clone())];
    if let Some(token) = creds.session_token {
        if token.is_empty() {
            return Err(SignatureError::Malformed("empty session token".into()));
        }
        added.push((scheme.token_header.to_owned(), token.to_owned()));
    }
    let headers: Vec<(String, String)> = req.headers.iter().chain(&added).cloned().collect();
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    signed.sort();
    signed.dedup();
    let to_sign = SignableRequest {
        headers: &headers,
        ..req.clone()
    };
    let canonical = canonical_request(&to_sign, &signed)?;
    let scope = format!(
        "{}/{region}/{service}/{}",
        &date_time[..8],
        scheme.terminator
    );
    let string_to_sign = string_to_sign(scheme, &date_time, &scope, &canonical);
    let key = signing_key(
        scheme,
        creds.secret_access_key,
        &date_time[..8],
        region,
        service,
    );
    let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()));
    added.push((
        AUTHORIZATION_HEADER.to_owned(),
        format!(
            "{} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            scheme.algorithm,
            creds.access_key_id,
            signed.join(";")
        ),
    ));
    Ok(added)
}

/// Take an `authorization` header apart, checking its form (not its signature).
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, SignatureError> {
    let malformed = |m: &str| SignatureError::Malformed(format!("authorization header: {m}"));
    let (scheme, rest) = [&SIGNET4, &AWS4]
        .into_iter()
        .find_map(|s| {
            value
                .strip_prefix(s.algorithm)
                .filter(|r| r.starts_with(' '))
                .map(|r| (s, r))
        })
        .ok_or_else(|| {
            malformed(&format!(
                "the algorithm must be {} or {}",
                SIGNET4.algorithm, AWS4.algorithm
            ))
        })?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        let (key, v) = part
            .split_once('=')
            .ok_or_else(|| malformed(&format!("expected key=value, found {part:?}")))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => return Err(malformed(&format!("unknown component {other:?}"))),
        };
        if slot.replace(v).is_some() {
            return Err(malformed(&format!("{key} given twice")));
        }
    }
    let credential = credential.ok_or_else(|| malformed("no Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| malformed("no SignedHeaders"))?;
    let signature = signature.ok_or_else(|| malformed("no Signature"))?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = parts[..] else {
        return Err(malformed(&format!(
            "Credential must be akid/YYYYMMDD/region/service/{}",
            scheme.terminator
        )));
    };
    if terminator != scheme.terminator {
        return Err(malformed(&format!(
            "the scope must end with {}",
            scheme.terminator
        )));
    }
    if parse_date(date).is_none() {
        return Err(malformed(&format!("invalid scope date {date:?}")));
    }
    for (what, v) in [
        ("access key id", akid),
        ("region", region),
        ("service", service),
    ] {
        if !is_scope_part(v) {
            return Err(malformed(&format!("invalid {what} {v:?}")));
        }
    }
    let names: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    for name in &names {
        if name.is_empty()
            || !name.bytes().all(is_token_byte)
            || name.bytes().any(|b| b.is_ascii_uppercase())
        {
            return Err(malformed(&format!("invalid signed header name {name:?}")));
        }
    }
    if names.windows(2).any(|w| w[0] >= w[1]) {
        return Err(malformed("SignedHeaders must be sorted and distinct"));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(malformed("the Signature must be 64 lower-case hex digits"));
    }
    Ok(ParsedAuthorization {
        scheme,
        access_key_id: akid.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: names,
        signature: signature.to_owned(),
    })
}

/// Verify a signed request (its headers include `authorization`, `x-signet-date`, …) with
/// the secret of the access key it names. `now` and `x-signet-date` may differ by at most
/// `max_skew`. On success returns the parsed `authorization`; the caller must still check
/// that its access key id, region and service are the expected ones.
pub fn verify_with_secret(
    secret_access_key: &str,
    req: &SignableRequest,
    now: SystemTime,
    max_skew: Duration,
) -> Result<ParsedAuthorization, SignatureError> {
    let auth = single_header(req, AUTHORIZATION_HEADER)?
        .ok_or(SignatureError::Missing(AUTHORIZATION_HEADER))?;
    let parsed = parse_authorization(auth)?;
    let scheme = parsed.scheme;
    let date_time = single_header(req, scheme.date_header)?
        .ok_or(SignatureError::Missing(scheme.date_header))?;
    let signed_at = parse_date_time(date_time).ok_or_else(|| {
        SignatureError::Malformed(format!(
            "{} {date_time:?} is not YYYYMMDDTHHMMSSZ",
            scheme.date_header
        ))
    })?;
    if parsed.date != date_time[..8] {
        return Err(SignatureError::DateMismatch {
            scope: parsed.date,
            header: date_time.to_owned(),
        });
    }
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SignatureError::Malformed("the clock is before 1970".into()))?
        .as_secs();
    let skew = (i128::from(now) - i128::from(signed_at)).unsigned_abs();
    if skew > u128::from(max_skew.as_secs()) {
        return Err(SignatureError::Skewed {
            date: date_time.to_owned(),
        });
    }
    if !req
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        return Err(SignatureError::Missing("host"));
    }
    let is_signed = |name: &str| parsed.signed_headers.iter().any(|h| h == name);
    if !is_signed("host") {
        return Err(SignatureError::NotSigned("host"));
    }
    if !is_signed(scheme.date_header) {
        return Err(SignatureError::NotSigned(scheme.date_header));
    }
    // One token only: with two, the verifier and the service could each read another.
    let has_token = single_header(req, scheme.token_header)?.is_some();
    if has_token && !is_signed(scheme.token_header) {
        return Err(SignatureError::NotSigned(scheme.token_header));
    }
    if is_signed(AUTHORIZATION_HEADER) {
        return Err(SignatureError::Malformed(
            "the authorization header cannot sign itself".into(),
        ));
    }
    let canonical = canonical_request(req, &parsed.signed_headers)?;
    let scope = format!(
        "{}/{}/{}/{}",
        parsed.date, parsed.region, parsed.service, scheme.terminator
    );
    let string_to_sign = string_to_sign(scheme, date_time, &scope, &canonical);
    let key = signing_key(
        scheme,
        secret_access_key,
        &parsed.date,
        &parsed.region,
        &parsed.service,
    );
    // parse_authorization checked the signature is 64 hex digits.
    let tag = hex::decode(&parsed.signature).map_err(|_| SignatureError::Mismatch)?;
    hmac::verify(&key, string_to_sign.as_bytes(), &tag).map_err(|_| SignatureError::Mismatch)?;
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// Pieces

fn string_to_sign(
    scheme: &Scheme,
    date_time: &str,
    scope: &str,
    canonical_request: &str,
) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    format!(
        "{}\n{date_time}\n{scope}\n{}",
        scheme.algorithm,
        hex::encode(hash)
    )
}

fn signing_key(
    scheme: &Scheme,
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> hmac::Key {
    let mut key = hmac::Key::new(
        hmac::HMAC_SHA256,
        format!("{}{secret}", scheme.key_prefix).as_bytes(),
    );
    for part in [date, region, service, scheme.terminator] {
        let tag = hmac::sign(&key, part.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// The one value of header `name`; two are refused.
fn single_header<'r>(
    req: &'r SignableRequest,
    name: &'static str,
) -> Result<Option<&'r str>, SignatureError> {
    let mut found = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim());
    let first = found.next();
    if found.next().is_some() {
        return Err(SignatureError::Malformed(format!(
            "more than one {name} header"
        )));
    }
    Ok(first)
}

/// An RFC 9110 token character (header names, methods).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_header_name(name: &str) -> Result<(), SignatureError> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(SignatureError::Malformed(format!(
            "invalid header name {name:?}"
        )));
    }
    Ok(())
}

/// An access key id, region or service: non-empty, and nothing that would confuse the
/// `authorization` header's syntax.
fn is_scope_part(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b',' | b'=' | b';'))
}

/// Trim, and fold each inner run of whitespace to one space.
fn fold_whitespace(v: &str) -> String {
    v.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

fn canonical_uri(path: &str) -> Result<String, SignatureError> {
    if path.is_empty() {
        return Ok("/".into());
    }
    let segments = path
        .split('/')
        .map(|segment| Ok(encode(&decode(segment)?)))
        .collect::<Result<Vec<_>, SignatureError>>()?;
    Ok(segments.join("/"))
}

fn canonical_query(query: &str) -> Result<String, SignatureError> {
    let mut pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((encode(&decode(k)?), encode(&decode(v)?)))
        })
        .collect::<Result<Vec<(String, String)>, SignatureError>>()?;
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// Percent-decode to bytes; a `%` not followed by two hex digits is refused.
fn decode(s: &str) -> Result<Vec<u8>, SignatureError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(SignatureError::Malformed(format!(
                    "invalid percent-encoding in {s:?}"
                )));
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// RFC 3986: unreserved bytes kept, every other byte `%XX` (upper-case hex).
fn encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// UTC calendar (shared with the policy module's date conditions)

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400; // 0..=399
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097; // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days in `month` of `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYYMMDDTHHMMSSZ` of `t` in UTC (the form of `X-Amz-Date`; names that sort by time).
pub fn format_date_time(t: SystemTime) -> Result<String, SignatureError> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SignatureError::Malformed("the clock is before 1970".into()))?
        .as_secs();
    let days = i64::try_from(secs / 86_400)
        .map_err(|_| SignatureError::Malformed("the clock is out of range".into()))?;
    let (year, month, day) = civil_from_days(days);
    if year > 9999 {
        return Err(SignatureError::Malformed(
            "the clock is past year 9999".into(),
        ));
    }
    let rem = secs % 86_400;
    Ok(format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

/// `YYYYMMDD` to days since the epoch, if a valid date.
fn parse_date(s: &str) -> Option<i64> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = s[0..4].parse().ok()?;
    let month: u32 = s[4..6].parse().ok()?;
    let day: u32 = s[6..8].parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `YYYYMMDDTHHMMSSZ` to epoch seconds, if valid.
fn parse_date_time(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let days = parse_date(&s[..8])?;
    let time = &s[9..15];
    if !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hour: u64 = time[0..2].parse().ok()?;
    let minute: u64 = time[2..4].parse().ok()?;
    let second: u64 = time[4..6].parse().ok()?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-02-29T12:34:56Z.
    const T: u64 = 1_709_210_096;
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SKEW: Duration = Duration::from_secs(300);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    fn creds(token: Option<&'static str>) -> Credentials<'static> {
        Credentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: SECRET,
            session_token: token,
        }
    }

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(String, String)],
        body: &[u8],
    ) -> SignableRequest<'a> {
        SignableRequest {
            method,
            path,
            query,
            headers,
            payload_sha256_hex: SignableRequest::payload_hash(body),
        }
    }

    /// The request's headers plus those `sign` adds.
    fn signed_headers_of(
        req: &SignableRequest,
        token: Option<&'static str>,
        now: u64,
    ) -> Vec<(String, String)> {
        let added = sign(&creds(token), req, "eu-west-1", "sts", at(now)).unwrap();
        req.headers.iter().cloned().chain(added).collect()
    }

    fn base_headers() -> Vec<(String, String)> {
        vec![
            h("Host", "signet.example.com"),
            h("Content-Type", "application/json"),
            h("X-Custom", "value"),
        ]
    }

    fn set_header(headers: &mut [(String, String)], name: &str, value: String) {
        let slot = headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap();
        slot.1 = value;
    }

    fn header<'h>(headers: &'h [(String, String)], name: &str) -> &'h str {
        &headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap()
            .1
    }

    #[test]
    fn known_answer_vector() {
        // Computed independently of this module (Python's hashlib/hmac over the literal
        // canonical request below).
        let headers = vec![
            h("Host", "signet.example.com"),
            h("Content-Type", "application/json"),
            h("X-Custom", "  a   b\tc "),
            h("x-custom", "second"),
        ];
        let body = br#"{"Action":"GetCallerIdentity"}"#;
        let req = request(
            "POST",
            "/pools/eu-west-1_Ab12/my docs/ü",
            "b=2&a=%7Ex&flag&a=hello world",
            &headers,
            body,
        );
        assert_eq!(
            req.payload_sha256_hex,
            "e7c17962e27fd8c816bf1aecd2968c4a292f78837622b211403dae676eebe52c"
        );
        let added = sign(&creds(Some("tok/en+=")), &req, "eu-west-1", "sts", at(T)).unwrap();
        assert_eq!(
            added,
            vec![
                h("x-signet-date", "20240229T123456Z"),
                h("x-signet-security-token", "tok/en+="),
                h(
                    "authorization",
                    "SIGNET4-HMAC-SHA256 \
                     Credential=AKIDEXAMPLE/20240229/eu-west-1/sts/signet4_request, \
                     SignedHeaders=content-type;host;x-custom;x-signet-date;x-signet-security-token, \
                     Signature=183a26d7a2c8476a2901cab8229607daaedb073ecdcc62a0fda7073e102610b8"
                ),
            ]
        );

        let all: Vec<(String, String)> = headers.iter().cloned().chain(added).collect();
        let full = SignableRequest {
            headers: &all,
            ..req.clone()
        };
        let names: Vec<String> = [
            "content-type",
            "host",
            "x-custom",
            "x-signet-date",
            "x-signet-security-token",
        ]
        .map(String::from)
        .to_vec();
        let canonical = canonical_request(&full, &names).unwrap();
        let expected_canonical = "POST\n\
             /pools/eu-west-1_Ab12/my%20docs/%C3%BC\n\
             a=hello%20world&a=~x&b=2&flag=\n\
             content-type:application/json\n\
             host:signet.example.com\n\
             x-custom:a b c,second\n\
             x-signet-date:20240229T123456Z\n\
             x-signet-security-token:tok/en+=\n\
             \n\
             content-type;host;x-custom;x-signet-date;x-signet-security-token\n\
             e7c17962e27fd8c816bf1aecd2968c4a292f78837622b211403dae676eebe52c";
        assert_eq!(canonical, expected_canonical);
        let sts = string_to_sign(
            &SIGNET4,
            "20240229T123456Z",
            "20240229/eu-west-1/sts/signet4_request",
            &canonical,
        );
        assert_eq!(
            sts,
            "SIGNET4-HMAC-SHA256\n20240229T123456Z\n20240229/eu-west-1/sts/signet4_request\n\
             03f726a5d595770822f481f5e4346e593c84120e0cbdd288438430da647ebf9c"
        );

        // The key derivation, step by step.
        let step = |key: &[u8], msg: &str| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg.as_bytes())
                .as_ref()
                .to_vec()
        };
        let k_date = step(format!("SIGNET4{SECRET}").as_bytes(), "20240229");
        let k_region = step(&k_date, "eu-west-1");
        let k_service = step(&k_region, "sts");
        let k_signing = step(&k_service, "signet4_request");
        assert_eq!(
            hex::encode(&k_signing),
            "b3d863e88e717f241e299b8daad2a36fb1010aad013f66667633894621516fe2"
        );
        assert_eq!(
            hex::encode(step(&k_signing, &sts)),
            "183a26d7a2c8476a2901cab8229607daaedb073ecdcc62a0fda7073e102610b8"
        );

        let parsed = verify_with_secret(SECRET, &full, at(T), SKEW).unwrap();
        assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
    }

    #[test]
    fn round_trip() {
        for token in [None, Some("session-token-123")] {
            let base = base_headers();
            let req = request("GET", "/users", "limit=10", &base, b"");
            let headers = signed_headers_of(&req, token, T);
            let req = SignableRequest {
                headers: &headers,
                ..req
            };
            let parsed = verify_with_secret(SECRET, &req, at(T + 60), SKEW).unwrap();
            let mut expected_signed = vec![
                "content-type".to_owned(),
                "host".to_owned(),
                "x-custom".to_owned(),
                "x-signet-date".to_owned(),
            ];
            if token.is_some() {
                expected_signed.push("x-signet-security-token".to_owned());
                assert_eq!(header(&headers, SECURITY_TOKEN_HEADER), "session-token-123");
            }
            assert_eq!(
                parsed,
                ParsedAuthorization {
                    scheme: &SIGNET4,
                    access_key_id: "AKIDEXAMPLE".into(),
                    date: "20240229".into(),
                    region: "eu-west-1".into(),
                    service: "sts".into(),
                    signed_headers: expected_signed,
                    signature: header(&headers, "authorization")
                        [header(&headers, "authorization").len() - 64..]
                        .to_owned(),
                }
            );
        }
    }

    #[test]
    fn tampering_is_a_mismatch() {
        let base = base_headers();
        let body = b"{\"a\":1}";
        let original = request("POST", "/pools/p1/users", "a=1&b=2", &base, body);
        let headers = signed_headers_of(&original, Some("tok"), T);
        let good = SignableRequest {
            headers: &headers,
            ..original.clone()
        };
        verify_with_secret(SECRET, &good, at(T), SKEW).unwrap();

        let mut custom = headers.clone();
        set_header(&mut custom, "x-custom", "other".into());
        let mut token = headers.clone();
        set_header(&mut token, SECURITY_TOKEN_HEADER, "tok2".into());
        let mut signature = headers.clone();
        let auth = header(&headers, "authorization");
        let last = if auth.ends_with('0') { '1' } else { '0' };
        set_header(
            &mut signature,
            "authorization",
            format!("{}{last}", &auth[..auth.len() - 1]),
        );

        let cases: Vec<(&str, SignableRequest, &str)> = vec![
            (
                "method",
                SignableRequest {
                    method: "PUT",
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "path",
                SignableRequest {
                    path: "/pools/p2/users",
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "query",
                SignableRequest {
                    query: "a=1&b=3",
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "extra query",
                SignableRequest {
                    query: "a=1&b=2&c=",
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "signed header",
                SignableRequest {
                    headers: &custom,
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "token",
                SignableRequest {
                    headers: &token,
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "body",
                SignableRequest {
                    payload_sha256_hex: SignableRequest::payload_hash(b"{\"a\":2}"),
                    ..good.clone()
                },
                SECRET,
            ),
            (
                "signature",
                SignableRequest {
                    headers: &signature,
                    ..good.clone()
                },
                SECRET,
            ),
            ("secret", good.clone(), "another-secret"),
        ];
        for (what, req, secret) in cases {
            assert_eq!(
                verify_with_secret(secret, &req, at(T), SKEW),
                Err(SignatureError::Mismatch),
                "tampered {what}"
            );
        }
    }

    #[test]
    fn unsigned_header_added_later_does_not_break_the_signature() {
        let base = base_headers();
        let req = request("GET", "/", "", &base, b"");
        let mut headers = signed_headers_of(&req, None, T);
        headers.push(h("user-agent", "added-after-signing"));
        let req = SignableRequest {
            headers: &headers,
            ..req
        };
        assert!(verify_with_secret(SECRET, &req, at(T), SKEW).is_ok());
    }

    #[test]
    fn skew() {
        let base = base_headers();
        let req = request("GET", "/", "", &base, b"");
        let headers = signed_headers_of(&req, None, T);
        let req = SignableRequest {
            headers: &headers,
            ..req
        };
        assert!(verify_with_secret(SECRET, &req, at(T + 300), SKEW).is_ok());
        assert!(verify_with_secret(SECRET, &req, at(T - 300), SKEW).is_ok());
        for now in [T + 301, T - 301, T + 86_400] {
            assert_eq!(
                verify_with_secret(SECRET, &req, at(now), SKEW),
                Err(SignatureError::Skewed {
                    date: "20240229T123456Z".into()
                }),
                "now = {now}"
            );
        }
    }

    #[test]
    fn scope_date_must_match_header_date() {
        let base = base_headers();
        let req = request("GET", "/", "", &base, b"");
        let mut headers = signed_headers_of(&req, None, T);
        // Move the header to the next day (and "now" with it, so skew is not the issue).
        set_header(&mut headers, DATE_HEADER, "20240301T123456Z".into());
        let req = SignableRequest {
            headers: &headers,
            ..req
        };
        assert_eq!(
            verify_with_secret(SECRET, &req, at(T + 86_400), SKEW),
            Err(SignatureError::DateMismatch {
                scope: "20240229".into(),
                header: "20240301T123456Z".into()
            })
        );
    }

    #[test]
    fn required_headers_must_be_signed_and_present() {
        let base = base_headers();
        let req = request("GET", "/", "", &base, b"");
        let headers = signed_headers_of(&req, Some("tok"), T);
        let auth = header(&headers, "authorization").to_owned();
        let with_auth = |auth: String| {
            let mut hs = headers.clone();
            set_header(&mut hs, "authorization", auth);
            hs
        };
        let cases = [
            (
                "content-type;host;x-custom;x-signet-date;x-signet-security-token",
                "content-type;x-custom;x-signet-date;x-signet-security-token",
                SignatureError::NotSigned("host"),
            ),
            (
                "content-type;host;x-custom;x-signet-date;x-signet-security-token",
                "content-type;host;x-custom;x-signet-security-token",
                SignatureError::NotSigned("x-signet-date"),
            ),
            (
                "content-type;host;x-custom;x-signet-date;x-signet-security-token",
                "content-type;host;x-custom;x-signet-date",
                SignatureError::NotSigned("x-signet-security-token"),
            ),
            (
                "content-type;host;x-custom;",
                "content-type;host;x-absent;x-custom;",
                SignatureError::SignedHeaderAbsent("x-absent".into()),
            ),
        ];
        for (from, to, expected) in cases {
            assert!(auth.contains(from));
            let hs = with_auth(auth.replace(from, to));
            let req = SignableRequest {
                headers: &hs,
                ..req.clone()
            };
            assert_eq!(verify_with_secret(SECRET, &req, at(T), SKEW), Err(expected));
        }

        let without = |name: &str| -> Vec<(String, String)> {
            headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
                .cloned()
                .collect()
        };
        for (name, expected) in [
            ("authorization", SignatureError::Missing("authorization")),
            (DATE_HEADER, SignatureError::Missing("x-signet-date")),
            ("host", SignatureError::Missing("host")),
        ] {
            let hs = without(name);
            let req = SignableRequest {
                headers: &hs,
                ..req.clone()
            };
            assert_eq!(verify_with_secret(SECRET, &req, at(T), SKEW), Err(expected));
        }

        let mut twice = headers.clone();
        twice.push(h("Authorization", &auth));
        let req2 = SignableRequest {
            headers: &twice,
            ..req.clone()
        };
        assert!(matches!(
            verify_with_secret(SECRET, &req2, at(T), SKEW),
            Err(SignatureError::Malformed(m)) if m.contains("more than one authorization")
        ));
    }

    #[test]
    fn sign_refuses_bad_input() {
        let no_host = vec![h("x-custom", "v")];
        let req = request("GET", "/", "", &no_host, b"");
        assert_eq!(
            sign(&creds(None), &req, "r", "s", at(T)),
            Err(SignatureError::Missing("host"))
        );
        let preset = vec![h("host", "h"), h("X-Signet-Date", "20240229T123456Z")];
        let req = request("GET", "/", "", &preset, b"");
        assert!(matches!(
            sign(&creds(None), &req, "r", "s", at(T)),
            Err(SignatureError::Malformed(m)) if m.contains("x-signet-date")
        ));
        let ok = vec![h("host", "h")];
        let req = request("GET", "/", "", &ok, b"");
        assert!(matches!(
            sign(&creds(None), &req, "eu/west", "s", at(T)),
            Err(SignatureError::Malformed(m)) if m.contains("region")
        ));
        let bad_name = vec![h("host", "h"), h("bad name", "v")];
        let req = request("GET", "/", "", &bad_name, b"");
        assert!(matches!(
            sign(&creds(None), &req, "r", "s", at(T)),
            Err(SignatureError::Malformed(m)) if m.contains("bad name")
        ));
    }

    fn canonical(path: &str, query: &str, headers: &[(String, String)]) -> String {
        let req = request("GET", path, query, headers, b"");
        let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
        canonical_request(&req, &names).unwrap()
    }

    #[test]
    fn canonical_query_ordering_and_encoding() {
        let cases = [
            ("", ""),
            ("b=2&a=1", "a=1&b=2"),
            ("a=2&a=10&a=1", "a=1&a=10&a=2"),
            ("flag&x=", "flag=&x="),
            ("&&a=1&", "a=1"),
            ("q=hello world", "q=hello%20world"),
            ("q=a+b", "q=a%2Bb"),
            ("q=%7e%2f%2F", "q=~%2F%2F"),
            ("k%20ey=v=w", "k%20ey=v%3Dw"),
            ("ü=€", "%C3%BC=%E2%82%AC"),
            ("Z=1&a=1", "Z=1&a=1"),
        ];
        let hs = vec![h("host", "h")];
        for (query, expected) in cases {
            let c = canonical("/", query, &hs);
            assert_eq!(c.lines().nth(2).unwrap(), expected, "query {query:?}");
        }
    }

    #[test]
    fn canonical_path_encoding() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("/a b/c", "/a%20b/c"),
            ("/a%20b/c", "/a%20b/c"),
            ("/ü/€", "/%C3%BC/%E2%82%AC"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a+b/~x/(y)", "/a%2Bb/~x/%28y%29"),
            ("/trailing/", "/trailing/"),
            ("/%7euser", "/~user"),
        ];
        let hs = vec![h("host", "h")];
        for (path, expected) in cases {
            let c = canonical(path, "", &hs);
            assert_eq!(c.lines().nth(1).unwrap(), expected, "path {path:?}");
        }
        let req = request("GET", "/a%zz", "", &hs, b"");
        assert!(matches!(
            canonical_request(&req, &["host".to_owned()]),
            Err(SignatureError::Malformed(m)) if m.contains("percent")
        ));
        let req = request("GET", "/", "a=%4", &hs, b"");
        assert!(matches!(
            canonical_request(&req, &["host".to_owned()]),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn canonical_headers_folding_and_order() {
        let hs = vec![
            h("X-B", "  two   words\there  "),
            h("Host", "example.com"),
            h("x-a", "first"),
            h("X-A", " second "),
            h("x-multi", "a\r\n  b"),
        ];
        let c = canonical("/", "", &hs);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(
            lines[3..9],
            [
                "host:example.com",
                "x-a:first,second",
                "x-b:two words here",
                "x-multi:a b",
                "",
                "host;x-a;x-b;x-multi",
            ]
        );
        // Only the signed headers are included, whatever the case given.
        let req = request("GET", "/", "", &hs, b"");
        let c = canonical_request(&req, &["X-B".to_owned(), "host".to_owned()]).unwrap();
        assert!(c.contains("\nhost:example.com\nx-b:two words here\n\nhost;x-b\n"));
        assert_eq!(
            canonical_request(&req, &["x-none".to_owned()]),
            Err(SignatureError::SignedHeaderAbsent("x-none".into()))
        );
    }

    #[test]
    fn parse_authorization_form() {
        let sig = "a".repeat(64);
        let good = format!(
            "SIGNET4-HMAC-SHA256 Credential=AK/20240229/r/s/signet4_request, SignedHeaders=host;x-signet-date, Signature={sig}"
        );
        let parsed = parse_authorization(&good).unwrap();
        assert_eq!(parsed.access_key_id, "AK");
        assert_eq!(parsed.date, "20240229");
        assert_eq!(parsed.region, "r");
        assert_eq!(parsed.service, "s");
        assert_eq!(parsed.signed_headers, ["host", "x-signet-date"]);
        assert_eq!(parsed.signature, sig);

        let bad = [
            good.replace("SIGNET4-HMAC-SHA256", "AWS4-HMAC-SHA256"),
            good.replace("SIGNET4-HMAC-SHA256 ", "SIGNET4-HMAC-SHA256"),
            good.replace("signet4_request", "aws4_request"),
            good.replace("20240229", "20240230"),
            good.replace("/r/", "//"),
            good.replace("AK/", ""),
            good.replace("host;x-signet-date", "x-signet-date;host"),
            good.replace("host;x-signet-date", "host;host"),
            good.replace("host;x-signet-date", "Host;x-signet-date"),
            good.replace("host;x-signet-date", "host;;x-signet-date"),
            good.replace(&sig, &"A".repeat(64)),
            good.replace(&sig, &"a".repeat(63)),
            good.replace(", Signature", ", Extra=1, Signature"),
            format!("{good}, Signature={sig}"),
            good.replace(", SignedHeaders=host;x-signet-date", ""),
        ];
        for value in bad {
            assert!(
                matches!(
                    parse_authorization(&value),
                    Err(SignatureError::Malformed(_))
                ),
                "accepted {value:?}"
            );
        }
    }

    #[test]
    fn utc_dates() {
        let cases = [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (951_868_800, "20000301T000000Z"),
            (1_709_164_800, "20240229T000000Z"),
            (T, "20240229T123456Z"),
            (4_102_444_799, "20991231T235959Z"),
        ];
        for (secs, text) in cases {
            assert_eq!(format_date_time(at(secs)).unwrap(), text);
            assert_eq!(parse_date_time(text), Some(secs));
        }
        for bad in [
            "20240230T000000Z",
            "20230229T000000Z",
            "20241301T000000Z",
            "20240101T240000Z",
            "20240101T000060Z",
            "20240101 000000Z",
            "20240101T000000",
            "2024-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
        // Every day across several leap cycles round-trips.
        for days in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    /// A request botocore 1.44's `SigV4Auth` signed (AWS's standard names): verified as
    /// made, refused with one byte of the body changed or a day later.
    #[test]
    fn a_request_botocore_signed_verifies() {
        let headers: Vec<(String, String)> = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AWSCognitoIdentityProviderService.DescribeUserPool"),
            ("X-Amz-Date", "20261206T191715Z"),
            ("Host", "cognito-idp.us-east-1.amazonaws.com"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/cognito-idp/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                 Signature=c647bdab6ab9d9c125bdb0c1ac941e845266ad2ca9a0176b5b8ace513871c754",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let body = br#"{"UserPoolId":"us-east-1_X"}"#;
        let req = |body: &[u8]| SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload_sha256_hex: SignableRequest::payload_hash(body),
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_796_584_635);
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let ok = verify_with_secret(secret, &req(body), at, Duration::from_secs(300)).unwrap();
        assert_eq!(ok.scheme, &AWS4);
        assert_eq!(ok.service, "cognito-idp");
        assert_eq!(
            verify_with_secret(
                secret,
                &req(br#"{"UserPoolId":"us-east-1_Y"}"#),
                at,
                Duration::from_secs(300)
            ),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify_with_secret(
                secret,
                &req(body),
                at + Duration::from_secs(86_400),
                Duration::from_secs(300)
            ),
            Err(SignatureError::Skewed { .. })
        ));
    }
}
