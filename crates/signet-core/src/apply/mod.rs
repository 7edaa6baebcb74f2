//! The deterministic state transition: one [`Request`] against one transaction.

mod admin_keys;
mod audit;
mod codes;
mod devices;
mod groups;
mod identities;
mod import_runs;
mod imports;
mod keys;
mod mfa;
mod oauth;
mod placement;
mod pools;
mod providers;
mod purge;
mod registers;
mod revocations;
mod roles;
mod users;

pub use admin_keys::{DeleteAdminAccessKey, PutAdminAccessKey};
pub(crate) use audit::{ring_counter, ring_slot};
pub use audit::{RecordAuditEvents, MAX_AUDIT_BATCH};
pub use codes::{
    AdvanceRefreshFamily, IssueCode, RedeemCode, RevokeRefreshFamily, StartRefreshFamily,
};
pub use devices::{ConfirmDevice, ForgetDevice, UpdateDeviceStatus};
pub use groups::{AddUserToGroup, CreateGroup, DeleteGroup, RemoveUserFromGroup, UpdateGroup};
pub use identities::{
    CreateIdentityPool, DeleteIdentities, DeleteIdentityPool, GetOrCreateIdentity,
    SetIdentityPoolRoles, UnlinkIdentity, UpdateIdentityPool,
};
pub use import_runs::{ApplyImportChunk, FailImportJob, StopImportJob};
pub use imports::{CreateImportJob, StageImportChunk, StartImportJob};
pub use keys::{DropKey, PublishKey, RenewKeyLease, RequestKeyRotation, RetireKey, RevokeKey};
pub use mfa::{AssociateTotp, SetMfaPreference, TotpSignIn, VerifyTotp};
pub use oauth::{
    AddClientSecret, DeleteClientSecret, DeleteResourceServer, PutResourceServer, RevokeAccessToken,
};
pub use placement::{IndexClient, PlacePool, Placement, Routed};
pub use pools::{
    AddCustomAttributes, CreateAppClient, CreateUserPool, DeleteAppClient, DeleteUserPool,
    SetUserPoolMfa, UpdateAppClient, UpdateUserPool,
};
pub use providers::{
    DeleteIdentityProvider, LinkProviderUser, PutIdentityProvider, UnlinkProviderUser,
};
pub use purge::PurgeExpired;
pub use registers::{valid_register_name, CasRegister, MAX_REGISTER_NAME};
pub(crate) use revocations::{after_last_token, revoke, META_REVOCATION_SEQ};
pub use revocations::{revocation_key, Revocation, Revoked};
pub use roles::{CreateRole, DeleteRole, DeleteRolePolicy, PutRolePolicy, UpdateRole};
pub use users::{ClearSignInFailures, CreateUser, DeleteUser, RecordSignInFailure, UpdateUser};

use crate::{
    decode_record, encode_record, Command, CoreError, KvTxn, Outcome, Rejection, Request, Table,
    LOG_FORMAT_VERSION,
};
use serde::{de::DeserializeOwned, Serialize};

/// A command's effect on the state machine. Implementations read and write only through
/// `txn`: no clock, no randomness, no I/O, so every member reaches the same state.
/// Business rejections are `Ok(Outcome::Rejected(_))`; an `Err` stops the node.
pub(crate) trait Apply {
    /// Apply the command to `txn`.
    fn apply(&self, txn: &mut impl KvTxn) -> Result<Outcome, CoreError>;
}

/// How many recent request ids the state machine remembers. A client retrying a write
/// (after a timeout or a leader change) gets the first outcome back as long as fewer than
/// this many other writes were applied in between; clients retry within seconds, so this
/// covers minutes of traffic at the target write rate.
pub const DEDUP_WINDOW: u64 = 100_000;

const META_DEDUP_SEQ: &[u8] = b"dedup_seq";

