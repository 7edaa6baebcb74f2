//! Input rules: canonical usernames, password policy, attribute names and values.

use crate::AppError;
use signet_core::{PasswordPolicy, PoolConfig};
use unicode_normalization::UnicodeNormalization;

mod attrs;
pub use attrs::{attributes, check_deletable, check_writable, AttrWrite, STANDARD_ATTRIBUTES};

const MAX_USERNAME_CHARS: usize = 128;
pub(crate) const MAX_ATTRIBUTE_CHARS: usize = 2048;

pub use crate::text::{is_control, is_invisible};

/// An identifier (username, group name, alias): 1 to `max` characters, none of them
/// white space, control or invisible (PRECIS IdentifierClass in spirit: what a person
/// reads is all there is, so two identifiers never look alike by a hidden code point).
pub fn identifier(what: &str, s: &str, max: usize) -> Result<(), AppError> {
    let n = s.chars().count();
    if n == 0 || n > max {
        return Err(AppError::invalid(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || is_control(c) || is_invisible(c))
    {
        return Err(AppError::invalid(format!(
            "{what} must not contain spaces, control or invisible characters"
        )));
    }
    Ok(())
}

/// A display name or description: `min` to `max` characters, no control or invisible
/// characters (spaces are fine). Create and Update of a resource call the same function.
pub fn display_name(what: &str, s: &str, min: usize, max: usize) -> Result<(), AppError> {
    let n = s.chars().count();
    if n < min || n > max {
        return Err(AppError::invalid(format!(
            "{what} must be {min} to {max} characters"
        )));
    }
    if s.chars().any(|c| is_control(c) || is_invisible(c)) {
        return Err(AppError::invalid(format!(
            "{what} must not contain control or invisible characters"
        )));
    }
    Ok(())
}

/// A user pool id: Cognito's `[\w-]+_[0-9a-zA-Z]+`, at most 55 characters. Checked before
/// any lookup, so a malformed id is refused as such and never travels to the store.
pub fn pool_id(id: &str) -> Result<(), AppError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let ok = id.len() <= 55
        && id.rsplit_once('_').is_some_and(|(region, rest)| {
            !region.is_empty()
                && region.chars().all(word)
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "UserPoolId must match [\\w-]+_[0-9a-zA-Z]+ and have at most 55 characters",
        ))
    }
}

/// An app client id: Cognito's `[\w+]+` (and `-`), 1 to 128 characters.
pub fn client_id(id: &str) -> Result<(), AppError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "ClientId must be 1 to 128 letters, digits or _+-",
        ))
    }
}

/// The one canonical form of a username or sign-in alias: NFKC, then lower case unless the
/// pool is case-sensitive. Applied once, at the edge; everything stored uses it.
pub fn canonical_username(raw: &str, pool: &PoolConfig) -> Result<String, AppError> {
    let mut s: String = raw.nfkc().collect();
    if !pool.case_sensitive_usernames {
        s = s.to_lowercase();
    }
    if s.is_empty() || s.chars().count() > MAX_USERNAME_CHARS {
        return Err(AppError::invalid("username must be 1 to 128 characters"));
    }
    // Checked on the raw input too: NFKC keeps most invisible code points, but not all.
    if s.chars()
        .chain(raw.chars())
        .any(|c| c.is_whitespace() || is_control(c) || is_invisible(c))
    {
        return Err(AppError::invalid(
            "username must not contain spaces, control or invisible characters",
        ));
    }
    Ok(s)
}

/// Check a new password against the pool's policy.
pub fn check_password(policy: &PasswordPolicy, pw: &str) -> Result<(), AppError> {
    let bad = |m: &str| Err(AppError::InvalidPassword(m.into()));
    if pw.len() > signet_crypto::MAX_PASSWORD_BYTES {
        return bad("Password must have at most 256 bytes");
    }
    if (pw.chars().count() as u32) < policy.minimum_length {
        return bad(&format!(
            "Password not long enough (minimum {})",
            policy.minimum_length
        ));
    }
    if policy.require_uppercase && !pw.chars().any(|c| c.is_uppercase()) {
        return bad("Password must have uppercase characters");
    }
    if policy.require_lowercase && !pw.chars().any(|c| c.is_lowercase()) {
        return bad("Password must have lowercase characters");
    }
    if policy.require_numbers && !pw.chars().any(|c| c.is_ascii_digit()) {
        return bad("Password must have numeric characters");
    }
    const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";
    if policy.require_symbols && !pw.chars().any(|c| SYMBOLS.contains(c)) {
        return bad("Password must have symbol characters");
    }
    Ok(())
}

