//! Wildcard (`*`, `?`) matching: plain globs, and `Resource` patterns matched per ARN
//! segment.
//!
//! # Cost
//!
//! A pattern is a sequence of *runs* (literal characters and `?`) separated by `*`s. The
//! first run must match at the start of the value, the last at its end, and every run in
//! between is searched for at its leftmost position after the previous one (leftmost is
//! always right: it leaves the most room for the runs that follow, so no backtracking is
//! ever needed). The search is bit-parallel (shift-and), so matching a pattern of `p`
//! characters against a value of `v` characters costs `O(v × ⌈p / 64⌉)` word operations at
//! worst and `O(p + v)` for the usual shapes (`prefix*`, `*suffix`, `a*b`). What a request
//! may carry is bounded as well ([`super::check_request_sizes`]).

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
/// none, `/` and `:`), `?` exactly one character, everything else itself. This is the plain
/// matching of `Action` patterns and principals; `Resource` patterns that are ARNs are
/// matched per segment instead (see [`super`]). At worst `O(value × ⌈pattern / 64⌉)`.
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
    match_tokens(&tokens, &value, true)
}

/// Number of `:`-separated segments of an ARN: `arn:partition:service:region:account:resource`.
const ARN_SEGMENTS: usize = 6;

/// Whether `value` matches the compiled `Resource` pattern.
///
/// A pattern that starts with `arn:` is matched per segment: pattern and value are split on
/// their first five `:` and each segment matches its counterpart, so `*` and `?` never
/// cross a `:` between segments. The last segment (the resource id) may itself contain `:`;
/// a `*` there matches anything (`:` and `/` included) while `?` never matches `:`. As IAM
/// documents, a `*` that ends a pattern with fewer than six segments expands beyond the
/// colons (`arn:aws:s3:*` matches every S3 ARN); otherwise the segment counts must agree.
/// Any other pattern (`*` included) is a plain glob over the whole value.
pub(super) fn resource_match(pattern: &[Tok], value: &[char]) -> bool {
    const ARN: [Tok; 4] = [Tok::Lit('a'), Tok::Lit('r'), Tok::Lit('n'), Tok::Lit(':')];
    if !pattern.starts_with(&ARN) {
        return match_tokens(pattern, value, true);
    }
    let p: Vec<&[Tok]> = pattern
        .splitn(ARN_SEGMENTS, |t| *t == Tok::Lit(':'))
        .collect();
    let v: Vec<&[char]> = value.splitn(ARN_SEGMENTS, |c| *c == ':').collect();
    let same = |i: usize| match_tokens(p[i], v[i], false);
    if p.len() == v.len() {
        return (0..p.len()).all(same);
    }
    let last = p.len() - 1;
    p.len() < v.len() && p[last].last() == Some(&Tok::Star) && (0..=last).all(same)
}

/// Whether `value` matches `pattern`; `?` matches `:` only when `one_matches_colon`.
pub(super) fn match_tokens(pattern: &[Tok], value: &[char], one_matches_colon: bool) -> bool {
    let fits = |t: &Tok, c: &char| match t {
        Tok::Lit(l) => l == c,
        Tok::One => one_matches_colon || *c != ':',
        Tok::Star => true,
    };
    let runs_fit = |run: &[Tok], text: &[char]| run.iter().zip(text).all(|(t, c)| fits(t, c));
    let runs: Vec<&[Tok]> = pattern.split(|t| *t == Tok::Star).collect();
    let (first, last) = (runs[0], runs[runs.len() - 1]);
    if runs.len() == 1 {
        return value.len() == first.len() && runs_fit(first, value);
    }
    if value.len() < first.len() + last.len()
        || !runs_fit(first, value)
        || !runs_fit(last, &value[value.len() - last.len()..])
    {
        return false;
    }
    let mut window = &value[first.len()..value.len() - last.len()];
    for run in &runs[1..runs.len() - 1] {
        if run.is_empty() {
            continue;
        }
        match find_run(run, window, one_matches_colon) {
            Some(at) => window = &window[at + run.len()..],
            None => return false,
        }
    }
    true
}

