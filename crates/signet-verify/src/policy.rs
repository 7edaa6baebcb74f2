//! IAM-style policy documents and their evaluation. Pure: no I/O.
//!
//! Two kinds of document share one format:
//!
//! * **Permission policies** (a role's inline policies, a session policy), parsed with
//!   [`PolicyDocument::parse`]: every statement names `Action`/`NotAction` and
//!   `Resource`/`NotResource`; `Principal`/`NotPrincipal` are refused.
//! * **Trust policies**, parsed with [`PolicyDocument::parse_trust`]: every statement names a
//!   `Principal` (or `NotPrincipal`); `Resource` is optional.
//!
//! Parsing is strict, so mistakes surface when a policy is written rather than when it is
//! evaluated: unknown fields, unknown condition operators, values a numeric or date operator
//! cannot read, repeated JSON keys and documents over [`MAX_POLICY_BYTES`] are refused.
//!
//! [`evaluate`] follows IAM: an applicable `Deny` anywhere wins, then an applicable `Allow` in
//! an identity policy is needed (and, when a session policy is given, one in the session
//! policy as well); anything else is an implicit deny.
//!
//! # Matching
//!
//! * `Action` patterns match case-insensitively, `Resource` patterns and principal values
//!   case-sensitively; `*` matches any run of characters (`/` and `:` included), `?` exactly
//!   one character ([`wildcard_match`]).
//! * `${key}` in a `Resource` pattern or in the value of a `String…` condition is replaced by
//!   the first context value of `key` (case-insensitive). `${*}`, `${?}` and `${$}` are a
//!   literal `*`, `?` and `$`; a substituted value is always literal, never a wildcard. A
//!   pattern or value referring to a key the context lacks matches nothing.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::fmt;
use thiserror::Error;

/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 10_240;

/// The `Version` values accepted.
const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Why a policy document was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The document is over [`MAX_POLICY_BYTES`]; it was not parsed.
    #[error("policy document is {size} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// The document's size in bytes.
        size: usize,
        /// The limit, [`MAX_POLICY_BYTES`].
        max: usize,
    },
    /// The document is not JSON.
    #[error("policy document is not valid JSON: {0}")]
    Json(String),
    /// The document is JSON but not a valid policy; the message names the statement and
    /// field at fault.
    #[error("invalid policy document: {0}")]
    Invalid(String),
}

/// Whether a statement allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// A parsed, validated policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Statement>,
}

/// One statement of a [`PolicyDocument`].
#[derive(Debug, Clone)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    action: Patterns,
    /// `None`: no `Resource` (trust policies only): matches any resource.
    resource: Option<Patterns>,
    /// `None`: a permission policy's statement, which has no principal to check.
    principal: Option<PrincipalSpec>,
    conditions: Vec<Condition>,
}

impl Statement {
    /// The statement's `Sid`, if it has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The statement's effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
}

#[derive(Debug, Clone)]
struct PrincipalSpec {
    negated: bool,
    /// `None`: `"*"`, any principal.
    by_kind: Option<Vec<(String, Vec<String>)>>,
}

/// The principal kinds a trust policy may name.
const PRINCIPAL_KINDS: [&str; 3] = ["AWS", "Federated", "Service"];

#[derive(Debug, Clone)]
struct Condition {
    op: Operator,
    /// Lowercased.
    key: String,
    values: Values,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    base: Base,
    /// `…Not…`: holds when no policy value matches.
    negated: bool,
    if_exists: bool,
    set: SetOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAnyValue,
    ForAllValues,
}

/// A condition's policy values, read according to its operator at parse time.
#[derive(Debug, Clone)]
enum Values {
    /// Raw text; policy variables are resolved at evaluation.
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    /// Epoch seconds.
    Dates(Vec<i64>),
    /// `Bool` values, or `Null` values (`true`: the key must be absent).
    Bools(Vec<bool>),
}

