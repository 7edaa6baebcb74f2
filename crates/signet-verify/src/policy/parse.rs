//! Parsing and validating policy documents.

use super::dates::parse_date;
use super::strict_json::{StrictValue, DUPLICATE_KEY};
use super::vars::check_variables;
use super::*;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Permission,
    Trust,
}

fn invalid(msg: impl Into<String>) -> PolicyError {
    PolicyError::Invalid(msg.into())
}

pub(super) fn parse_document(json: &str, kind: Kind) -> Result<PolicyDocument, PolicyError> {
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
            "Action" | "NotAction" => {
                let list = string_list(&v).map_err(|m| err(format!("{field} {m}")))?;
                no_variables(&list).map_err(|m| err(format!("{field}: {m}")))?;
                if field == "Action" {
                    action = Some(list);
                } else {
                    not_action = Some(list);
                }
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

/// IAM substitutes policy variables only in `Resource`/`NotResource` and `String…`
/// condition values; elsewhere `${…}` is refused rather than matched as text.
fn no_variables(list: &[String]) -> Result<(), String> {
    match list.iter().find(|v| v.contains("${")) {
        Some(v) => Err(format!(
            "policy variables are not allowed here (only in Resource, NotResource and \
             String condition values): {v:?}"
        )),
        None => Ok(()),
    }
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
                no_variables(&values).map_err(|m| format!("{kind:?}: {m}"))?;
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
                        format!(
                            "{v:?} is not a date (W3C ISO 8601 such as 2024-02-29 or \
                             2024-02-29T12:00:00Z, or epoch seconds)"
                        )
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

/// IAM condition operators (without prefix or `IfExists`) that Signet does not evaluate: a
/// policy using one is refused, never evaluated as something else.
const UNSUPPORTED_OPERATORS: [&str; 7] = [
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
];

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
        unsupported if UNSUPPORTED_OPERATORS.contains(&unsupported) => {
            return Err(format!(
                "{unsupported} is an IAM condition operator Signet does not evaluate \
                 (Arn…, IpAddress/NotIpAddress and Binary… conditions are refused)"
            ))
        }
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

pub(super) fn parse_number(s: &str) -> Option<f64> {
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

pub(super) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
