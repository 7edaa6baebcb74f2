//! `signet admin access-keys …`: the admin access keys AWS-signed admin calls use.

use super::Admin;
use crate::cli::admin::AccessKeysCommand;
use crate::rpc::answer;
use serde_json::{json, Value};
use signet_proto::v1 as pb;

fn access_key(k: &pb::AdminAccessKeyType) -> Value {
    json!({
        "access_key_id": k.access_key_id,
        "description": k.description,
        "active": k.active,
        "created_at_ms": k.create_date,
    })
}

/// `signet admin access-keys …`
pub(super) async fn run(c: &mut Admin, cmd: AccessKeysCommand) -> anyhow::Result<Value> {
    let set = |id: String, active: bool| pb::UpdateAdminAccessKeyRequest {
        access_key_id: id,
        active,
    };
    let key = |r: pb::AdminAccessKeyResponse| {
        r.admin_access_key
            .as_ref()
            .map(access_key)
            .unwrap_or_default()
    };
    Ok(match cmd {
        AccessKeysCommand::Create { description } => {
            let r = answer(
                c.create_admin_access_key(pb::CreateAdminAccessKeyRequest { description })
                    .await,
            )?;
            let secret = r.secret_access_key.clone();
            json!({ "access_key": key(r), "secret_access_key": secret })
        }
        AccessKeysCommand::List => {
            let r = answer(c.list_admin_access_keys(pb::ListRequest::default()).await)?;
            let keys: Vec<Value> = r.admin_access_keys.iter().map(access_key).collect();
            json!({ "access_keys": keys })
        }
        AccessKeysCommand::Deactivate { id } => {
            json!({ "access_key": key(answer(c.update_admin_access_key(set(id, false)).await)?) })
        }
        AccessKeysCommand::Activate { id } => {
            json!({ "access_key": key(answer(c.update_admin_access_key(set(id, true)).await)?) })
        }
        AccessKeysCommand::Delete { id } => {
            answer(
                c.delete_admin_access_key(pb::AdminAccessKeyRef {
                    access_key_id: id.clone(),
                })
                .await,
            )?;
            json!({ "access_key_id": id, "deleted": true })
        }
    })
}