/// Cognito-style masked destination: `a***@e***.com`, `+*******1234`.
pub fn mask(destination: &str) -> String {
    if let Some((user, domain)) = destination.split_once('@') {
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        let tld = domain.rsplit_once('.').map(|(_, t)| t).unwrap_or("");
        format!("{}***@{}***.{}", first(user), first(domain), tld)
    } else {
        let n = destination.chars().count();
        let tail: String = destination.chars().skip(n.saturating_sub(4)).collect();
        format!("+{}{}", "*".repeat(n.saturating_sub(5)), tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_canonicalised_once() {
        let pool = PoolConfig::default();
        // Full-width letters and case fold to one name.
        assert_eq!(canonical_username("Ａｌｉｃｅ", &pool).unwrap(), "alice");
        assert_eq!(canonical_username("ALICE", &pool).unwrap(), "alice");
        let cs = PoolConfig {
            case_sensitive_usernames: true,
            ..Default::default()
        };
        assert_eq!(canonical_username("ALICE", &cs).unwrap(), "ALICE");
        assert!(canonical_username("a b", &pool).is_err());
        assert!(canonical_username("", &pool).is_err());
        assert!(canonical_username(&"x".repeat(129), &pool).is_err());
        assert!(canonical_username("a\u{0}b", &pool).is_err());
    }

    #[test]
    fn invisible_and_control_code_points_are_refused() {
        let pool = PoolConfig::default();
        let bad = [
            '\u{0}',
            '\u{1}',
            '\u{9}',
            '\u{a}',
            '\u{d}',
            '\u{1b}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{85}',
            '\u{9f}',
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{17b4}',
            '\u{180b}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0000}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
            '\u{e0100}',
            '\u{e01ef}',
        ];
        for c in bad {
            let name = format!("al{c}ice");
            assert!(identifier("name", &name, 128).is_err(), "identifier {c:?}");
            assert!(
                display_name("name", &name, 1, 128).is_err(),
                "display {c:?}"
            );
            assert!(canonical_username(&name, &pool).is_err(), "username {c:?}");
            assert!(
                canonical_username(&format!("{c}alice"), &pool).is_err(),
                "{c:?}"
            );
        }
        // Visible text passes, including letters outside ASCII; display names keep spaces.
        for good in ["alice", "Ålice", "アリス", "al-ice_1.x@y"] {
            assert!(identifier("name", good, 128).is_ok(), "{good}");
            assert!(canonical_username(good, &pool).is_ok(), "{good}");
        }
        assert!(display_name("name", "My pool (prod)", 1, 128).is_ok());
        assert!(identifier("name", "my pool", 128).is_err());
        assert!(display_name("name", "", 1, 128).is_err());
        assert!(display_name("name", "", 0, 128).is_ok());
        assert!(display_name("name", &"x".repeat(129), 1, 128).is_err());
        assert!(display_name("name", &"é".repeat(128), 1, 128).is_ok());
    }

    #[test]
    fn ids_follow_cognito_patterns() {
        for ok in ["local_AbC123", "eu-west-1_x", "a_b_c1"] {
            assert!(pool_id(ok).is_ok(), "{ok}");
        }
        let long = format!("local_{}", "a".repeat(50));
        for bad in [
            "",
            "nounderscore",
            "_x",
            "local_",
            "local_a-b",
            "lo cal_x",
            &long,
        ] {
            assert!(pool_id(bad).is_err(), "{bad}");
        }
        assert!(client_id("abc123def").is_ok());
        assert!(client_id(&"a".repeat(129)).is_err());
        assert!(client_id("a\u{0}").is_err());
        assert!(client_id("").is_err());
    }

    #[test]
    fn password_policy() {
        let p = PasswordPolicy::default();
        assert!(check_password(&p, "Passw0rd!").is_ok());
        for bad in [
            "Pw0!",
            "password0!",
            "PASSWORD0!",
            "Password!!",
            "Password00",
        ] {
            assert!(
                matches!(check_password(&p, bad), Err(AppError::InvalidPassword(_))),
                "{bad}"
            );
        }
        assert!(check_password(&p, &format!("Aa0!{}", "x".repeat(300))).is_err());
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask("ann@example.com"), "a***@e***.com");
        assert_eq!(mask("+15551234567"), "+*******4567");
    }
}
