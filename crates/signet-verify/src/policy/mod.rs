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
//! cannot read, malformed policy variables, repeated JSON keys and documents over
//! [`MAX_POLICY_BYTES`] are refused.
//!
//! [`evaluate`] follows IAM: an applicable `Deny` anywhere wins, then an applicable `Allow` in
//! an identity policy is needed (and, when a session policy is given, one in the session
//! policy as well); anything else is an implicit deny. What a request may carry is bounded
//! ([`check_request_sizes`]).
//!
//! # IAM features not supported
//!
//! Each of these is refused when the document is parsed ([`PolicyError::Invalid`]), never
//! evaluated as something else:
//!
//! * the condition operators `ArnEquals`, `ArnLike`, `ArnNotEquals`, `ArnNotLike`,
//!   `IpAddress`, `NotIpAddress` and `BinaryEquals`, with or without `IfExists` or a
//!   `ForAnyValue:`/`ForAllValues:` prefix (and any operator IAM does not define);
//! * `Principal`/`NotPrincipal` in a permission policy, and principal types other than
//!   `AWS`, `Federated` and `Service` (e.g. `CanonicalUser`) in a trust policy;
//! * policy variables anywhere but `Resource`/`NotResource` and `String…` condition values
//!   (in `Action`, `NotAction`, principals; in numeric, date and bool values they are not
//!   numbers, dates or bools), and multi-valued keys ([`MULTI_VALUED_KEYS`]) as variables;
//! * `Version`s other than `2012-10-17` and `2008-10-17`.
//!
//! Known differences that are not refused: variables are substituted whatever the
//! `Version` (IAM takes `${…}` literally under `2008-10-17` or without a `Version`), and
//! [`evaluate`] knows identity policies and a session policy only: resource-based
//! policies, permissions boundaries and organisation policies are not part of a decision.

//! # Matching
//!
//! * `Action` patterns match case-insensitively, `Resource` patterns and principal values
//!   case-sensitively; `*` matches any run of characters (`/` and `:` included), `?` exactly
//!   one character ([`wildcard_match`]).
//! * A `Resource` pattern that is an ARN (starts with `arn:`) is matched per segment, as IAM
//!   does: `arn:partition:service:region:account:resource` is split on its first five `:`
//!   and `*`/`?` match within a segment, so `arn:aws:dynamodb:us-east-1:*/T` does not match
//!   `arn:aws:dynamodb:us-east-1:123456789012:table/T`. In the last segment `*` also matches
//!   `:`; `?` never does. A `*` ending a pattern of fewer than six segments expands across
//!   the colons (`arn:aws:s3:*`). `"*"` and other non-ARN patterns are plain globs.
//! * Matching never backtracks: at worst `O(value × ⌈pattern / 64⌉)` word operations.
//! * `${key}` in a `Resource`/`NotResource` pattern or in the value of a `String…` condition
//!   is replaced by the context's value of `key` (case-insensitive); `${key, 'default'}` by
//!   that value if there is one, else by `default`. `${*}`, `${?}` and `${$}` are a literal
//!   `*`, `?` and `$`; substituted text is always literal, never a wildcard. A key resolves
//!   only when the context gives it exactly one value: a pattern or value referring to a
//!   key that does not, and that has no default, matches nothing.

mod dates;
mod eval;
mod limits;
mod parse;
mod strict_json;
#[cfg(test)]
mod tests;
mod vars;
mod wildcard;

pub use eval::evaluate;
pub use limits::{
    check_request_sizes, MAX_ACTION_BYTES, MAX_CONTEXT_KEYS, MAX_CONTEXT_KEY_BYTES,
    MAX_CONTEXT_VALUE_BYTES, MAX_RESOURCE_BYTES,
};
use parse::{parse_document, Kind};
pub use vars::MULTI_VALUED_KEYS;
pub use wildcard::wildcard_match;

use std::collections::HashMap;
use thiserror::Error;

/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 10_240;

/// The `Version` values accepted.
const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// Why a policy document, or an authorization request, was refused.
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
    /// An authorization request is over one of the limits of [`check_request_sizes`]; it
    /// was not evaluated. A server answers this as an invalid argument.
    #[error("the request's {what} is too large: {size} {}, over the limit of {max}", if *.what == "context" { "entries" } else { "bytes" })]
    RequestTooLarge {
        /// `"action"`, `"resource"`, `"context"` (its number of entries), `"context key"`
        /// or `"context value"`.
        what: &'static str,
        /// Its size: bytes, or entries for `"context"`.
        size: usize,
        /// The limit.
        max: usize,
    },
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
    /// Nanoseconds since the Unix epoch.
    Dates(Vec<i128>),
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
