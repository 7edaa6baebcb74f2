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
    // AdminCreateUserConfig.AllowAdminCreateUserOnly; its other members stay to be
    // refused by name.
    match m.remove("AdminCreateUserConfig") {
        Some(Value::Object(mut c)) => {
            if let Some(only) = c.remove("AllowAdminCreateUserOnly") {
                m.insert("AdminCreateUserOnly".into(), only);
            }
            if !c.is_empty() {
                m.insert("AdminCreateUserConfig".into(), Value::Object(c));
            }
        }
        // Not Cognito's shape: the message's reading refuses it as not a bool.
        Some(other) => {
            m.insert("AdminCreateUserOnly".into(), other);
        }
        None => {}
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
    let only = m
        .remove("AdminCreateUserOnly")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    m.insert(
        "AdminCreateUserConfig".into(),
        json!({ "AllowAdminCreateUserOnly": only }),
    );
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

/// Renames a top-level member (when present).
fn rename(v: &mut Value, from: &str, to: &str) {
    if let Some(m) = obj(v) {
        if let Some(x) = m.remove(from) {
            m.insert(to.into(), x);
        }
    }
}

/// ListGroups: Cognito's page size is `Limit`.
pub(super) fn list_groups_in(v: &mut Value) {
    rename(v, "Limit", "MaxResults");
}

/// AdminListGroupsForUser, ListUserPoolClientSecrets: everything is answered in one page
/// (a user is in a bounded number of groups; a client has at most two secrets), so no
/// `NextToken` is ever answered or needed, and a page size changes nothing.
pub(super) fn single_page_in(v: &mut Value) {
    if let Some(m) = obj(v) {
        m.remove("Limit");
        m.remove("NextToken");
    }
}

/// ListUsersInGroup: Cognito's next page is `NextToken` (ListUsers' is
/// `PaginationToken`; the gRPC answer is ListUsers').
pub(super) fn users_in_group_out(v: &mut Value) {
    rename(v, "PaginationToken", "NextToken");
}

/// Seconds in one of Cognito's `TimeUnitsType`.
fn unit_seconds(unit: &str) -> Option<u64> {
    Some(match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86_400,
        _ => return None,
    })
}

/// Create/UpdateUserPoolClient: Cognito's validities (`AccessTokenValidity` … in
/// `TokenValidityUnits`, hours for access and ID tokens and days for refresh tokens when
/// not given) in seconds; `RefreshTokenRotation`; `AllowedOAuthFlowsUserPoolClient`,
/// which Signet reads from the grants themselves (on update, `false` removes them).
fn client_in(v: &mut Value, update: bool) {
    let Some(m) = obj(v) else { return };
    let units = m.remove("TokenValidityUnits").unwrap_or(Value::Null);
    for (member, unit_member, default_unit, ours) in [
        (
            "AccessTokenValidity",
            "AccessToken",
            "hours",
            "AccessTokenValiditySeconds",
        ),
        (
            "IdTokenValidity",
            "IdToken",
            "hours",
            "IdTokenValiditySeconds",
        ),
        (
            "RefreshTokenValidity",
            "RefreshToken",
            "days",
            "RefreshTokenValiditySeconds",
        ),
    ] {
        let Some(n) = m.remove(member) else { continue };
        let unit = units
            .get(unit_member)
            .and_then(Value::as_str)
            .unwrap_or(default_unit);
        let seconds = match (n.as_u64(), unit_seconds(unit)) {
            (Some(n), Some(per)) => json!(n.saturating_mul(per)),
            // Not a count in a unit: the message's reading refuses it as not a number.
            (Some(n), None) => json!(format!("{n} {unit}")),
            (None, _) => n,
        };
        m.insert(ours.into(), seconds);
    }
    if let Some(r) = m.remove("RefreshTokenRotation") {
        match r.get("Feature").and_then(Value::as_str) {
            Some(f @ ("ENABLED" | "DISABLED")) => {
                m.insert("EnableRefreshTokenRotation".into(), json!(f == "ENABLED"));
                if let Some(g) = r.get("RetryGracePeriodSeconds") {
                    m.insert("RetryGracePeriodSeconds".into(), g.clone());
                }
            }
            // Not Cognito's shape: the message's reading refuses it as not a bool.
            _ => {
                m.insert("EnableRefreshTokenRotation".into(), r);
            }
        }
    }
    if let Some(on) = m
        .get("AllowedOAuthFlowsUserPoolClient")
        .and_then(Value::as_bool)
    {
        let has_flows = m
            .get("AllowedOAuthFlows")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        // Taken when it says what the grants say; on update, false clears them.
        if on == has_flows || (update && !on) {
            m.remove("AllowedOAuthFlowsUserPoolClient");
            if update && !on {
                m.insert("ClearOauth".into(), json!(true));
            }
        }
    }
}

/// CreateUserPoolClient's request.
pub(super) fn client_create_in(v: &mut Value) {
    client_in(v, false);
}