/// The leftmost position in `text` where `run` (literals and `?`, no `*`) matches: a
/// shift-and scan, one pass over `text` with `⌈run / 64⌉` words of state.
fn find_run(run: &[Tok], text: &[char], one_matches_colon: bool) -> Option<usize> {
    let words = run.len().div_ceil(64);
    let bit = |j: usize| (j / 64, 1u64 << (j % 64));
    // Which run positions accept a `?`-matchable character, and each literal's positions.
    let mut any = vec![0u64; words];
    let mut literals: Vec<(char, Vec<u64>)> = Vec::new();
    for (j, t) in run.iter().enumerate() {
        let (w, b) = bit(j);
        match t {
            Tok::One => any[w] |= b,
            Tok::Lit(c) => match literals.iter_mut().find(|(l, _)| l == c) {
                Some((_, mask)) => mask[w] |= b,
                None => {
                    let mut mask = vec![0u64; words];
                    mask[w] |= b;
                    literals.push((*c, mask));
                }
            },
            // Runs are split on `*`: none is ever here.
            Tok::Star => return None,
        }
    }
    literals.sort_unstable_by_key(|(c, _)| *c);
    let (done_word, done_bit) = bit(run.len() - 1);
    // state bit j: the last j + 1 characters read match run[..=j].
    let mut state = vec![0u64; words];
    for (i, c) in text.iter().enumerate() {
        let lit = literals
            .binary_search_by_key(c, |(l, _)| *l)
            .ok()
            .map(|k| &literals[k].1);
        let one = one_matches_colon || *c != ':';
        let mut carry = 1u64;
        for (w, s) in state.iter_mut().enumerate() {
            let shifted = (*s << 1) | carry;
            carry = *s >> 63;
            let accept = lit.map_or(0, |m| m[w]) | if one { any[w] } else { 0 };
            *s = shifted & accept;
        }
        if state[done_word] & done_bit != 0 {
            return Some(i + 1 - run.len());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(p: &str) -> Vec<Tok> {
        p.chars()
            .map(|c| match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                c => Tok::Lit(c),
            })
            .collect()
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn runs_are_found_leftmost_across_word_boundaries() {
        // Runs longer than 64 and 128 characters, with `?` on either side of a boundary.
        for len in [1, 63, 64, 65, 127, 128, 129, 300] {
            let run: String = (0..len)
                .map(|i| if i % 7 == 3 { '?' } else { 'x' })
                .collect();
            // The `:` stops every earlier start, `?` included.
            let hay = format!("{}:{}zz", "x".repeat(len - 1), "x".repeat(len));
            let tokens = compile(&run);
            assert_eq!(
                find_run(&tokens, &chars(&hay), false),
                Some(len),
                "run of {len}"
            );
            assert_eq!(find_run(&tokens, &chars(&"x".repeat(len - 1)), true), None);
        }
        assert_eq!(find_run(&compile("a?c"), &chars("xa:cabc"), false), Some(4));
        assert_eq!(find_run(&compile("a?c"), &chars("xa:cabc"), true), Some(1));
    }

    #[test]
    fn matches_against_a_reference_matcher() {
        // A small exhaustive cross-check against the textbook recursive definition.
        fn reference(p: &[Tok], v: &[char], colon: bool) -> bool {
            match p.first() {
                None => v.is_empty(),
                Some(Tok::Star) => (0..=v.len()).any(|k| reference(&p[1..], &v[k..], colon)),
                Some(Tok::One) => {
                    !v.is_empty() && (colon || v[0] != ':') && reference(&p[1..], &v[1..], colon)
                }
                Some(Tok::Lit(c)) => v.first() == Some(c) && reference(&p[1..], &v[1..], colon),
            }
        }
        let alphabet = ['a', 'b', ':', '*', '?'];
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &patterns {
                for c in alphabet {
                    next.push(format!("{p}{c}"));
                }
            }
            patterns.extend(next);
        }
        patterns.sort();
        patterns.dedup();
        let values: Vec<String> = patterns
            .iter()
            .filter(|p| !p.contains(['*', '?']))
            .cloned()
            .collect();
        for p in &patterns {
            let tokens = compile(p);
            for v in &values {
                let v = chars(v);
                for colon in [true, false] {
                    assert_eq!(
                        match_tokens(&tokens, &v, colon),
                        reference(&tokens, &v, colon),
                        "{p:?} {v:?} colon={colon}"
                    );
                }
            }
        }
    }
}
