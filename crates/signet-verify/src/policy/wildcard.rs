//! Wildcard (`*`, `?`) matching.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
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
pub(super) fn match_tokens(pattern: &[Tok], value: &[char]) -> bool {
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