impl PolicyDocument {
    /// Parse a permission policy (a role's inline policy or a session policy):
    /// `Principal`/`NotPrincipal` are refused and every statement needs
    /// `Resource`/`NotResource`.
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        parse_document(json, Kind::Permission)
    }

    /// Parse a trust policy: every statement needs `Principal` (or `NotPrincipal`);
    /// `Resource` is optional (absent matches any resource).
    pub fn parse_trust(json: &str) -> Result<PolicyDocument, PolicyError> {
        parse_document(json, Kind::Trust)
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The `Version`, if the document gives one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id`, if the document gives one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Request context: condition keys (case-insensitive) to one or more values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Keys lowercased.
    values: HashMap<String, Vec<String>>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append `value` to the values of `key`.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.values
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Replace the values of `key`.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_lowercase(), values);
    }

    /// The values of `key` (case-insensitive), if it was set.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(&key.to_lowercase()).map(Vec::as_slice)
    }

    /// The values of `key` if there is at least one.
    fn present(&self, key: &str) -> Option<&[String]> {
        self.get(key).filter(|v| !v.is_empty())
    }
}

/// Who is asking, for trust policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// `"Federated"`, `"Service"` or `"AWS"`.
    pub kind: &'a str,
    /// The identity of that kind, e.g. an identity provider's name.
    pub value: &'a str,
}

/// What is being asked.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The action, e.g. `s3:GetObject`.
    pub action: &'a str,
    /// The resource, e.g. `arn:signet:s3:::bucket/key`.
    pub resource: &'a str,
    /// The principal; only trust policies look at it.
    pub principal: Option<Principal<'a>>,
    /// Condition keys and policy-variable values.
    pub context: &'a Context,
}

/// Why [`evaluate`] decided as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// An applicable `Deny` statement.
    ExplicitDeny,
    /// An applicable `Allow`, and the session policy (if any) allows too.
    Allowed,
    /// No applicable `Allow` (in the identity policies, or in the session policy).
    ImplicitDeny,
}

/// Names one statement of one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// The policy's name as given to [`evaluate`]; `"session"` for the session policy.
    pub policy: String,
    /// The statement's index in its document.
    pub index: usize,
    /// The statement's `Sid`.
    pub sid: Option<String>,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// The deciding statement: the `Deny` for [`Reason::ExplicitDeny`], the first applicable
    /// identity-policy `Allow` for [`Reason::Allowed`], `None` for [`Reason::ImplicitDeny`].
    pub decided_by: Option<StatementRef>,
}

/// The name [`StatementRef::policy`] gives the session policy.
pub const SESSION_POLICY_NAME: &str = "session";

/// Evaluate a request against named identity (permission or trust) policies and an optional
/// session policy, which can only narrow what the identity policies allow.
///
/// Any applicable `Deny` (identity policies first, then the session policy) denies with
/// [`Reason::ExplicitDeny`]. Otherwise the request is allowed iff some identity policy has
/// an applicable `Allow` and, when `session` is given, so does the session policy.
pub fn evaluate(
    policies: &[(&str, &PolicyDocument)],
    session: Option<&PolicyDocument>,
    req: &Request,
) -> Decision {
    let all = policies
        .iter()
        .copied()
        .chain(session.map(|doc| (SESSION_POLICY_NAME, doc)));
    for (name, doc) in all {
        for (index, st) in doc.statements.iter().enumerate() {
            if st.effect == Effect::Deny && st.applies(req) {
                return Decision {
                    allowed: false,
                    reason: Reason::ExplicitDeny,
                    decided_by: Some(statement_ref(name, index, st)),
                };
            }
        }
    }
    let identity_allow = policies.iter().find_map(|&(name, doc)| {
        doc.statements
            .iter()
            .enumerate()
            .find(|(_, st)| st.effect == Effect::Allow && st.applies(req))
            .map(|(index, st)| statement_ref(name, index, st))
    });
    let session_allows = session.is_none_or(|doc| {
        doc.statements
            .iter()
            .any(|st| st.effect == Effect::Allow && st.applies(req))
    });
    match identity_allow {
        Some(by) if session_allows => Decision {
            allowed: true,
            reason: Reason::Allowed,
            decided_by: Some(by),
        },
        _ => Decision {
            allowed: false,
            reason: Reason::ImplicitDeny,
            decided_by: None,
        },
    }
}

fn statement_ref(policy: &str, index: usize, st: &Statement) -> StatementRef {
    StatementRef {
        policy: policy.to_owned(),
        index,
        sid: st.sid.clone(),
    }
}

impl Statement {
    fn applies(&self, req: &Request) -> bool {
        self.action_matches(req.action)
            && self.resource_matches(req.resource, req.context)
            && self.principal_matches(req.principal)
            && self.conditions.iter().all(|c| c.holds(req.context))
    }

    fn action_matches(&self, action: &str) -> bool {
        let any = self
            .action
            .patterns
            .iter()
            .any(|p| wildcard_match(p, action, true));
        any != self.action.negated
    }

    fn resource_matches(&self, resource: &str, ctx: &Context) -> bool {
        let Some(res) = &self.resource else {
            return true;
        };
        let value: Vec<char> = resource.chars().collect();
        let any = res
            .patterns
            .iter()
            .any(|p| expand(p, ctx, true).is_some_and(|tokens| match_tokens(&tokens, &value)));
        any != res.negated
    }

    fn principal_matches(&self, principal: Option<Principal>) -> bool {
        let Some(spec) = &self.principal else {
            return true;
        };
        let Some(principal) = principal else {
            return false;
        };
        let matched = match &spec.by_kind {
            None => true,
            Some(kinds) => kinds.iter().any(|(kind, values)| {
                kind == principal.kind
                    && values
                        .iter()
                        .any(|v| wildcard_match(v, principal.value, false))
            }),
        };
        matched != spec.negated
    }
}

impl Condition {
    fn holds(&self, ctx: &Context) -> bool {
        let present = ctx.present(&self.key);
        if self.op.base == Base::Null {
            let Values::Bools(wants) = &self.values else {
                return false;
            };
            return wants.iter().any(|&absent| absent == present.is_none());
        }
        let Some(ctx_values) = present else {
            return self.op.if_exists
                || match self.op.set {
                    SetOp::ForAllValues => true,
                    SetOp::ForAnyValue => false,
                    SetOp::Single => self.op.negated,
                };
        };
        let matcher = self.matcher(ctx);
        // The test one context value must pass: it matches some policy value, or for a
        // negated operator, none.
        let passes = |v: &String| matcher.matches_any(v) != self.op.negated;
        match (self.op.set, self.op.negated) {
            (SetOp::Single, false) | (SetOp::ForAnyValue, _) => ctx_values.iter().any(passes),
            (SetOp::Single, true) | (SetOp::ForAllValues, _) => ctx_values.iter().all(passes),
        }
    }

    /// The policy values, with policy variables resolved against `ctx`.
    fn matcher(&self, ctx: &Context) -> Matcher<'_> {
        match &self.values {
            Values::Strings(raw) => match self.op.base {
                Base::StringLike => Matcher::Like(
                    raw.iter()
                        .filter_map(|p| expand(p, ctx, true))
                        .collect::<Vec<_>>(),
                ),
                base => Matcher::Text {
                    ignore_case: base == Base::StringEqualsIgnoreCase,
                    values: raw
                        .iter()
                        .filter_map(|p| expand(p, ctx, false))
                        .map(|t| tokens_to_string(&t))
                        .collect(),
                },
            },
            Values::Numbers(n) => Matcher::Numbers(self.op.base, n),
            Values::Dates(d) => Matcher::Dates(self.op.base, d),
            Values::Bools(b) => Matcher::Bools(b),
        }
    }
}

enum Matcher<'a> {
    Text {
        ignore_case: bool,
        values: Vec<String>,
    },
    Like(Vec<Vec<Tok>>),
    Numbers(Base, &'a [f64]),
    Dates(Base, &'a [i64]),
    Bools(&'a [bool]),
}

impl Matcher<'_> {
    /// Whether one context value matches at least one policy value (positively: the `Not`
    /// of negated operators is applied by the caller).
    fn matches_any(&self, v: &str) -> bool {
        match self {
            Matcher::Text {
                ignore_case: false,
                values,
            } => values.iter().any(|p| p == v),
            Matcher::Text {
                ignore_case: true,
                values,
            } => {
                let v = v.to_lowercase();
                values.iter().any(|p| p.to_lowercase() == v)
            }
            Matcher::Like(patterns) => {
                let v: Vec<char> = v.chars().collect();
                patterns.iter().any(|p| match_tokens(p, &v))
            }
            Matcher::Numbers(base, values) => match parse_number(v) {
                Some(x) => values.iter().any(|&p| compare(*base, x, p)),
                None => false,
            },
            Matcher::Dates(base, values) => match parse_date(v) {
                Some(x) => values.iter().any(|&p| compare(*base, x, p)),
                None => false,
            },
            Matcher::Bools(values) => match parse_bool(v) {
                Some(x) => values.contains(&x),
                None => false,
            },
        }
    }
}

/// `context OP policy` for the numeric and date operators.
fn compare<T: PartialOrd>(base: Base, context: T, policy: T) -> bool {
    match base {
        Base::NumericEquals | Base::DateEquals => context == policy,
        Base::NumericLessThan | Base::DateLessThan => context < policy,
        Base::NumericLessThanEquals | Base::DateLessThanEquals => context <= policy,
        Base::NumericGreaterThan | Base::DateGreaterThan => context > policy,
        Base::NumericGreaterThanEquals | Base::DateGreaterThanEquals => context >= policy,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Wildcards and policy variables

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Whether `value` matches the glob `pattern`: `*` matches any run of characters (including
/// none, `/` and `:`), `?` exactly one character, everything else itself. Linear in practice
/// and never worse than `O(pattern × value)`: no regex, no exponential backtracking.
pub fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (pattern, value) = if case_insensitive {
        (pattern.to_lowercase(), value.to_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    let tokens: Vec<Tok> = pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect();
    let value: Vec<char> = value.chars().collect();
    match_tokens(&tokens, &value)
}

/// Two pointers; on a mismatch, resume just after the last `*`, which then swallows one
/// more character. Only the last `*` ever needs revisiting, so this is `O(p × v)` at worst.
fn match_tokens(pattern: &[Tok], value: &[char]) -> bool {
    let (mut p, mut v) = (0, 0);
    // (index of the last star in the pattern, value index it is matched up to)
    let mut backtrack: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some(Tok::Star) => {
                backtrack = Some((p, v));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                v += 1;
            }
            Some(Tok::Lit(c)) if *c == value[v] => {
                p += 1;
                v += 1;
            }
            _ => match backtrack {
                Some((star, swallowed)) => {
                    backtrack = Some((star, swallowed + 1));
                    p = star + 1;
                    v = swallowed + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|t| *t == Tok::Star)
}

/// Compile `raw`, resolving `${…}`: `None` if it refers to a key `ctx` lacks. With
/// `wildcards`, a bare `*` / `?` in `raw` is a wildcard; substituted text and escapes are
/// always literal.
fn expand(raw: &str, ctx: &Context, wildcards: bool) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                match name {
                    "*" | "?" | "$" => out.extend(name.chars().map(Tok::Lit)),
                    key => {
                        let value = ctx.present(key)?.first()?;
                        out.extend(value.chars().map(Tok::Lit));
                    }
                }
                rest = &after[end + 1..];
                continue;
            }
        }
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn tokens_to_string(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Refuse an unterminated or empty `${…}` at parse time.
fn check_variables(raw: &str) -> Result<(), String> {
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            None => return Err(format!("unterminated policy variable in {raw:?}")),
            Some(0) => return Err(format!("empty policy variable \"${{}}\" in {raw:?}")),
            Some(end) => rest = &after[end + 1..],
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Values

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Only plain decimal notation: not "inf", "NaN", hex, or an empty string.
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Epoch seconds (an integer, possibly negative) or RFC 3339 UTC `YYYY-MM-DDTHH:MM:SSZ`.
fn parse_date(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let part = &s[from..to];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let year = i64::from(year);
    if !(1..=12).contains(&month)
        || day == 0
        || day > crate::sigv4::days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = crate::sigv4::days_from_civil(year, month, day);
    Some(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Permission,
    Trust,
}

fn invalid(msg: impl Into<String>) -> PolicyError {
    PolicyError::Invalid(msg.into())
}

fn parse_document(json: &str, kind: Kind) -> Result<PolicyDocument, PolicyError> {
    if json.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge {
            size: json.len(),
            max: MAX_POLICY_BYTES,
        });
    }
    let StrictValue(value) = serde_json::from_str(json).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with(DUPLICATE_KEY) {
            PolicyError::Invalid(msg)
        } else {
            PolicyError::Json(msg)
        }
    })?;
    let Value::Object(top) = value else {
        return Err(invalid("the document must be a JSON object"));
    };
    let mut version = None;
    let mut id = None;
    let mut statement = None;
    for (field, v) in top {
        match field.as_str() {
            "Version" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| invalid("Version must be a string"))?;
                if !VERSIONS.contains(&s) {
                    return Err(invalid(format!(
                        "unsupported Version {s:?} (expected \"2012-10-17\" or \"2008-10-17\")"
                    )));
                }
                version = Some(s.to_owned());
            }
            "Id" => {
                let s = v.as_str().ok_or_else(|| invalid("Id must be a string"))?;
                id = Some(s.to_owned());
            }
            "Statement" => statement = Some(v),
            other => return Err(invalid(format!("unknown top-level field {other:?}"))),
        }
    }
    let statements = match statement {
        None => return Err(invalid("missing field \"Statement\"")),
        Some(Value::Array(items)) => items,
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(_) => {
            return Err(invalid(
                "Statement must be an object or an array of objects",
            ))
        }
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(i, st)| parse_statement(i, st, kind))
        .collect::<Result<_, _>>()?;
    Ok(PolicyDocument {
        version,
        id,
        statements,
    })
}

fn parse_statement(index: usize, value: Value, kind: Kind) -> Result<Statement, PolicyError> {
    let Value::Object(fields) = value else {
        return Err(invalid(format!("Statement[{index}] must be an object")));
    };
    // Read the Sid first so that every later message can name it.
    let sid = match fields.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(format!("Statement[{index}]: Sid must be a string"))),
    };
    let at = match &sid {
        Some(s) => format!("Statement[{index}] (Sid {s:?})"),
        None => format!("Statement[{index}]"),
    };
    let err = |msg: String| invalid(format!("{at}: {msg}"));

    let mut effect = None;
    let mut action = None;
    let mut not_action = None;
    let mut resource = None;
    let mut not_resource = None;
    let mut principal = None;
    let mut not_principal = None;
    let mut conditions = Vec::new();
    for (field, v) in fields {
        match field.as_str() {
            "Sid" => {}
            "Effect" => {
                effect = Some(match v.as_str() {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    _ => {
                        return Err(err(format!(
                            "Effect must be \"Allow\" or \"Deny\", not {v}"
                        )))
                    }
                })
            }
            "Action" => action = Some(string_list(&v).map_err(|m| err(format!("Action {m}")))?),
            "NotAction" => {
                not_action = Some(string_list(&v).map_err(|m| err(format!("NotAction {m}")))?)
            }
            "Resource" | "NotResource" => {
                let list = string_list(&v).map_err(|m| err(format!("{field} {m}")))?;
                for p in &list {
                    check_variables(p).map_err(|m| err(format!("{field}: {m}")))?;
                }
                if field == "Resource" {
                    resource = Some(list);
                } else {
                    not_resource = Some(list);
                }
            }
            "Principal" | "NotPrincipal" => {
                if kind == Kind::Permission {
                    return Err(err(format!(
                        "{field} is not allowed in a permission policy (only in a trust policy)"
                    )));
                }
                let spec = parse_principal(&v).map_err(|m| err(format!("{field} {m}")))?;
                if field == "Principal" {
                    principal = Some(spec);
                } else {
                    not_principal = Some(spec);
                }
            }
            "Condition" => conditions = parse_conditions(&v).map_err(err)?,
            other => return Err(err(format!("unknown field {other:?}"))),
        }
    }
    let effect = effect.ok_or_else(|| err("missing field \"Effect\"".into()))?;
    let (patterns, negated) = exactly_one(action, not_action, "Action", "NotAction")
        .map_err(err)?
        .ok_or_else(|| err("needs one of \"Action\" or \"NotAction\"".into()))?;
    let action = Patterns { negated, patterns };
    let resource = exactly_one(resource, not_resource, "Resource", "NotResource")
        .map_err(err)?
        .map(|(patterns, negated)| Patterns { negated, patterns });
    if resource.is_none() && kind == Kind::Permission {
        return Err(err("needs one of \"Resource\" or \"NotResource\"".into()));
    }
    let principal = exactly_one(principal, not_principal, "Principal", "NotPrincipal")
        .map_err(err)?
        .map(|(by_kind, negated)| PrincipalSpec { negated, by_kind });
    if principal.is_none() && kind == Kind::Trust {
        return Err(err(
            "a trust policy statement needs one of \"Principal\" or \"NotPrincipal\"".into(),
        ));
    }
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

/// `Some((value, negated))` for whichever of the pair is given; both is an error.
fn exactly_one<T>(
    positive: Option<T>,
    negative: Option<T>,
    positive_name: &str,
    negative_name: &str,
) -> Result<Option<(T, bool)>, String> {
    match (positive, negative) {
        (Some(_), Some(_)) => Err(format!(
            "has both \"{positive_name}\" and \"{negative_name}\"; give only one"
        )),
        (Some(p), None) => Ok(Some((p, false))),
        (None, Some(n)) => Ok(Some((n, true))),
        (None, None) => Ok(None),
    }
}

/// A string or a non-empty array of strings, none of them empty. The error message is
/// meant to follow the field's name.
fn string_list(v: &Value) -> Result<Vec<String>, String> {
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => {
            if items.is_empty() {
                return Err("must not be an empty array".into());
            }
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("must contain only strings, not {item}"))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        other => {
            return Err(format!(
                "must be a string or an array of strings, not {other}"
            ))
        }
    };
    if list.iter().any(String::is_empty) {
        return Err("must not contain an empty string".into());
    }
    Ok(list)
}

/// `"*"` (any principal: `None`) or `{"Federated" | "Service" | "AWS": string | [string]}`.
/// The error message is meant to follow the field's name.
#[allow(clippy::type_complexity)]
fn parse_principal(v: &Value) -> Result<Option<Vec<(String, Vec<String>)>>, String> {
    match v {
        Value::String(s) if s == "*" => Ok(None),
        Value::Object(kinds) => {
            if kinds.is_empty() {
                return Err("must not be an empty object".into());
            }
            let mut out = Vec::with_capacity(kinds.len());
            for (kind, values) in kinds {
                if !PRINCIPAL_KINDS.contains(&kind.as_str()) {
                    return Err(format!(
                        "has unknown principal type {kind:?} (expected \"Federated\", \"Service\" or \"AWS\")"
                    ));
                }
                let values = string_list(values).map_err(|m| format!("{kind:?} {m}"))?;
                out.push((kind.clone(), values));
            }
            Ok(Some(out))
        }
        other => Err(format!(
            "must be \"*\" or an object keyed by principal type, not {other}"
        )),
    }
}

fn parse_conditions(v: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(operators) = v else {
        return Err(format!("Condition must be an object, not {v}"));
    };
    let mut out = Vec::new();
    for (operator_name, block) in operators {
        let at = format!("Condition {operator_name:?}");
        let op = parse_operator(operator_name).map_err(|m| format!("{at}: {m}"))?;
        let Value::Object(keys) = block else {
            return Err(format!(
                "{at}: must be an object of condition keys to values, not {block}"
            ));
        };
        if keys.is_empty() {
            return Err(format!("{at}: has no condition keys"));
        }
        for (key, raw) in keys {
            let at = format!("{at} key {key:?}");
            if key.is_empty() {
                return Err(format!("{at}: the condition key must not be empty"));
            }
            let raw = condition_values(raw).map_err(|m| format!("{at}: {m}"))?;
            let values = typed_values(op.base, raw).map_err(|m| format!("{at}: {m}"))?;
            out.push(Condition {
                op,
                key: key.to_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

/// A string, bool or number, or a non-empty array of them; bools and numbers as text.
fn condition_values(v: &Value) -> Result<Vec<String>, String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) if items.is_empty() => Err("values must not be an empty array".into()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| {
                    format!("values must be strings, booleans or numbers, not {item}")
                })
            })
            .collect(),
        other => scalar(other).map(|s| vec![s]).ok_or_else(|| {
            format!("value must be a string, boolean, number or an array of them, not {other}")
        }),
    }
}

fn typed_values(base: Base, raw: Vec<String>) -> Result<Values, String> {
    Ok(match base {
        Base::StringEquals | Base::StringEqualsIgnoreCase | Base::StringLike => {
            for v in &raw {
                check_variables(v)?;
            }
            Values::Strings(raw)
        }
        Base::NumericEquals
        | Base::NumericLessThan
        | Base::NumericLessThanEquals
        | Base::NumericGreaterThan
        | Base::NumericGreaterThanEquals => Values::Numbers(
            raw.iter()
                .map(|v| parse_number(v).ok_or_else(|| format!("{v:?} is not a number")))
                .collect::<Result<_, _>>()?,
        ),
        Base::DateEquals
        | Base::DateLessThan
        | Base::DateLessThanEquals
        | Base::DateGreaterThan
        | Base::DateGreaterThanEquals => Values::Dates(
            raw.iter()
                .map(|v| {
                    parse_date(v).ok_or_else(|| {
                        format!("{v:?} is not a date (epoch seconds or YYYY-MM-DDTHH:MM:SSZ)")
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        Base::Bool | Base::Null => Values::Bools(
            raw.iter()
                .map(|v| parse_bool(v).ok_or_else(|| format!("{v:?} is not \"true\" or \"false\"")))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// `[ForAnyValue:|ForAllValues:]Name[IfExists]`.
fn parse_operator(name: &str) -> Result<Operator, String> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (SetOp::ForAnyValue, rest)
    } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (SetOp::ForAllValues, rest)
    } else {
        (SetOp::Single, name)
    };
    let (if_exists, rest) = match rest.strip_suffix("IfExists") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (base, negated) = match rest {
        "StringEquals" => (Base::StringEquals, false),
        "StringNotEquals" => (Base::StringEquals, true),
        "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
        "StringLike" => (Base::StringLike, false),
        "StringNotLike" => (Base::StringLike, true),
        "NumericEquals" => (Base::NumericEquals, false),
        "NumericNotEquals" => (Base::NumericEquals, true),
        "NumericLessThan" => (Base::NumericLessThan, false),
        "NumericLessThanEquals" => (Base::NumericLessThanEquals, false),
        "NumericGreaterThan" => (Base::NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (Base::NumericGreaterThanEquals, false),
        "DateEquals" => (Base::DateEquals, false),
        "DateNotEquals" => (Base::DateEquals, true),
        "DateLessThan" => (Base::DateLessThan, false),
        "DateLessThanEquals" => (Base::DateLessThanEquals, false),
        "DateGreaterThan" => (Base::DateGreaterThan, false),
        "DateGreaterThanEquals" => (Base::DateGreaterThanEquals, false),
        "Bool" => (Base::Bool, false),
        "Null" => (Base::Null, false),
        _ => return Err("unknown condition operator".into()),
    };
    if base == Base::Null && if_exists {
        return Err("Null does not take the IfExists suffix".into());
    }
    if base == Base::Null && set != SetOp::Single {
        return Err("Null does not take a ForAnyValue:/ForAllValues: prefix".into());
    }
    Ok(Operator {
        base,
        negated,
        if_exists,
        set,
    })
}

// ---------------------------------------------------------------------------------------
// JSON with repeated keys refused

/// Prefix of the error for a repeated key; a repeated key would otherwise silently keep
/// only the last value.
const DUPLICATE_KEY: &str = "duplicate JSON key";

/// A [`Value`] built by a deserializer that refuses repeated object keys.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!("{DUPLICATE_KEY} {k:?}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    fn trust(json: &str) -> PolicyDocument {
        PolicyDocument::parse_trust(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.insert(k, *v);
        }
        c
    }

    fn decide(
        policies: &[(&str, &PolicyDocument)],
        session: Option<&PolicyDocument>,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> Decision {
        evaluate(
            policies,
            session,
            &Request {
                action,
                resource,
                principal: None,
                context,
            },
        )
    }

    fn allowed(policy: &PolicyDocument, action: &str, resource: &str, context: &Context) -> bool {
        decide(&[("p", policy)], None, action, resource, context).allowed
    }

    /// One Allow statement on everything, guarded by `condition`.
    fn conditional(condition: &str) -> PolicyDocument {
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}}}"#
        ))
    }

    fn statement(policy: &str, index: usize, sid: Option<&str>) -> Option<StatementRef> {
        Some(StatementRef {
            policy: policy.into(),
            index,
            sid: sid.map(str::to_owned),
        })
    }

    const READ_BUCKET: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
             "Resource": "arn:signet:s3:::bucket/*"}
        ]
    }"#;

    #[test]
    fn allow_and_default_deny() {
        let p = doc(READ_BUCKET);
        let c = Context::new();
        assert_eq!(
            decide(
                &[("read", &p)],
                None,
                "s3:GetObject",
                "arn:signet:s3:::bucket/a/b.txt",
                &c
            ),
            Decision {
                allowed: true,
                reason: Reason::Allowed,
                decided_by: statement("read", 0, Some("Read")),
            }
        );
        let cases = [
            ("s3:GetObject", "arn:signet:s3:::bucket/x", true),
            ("s3:ListBucket", "arn:signet:s3:::bucket/x", true),
            ("s3:PutObject", "arn:signet:s3:::bucket/x", false),
            ("s3:GetObject", "arn:signet:s3:::other/x", false),
            ("s3:GetObject", "arn:signet:s3:::bucket", false),
            ("s3:GetObjectAcl", "arn:signet:s3:::bucket/x", false),
        ];
        for (action, resource, expected) in cases {
            assert_eq!(
                allowed(&p, action, resource, &c),
                expected,
                "{action} {resource}"
            );
        }
        assert_eq!(
            decide(
                &[("read", &p)],
                None,
                "s3:PutObject",
                "arn:signet:s3:::bucket/x",
                &c
            ),
            Decision {
                allowed: false,
                reason: Reason::ImplicitDeny,
                decided_by: None,
            }
        );
        // No policies, or an empty one, deny everything.
        assert!(!decide(&[], None, "s3:GetObject", "x", &c).allowed);
        let empty = doc(r#"{"Statement": []}"#);
        assert_eq!(
            decide(&[("empty", &empty)], None, "s3:GetObject", "x", &c).reason,
            Reason::ImplicitDeny
        );
    }

    #[test]
    fn explicit_deny_beats_allow_across_policies() {
        let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        let deny = doc(r#"{"Statement":[
                {"Effect":"Allow","Action":"s3:*","Resource":"*"},
                {"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"arn:signet:s3:::bucket/*"}
            ]}"#);
        let c = Context::new();
        let d = decide(
            &[("admin", &allow), ("guard", &deny)],
            None,
            "s3:DeleteObject",
            "arn:signet:s3:::bucket/k",
            &c,
        );
        assert_eq!(
            d,
            Decision {
                allowed: false,
                reason: Reason::ExplicitDeny,
                decided_by: statement("guard", 1, Some("NoDelete")),
            }
        );
        // The deny does not cover other actions or resources.
        let d = decide(
            &[("admin", &allow), ("guard", &deny)],
            None,
            "s3:DeleteObject",
            "arn:signet:s3:::other/k",
            &c,
        );
        assert_eq!(d.reason, Reason::Allowed);
        assert_eq!(d.decided_by, statement("admin", 0, None));
    }

    #[test]
    fn action_wildcards_and_case() {
        let c = Context::new();
        let cases = [
            ("s3:Get*", "s3:GetObject", true),
            ("s3:Get*", "s3:Get", true),
            ("s3:Get*", "s3:PutObject", false),
            ("s3:Get*", "ec2:GetObject", false),
            ("*", "anything:AtAll", true),
            ("s3:*Object", "s3:GetObject", true),
            ("s3:?etObject", "s3:GetObject", true),
            ("s3:?etObject", "s3:etObject", false),
            ("s3:?etObject", "s3:GGetObject", false),
            ("s3:getobject", "S3:GETOBJECT", true),
            ("S3:GET*", "s3:getObject", true),
        ];
        for (pattern, action, expected) in cases {
            let p = doc(&format!(
                r#"{{"Statement":{{"Effect":"Allow","Action":"{pattern}","Resource":"*"}}}}"#
            ));
            assert_eq!(
                allowed(&p, action, "r", &c),
                expected,
                "{pattern} vs {action}"
            );
        }
    }

    #[test]
    fn resources_are_case_sensitive() {
        let p = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":["arn:signet:s3:::Bucket/*","arn:signet:s3:::b?/key"]}}"#,
        );
        let c = Context::new();
        assert!(allowed(&p, "a:b", "arn:signet:s3:::Bucket/x/y:z", &c));
        assert!(!allowed(&p, "a:b", "arn:signet:s3:::bucket/x", &c));
        assert!(allowed(&p, "a:b", "arn:signet:s3:::b1/key", &c));
        assert!(!allowed(&p, "a:b", "arn:signet:s3:::b12/key", &c));
    }

    #[test]
    fn not_action_and_not_resource() {
        let p = doc(
            r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","sts:AssumeRole"],"NotResource":"arn:signet:s3:::secret/*"}}"#,
        );
        let c = Context::new();
        assert!(allowed(&p, "s3:GetObject", "arn:signet:s3:::bucket/x", &c));
        assert!(!allowed(
            &p,
            "iam:CreateUser",
            "arn:signet:s3:::bucket/x",
            &c
        ));
        assert!(!allowed(
            &p,
            "STS:assumerole",
            "arn:signet:s3:::bucket/x",
            &c
        ));
        assert!(allowed(
            &p,
            "sts:AssumeRoleWithWebIdentity",
            "arn:signet:s3:::bucket/x",
            &c
        ));
        assert!(!allowed(&p, "s3:GetObject", "arn:signet:s3:::secret/x", &c));

        // A Deny with NotAction denies everything but the listed actions.
        let allow_all = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        let only_reads =
            doc(r#"{"Statement":{"Effect":"Deny","NotAction":"s3:Get*","Resource":"*"}}"#);
        let d = decide(
            &[("a", &allow_all), ("b", &only_reads)],
            None,
            "s3:PutObject",
            "r",
            &c,
        );
        assert_eq!(d.reason, Reason::ExplicitDeny);
        let d = decide(
            &[("a", &allow_all), ("b", &only_reads)],
            None,
            "s3:GetObject",
            "r",
            &c,
        );
        assert_eq!(d.reason, Reason::Allowed);
    }

    #[test]
    fn string_conditions() {
        let c = ctx(&[
            ("signet:Tag", "Blue"),
            ("signet:multi", "a"),
            ("signet:multi", "b"),
        ]);
        let cases = [
            (r#"{"StringEquals":{"signet:tag":"Blue"}}"#, true),
            (r#"{"StringEquals":{"SIGNET:TAG":["red","Blue"]}}"#, true),
            (r#"{"StringEquals":{"signet:tag":"blue"}}"#, false),
            (r#"{"StringEqualsIgnoreCase":{"signet:tag":"bLUE"}}"#, true),
            (r#"{"StringNotEquals":{"signet:tag":"Blue"}}"#, false),
            (
                r#"{"StringNotEquals":{"signet:tag":["red","green"]}}"#,
                true,
            ),
            (
                r#"{"StringNotEqualsIgnoreCase":{"signet:tag":"BLUE"}}"#,
                false,
            ),
            (r#"{"StringLike":{"signet:tag":"B*"}}"#, true),
            (r#"{"StringLike":{"signet:tag":"b*"}}"#, false),
            (r#"{"StringLike":{"signet:tag":"Bl?e"}}"#, true),
            (r#"{"StringNotLike":{"signet:tag":"R*"}}"#, true),
            (r#"{"StringNotLike":{"signet:tag":"*u*"}}"#, false),
            // A StringEquals value is not a pattern.
            (r#"{"StringEquals":{"signet:tag":"B*"}}"#, false),
            // Multi-valued key without a set operator: any value may match.
            (r#"{"StringEquals":{"signet:multi":"b"}}"#, true),
            (r#"{"StringNotEquals":{"signet:multi":"b"}}"#, false),
            // Missing keys: positive false, negated true.
            (r#"{"StringEquals":{"signet:missing":"x"}}"#, false),
            (r#"{"StringLike":{"signet:missing":"*"}}"#, false),
            (r#"{"StringNotEquals":{"signet:missing":"x"}}"#, true),
            (r#"{"StringNotLike":{"signet:missing":"*"}}"#, true),
            // IfExists: absent holds, present is evaluated.
            (r#"{"StringEqualsIfExists":{"signet:missing":"x"}}"#, true),
            (r#"{"StringEqualsIfExists":{"signet:tag":"Red"}}"#, false),
            (r#"{"StringEqualsIfExists":{"signet:tag":"Blue"}}"#, true),
            // Keys in one operator AND; operators AND.
            (
                r#"{"StringEquals":{"signet:tag":"Blue","signet:multi":"a"}}"#,
                true,
            ),
            (
                r#"{"StringEquals":{"signet:tag":"Blue","signet:multi":"z"}}"#,
                false,
            ),
            (
                r#"{"StringEquals":{"signet:tag":"Blue"},"StringLike":{"signet:multi":"z*"}}"#,
                false,
            ),
        ];
        for (condition, expected) in cases {
            assert_eq!(
                allowed(&conditional(condition), "a:b", "r", &c),
                expected,
                "{condition}"
            );
        }
    }

    #[test]
    fn numeric_date_bool_null_conditions() {
        let c = ctx(&[
            ("n", "10"),
            ("f", "2.5"),
            ("bad", "ten"),
            ("t", "2024-02-29T12:00:00Z"),
            ("epoch", "1709208000"),
            ("secure", "true"),
            ("empty", ""),
        ]);
        let cases = [
            (r#"{"NumericEquals":{"n":10}}"#, true),
            (r#"{"NumericEquals":{"n":"10.0"}}"#, true),
            (r#"{"NumericNotEquals":{"n":"10"}}"#, false),
            (r#"{"NumericNotEquals":{"n":["1","2"]}}"#, true),
            (r#"{"NumericLessThan":{"n":"10"}}"#, false),
            (r#"{"NumericLessThanEquals":{"n":"10"}}"#, true),
            (r#"{"NumericGreaterThan":{"n":"9.5"}}"#, true),
            (r#"{"NumericGreaterThanEquals":{"n":"11"}}"#, false),
            (r#"{"NumericLessThan":{"f":"3"}}"#, true),
            (r#"{"NumericEquals":{"bad":"10"}}"#, false),
            (r#"{"NumericLessThan":{"missing":"10"}}"#, false),
            (r#"{"NumericNotEquals":{"missing":"10"}}"#, true),
            (r#"{"NumericLessThanIfExists":{"missing":"10"}}"#, true),
            (r#"{"NumericLessThanIfExists":{"n":"5"}}"#, false),
            (r#"{"DateEquals":{"t":"1709208000"}}"#, true),
            (r#"{"DateEquals":{"epoch":"2024-02-29T12:00:00Z"}}"#, true),
            (r#"{"DateNotEquals":{"t":"2024-02-29T12:00:00Z"}}"#, false),
            (r#"{"DateLessThan":{"t":"2024-02-29T12:00:01Z"}}"#, true),
            (r#"{"DateLessThan":{"t":"2024-02-29T12:00:00Z"}}"#, false),
            (
                r#"{"DateLessThanEquals":{"t":"2024-02-29T12:00:00Z"}}"#,
                true,
            ),
            (r#"{"DateGreaterThan":{"t":"2024-01-01T00:00:00Z"}}"#, true),
            (r#"{"DateGreaterThanEquals":{"t":1709208001}}"#, false),
            (
                r#"{"DateGreaterThanIfExists":{"missing":"2024-01-01T00:00:00Z"}}"#,
                true,
            ),
            (r#"{"Bool":{"secure":true}}"#, true),
            (r#"{"Bool":{"secure":"false"}}"#, false),
            (r#"{"Bool":{"missing":"false"}}"#, false),
            (r#"{"BoolIfExists":{"missing":"true"}}"#, true),
            (r#"{"Null":{"missing":"true"}}"#, true),
            (r#"{"Null":{"missing":false}}"#, false),
            (r#"{"Null":{"secure":"true"}}"#, false),
            (r#"{"Null":{"secure":"false"}}"#, true),
            // An empty value is still a value.
            (r#"{"Null":{"empty":"false"}}"#, true),
        ];
        for (condition, expected) in cases {
            assert_eq!(
                allowed(&conditional(condition), "a:b", "r", &c),
                expected,
                "{condition}"
            );
        }
        // A key set to no values at all counts as absent.
        let mut c = Context::new();
        c.set("k", vec![]);
        assert!(allowed(
            &conditional(r#"{"Null":{"k":"true"}}"#),
            "a:b",
            "r",
            &c
        ));
    }

    #[test]
    fn set_operators() {
        let c = ctx(&[("tags", "a"), ("tags", "b")]);
        let cases = [
            (r#"{"ForAnyValue:StringEquals":{"tags":["b","z"]}}"#, true),
            (r#"{"ForAnyValue:StringEquals":{"tags":["y","z"]}}"#, false),
            (
                r#"{"ForAllValues:StringEquals":{"tags":["a","b","c"]}}"#,
                true,
            ),
            (r#"{"ForAllValues:StringEquals":{"tags":["a","c"]}}"#, false),
            (r#"{"ForAllValues:StringLike":{"tags":"?"}}"#, true),
            // Absent key: ForAllValues holds, ForAnyValue does not.
            (r#"{"ForAllValues:StringEquals":{"missing":"a"}}"#, true),
            (r#"{"ForAnyValue:StringEquals":{"missing":"a"}}"#, false),
            (
                r#"{"ForAnyValue:StringEqualsIfExists":{"missing":"a"}}"#,
                true,
            ),
            // Negated: some value matches none / every value matches none.
            (r#"{"ForAnyValue:StringNotEquals":{"tags":"a"}}"#, true),
            (
                r#"{"ForAnyValue:StringNotEquals":{"tags":["a","b"]}}"#,
                false,
            ),
            (
                r#"{"ForAllValues:StringNotEquals":{"tags":["x","y"]}}"#,
                true,
            ),
            (r#"{"ForAllValues:StringNotEquals":{"tags":"a"}}"#, false),
            (r#"{"ForAnyValue:NumericGreaterThan":{"tags":"1"}}"#, false),
        ];
        for (condition, expected) in cases {
            assert_eq!(
                allowed(&conditional(condition), "a:b", "r", &c),
                expected,
                "{condition}"
            );
        }
        let mut empty = Context::new();
        empty.set("tags", vec![]);
        assert!(allowed(
            &conditional(r#"{"ForAllValues:StringEquals":{"tags":"a"}}"#),
            "a:b",
            "r",
            &empty
        ));
    }

    #[test]
    fn policy_variables() {
        let p = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:signet:s3:::bucket/${signet:sub}/*"}}"#,
        );
        let alice = ctx(&[("Signet:Sub", "alice"), ("signet:sub", "mallory")]);
        assert!(allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/alice/notes.txt",
            &alice
        ));
        assert!(!allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/mallory/notes.txt",
            &alice
        ));
        assert!(!allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/bob/notes.txt",
            &alice
        ));
        // No such key: the pattern matches nothing, not even a literal "${signet:sub}".
        let none = Context::new();
        assert!(!allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/${signet:sub}/x",
            &none
        ));
        // A substituted value is literal: a sub of "*" is not a wildcard.
        let star = ctx(&[("signet:sub", "*")]);
        assert!(!allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/bob/x",
            &star
        ));
        assert!(allowed(
            &p,
            "s3:GetObject",
            "arn:signet:s3:::bucket/*/x",
            &star
        ));

        // Escapes are literal characters.
        let esc = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:x:${*}/${?}/${$}{a}"}}"#,
        );
        assert!(allowed(&esc, "a:b", "arn:x:*/?/${a}", &none));
        assert!(!allowed(&esc, "a:b", "arn:x:z/?/${a}", &none));
        assert!(!allowed(&esc, "a:b", "arn:x:*/z/${a}", &none));

        // In condition values.
        let cond = conditional(r#"{"StringEquals":{"signet:owner":"${signet:sub}"}}"#);
        let c = ctx(&[("signet:owner", "alice"), ("signet:sub", "alice")]);
        assert!(allowed(&cond, "a:b", "r", &c));
        let c = ctx(&[("signet:owner", "bob"), ("signet:sub", "alice")]);
        assert!(!allowed(&cond, "a:b", "r", &c));
        let c = ctx(&[("signet:owner", "${signet:sub}")]);
        assert!(!allowed(&cond, "a:b", "r", &c));
        let like = conditional(r#"{"StringLike":{"path":"home/${signet:sub}/*"}}"#);
        let c = ctx(&[("path", "home/alice/x"), ("signet:sub", "alice")]);
        assert!(allowed(&like, "a:b", "r", &c));
        let c = ctx(&[("path", "home/alice/x"), ("signet:sub", "?lice")]);
        assert!(!allowed(&like, "a:b", "r", &c));
        let literal = conditional(r#"{"StringEquals":{"k":"a${*}b${$}"}}"#);
        assert!(allowed(&literal, "a:b", "r", &ctx(&[("k", "a*b$")])));
    }

    #[test]
    fn session_policy_only_narrows() {
        let role =
            doc(r#"{"Statement":{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        let session = doc(r#"{"Statement":[
            {"Effect":"Allow","Action":["s3:GetObject","iam:*"],"Resource":"*"},
            {"Sid":"NoSecret","Effect":"Deny","Action":"*","Resource":"arn:signet:s3:::secret"}
        ]}"#);
        let c = Context::new();
        let run =
            |action, resource| decide(&[("role", &role)], Some(&session), action, resource, &c);
        assert_eq!(
            run("s3:GetObject", "arn:signet:s3:::b"),
            Decision {
                allowed: true,
                reason: Reason::Allowed,
                decided_by: statement("role", 0, Some("All")),
            }
        );
        // The role allows it, the session policy does not.
        assert_eq!(
            run("s3:PutObject", "arn:signet:s3:::b"),
            Decision {
                allowed: false,
                reason: Reason::ImplicitDeny,
                decided_by: None,
            }
        );
        // The session Deny wins.
        assert_eq!(
            run("s3:GetObject", "arn:signet:s3:::secret"),
            Decision {
                allowed: false,
                reason: Reason::ExplicitDeny,
                decided_by: statement("session", 1, Some("NoSecret")),
            }
        );
        // The session policy allows iam:*, the role does not: no widening.
        assert_eq!(
            run("iam:CreateUser", "arn:signet:s3:::b").reason,
            Reason::ImplicitDeny
        );
        // An empty session policy denies everything.
        let empty = doc(r#"{"Statement":[]}"#);
        assert!(!decide(&[("role", &role)], Some(&empty), "s3:GetObject", "x", &c).allowed);
    }

    #[test]
    fn trust_policy_principals() {
        let web = trust(
            r#"{"Version":"2012-10-17","Statement":[{
                "Sid":"Web","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity",
                "Principal":{"Federated":"accounts.google.com"},
                "Condition":{"StringEquals":{"accounts.google.com:aud":"client-1"}}
            }]}"#,
        );
        let several = trust(
            r#"{"Statement":{"Effect":"Allow","Action":"sts:*",
                "Principal":{"Federated":["idp-a","signet.example.com/pools/*"],"Service":"ec2.example"}}}"#,
        );
        let anyone =
            trust(r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"}}"#);
        let not_p = trust(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"},
                {"Effect":"Deny","Action":"sts:AssumeRole","NotPrincipal":{"AWS":"trusted-*"}}]}"#,
        );
        let aud = ctx(&[("accounts.google.com:aud", "client-1")]);
        let check =
            |p: &PolicyDocument, action: &str, principal: Option<(&str, &str)>, c: &Context| {
                evaluate(
                    &[("trust", p)],
                    None,
                    &Request {
                        action,
                        resource: "arn:signet:iam::role/r",
                        principal: principal.map(|(kind, value)| Principal { kind, value }),
                        context: c,
                    },
                )
                .allowed
            };
        let e = Context::new();
        let wi = "sts:AssumeRoleWithWebIdentity";
        assert!(check(
            &web,
            wi,
            Some(("Federated", "accounts.google.com")),
            &aud
        ));
        assert!(!check(
            &web,
            wi,
            Some(("Federated", "accounts.google.com")),
            &e
        ));
        assert!(!check(&web, wi, Some(("Federated", "evil.example")), &aud));
        assert!(!check(
            &web,
            wi,
            Some(("Service", "accounts.google.com")),
            &aud
        ));
        assert!(!check(&web, wi, None, &aud));
        assert!(check(&several, wi, Some(("Federated", "idp-a")), &e));
        assert!(check(
            &several,
            wi,
            Some(("Federated", "signet.example.com/pools/eu-1_X")),
            &e
        ));
        assert!(!check(&several, wi, Some(("Federated", "idp-b")), &e));
        assert!(check(&several, wi, Some(("Service", "ec2.example")), &e));
        assert!(check(
            &anyone,
            "sts:AssumeRole",
            Some(("AWS", "whoever")),
            &e
        ));
        assert!(!check(&anyone, "sts:AssumeRole", None, &e));
        assert!(check(
            &not_p,
            "sts:AssumeRole",
            Some(("AWS", "trusted-1")),
            &e
        ));
        assert!(!check(
            &not_p,
            "sts:AssumeRole",
            Some(("AWS", "stranger")),
            &e
        ));
        assert!(!check(
            &not_p,
            "sts:AssumeRole",
            Some(("Federated", "trusted-1")),
            &e
        ));
    }

    #[test]
    fn parse_errors() {
        let big = format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"{}"}}}}"#,
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert_eq!(
            PolicyDocument::parse(&big).err(),
            Some(PolicyError::TooLarge {
                size: big.len(),
                max: MAX_POLICY_BYTES
            })
        );
        assert!(matches!(
            PolicyDocument::parse("{"),
            Err(PolicyError::Json(_))
        ));
        assert!(matches!(
            PolicyDocument::parse("[]"),
            Err(PolicyError::Invalid(_))
        ));

        let permission_cases = [
            (
                r#"{"Statement":[],"Extra":1}"#,
                "unknown top-level field \"Extra\"",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                "unsupported Version",
            ),
            (r#"{"Version":"2012-10-17"}"#, "missing field \"Statement\""),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"S1","Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}]}"#,
                "Statement[1] (Sid \"S1\"): unknown field \"Actions\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}}"#,
                "Statement[0]: has both \"Action\" and \"NotAction\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "Statement[0]: needs one of \"Action\" or \"NotAction\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
                "Statement[0]: needs one of \"Resource\" or \"NotResource\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}}"#,
                "has both \"Resource\" and \"NotResource\"",
            ),
            (
                r#"{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#,
                "Statement[0]: Effect must be \"Allow\" or \"Deny\"",
            ),
            (
                r#"{"Statement":{"Action":"*","Resource":"*"}}"#,
                "Statement[0]: missing field \"Effect\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
                "Action must not be an empty array",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":["s3:Get",3],"Resource":"*"}}"#,
                "Action must contain only strings",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"k":"v"}}}}"#,
                "Condition \"StringEqualz\": unknown condition operator",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"k":"ten"}}}}"#,
                "Condition \"NumericLessThan\" key \"k\": \"ten\" is not a number",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"inf"}}}}"#,
                "\"inf\" is not a number",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"k":"2024-02-30T00:00:00Z"}}}}"#,
                "is not a date",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"k":"yes"}}}}"#,
                "\"yes\" is not \"true\" or \"false\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}}"#,
                "Null does not take the IfExists suffix",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}"#,
                "Condition \"StringEquals\" key \"k\": value must be",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"${oops"}}}}"#,
                "unterminated policy variable",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:${}"}}"#,
                "Resource: empty policy variable",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}"#,
                "Statement[0]: Principal is not allowed in a permission policy",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotPrincipal":{"AWS":"x"}}}"#,
                "NotPrincipal is not allowed in a permission policy",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}"#,
                "duplicate JSON key \"Effect\"",
            ),
        ];
        for (json, expected) in permission_cases {
            match PolicyDocument::parse(json) {
                Err(e @ PolicyError::Invalid(_)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(expected), "{msg:?} lacks {expected:?}");
                }
                other => panic!("{json}: expected Invalid containing {expected:?}, got {other:?}"),
            }
        }

        let trust_cases = [
            (
                r#"{"Statement":{"Sid":"T","Effect":"Allow","Action":"sts:AssumeRole"}}"#,
                "Statement[0] (Sid \"T\"): a trust policy statement needs one of \"Principal\" or \"NotPrincipal\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Users":"x"}}}"#,
                "unknown principal type \"Users\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"someone"}}"#,
                "Principal must be \"*\" or an object",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*","NotPrincipal":"*"}}"#,
                "has both \"Principal\" and \"NotPrincipal\"",
            ),
        ];
        for (json, expected) in trust_cases {
            match PolicyDocument::parse_trust(json) {
                Err(e @ PolicyError::Invalid(_)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(expected), "{msg:?} lacks {expected:?}");
                }
                other => panic!("{json}: expected Invalid containing {expected:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn parse_accepts_the_documented_shapes() {
        let p = doc(r#"{"Version":"2008-10-17","Id":"P1","Statement":[
                {"Sid":"A","Effect":"Deny","Action":"a:b","Resource":["r1","r2"],
                 "Condition":{"ForAllValues:StringLikeIfExists":{"k":["v*",true,3]},"Null":{"x":true}}}
            ]}"#);
        assert_eq!(p.version(), Some("2008-10-17"));
        assert_eq!(p.id(), Some("P1"));
        assert_eq!(p.statements().len(), 1);
        assert_eq!(p.statements()[0].sid(), Some("A"));
        assert_eq!(p.statements()[0].effect(), Effect::Deny);
        // Resource is optional in a trust policy.
        let t = trust(
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["a","b"]}}}"#,
        );
        assert_eq!(t.statements()[0].effect(), Effect::Allow);
        assert!(t.version().is_none());
    }

    #[test]
    fn context_keys_are_case_insensitive_and_multi_valued() {
        let mut c = Context::new();
        c.insert("Signet:Groups", "admins");
        c.insert("signet:groups", "devs");
        assert_eq!(
            c.get("SIGNET:GROUPS"),
            Some(&["admins".to_owned(), "devs".to_owned()][..])
        );
        c.set("signet:GROUPS", vec!["ops".into()]);
        assert_eq!(c.get("signet:groups"), Some(&["ops".to_owned()][..]));
        assert_eq!(c.get("other"), None);
    }

    #[test]
    fn wildcard_matching() {
        let cases = [
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("*", "a/b:c", true),
            ("?", "", false),
            ("?", "ü", true),
            ("a*b", "ab", true),
            ("a*b", "a/x:yb", true),
            ("a*b", "a/x:yc", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b*", "xxbxxaxx", false),
            ("a**b", "ab", true),
            ("*.txt", "notes.txt", true),
            ("*.txt", "notes.txt.bak", false),
            ("ab*", "a", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(
                wildcard_match(pattern, value, false),
                expected,
                "{pattern:?} {value:?}"
            );
        }
        assert!(wildcard_match("S3:Get*", "s3:getobject", true));
        assert!(!wildcard_match("S3:Get*", "s3:getobject", false));
    }

    #[test]
    fn pathological_wildcard_is_fast() {
        let value = "a".repeat(10_000);
        let pattern = "*a*a*a*a*a*a*a*a*b";
        let start = Instant::now();
        assert!(!wildcard_match(pattern, &value, false));
        assert!(wildcard_match(&pattern.replace('b', "a"), &value, false));
        let mut with_b = value.clone();
        with_b.push('b');
        assert!(wildcard_match(pattern, &with_b, false));
        // Also through a Resource pattern.
        let p = doc(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"{pattern}"}}}}"#
        ));
        assert!(!allowed(&p, "a:b", &value, &Context::new()));
        let elapsed = start.elapsed();
        assert!(elapsed.as_millis() < 500, "took {elapsed:?}");
    }
}
