//! Policy variables: `${key}` in Resource patterns and String condition values.

use super::wildcard::Tok;
use super::Context;

/// Compile `raw`, resolving `${…}`: `None` if it refers to a key `ctx` lacks. With
/// `wildcards`, a bare `*` / `?` in `raw` is a wildcard; substituted text and escapes are
/// always literal.
pub(super) fn expand(raw: &str, ctx: &Context, wildcards: bool) -> Option<Vec<Tok>> {
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

/// Refuse an unterminated or empty `${…}` at parse time.
pub(super) fn check_variables(raw: &str) -> Result<(), String> {
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