/// UpdateUserPoolClient's request.
pub(super) fn client_update_in(v: &mut Value) {
    client_in(v, true);
}

/// A UserPoolClientType as Cognito writes it: validities in seconds (`TokenValidityUnits`
/// says so), `RefreshTokenRotation`, `AllowedOAuthFlowsUserPoolClient`,
/// `EnableTokenRevocation` (always on in Signet).
fn client_type_out(c: &mut Value) {
    let Some(m) = obj(c) else { return };
    for (ours, member) in [
        ("AccessTokenValiditySeconds", "AccessTokenValidity"),
        ("IdTokenValiditySeconds", "IdTokenValidity"),
        ("RefreshTokenValiditySeconds", "RefreshTokenValidity"),
    ] {
        if let Some(n) = m.remove(ours) {
            m.insert(member.into(), n);
        }
    }
    m.insert(
        "TokenValidityUnits".into(),
        json!({"AccessToken": "seconds", "IdToken": "seconds", "RefreshToken": "seconds"}),
    );
    let rotation = m
        .remove("EnableRefreshTokenRotation")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let grace = m.remove("RetryGracePeriodSeconds").unwrap_or(json!(0));
    m.insert(
        "RefreshTokenRotation".into(),
        json!({
            "Feature": if rotation { "ENABLED" } else { "DISABLED" },
            "RetryGracePeriodSeconds": grace,
        }),
    );
    let flows = m
        .get("AllowedOAuthFlows")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    m.insert("AllowedOAuthFlowsUserPoolClient".into(), json!(flows));
    m.insert("EnableTokenRevocation".into(), json!(true));
}

/// `{UserPoolClient: …}` answers.
pub(super) fn client_out(v: &mut Value) {
    if let Some(c) = v.get_mut("UserPoolClient") {
        client_type_out(c);
    }
}

/// ListUserPoolClients: each client (Cognito lists only id, name and pool; the rest is
/// Signet's and readers skip it).
pub(super) fn clients_out(v: &mut Value) {
    if let Some(Value::Array(cs)) = v.get_mut("UserPoolClients") {
        cs.iter_mut().for_each(client_type_out);
    }
}

/// AddUserPoolClientSecret: `{ClientSecretDescriptor: …}`.
pub(super) fn client_secret_out(v: &mut Value) {
    wrapped(v, "ClientSecretDescriptor");
}

/// AdminListUserAuthEvents: the caller's address in `EventContextData`, as Cognito has it
/// (Signet's own audit fields stay beside it).
pub(super) fn auth_events_out(v: &mut Value) {
    if let Some(Value::Array(events)) = v.get_mut("AuthEvents") {
        for e in events.iter_mut().filter_map(obj) {
            if let Some(ip) = e.remove("IpAddress") {
                e.insert("EventContextData".into(), json!({ "IpAddress": ip }));
            }
        }
    }
}

/// The ARN Signet gives an identity pool's OpenID Connect provider (Cognito's
/// `OpenIdConnectProviderARNs` name IAM providers; Signet keeps the provider in the pool).
pub(super) fn oidc_provider_arn(issuer: &str) -> String {
    let host_path = issuer
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    format!("arn:signet:iam:::oidc-provider/{host_path}")
}

/// An IdentityPool as Cognito writes it: its OIDC providers also as ARNs, and every
/// user-pool provider's token checked with the pool (Signet always checks that the user
/// is enabled and not signed out).
pub(super) fn identity_pool_out(v: &mut Value) {
    let Some(m) = obj(v) else { return };
    let arns: Vec<Value> = m
        .get("OpenIdConnectProviders")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("Issuer").and_then(Value::as_str))
                .map(|i| Value::String(oidc_provider_arn(i)))
                .collect()
        })
        .unwrap_or_default();
    m.insert("OpenIdConnectProviderARNs".into(), Value::Array(arns));
    if let Some(Value::Array(ps)) = m.get_mut("CognitoIdentityProviders") {
        for p in ps.iter_mut().filter_map(obj) {
            p.insert("ServerSideTokenCheck".into(), json!(true));
        }
    }
}

/// ListIdentityPools: each pool.
pub(super) fn identity_pools_out(v: &mut Value) {
    if let Some(Value::Array(ps)) = v.get_mut("IdentityPools") {
        ps.iter_mut().for_each(identity_pool_out);
    }
}

/// SetIdentityPoolRoles: Cognito nests a mapping's rules in `RulesConfiguration` and
/// spells a rule's role `RoleARN`.
pub(super) fn roles_in(v: &mut Value) {
    let Some(Value::Object(mappings)) = v.get_mut("RoleMappings") else {
        return;
    };
    for mapping in mappings.values_mut().filter_map(obj) {
        if let Some(Value::Object(mut conf)) = mapping.remove("RulesConfiguration") {
            let mut rules = conf.remove("Rules").unwrap_or(json!([]));
            if let Value::Array(rs) = &mut rules {
                rs.iter_mut().for_each(|r| rename(r, "RoleARN", "RoleArn"));
            }
            mapping.insert("Rules".into(), rules);
            // Anything else in it is not Signet's: left for the strict reading.
            if !conf.is_empty() {
                mapping.insert("RulesConfiguration".into(), Value::Object(conf));
            }
        }
    }
}

