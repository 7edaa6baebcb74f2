//! User export: a pool's users written as CSV in the import format (the pool's
//! GetCSVHeader columns, Signet's status, enabled and groups columns included), page by
//! page, so that importing the file into another pool — of this cluster or another
//! Signet — makes the same users again. Each page names where the next starts, so an
//! export streams to a file and restarts from its last page after an interruption.
//!
//! Password hashes are written only when the caller asks (`include_password_hashes`, for
//! moving users to another Signet, where they then sign in with their old passwords); the
//! file then holds every user's argon2 hash and is a secret. Never exported: `sub` (an
//! import makes new ones, as Cognito's does), SRP verifiers and MFA secrets (sealed with
//! this cluster's key), devices. Federated users (EXTERNAL_PROVIDER) are left out and
//! counted: their provider makes them again at their next sign-in.

use super::import_csv::{
    csv_header, ENABLED_COLUMN, GROUPS_COLUMN, MFA_COLUMN, PASSWORD_HASH_COLUMN, STATUS_COLUMN,
    USERNAME_COLUMN,
};
use super::Imports;
use crate::AppError;
use signet_core::{Query, User, UserStatus, UserView};

/// One page of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPage {
    /// CSV lines (each ending in CRLF); the first page starts with the header line.
    pub csv: String,
    /// Users written.
    pub users: u32,
    /// Federated users left out.
    pub skipped_external: u32,
    /// Where the next page starts; `None` at the end.
    pub next: Option<String>,
}

/// Default and largest page.
const DEFAULT_PAGE: usize = 500;
const MAX_PAGE: usize = 1000;

impl Imports {
    /// A page of `pool_id`'s users in the import format, after `after` (a username, from
    /// the previous page; `None` for the first page, which starts with the header).
    pub async fn export_users(
        &self,
        pool_id: &str,
        include_password_hashes: bool,
        limit: usize,
        after: Option<String>,
    ) -> Result<ExportPage, AppError> {
        let pool = self.dir.pool(pool_id).await?;
        let header = csv_header(&pool.config);
        let limit = match limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let first = after.is_none();
        let query = |limit| Query::ExportUsers {
            pool_id: pool_id.into(),
            after: after.clone(),
            limit,
        };
        let (views, next) = self
            .store
            .list(limit, query, |v: &UserView| v.user.username.clone())
            .await?;
        let mut csv = String::new();
        if first {
            line(&mut csv, header.iter().map(String::as_str));
        }
        let (mut users, mut skipped_external) = (0, 0);
        for v in &views {
            if v.user.status == UserStatus::ExternalProvider {
                skipped_external += 1;
                continue;
            }
            let groups: Vec<&str> = v.groups.iter().map(|g| g.name.as_str()).collect();
            let cells: Vec<String> = header
                .iter()
                .map(|column| cell(&v.user, &groups, column, include_password_hashes))
                .collect();
            line(&mut csv, cells.iter().map(String::as_str));
            users += 1;
        }
        Ok(ExportPage {
            csv,
            users,
            skipped_external,
            next,
        })
    }
}

/// The value of `column` for `user`.
fn cell(user: &User, groups: &[&str], column: &str, with_hash: bool) -> String {
    let flag = |b: bool| if b { "true" } else { "false" }.to_string();
    match column {
        USERNAME_COLUMN => user.username.clone(),
        MFA_COLUMN => flag(user.mfa.sms_enabled),
        PASSWORD_HASH_COLUMN if with_hash => user.password_hash.clone().unwrap_or_default(),
        PASSWORD_HASH_COLUMN => String::new(),
        STATUS_COLUMN => user.status.name().to_string(),
        ENABLED_COLUMN => flag(user.enabled),
        GROUPS_COLUMN => groups.join(" "),
        attribute => user.attributes.get(attribute).cloned().unwrap_or_default(),
    }
}

/// One CSV line (RFC 4180): a field with a comma, quote, line break or surrounding space
/// is quoted, its quotes doubled.
fn line<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let quote = f.contains([',', '"', '\n', '\r'])
            || f.starts_with(char::is_whitespace)
            || f.ends_with(char::is_whitespace);
        if quote {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let mut out = String::new();
        line(
            &mut out,
            ["plain", "a,b", "say \"hi\"", "two\nlines", " padded", ""].into_iter(),
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",\r\n"
        );
    }
}
