//! Input rules: canonical usernames, password policy, attribute names and values.

use crate::AppError;
use signet_core::{PasswordPolicy, PoolConfig};
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// Cognito's standard attributes.
pub const STANDARD_ATTRIBUTES: [&str; 19] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Attributes only admins may set (users prove them with codes).
pub const ADMIN_ONLY_ATTRIBUTES: [&str; 2] = ["email_verified", "phone_number_verified"];

const MAX_USERNAME_CHARS: usize = 128;
const MAX_ATTRIBUTE_CHARS: usize = 2048;

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
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid(
            "username must not contain spaces or control characters",
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

/// Validate and normalise attributes written by a user (`admin` = false) or an admin.
/// E-mail addresses are lower-cased so they work as case-insensitive sign-in aliases.
pub fn attributes(
    pool: &PoolConfig,
    given: &[(String, String)],
    admin: bool,
) -> Result<BTreeMap<String, String>, AppError> {
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let known = STANDARD_ATTRIBUTES.contains(&name.as_str())
            || (name.starts_with("custom:") && pool.schema.iter().any(|a| &a.name == name));
        if !known {
            return Err(AppError::invalid(format!(
                "Attribute does not exist in the schema: {name}"
            )));
        }
        if name == "sub" {
            return Err(AppError::invalid("sub cannot be written"));
        }
        if !admin && ADMIN_ONLY_ATTRIBUTES.contains(&name.as_str()) {
            return Err(AppError::NotAuthorized(format!(
                "A client attempted to write unauthorized attribute {name}"
            )));
        }
        if value.chars().count() > MAX_ATTRIBUTE_CHARS || value.contains('\0') {
            return Err(AppError::invalid(format!(
                "Invalid value for attribute {name}"
            )));
        }
        let value = match name.as_str() {
            "email" => {
                if !value.contains('@') || value.chars().any(char::is_whitespace) {
                    return Err(AppError::invalid("Invalid email address format."));
                }
                value.nfkc().collect::<String>().to_lowercase()
            }
            "phone_number" => {
                if !value.starts_with('+') || !value[1..].chars().all(|c| c.is_ascii_digit()) {
                    return Err(AppError::invalid("Invalid phone number format."));
                }
                value.clone()
            }
            "email_verified" | "phone_number_verified" => {
                if value != "true" && value != "false" {
                    return Err(AppError::invalid(format!("{name} must be true or false")));
                }
                value.clone()
            }
            _ => value.clone(),
        };
        if let Some(schema) = pool.schema.iter().find(|a| &a.name == name) {
            if let Some(max) = schema.max_length {
                if value.chars().count() as u32 > max {
                    return Err(AppError::invalid(format!("{name} is longer than {max}")));
                }
            }
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// Refuse attributes the app client may not write (an empty list allows all).
pub fn check_writable(
    client: &signet_core::AppClient,
    attrs: &[(String, String)],
) -> Result<(), AppError> {
    if client.write_attributes.is_empty() {
        return Ok(());
    }
    match attrs
        .iter()
        .find(|(n, _)| !client.write_attributes.iter().any(|w| w == n))
    {
        Some((n, _)) => Err(AppError::NotAuthorized(format!(
            "A client attempted to write unauthorized attribute {n}"
        ))),
        None => Ok(()),
    }
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
    fn attributes_are_checked_and_normalised() {
        let pool = PoolConfig::default();
        let a = attributes(&pool, &[("email".into(), "Ann@Example.COM".into())], false).unwrap();
        assert_eq!(a["email"], "ann@example.com");
        assert!(attributes(&pool, &[("custom:tier".into(), "x".into())], false).is_err());
        assert!(matches!(
            attributes(&pool, &[("email_verified".into(), "true".into())], false),
            Err(AppError::NotAuthorized(_))
        ));
        assert!(attributes(&pool, &[("email_verified".into(), "true".into())], true).is_ok());
        assert!(attributes(&pool, &[("email".into(), "nope".into())], true).is_err());
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask("ann@example.com"), "a***@e***.com");
        assert_eq!(mask("+15551234567"), "+*******4567");
    }
}