/// GetIdentityPoolRoles: the mappings back in Cognito's shape.
pub(super) fn roles_out(v: &mut Value) {
    let Some(Value::Object(mappings)) = v.get_mut("RoleMappings") else {
        return;
    };
    for mapping in mappings.values_mut().filter_map(obj) {
        if let Some(mut rules) = mapping.remove("Rules") {
            if let Value::Array(rs) = &mut rules {
                rs.iter_mut().for_each(|r| rename(r, "RoleArn", "RoleARN"));
            }
            mapping.insert("RulesConfiguration".into(), json!({ "Rules": rules }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_and_users_move_to_cognitos_shape_and_back() {
        let mut req = json!({"PoolName": "p", "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
            "UsernameConfiguration": {"CaseSensitive": false}, "DeletionProtection": "ACTIVE",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true}});
        pool_in(&mut req);
        assert_eq!(
            req,
            json!({"PoolName": "p", "PasswordPolicy": {"MinimumLength": 10},
                "CaseSensitiveUsernames": false, "DeletionProtection": true,
                "AdminCreateUserOnly": true})
        );
        // A member Signet lacks stays, to be refused by name.
        let mut req = json!({"AdminCreateUserConfig": {"UnusedAccountValidityDays": 3}});
        pool_in(&mut req);
        assert_eq!(
            req,
            json!({"AdminCreateUserConfig": {"UnusedAccountValidityDays": 3}})
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

    #[test]
    fn clients_read_cognitos_validity_units_and_rotation() {
        let mut req = json!({"ClientName": "c", "AccessTokenValidity": 30, "IdTokenValidity": 2,
            "RefreshTokenValidity": 7, "TokenValidityUnits": {"AccessToken": "minutes"},
            "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
            "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"]});
        client_create_in(&mut req);
        assert_eq!(
            req,
            json!({"ClientName": "c", "AccessTokenValiditySeconds": 1800,
                "IdTokenValiditySeconds": 7200, "RefreshTokenValiditySeconds": 604800,
                "EnableRefreshTokenRotation": true, "RetryGracePeriodSeconds": 10,
                "AllowedOAuthFlows": ["code"]})
        );
        // A claim the grants contradict stays, to be refused by name.
        let mut req = json!({"AllowedOAuthFlowsUserPoolClient": true});
        client_create_in(&mut req);
        assert_eq!(req, json!({"AllowedOAuthFlowsUserPoolClient": true}));
        // On update, false removes the grants.
        let mut req = json!({"AllowedOAuthFlowsUserPoolClient": false});
        client_update_in(&mut req);
        assert_eq!(req, json!({"ClearOauth": true}));
        let mut out = json!({"UserPoolClient": {"AccessTokenValiditySeconds": 1800,
            "EnableRefreshTokenRotation": true, "RetryGracePeriodSeconds": 10}});
        client_out(&mut out);
        let c = &out["UserPoolClient"];
        assert_eq!(c["AccessTokenValidity"], 1800);
        assert_eq!(c["TokenValidityUnits"]["AccessToken"], "seconds");
        assert_eq!(c["RefreshTokenRotation"]["Feature"], "ENABLED");
        assert_eq!(c["AllowedOAuthFlowsUserPoolClient"], false);
    }

    #[test]
    fn identity_pool_roles_move_between_shapes() {
        let cognito = json!({"IdentityPoolId": "p", "Roles": {"authenticated": "arn:a"},
            "RoleMappings": {"idp": {"Type": "Rules", "AmbiguousRoleResolution": "Deny",
                "RulesConfiguration": {"Rules": [{"Claim": "c", "MatchType": "Equals",
                    "Value": "v", "RoleARN": "arn:r"}]}}}});
        let mut v = cognito.clone();
        roles_in(&mut v);
        assert_eq!(v["RoleMappings"]["idp"]["Rules"][0]["RoleArn"], "arn:r");
        assert!(v["RoleMappings"]["idp"].get("RulesConfiguration").is_none());
        roles_out(&mut v);
        assert_eq!(v, cognito);
        let mut pool = json!({"OpenIdConnectProviders": [{"Issuer": "https://idp.example/x"}],
            "CognitoIdentityProviders": [{"ProviderName": "n", "ClientId": "c"}]});
        identity_pool_out(&mut pool);
        assert_eq!(
            pool["OpenIdConnectProviderARNs"],
            json!(["arn:signet:iam:::oidc-provider/idp.example/x"])
        );
        assert_eq!(
            pool["CognitoIdentityProviders"][0]["ServerSideTokenCheck"],
            true
        );
    }
}
