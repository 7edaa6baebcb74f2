//! Where Cognito's JSON is not the gRPC message in PascalCase: each fix changes a request
//! into the message's shape, or an answer into Cognito's. Only members named here move.

use serde_json::{json, Map, Value};

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

/// CreateUserPool / UpdateUserPool: `Policies.PasswordPolicy`, `UsernameConfiguration.
/// CaseSensitive` and `DeletionProtection: "ACTIVE"` to the message's members.
pub(super) fn pool_in(v: &mut Value) {
    let Some(m) = obj(v) else { return };
    if let Some(p) = m
        .remove("Policies")
        .and_then(|mut p| p.get_mut("PasswordPolicy").map(Value::take))
    {
        m.insert("PasswordPolicy".into(), p);
    }
    if let Some(c) = m.remove("UsernameConfiguration") {
        if let Some(cs) = c.get("CaseSensitive") {
            m.insert("CaseSensitiveUsernames".into(), cs.clone());
        }
    }
    if let Some(Value::String(d)) = m.get("DeletionProtection") {
        let on = d == "ACTIVE";
        m.insert("DeletionProtection".into(), Value::Bool(on));
    }
}

/// A UserPoolType as Cognito writes it: `Policies.PasswordPolicy`, `UsernameConfiguration`,
/// `DeletionProtection` as `ACTIVE`/`INACTIVE`, the ARN.
fn pool_type_out(p: &mut Value) {
    let Some(m) = obj(p) else { return };
    if let Some(pp) = m.remove("PasswordPolicy") {
        m.insert("Policies".into(), json!({ "PasswordPolicy": pp }));
    }
    if let Some(cs) = m.remove("CaseSensitiveUsernames") {
        m.insert(
            "UsernameConfiguration".into(),
            json!({ "CaseSensitive": cs }),
        );
    }
    if let Some(Value::Bool(on)) = m.get("DeletionProtection") {
        let word = if *on { "ACTIVE" } else { "INACTIVE" };
        m.insert("DeletionProtection".into(), Value::String(word.into()));
    }
    if let Some(Value::String(id)) = m.get("Id") {
        let arn = format!("arn:signet:cognito-idp:local:000000000000:userpool/{id}");
        m.insert("Arn".into(), Value::String(arn));
    }
}

/// `{UserPool: …}` answers.
pub(super) fn pool_out(v: &mut Value) {
    if let Some(p) = v.get_mut("UserPool") {
        pool_type_out(p);
    }
}

/// ListUserPools: each pool in the list.
pub(super) fn pools_out(v: &mut Value) {
    if let Some(Value::Array(pools)) = v.get_mut("UserPools") {
        pools.iter_mut().for_each(pool_type_out);
    }
}

/// AdminGetUser: Cognito answers the user's members at the top, its attributes as
/// `UserAttributes`.
pub(super) fn user_flat(v: &mut Value) {
    let Some(Value::Object(mut user)) = obj(v).and_then(|m| m.remove("User")) else {
        return;
    };
    if let Some(a) = user.remove("Attributes") {
        user.insert("UserAttributes".into(), a);
    }
    *v = Value::Object(user);
}

/// Answers Cognito wraps in one member where the gRPC API answers the object itself.
fn wrapped(v: &mut Value, member: &str) {
    let inner = v.take();
    *v = json!({ member: inner });
}

/// CreateIdentityProvider and its kin: `{IdentityProvider: …}`.
pub(super) fn identity_provider(v: &mut Value) {
    wrapped(v, "IdentityProvider");
}

/// CreateResourceServer and its kin: `{ResourceServer: …}`.
pub(super) fn resource_server(v: &mut Value) {
    wrapped(v, "ResourceServer");
}

/// UpdateUserPool: Cognito answers nothing.
pub(super) fn nothing(v: &mut Value) {
    *v = json!({});
}

/// GetCredentialsForIdentity: `Credentials.Expiration` in seconds, as AWS writes times
/// (the message has milliseconds).
pub(super) fn credentials_out(v: &mut Value) {
    if let Some(e) = v.pointer_mut("/Credentials/Expiration") {
        if let Some(ms) = e.as_u64() {
            *e = json!(ms as f64 / 1000.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_and_users_move_to_cognitos_shape_and_back() {
        let mut req = json!({"PoolName": "p", "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
            "UsernameConfiguration": {"CaseSensitive": false}, "DeletionProtection": "ACTIVE"});
        pool_in(&mut req);
        assert_eq!(
            req,
            json!({"PoolName": "p", "PasswordPolicy": {"MinimumLength": 10},
                "CaseSensitiveUsernames": false, "DeletionProtection": true})
        );
        let mut out = json!({"UserPool": {"Id": "us-east-1_X", "PasswordPolicy": {"MinimumLength": 10},
            "CaseSensitiveUsernames": false, "DeletionProtection": false}});
        pool_out(&mut out);
        assert_eq!(
            out["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
            10
        );
        assert_eq!(out["UserPool"]["DeletionProtection"], "INACTIVE");
        assert!(out["UserPool"]["Arn"]
            .as_str()
            .unwrap()
            .ends_with("userpool/us-east-1_X"));
        let mut user =
            json!({"User": {"Username": "u", "Attributes": [{"Name": "email", "Value": "e"}]}});
        user_flat(&mut user);
        assert_eq!(
            user,
            json!({"Username": "u", "UserAttributes": [{"Name": "email", "Value": "e"}]})
        );
    }
}
