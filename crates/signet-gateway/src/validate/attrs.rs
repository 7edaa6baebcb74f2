//! Attribute rules: the schema's names, who may write them, immutability and data types,
//! in one place so that every write path (sign-up, admin create, import, updates, deletes)
//! enforces the same rules.

use super::{identifier, MAX_ATTRIBUTE_CHARS};
use crate::AppError;
use signet_core::{AttributeType, PoolConfig};
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

/// Who writes attributes, and whether the user is being created: Cognito's rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrWrite {
    /// SignUp: the user creates itself.
    SignUp,
    /// AdminCreateUser and user import.
    AdminCreate,
    /// The user changes its own attributes (UpdateUserAttributes, DeleteUserAttributes,
    /// the NEW_PASSWORD_REQUIRED challenge).
    UserUpdate,
    /// AdminUpdateUserAttributes, AdminDeleteUserAttributes.
    AdminUpdate,
}

impl AttrWrite {
    fn admin(self) -> bool {
        matches!(self, AttrWrite::AdminCreate | AttrWrite::AdminUpdate)
    }

    fn creating(self) -> bool {
        matches!(self, AttrWrite::SignUp | AttrWrite::AdminCreate)
    }
}

/// Refuse changing an attribute the schema declares immutable once the user exists (set at
/// creation, never changed or deleted afterwards: Cognito's rule, for admins too).
fn check_mutable(pool: &PoolConfig, name: &str, how: AttrWrite) -> Result<(), AppError> {
    let immutable = pool.schema.iter().any(|a| a.name == name && !a.mutable);
    if immutable && !how.creating() {
        return Err(AppError::invalid(format!(
            "Invalid user attributes: {name}: cannot modify an immutable attribute"
        )));
    }
    Ok(())
}

/// Refuse deleting attributes: `sub`, required and immutable ones stay.
pub fn check_deletable(
    pool: &PoolConfig,
    names: &[String],
    how: AttrWrite,
) -> Result<(), AppError> {
    for n in names {
        if n == "sub" || pool.schema.iter().any(|a| &a.name == n && a.required) {
            return Err(AppError::invalid(format!("cannot delete attribute {n}")));
        }
        check_mutable(pool, n, how)?;
    }
    Ok(())
}

/// A value of the attribute's declared type: Number an integer, Boolean `true`/`false`,
/// DateTime an ISO-8601 date or date-time (RFC 3339 profile).
fn check_type(name: &str, t: AttributeType, value: &str) -> Result<(), AppError> {
    let ok = match t {
        AttributeType::String => true,
        AttributeType::Number => value.parse::<i64>().is_ok(),
        AttributeType::Boolean => value == "true" || value == "false",
        AttributeType::DateTime => is_date_time(value),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(format!(
            "Invalid user attributes: {name}: the value is not a valid {t:?}"
        )))
    }
}

/// `YYYY-MM-DD`, optionally followed by `Thh:mm:ss`, optional fractional seconds, and a
/// zone (`Z` or `±hh:mm`).
fn is_date_time(v: &str) -> bool {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let num = |r: std::ops::Range<usize>| v.get(r).and_then(|d| d.parse::<u32>().ok());
    let date = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && num(5..7).is_some_and(|m| (1..=12).contains(&m))
        && num(8..10).is_some_and(|d| (1..=31).contains(&d));
    if !date {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    let time = b.len() >= 19
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && num(11..13).is_some_and(|h| h < 24)
        && num(14..16).is_some_and(|m| m < 60)
        && num(17..19).is_some_and(|s| s < 61);
    if !time {
        return false;
    }
    let mut rest = &v[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        b"Z" => true,
        [s, h1, h2, b':', m1, m2] if (*s == b'+' || *s == b'-') => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && rest[1..3].parse::<u32>().is_ok_and(|h| h < 24)
                && rest[4..6].parse::<u32>().is_ok_and(|m| m < 60)
        }
        _ => false,
    }
}