/// Apply one request. Idempotent by request id: a request id seen within the last
/// [`DEDUP_WINDOW`] applied requests returns its first outcome and changes nothing.
///
/// Errors are storage failures or entries from a newer format; both must stop the node
/// rather than let members diverge.
pub fn apply(txn: &mut impl KvTxn, req: &Request) -> Result<Outcome, CoreError> {
    if req.v > LOG_FORMAT_VERSION {
        return Err(CoreError::UnsupportedVersion {
            found: req.v,
            supported: LOG_FORMAT_VERSION,
        });
    }
    let rid = req.request_id.0;
    if let Some(prev) = txn.get(Table::Dedup, &rid)? {
        return Ok(decode_record(Table::Dedup, &prev)?);
    }
    let outcome = apply_command(txn, &req.command)?;
    // A refusal to apply in this group is not the request's outcome: the sender retries
    // the same request where the pool lives (or here, once the placement it had is true).
    if !matches!(outcome, Outcome::Rejected(Rejection::WrongGroup { .. })) {
        remember(txn, &rid, &outcome)?;
    }
    Ok(outcome)
}

/// Record the outcome under the request id and evict the id that fell out of the window.
fn remember(txn: &mut impl KvTxn, rid: &[u8; 16], outcome: &Outcome) -> Result<(), CoreError> {
    let seq = match txn.get(Table::Meta, META_DEDUP_SEQ)? {
        Some(b) => decode_record::<u64>(Table::Meta, &b)? + 1,
        None => 1,
    };
    txn.put(Table::Meta, META_DEDUP_SEQ, encode_record(&seq))?;
    txn.put(Table::Dedup, rid, encode_record(outcome))?;
    txn.put(Table::DedupSeq, &seq.to_be_bytes(), rid.to_vec())?;
    if seq > DEDUP_WINDOW {
        let old_seq = (seq - DEDUP_WINDOW).to_be_bytes();
        if let Some(old_rid) = txn.get(Table::DedupSeq, &old_seq)? {
            txn.delete(Table::Dedup, &old_rid)?;
            txn.delete(Table::DedupSeq, &old_seq)?;
        }
    }
    Ok(())
}

