//! Policy variables in `Resource`/`NotResource` patterns and `String…` condition values.
//!
//! * `${key}` is replaced by the context's value of `key` (case-insensitive).
//! * `${key, 'default'}` (a comma, optional spaces, a single-quoted default) is replaced by
//!   the value of `key` if the context has one, and by `default` otherwise. The default is
//!   literal text and cannot contain `'`.
//! * `${*}`, `${?}` and `${$}` are a literal `*`, `?` and `$`.
//!
//! A key resolves only when the context gives it exactly one value, and a key that can carry
//! several ([`MULTI_VALUED_KEYS`]) is refused as a variable when the document is parsed, as
//! IAM refuses it. Substituted text is always literal, never a wildcard. Documents are checked with [`check_variables`] when
//! they are parsed; [`expand`] reads the same syntax when a request is evaluated.

use super::wildcard::Tok;
use super::Context;

/// Condition keys that can carry several values and so can never be policy variables
/// (`${aws:TagKeys}` is refused when the policy is parsed, not resolved to one of the
/// values). Compared case-insensitively; `*:name` stands for `name` in every namespace, so
/// `*:amr` covers Signet's `signet:amr` and the `{provider}:amr` of every identity provider
/// (`signet-identity:amr`, `cognito-identity.amazonaws.com:amr`, …). Add any new
/// multi-valued key Signet puts in a context here.
pub const MULTI_VALUED_KEYS: [&str; 4] = [
    "aws:TagKeys",
    "aws:CalledVia",
    "aws:PrincipalOrgPaths",
    "*:amr",
];

/// Whether `key` is one of [`MULTI_VALUED_KEYS`].
fn is_multi_valued(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    MULTI_VALUED_KEYS.iter().any(|known| {
        let known = known.to_ascii_lowercase();
        match known.strip_prefix('*') {
            // `*:name`: some non-empty namespace, then `:name`.
            Some(suffix) => key.len() > suffix.len() && key.ends_with(&suffix),
            None => key == known,
        }
    })
}

/// One piece of a pattern or value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    /// A character as written: a wildcard where wildcards apply.
    Char(char),
    /// `${*}`, `${?}` or `${$}`: always the literal character.
    Escaped(char),
    /// `${key}` or `${key, 'default'}`.
    Var {
        key: &'a str,
        default: Option<&'a str>,
    },
}

/// Split `raw` into pieces, or say what is wrong with its variables.
fn pieces(raw: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        let Some(body) = rest.strip_prefix("${") else {
            out.push(Piece::Char(c));
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let (piece, after) = variable(body).map_err(|m| format!("{m} in {raw:?}"))?;
        out.push(piece);
        rest = after;
    }
    Ok(out)
}

/// Read one variable from just after its `${`: the piece and the text after its `}`.
fn variable(body: &str) -> Result<(Piece<'_>, &str), String> {
    let unterminated = || "unterminated policy variable".to_string();
    let end = body.find([',', '}']).ok_or_else(unterminated)?;
    let key = body[..end].trim();
    if key.is_empty() {
        return Err("empty policy variable name".into());
    }
    if body[end..].starts_with('}') {
        let after = &body[end + 1..];
        return Ok(match body[..end].chars().collect::<Vec<_>>()[..] {
            [c @ ('*' | '?' | '$')] => (Piece::Escaped(c), after),
            _ => (Piece::Var { key, default: None }, after),
        });
    }
    // `${key, 'default'}`
    let bad_default = || {
        format!("policy variable ${{{key}, …}} needs a single-quoted default: ${{{key}, 'value'}}")
    };
    let quoted = body[end + 1..]
        .trim_start()
        .strip_prefix('\'')
        .ok_or_else(bad_default)?;
    let close = quoted.find('\'').ok_or_else(bad_default)?;
    let default = &quoted[..close];
    let after = quoted[close + 1..]
        .trim_start()
        .strip_prefix('}')
        .ok_or_else(|| match quoted[close + 1..].find('}') {
            None => unterminated(),
            Some(_) => bad_default(),
        })?;
    let default = Some(default);
    Ok((Piece::Var { key, default }, after))
}

/// Compile `raw`, resolving its variables against `ctx`: `None` if one names a key `ctx`
/// does not give exactly one value and has no default. With `wildcards`, a `*` / `?` as
/// written is a wildcard; substituted text, defaults and escapes are always literal.
pub(super) fn expand(raw: &str, ctx: &Context, wildcards: bool) -> Option<Vec<Tok>> {
    // Documents are checked when parsed, so this only fails on text that never was.
    let pieces = pieces(raw).ok()?;
    let mut out = Vec::with_capacity(raw.len());
    for piece in pieces {
        match piece {
            Piece::Char('*') if wildcards => out.push(Tok::Star),
            Piece::Char('?') if wildcards => out.push(Tok::One),
            Piece::Char(c) | Piece::Escaped(c) => out.push(Tok::Lit(c)),
            Piece::Var { key, default } => {
                let value = match ctx.present(key) {
                    Some([one]) => one.as_str(),
                    _ => default?,
                };
                out.extend(value.chars().map(Tok::Lit));
            }
        }
    }
    Some(out)
}

