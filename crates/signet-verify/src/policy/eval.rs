//! Evaluation: which statements apply to a request, and the decision.

use super::dates::parse_date;
use super::parse::{parse_bool, parse_number};
use super::vars::{expand, tokens_to_string};
use super::wildcard::{match_tokens, resource_match, wildcard_match, Tok};
use super::*;

/// Evaluate a request against named identity (permission or trust) policies and an optional
/// session policy, which can only narrow what the identity policies allow.
///
/// Any applicable `Deny` (identity policies first, then the session policy) denies with
/// [`Reason::ExplicitDeny`]. Otherwise the request is allowed iff some identity policy has
/// an applicable `Allow` and, when `session` is given, so does the session policy.
///
/// An action over [`MAX_ACTION_BYTES`] or a resource over [`MAX_RESOURCE_BYTES`] is denied
/// ([`Reason::ImplicitDeny`]) without being matched; check a caller's request with
/// [`check_request_sizes`] first to answer it with an error instead.
pub fn evaluate(
    policies: &[(&str, &PolicyDocument)],
    session: Option<&PolicyDocument>,
    req: &Request,
) -> Decision {
    if !super::limits::within_limits(req.action, req.resource) {
        return Decision {
            allowed: false,
            reason: Reason::ImplicitDeny,
            decided_by: None,
        };
    }
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
            .any(|p| expand(p, ctx, true).is_some_and(|tokens| resource_match(&tokens, &value)));
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
        // negated operator, none. A value the operator cannot read (not a number, date or
        // bool) passes neither way: IAM's condition does not match, `…NotEquals` included.
        let passes = |v: &String| {
            matcher
                .matches_any(v)
                .is_some_and(|matched| matched != self.op.negated)
        };
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
    Dates(Base, &'a [i128]),
    Bools(&'a [bool]),
}

impl Matcher<'_> {
    /// Whether one context value matches at least one policy value (positively: the `Not`
    /// of negated operators is applied by the caller); `None` if the value is not of the
    /// operator's type (a number, a date or a bool).
    fn matches_any(&self, v: &str) -> Option<bool> {
        Some(match self {
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
                patterns.iter().any(|p| match_tokens(p, &v, true))
            }
            Matcher::Numbers(base, values) => {
                let x = parse_number(v)?;
                values.iter().any(|&p| compare(*base, x, p))
            }
            Matcher::Dates(base, values) => {
                let x = parse_date(v)?;
                values.iter().any(|&p| compare(*base, x, p))
            }
            Matcher::Bools(values) => values.contains(&parse_bool(v)?),
        })
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
