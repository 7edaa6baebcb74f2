//! The CSV format of user imports: Cognito's columns (GetCSVHeader), plus Signet's
//! `signet:password_hash`, and the turning of one row into a validated user with the same
//! rules as AdminCreateUser.

use crate::validate::AttrWrite;
use crate::AppError;
use signet_core::{MfaFactor, PoolConfig, User, UserPool, UserStatus};
use signet_crypto::PasswordParams;

/// Signet's extension column: an argon2id PHC string (m ≥ 19456 KiB, t ≥ 2, p ≥ 1). A row
/// with one arrives CONFIRMED and signs in with its old password (a migration); a row
/// without one arrives RESET_REQUIRED without a password, as in Cognito.
pub const PASSWORD_HASH_COLUMN: &str = "signet:password_hash";
/// The username column (required).
pub const USERNAME_COLUMN: &str = "cognito:username";
/// Cognito's MFA column (required). `true` turns SMS MFA on, as in Cognito, and needs a
/// verified phone number (the code goes there when the pool offers SMS MFA); a TOTP
/// authenticator cannot come with an import (users set it up afterwards, or at sign-in when
/// the pool requires MFA).
pub const MFA_COLUMN: &str = "cognito:mfa_enabled";

/// Signet's extension columns a user export writes, so that importing the export
/// reproduces the users (each optional; an empty cell is the default):
/// `signet:status` (the user's status in the exporting pool: with a password hash, a
/// CONFIRMED or UNCONFIRMED user keeps it; any other status, or no hash, arrives
/// RESET_REQUIRED — a temporary password is not carried over), `signet:enabled` (`false`:
/// the user arrives disabled), `signet:groups` (group names separated by spaces; each must
/// exist in the pool, else the row fails and no user is made).
pub const STATUS_COLUMN: &str = "signet:status";
/// See [`STATUS_COLUMN`].
pub const ENABLED_COLUMN: &str = "signet:enabled";
/// See [`STATUS_COLUMN`].
pub const GROUPS_COLUMN: &str = "signet:groups";

/// Cognito's standard attributes, in the order of its CSV header.
const HEADER_STANDARD: [&str; 19] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// The columns a pool's import files may have, in Cognito's order: standard attributes,
/// the pool's custom attributes, `cognito:mfa_enabled`, `cognito:username`, then Signet's
/// `signet:password_hash`, `signet:status`, `signet:enabled` and `signet:groups`.
pub fn csv_header(pool: &PoolConfig) -> Vec<String> {
    let custom = pool
        .schema
        .iter()
        .filter(|a| a.name.starts_with("custom:"))
        .map(|a| a.name.clone());
    HEADER_STANDARD
        .iter()
        .map(|s| s.to_string())
        .chain(custom)
        .chain(
            [
                MFA_COLUMN,
                USERNAME_COLUMN,
                PASSWORD_HASH_COLUMN,
                STATUS_COLUMN,
                ENABLED_COLUMN,
                GROUPS_COLUMN,
            ]
            .map(String::from),
        )
        .collect()
}

/// Where the columns of an uploaded file are.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    names: Vec<String>,
    username: usize,
    mfa: usize,
    hash: Option<usize>,
    status: Option<usize>,
    enabled: Option<usize>,
    groups: Option<usize>,
}

impl Columns {
    /// Check a file's header: every column known to the pool, none twice, the username
    /// and MFA columns present (in any order, like Cognito).
    pub(crate) fn parse<'a>(
        header: impl IntoIterator<Item = &'a str>,
        pool: &PoolConfig,
    ) -> Result<Columns, AppError> {
        let known = csv_header(pool);
        let mut names: Vec<String> = Vec::new();
        for (i, raw) in header.into_iter().enumerate() {
            // Spreadsheet exports may start with a byte-order mark.
            let name = if i == 0 {
                raw.trim_start_matches('\u{feff}')
            } else {
                raw
            }
            .trim();
            if !known.iter().any(|k| k == name) {
                return Err(AppError::invalid(format!(
                    "The CSV header has a column the user pool does not know: {name:?} (see GetCSVHeader)"
                )));
            }
            if names.iter().any(|n| n == name) {
                return Err(AppError::invalid(format!(
                    "The CSV header has the column {name} twice"
                )));
            }
            names.push(name.to_string());
        }
        let find = |c: &str| names.iter().position(|n| n == c);
        let (Some(username), Some(mfa)) = (find(USERNAME_COLUMN), find(MFA_COLUMN)) else {
            return Err(AppError::invalid(format!(
                "The CSV header must have the columns {USERNAME_COLUMN} and {MFA_COLUMN}"
            )));
        };
        Ok(Columns {
            hash: find(PASSWORD_HASH_COLUMN),
            status: find(STATUS_COLUMN),
            enabled: find(ENABLED_COLUMN),
            groups: find(GROUPS_COLUMN),
            names,
            username,
            mfa,
        })
    }

    /// How many fields each row has.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// The user a row describes and the groups it joins, or why the row is refused.