pub(super) fn tokens_to_string(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::One => '?',
        })
        .collect()
}

/// Refuse, at parse time, a variable that is unterminated, has no name or a malformed
/// default, or that names a multi-valued key.
pub(super) fn check_variables(raw: &str) -> Result<(), String> {
    for piece in pieces(raw)? {
        if let Piece::Var { key, .. } = piece {
            if is_multi_valued(key) {
                return Err(format!(
                    "policy variable ${{{key}}} names a multi-valued key, which cannot be a \
                     variable (use it as a condition key with ForAnyValue:/ForAllValues:) in {raw:?}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var<'a>(key: &'a str, default: Option<&'a str>) -> Piece<'a> {
        Piece::Var { key, default }
    }

    #[test]
    fn variable_syntax() {
        let ok = [
            ("${a}", vec![var("a", None)]),
            ("${ a }", vec![var("a", None)]),
            ("${a, 'x'}", vec![var("a", Some("x"))]),
            ("${a,'x'}", vec![var("a", Some("x"))]),
            ("${a ,  'x y' }", vec![var("a", Some("x y"))]),
            ("${a, ''}", vec![var("a", Some(""))]),
            ("${a, '}'}", vec![var("a", Some("}"))]),
            ("${a, '*${b}'}", vec![var("a", Some("*${b}"))]),
            (
                "${*}${?}${$}",
                vec![
                    Piece::Escaped('*'),
                    Piece::Escaped('?'),
                    Piece::Escaped('$'),
                ],
            ),
            ("$x", vec![Piece::Char('$'), Piece::Char('x')]),
        ];
        for (raw, expected) in ok {
            assert_eq!(pieces(raw), Ok(expected), "{raw}");
        }
        let bad = [
            ("${a", "unterminated"),
            ("${a, 'x'", "unterminated"),
            ("${}", "empty policy variable name"),
            ("${ , 'x'}", "empty policy variable name"),
            ("${a, x}", "needs a single-quoted default"),
            ("${a, 'x}", "needs a single-quoted default"),
            ("${a, 'x' y}", "needs a single-quoted default"),
            ("${a, 'it''s'}", "needs a single-quoted default"),
        ];
        for (raw, expected) in bad {
            let e = check_variables(raw).unwrap_err();
            assert!(e.contains(expected), "{raw}: {e}");
        }
    }

    #[test]
    fn multi_valued_keys() {
        for key in [
            "aws:TagKeys",
            "AWS:tagkeys",
            "aws:CalledVia",
            "signet:amr",
            "signet-identity:amr",
            "cognito-identity.amazonaws.com:amr",
            "X:AMR",
        ] {
            assert!(is_multi_valued(key), "{key}");
        }
        for key in [
            "aws:CalledViaFirst",
            "aws:TagKeysX",
            "signet:sub",
            "amr",
            ":amr",
            "signet:amrx",
            "aws:PrincipalTag/amr",
        ] {
            assert!(!is_multi_valued(key), "{key}");
        }
    }

    #[test]
    fn defaults_apply_when_the_key_has_no_single_value() {
        let mut c = Context::new();
        c.insert("Team", "eng");
        c.insert("multi", "a");
        c.insert("multi", "b");
        c.set("empty", vec![]);
        let text = |raw: &str| expand(raw, &c, true).map(|t| tokens_to_string(&t));
        assert_eq!(text("${team, 'x'}").as_deref(), Some("eng"));
        assert_eq!(text("${TEAM}").as_deref(), Some("eng"));
        assert_eq!(text("${absent, 'x'}").as_deref(), Some("x"));
        assert_eq!(text("${absent, 'X'}").as_deref(), Some("X"));
        assert_eq!(text("${empty, 'x'}").as_deref(), Some("x"));
        assert_eq!(text("${multi, 'x'}").as_deref(), Some("x"));
        assert_eq!(text("${absent}"), None);
        assert_eq!(text("${multi}"), None);
        // A default is literal: no wildcard, no second round of substitution.
        assert_eq!(
            expand("${absent, '*'}", &c, true),
            Some(vec![Tok::Lit('*')])
        );
        assert_eq!(text("${absent, '${team}'}").as_deref(), Some("${team}"));
    }
}