/// Validate and normalise attributes written by a user or an admin, at creation or later:
/// the schema's names, who may write them, immutability and data types, all here, so
/// every write path enforces the same rules. E-mail addresses are lower-cased so they
/// work as case-insensitive sign-in aliases.
pub fn attributes(
    pool: &PoolConfig,
    given: &[(String, String)],
    how: AttrWrite,
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
        if !how.admin() && ADMIN_ONLY_ATTRIBUTES.contains(&name.as_str()) {
            return Err(AppError::NotAuthorized(format!(
                "A client attempted to write unauthorized attribute {name}"
            )));
        }
        check_mutable(pool, name, how)?;
        // Sign-in aliases are identifiers: no look-alikes through invisible code points.
        if ["email", "phone_number", "preferred_username"].contains(&name.as_str())
            && !value.is_empty()
        {
            identifier(name, value, MAX_ATTRIBUTE_CHARS)?;
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
            check_type(name, schema.data_type, &value)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_checked_and_normalised() {
        let pool = PoolConfig::default();
        let user = AttrWrite::UserUpdate;
        let admin = AttrWrite::AdminUpdate;
        let a = attributes(&pool, &[("email".into(), "Ann@Example.COM".into())], user).unwrap();
        assert_eq!(a["email"], "ann@example.com");
        assert!(attributes(&pool, &[("custom:tier".into(), "x".into())], user).is_err());
        assert!(matches!(
            attributes(&pool, &[("email_verified".into(), "true".into())], user),
            Err(AppError::NotAuthorized(_))
        ));
        assert!(attributes(&pool, &[("email_verified".into(), "true".into())], admin).is_ok());
        assert!(attributes(&pool, &[("email".into(), "nope".into())], admin).is_err());
    }

    fn schema_pool() -> PoolConfig {
        let attr = |name: &str, data_type, mutable| signet_core::SchemaAttribute {
            name: name.into(),
            data_type,
            mutable,
            required: false,
            max_length: None,
        };
        PoolConfig {
            schema: vec![
                attr("custom:tenant", AttributeType::String, false),
                attr("custom:age", AttributeType::Number, true),
                attr("custom:vip", AttributeType::Boolean, true),
                attr("custom:since", AttributeType::DateTime, true),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn immutable_attributes_are_set_at_creation_only() {
        let pool = schema_pool();
        let tenant = [("custom:tenant".to_string(), "acme".to_string())];
        for how in [AttrWrite::SignUp, AttrWrite::AdminCreate] {
            assert_eq!(
                attributes(&pool, &tenant, how).unwrap()["custom:tenant"],
                "acme"
            );
        }
        for how in [AttrWrite::UserUpdate, AttrWrite::AdminUpdate] {
            assert!(matches!(
                attributes(&pool, &tenant, how),
                Err(AppError::InvalidParameter(_))
            ));
            assert!(check_deletable(&pool, &["custom:tenant".into()], how).is_err());
            assert!(check_deletable(&pool, &["custom:age".into()], how).is_ok());
        }
    }

    #[test]
    fn values_follow_their_data_type() {
        let pool = schema_pool();
        let check = |name: &str, value: &str| {
            attributes(&pool, &[(name.into(), value.into())], AttrWrite::UserUpdate).is_ok()
        };
        let cases = [
            ("custom:age", "42", true),
            ("custom:age", "-7", true),
            ("custom:age", "abc", false),
            ("custom:age", "4.5", false),
            ("custom:age", "", false),
            ("custom:vip", "true", true),
            ("custom:vip", "yes", false),
            ("custom:since", "2024-01-31", true),
            ("custom:since", "2024-01-31T12:30:00Z", true),
            ("custom:since", "2024-01-31T12:30:00.250+02:00", true),
            ("custom:since", "2024-13-01", false),
            ("custom:since", "2024-01-31T25:00:00Z", false),
            ("custom:since", "2024-01-31T12:30:00", false),
            ("custom:since", "yesterday", false),
        ];
        for (name, value, ok) in cases {
            assert_eq!(check(name, value), ok, "{name}={value}");
        }
    }
}