/// What a command does: one line per variant, the logic is in the command's own file.
fn apply_command(txn: &mut impl KvTxn, cmd: &Command) -> Result<Outcome, CoreError> {
    match cmd {
        Command::CreateUserPool(c) => c.apply(txn),
        Command::UpdateUserPool(c) => c.apply(txn),
        Command::SetUserPoolMfa(c) => c.apply(txn),
        Command::AddCustomAttributes(c) => c.apply(txn),
        Command::DeleteUserPool(c) => c.apply(txn),
        Command::CreateAppClient(c) => c.apply(txn),
        Command::UpdateAppClient(c) => c.apply(txn),
        Command::DeleteAppClient(c) => c.apply(txn),
        Command::CreateUser(c) => c.apply(txn),
        Command::UpdateUser(c) => c.apply(txn),
        Command::RecordSignInFailure(c) => c.apply(txn),
        Command::ClearSignInFailures(c) => c.apply(txn),
        Command::AssociateTotp(c) => c.apply(txn),
        Command::VerifyTotp(c) => c.apply(txn),
        Command::TotpSignIn(c) => c.apply(txn),
        Command::SetMfaPreference(c) => c.apply(txn),
        Command::ConfirmDevice(c) => c.apply(txn),
        Command::UpdateDeviceStatus(c) => c.apply(txn),
        Command::ForgetDevice(c) => c.apply(txn),
        Command::DeleteUser(c) => c.apply(txn),
        Command::CreateGroup(c) => c.apply(txn),
        Command::UpdateGroup(c) => c.apply(txn),
        Command::DeleteGroup(c) => c.apply(txn),
        Command::AddUserToGroup(c) => c.apply(txn),
        Command::RemoveUserFromGroup(c) => c.apply(txn),
        Command::IssueCode(c) => c.apply(txn),
        Command::RedeemCode(c) => c.apply(txn),
        Command::AdvanceRefreshFamily(c) => c.apply(txn),
        Command::RevokeRefreshFamily(c) => c.apply(txn),
        Command::StartRefreshFamily(c) => c.apply(txn),
        Command::PutIdentityProvider(c) => c.apply(txn),
        Command::DeleteIdentityProvider(c) => c.apply(txn),
        Command::LinkProviderUser(c) => c.apply(txn),
        Command::UnlinkProviderUser(c) => c.apply(txn),
        Command::PublishKey(c) => c.apply(txn),
        Command::RenewKeyLease(c) => c.apply(txn),
        Command::RetireKey(c) => c.apply(txn),
        Command::RevokeKey(c) => c.apply(txn),
        Command::DropKey(c) => c.apply(txn),
        Command::RequestKeyRotation(c) => c.apply(txn),
        Command::CreateIdentityPool(c) => c.apply(txn),
        Command::GetOrCreateIdentity(c) => c.apply(txn),
        Command::UpdateIdentityPool(c) => c.apply(txn),
        Command::DeleteIdentityPool(c) => c.apply(txn),
        Command::SetIdentityPoolRoles(c) => c.apply(txn),
        Command::UnlinkIdentity(c) => c.apply(txn),
        Command::DeleteIdentities(c) => c.apply(txn),
        Command::CreateRole(c) => c.apply(txn),
        Command::UpdateRole(c) => c.apply(txn),
        Command::PutRolePolicy(c) => c.apply(txn),
        Command::DeleteRolePolicy(c) => c.apply(txn),
        Command::DeleteRole(c) => c.apply(txn),
        Command::PutResourceServer(c) => c.apply(txn),
        Command::DeleteResourceServer(c) => c.apply(txn),
        Command::AddClientSecret(c) => c.apply(txn),
        Command::DeleteClientSecret(c) => c.apply(txn),
        Command::RevokeAccessToken(c) => c.apply(txn),
        Command::CreateImportJob(c) => c.apply(txn),
        Command::StageImportChunk(c) => c.apply(txn),
        Command::StartImportJob(c) => c.apply(txn),
        Command::ApplyImportChunk(c) => c.apply(txn),
        Command::StopImportJob(c) => c.apply(txn),
        Command::FailImportJob(c) => c.apply(txn),
        Command::PurgeExpired(c) => c.apply(txn),
        Command::CasRegister(c) => c.apply(txn),
        Command::RecordAuditEvents(c) => c.apply(txn),
        Command::PutAdminAccessKey(c) => c.apply(txn),
        Command::DeleteAdminAccessKey(c) => c.apply(txn),
        Command::PlacePool(c) => c.apply(txn),
        Command::Routed(c) => c.apply(txn),
        Command::IndexClient(c) => c.apply(txn),
    }
}

pub(crate) fn reject(r: Rejection) -> Result<Outcome, CoreError> {
    Ok(Outcome::Rejected(r))
}

/// Read and decode a record.
pub(crate) fn get<T: DeserializeOwned>(
    txn: &impl KvTxn,
    table: Table,
    key: &[u8],
) -> Result<Option<T>, CoreError> {
    match txn.get(table, key)? {
        Some(b) => Ok(Some(decode_record(table, &b)?)),
        None => Ok(None),
    }
}

/// Encode and write a record.
pub(crate) fn put<T: Serialize>(
    txn: &mut impl KvTxn,
    table: Table,
    key: &[u8],
    value: &T,
) -> Result<(), CoreError> {
    Ok(txn.put(table, key, encode_record(value))?)
}

/// Key parts must be non-empty and free of NUL, the compound-key separator.
pub(crate) fn valid_parts(parts: &[&str]) -> bool {
    parts.iter().all(|p| !p.is_empty() && !p.contains('\0'))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_codes;
#[cfg(test)]
mod tests_flows;

#[cfg(test)]
mod tests_keys;

#[cfg(test)]
mod tests_purge;

#[cfg(test)]
mod tests_identities;

#[cfg(test)]
mod tests_imports;

#[cfg(test)]
mod tests_import_stops;

#[cfg(test)]
mod tests_audit;
#[cfg(test)]
mod tests_registers;

#[cfg(test)]
mod tests_mfa;

#[cfg(test)]
mod tests_placement;

#[cfg(test)]
mod tests_revocations;