pub(crate) fn row_user(
    now_ms: u64,
    pool: &UserPool,
    cols: &Columns,
    fields: &[&str],
) -> Result<(User, Vec<String>), String> {
    if fields.len() != cols.len() {
        return Err(format!(
            "expected {} fields, found {}",
            cols.len(),
            fields.len()
        ));
    }
    let username = fields[cols.username].trim();
    if username.is_empty() {
        return Err(format!("{USERNAME_COLUMN} is required"));
    }
    let sms_mfa = match fields[cols.mfa].trim().to_ascii_lowercase().as_str() {
        "false" => false,
        "true" => true,
        _ => return Err(format!("{MFA_COLUMN} must be true or false")),
    };
    let mut attrs = Vec::new();
    for (i, value) in fields.iter().enumerate() {
        let name = cols.names[i].as_str();
        // An empty cell means "no value", as in Cognito's files.
        let signets = [cols.hash, cols.status, cols.enabled, cols.groups];
        if i == cols.username || i == cols.mfa || signets.contains(&Some(i)) || value.is_empty() {
            continue;
        }
        let value = match name {
            "email_verified" | "phone_number_verified" => value.trim().to_ascii_lowercase(),
            _ => value.to_string(),
        };
        attrs.push((name.to_string(), value));
    }
    let hash = cols
        .hash
        .map(|i| fields[i].trim())
        .filter(|h| !h.is_empty());
    if let Some(h) = hash {
        signet_crypto::check_imported_hash(h, PasswordParams::default())
            .map_err(|e| format!("{PASSWORD_HASH_COLUMN}: {e}"))?;
    }
    let cell = |c: Option<usize>| c.map(|i| fields[i].trim()).unwrap_or("");
    let exported = match cell(cols.status) {
        "" => None,
        s => Some(
            UserStatus::parse(s).ok_or_else(|| format!("{STATUS_COLUMN}: unknown status {s}"))?,
        ),
    };
    if exported == Some(UserStatus::ExternalProvider) {
        return Err(format!(
            "{STATUS_COLUMN}: a federated user is made again at its next sign-in through its provider"
        ));
    }
    // A password (hash) keeps a confirmed or unconfirmed user as it was; a temporary or
    // reset one, or none, needs a new password: RESET_REQUIRED.
    let hash = match exported {
        Some(UserStatus::ForceChangePassword | UserStatus::ResetRequired) => None,
        _ => hash,
    };
    let status = match (hash, exported) {
        (Some(_), Some(UserStatus::Unconfirmed)) => UserStatus::Unconfirmed,
        (Some(_), None | Some(UserStatus::Confirmed)) => UserStatus::Confirmed,
        (Some(_), Some(other)) => {
            return Err(format!(
                "{STATUS_COLUMN}: {} cannot be imported",
                other.name()
            ))
        }
        (None, _) => UserStatus::ResetRequired,
    };
    let enabled = match cell(cols.enabled).to_ascii_lowercase().as_str() {
        "" | "true" => true,
        "false" => false,
        _ => return Err(format!("{ENABLED_COLUMN} must be true or false")),
    };
    let groups: Vec<String> = cell(cols.groups)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut user = crate::users::new_user(
        pool,
        username,
        &attrs,
        AttrWrite::AdminCreate,
        status,
        now_ms,
    )
    .map_err(|e| e.to_string())?;
    if hash.is_none() && !can_receive_reset_code(&user) {
        // Otherwise the user could never set a password (ForgotPassword needs somewhere
        // verified to send the code).
        return Err(
            "a user without signet:password_hash needs email with email_verified=true, or \
             phone_number with phone_number_verified=true, to receive a reset code"
                .into(),
        );
    }
    if sms_mfa && !user.has_factor(MfaFactor::SmsMfa) {
        return Err(format!(
            "{MFA_COLUMN}=true (SMS MFA) needs phone_number with phone_number_verified=true"
        ));
    }
    user.mfa.sms_enabled = sms_mfa;
    user.password_hash = hash.map(str::to_string);
    user.enabled = enabled;
    Ok((user, groups))
}

fn can_receive_reset_code(user: &User) -> bool {
    ["email", "phone_number"].iter().any(|a| {
        user.attributes.contains_key(*a)
            && user
                .attributes
                .get(&format!("{a}_verified"))
                .is_some_and(|v| v == "true")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_core::SchemaAttribute;

    fn pool_with_custom() -> PoolConfig {
        PoolConfig {
            schema: vec![SchemaAttribute {
                name: "custom:tier".into(),
                data_type: Default::default(),
                mutable: true,
                required: false,
                max_length: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_header_is_cognitos_plus_signets_columns() {
        let h = csv_header(&pool_with_custom());
        assert_eq!(h.len(), 19 + 1 + 6);
        assert_eq!(h[0], "name");
        assert_eq!(h[9], "email");
        assert_eq!(
            &h[18..],
            &[
                "updated_at",
                "custom:tier",
                MFA_COLUMN,
                USERNAME_COLUMN,
                PASSWORD_HASH_COLUMN,
                STATUS_COLUMN,
                ENABLED_COLUMN,
                GROUPS_COLUMN
            ]
        );
    }

    #[test]
    fn headers_need_known_unique_columns_with_username_and_mfa() {
        let pool = pool_with_custom();
        let ok = Columns::parse(
            [
                "\u{feff}email",
                "cognito:username",
                " cognito:mfa_enabled",
                "custom:tier",
            ],
            &pool,
        )
        .unwrap();
        assert_eq!((ok.username, ok.mfa, ok.hash, ok.len()), (1, 2, None, 4));
        for bad in [
            vec!["email", "cognito:username"],
            vec!["cognito:mfa_enabled", "email"],
            vec!["cognito:username", "cognito:mfa_enabled", "custom:nope"],
            vec!["cognito:username", "cognito:mfa_enabled", "email", "email"],
            vec!["cognito:username", "cognito:mfa_enabled", "sub"],
        ] {
            assert!(Columns::parse(bad.clone(), &pool).is_err(), "{bad:?}");
        }
    }
}
