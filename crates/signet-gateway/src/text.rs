//! Character classes every check of text shares (validation, and the error messages that
//! echo what a caller sent).

/// Whether `c` is a control character (C0, DEL, C1): never in a name or an identifier.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Whether `c` is a default-ignorable code point (Unicode's DerivedCoreProperties list,
/// plus the bidi and line-separator formats): invisible in most renderings, so a name that
/// holds one looks like another name that does not (`a\u{200B}lice` and `alice`).
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD                  // soft hyphen
        | 0x034F                // combining grapheme joiner
        | 0x061C                // arabic letter mark
        | 0x115F..=0x1160       // hangul fillers
        | 0x17B4..=0x17B5       // khmer inherent vowels
        | 0x180B..=0x180F       // mongolian variation selectors and vowel separator
        | 0x200B..=0x200F       // zero-width space, joiners, LRM, RLM
        | 0x2028..=0x202E       // line/paragraph separators, bidi embeddings and overrides
        | 0x2060..=0x206F       // word joiner, invisible operators, bidi isolates
        | 0x3164                // hangul filler
        | 0xFE00..=0xFE0F       // variation selectors
        | 0xFEFF                // byte order mark / zero-width no-break space
        | 0xFFA0                // halfwidth hangul filler
        | 0xFFF0..=0xFFFB       // unassigned specials, interlinear annotation
        | 0x1BCA0..=0x1BCA3     // shorthand format controls
        | 0x1D173..=0x1D17A     // musical symbol formats
        | 0xE0000..=0xE0FFF     // tags, variation selectors supplement
    )
}
