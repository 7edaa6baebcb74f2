//! The deterministic state transition: one [`Request`] against one transaction.

mod codes;
mod groups;
mod identities;
mod imports;
mod keys;
mod oauth;
mod pools;
mod purge;
mod roles;
mod users;

use crate::{
    decode_record, encode_record, Command, CoreError, KvTxn, Outcome, Rejection, Request, Table,
    LOG_FORMAT_VERSION,
};
use serde::{de::DeserializeOwned, Serialize};

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
    remember(txn, &rid, &outcome)?;
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

fn apply_command(txn: &mut impl KvTxn, cmd: &Command) -> Result<Outcome, CoreError> {
    match cmd {
        Command::CreateUserPool { pool } => pools::create_pool(txn, pool),
        Command::UpdateUserPool {
            pool_id,
            name,
            config,
            at_ms,
        } => pools::update_pool(txn, pool_id, name, config, *at_ms),
        Command::DeleteUserPool { pool_id, at_ms } => pools::delete_pool(txn, pool_id, *at_ms),
        Command::CreateAppClient { client } => pools::create_client(txn, client),
        Command::UpdateAppClient { client } => pools::update_client(txn, client),
        Command::DeleteAppClient { pool_id, client_id } => {
            pools::delete_client(txn, pool_id, client_id)
        }
        Command::CreateUser { pool_id, user } => users::create_user(txn, pool_id, user),
        Command::UpdateUser {
            pool_id,
            username,
            patch,
        } => users::update_user(txn, pool_id, username, patch),
        Command::DeleteUser { pool_id, username } => users::delete_user(txn, pool_id, username),
        Command::RecordSignInFailure {
            pool_id,
            username,
            at_ms,
            threshold,
            base_ms,
            max_ms,
        } => users::record_failure(
            txn, pool_id, username, *at_ms, *threshold, *base_ms, *max_ms,
        ),
        Command::ClearSignInFailures { pool_id, username } => {
            users::clear_failures(txn, pool_id, username)
        }
        Command::CreateGroup { group } => groups::create_group(txn, group),
        Command::UpdateGroup {
            pool_id,
            name,
            description,
            precedence,
            role_arn,
            at_ms,
        } => groups::update_group(
            txn,
            pool_id,
            name,
            description,
            *precedence,
            role_arn,
            *at_ms,
        ),
        Command::DeleteGroup { pool_id, name } => groups::delete_group(txn, pool_id, name),
        Command::AddUserToGroup {
            pool_id,
            username,
            group,
        } => groups::add_member(txn, pool_id, username, group),
        Command::RemoveUserFromGroup {
            pool_id,
            username,
            group,
        } => groups::remove_member(txn, pool_id, username, group),
        Command::IssueCode {
            pool_id,
            username,
            purpose,
            code,
            outbox,
            now_ms,
            limits,
        } => codes::issue_code(
            txn,
            codes::CodeKey {
                pool_id,
                username,
                purpose,
            },
            code,
            outbox.as_ref(),
            *now_ms,
            limits,
        ),
        Command::RedeemCode {
            pool_id,
            username,
            purpose,
            code_hash,
            now_ms,
            patch,
            limits,
        } => codes::redeem_code(
            txn,
            codes::CodeKey {
                pool_id,
                username,
                purpose,
            },
            code_hash,
            *now_ms,
            patch,
            limits,
        ),
        Command::AdvanceRefreshFamily {
            family_id,
            presented_generation,
            expires_at_ms,
        } => codes::advance_family(txn, family_id, *presented_generation, *expires_at_ms),
        Command::RevokeRefreshFamily {
            family_id,
            expires_at_ms,
        } => codes::revoke_family(txn, family_id, *expires_at_ms),
        Command::PublishKey { key } => keys::publish_key(txn, key),
        Command::RenewKeyLease { owner, until_ms } => keys::renew_lease(txn, owner, *until_ms),
        Command::RetireKey {
            kid,
            reason,
            at_ms,
            drop_after_ms,
        } => keys::retire_key(txn, kid, *reason, *at_ms, *drop_after_ms),
        Command::RevokeKey {
            kid,
            at_ms,
            drop_after_ms,
        } => keys::revoke_key(txn, kid, *at_ms, *drop_after_ms),
        Command::DropKey { kid, at_ms } => keys::drop_key(txn, kid, *at_ms),
        Command::CreateIdentityPool { pool } => identities::create_pool(txn, pool),
        Command::GetOrCreateIdentity {
            pool_id,
            logins,
            new_identity_id,
            into_identity_id,
            at_ms,
        } => identities::get_or_create(
            txn,
            pool_id,
            logins,
            new_identity_id,
            into_identity_id.as_deref(),
            *at_ms,
        ),
        Command::UpdateIdentityPool { pool } => identities::update_pool(txn, pool),
        Command::DeleteIdentityPool { pool_id } => identities::delete_pool(txn, pool_id),
        Command::SetIdentityPoolRoles {
            pool_id,
            roles,
            role_mappings,
            at_ms,
        } => identities::set_roles(txn, pool_id, roles, role_mappings, *at_ms),
        Command::UnlinkIdentity {
            pool_id,
            identity_id,
            logins,
            at_ms,
        } => identities::unlink(txn, pool_id, identity_id, logins, *at_ms),
        Command::DeleteIdentities {
            pool_id,
            identity_ids,
        } => identities::delete_identities(txn, pool_id, identity_ids),
        Command::CreateRole { role } => roles::create_role(txn, role),
        Command::UpdateRole {
            name,
            description,
            trust_policy,
            max_session_s,
            at_ms,
        } => roles::update_role(
            txn,
            name,
            description.as_deref(),
            trust_policy.as_deref(),
            *max_session_s,
            *at_ms,
        ),
        Command::PutRolePolicy {
            role_name,
            policy_name,
            document,
            at_ms,
        } => roles::put_policy(txn, role_name, policy_name, Some(document), *at_ms),
        Command::DeleteRolePolicy {
            role_name,
            policy_name,
            at_ms,
        } => roles::put_policy(txn, role_name, policy_name, None, *at_ms),
        Command::DeleteRole { name } => roles::delete_role(txn, name),
        Command::PutResourceServer { server, create } => oauth::put_server(txn, server, *create),
        Command::DeleteResourceServer {
            pool_id,
            identifier,
        } => oauth::delete_server(txn, pool_id, identifier),
        Command::AddClientSecret {
            pool_id,
            client_id,
            secret,
        } => oauth::add_secret(txn, pool_id, client_id, secret),
        Command::DeleteClientSecret {
            pool_id,
            client_id,
            secret_id,
        } => oauth::delete_secret(txn, pool_id, client_id, secret_id),
        Command::RevokeAccessToken { jti, expires_at_ms } => {
            oauth::revoke_access_token(txn, jti, *expires_at_ms)
        }
        Command::CreateImportJob { pool_id, job } => imports::create_job(txn, pool_id, job),
        Command::StageImportChunk {
            pool_id,
            job_id,
            upload_id,
            seq,
            last,
            rows,
            rejected_rows,
            rejected,
        } => imports::stage_chunk(
            txn,
            pool_id,
            job_id,
            imports::Stage {
                upload_id,
                seq: *seq,
                last: *last,
                rows,
                rejected_rows: *rejected_rows,
                rejected,
            },
        ),
        Command::StartImportJob {
            pool_id,
            job_id,
            runner,
            at_ms,
            lease_until_ms,
        } => imports::start_job(txn, pool_id, job_id, runner, *at_ms, *lease_until_ms),
        Command::ApplyImportChunk {
            pool_id,
            job_id,
            runner,
            seq,
            at_ms,
            lease_until_ms,
        } => imports::apply_chunk(txn, pool_id, job_id, runner, *seq, *at_ms, *lease_until_ms),
        Command::StopImportJob {
            pool_id,
            job_id,
            at_ms,
        } => imports::stop_job(txn, pool_id, job_id, *at_ms),
        Command::FailImportJob {
            pool_id,
            job_id,
            runner,
            at_ms,
            message,
        } => imports::fail_job(txn, pool_id, job_id, runner, *at_ms, message),
        Command::PurgeExpired {
            now_ms,
            families,
            revoked_tokens,
        } => purge::purge_expired(txn, *now_ms, families, revoked_tokens),
        Command::RequestKeyRotation { at_ms } => {
            put(txn, Table::KeyRequests, b"rotate", at_ms)?;
            Ok(Outcome::Applied)
        }
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
