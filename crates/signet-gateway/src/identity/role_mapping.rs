//! Which role an identity gets from GetCredentialsForIdentity (Cognito's enhanced flow):
//! default roles, token-based mapping (`cognito:preferred_role` / `cognito:roles`) and
//! rule-based mapping (first matching rule wins), with AmbiguousRoleResolution. Pure: the
//! caller has verified the logins already.

use crate::AppError;
use serde_json::{Map, Value};
use signet_core::{AmbiguousRoleResolution, IdentityPool, MappingRule, MatchType, RoleMappingKind};

/// A verified login: provider name, the token's audience and its claims.
pub(crate) struct LoginClaims<'a> {
    pub provider: &'a str,
    pub audience: Option<&'a str>,
    pub claims: &'a Map<String, Value>,
}

fn rule_matches(rule: &MappingRule, claims: &Map<String, Value>) -> bool {
    let values: Vec<&str> = match claims.get(&rule.claim) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::Bool(b)) => vec![if *b { "true" } else { "false" }],
        _ => return false,
    };
    let v = rule.value.as_str();
    match rule.match_type {
        MatchType::Equals => values.contains(&v),
        MatchType::NotEqual => !values.contains(&v),
        MatchType::StartsWith => values.iter().any(|x| x.starts_with(v)),
        MatchType::Contains => values.iter().any(|x| x.contains(v)),
    }
}

/// The role ARN for an identity. `logins` empty means a guest.
pub(crate) fn resolve(
    pool: &IdentityPool,
    logins: &[LoginClaims<'_>],
    custom_role_arn: Option<&str>,
) -> Result<String, AppError> {
    let no_default = |which: &str| {
        AppError::InvalidIdentityPoolConfiguration(format!(
            "Invalid identity pool configuration: no {which} role is set."
        ))
    };
    let refuse_custom = |role: String| match custom_role_arn {
        Some(c) if c != role => Err(AppError::AccessDenied(format!(
            "The role {c} is not available to this identity."
        ))),
        _ => Ok(role),
    };
    if logins.is_empty() {
        let role = pool
            .roles
            .unauthenticated
            .clone()
            .ok_or_else(|| no_default("unauthenticated"))?;
        return refuse_custom(role);
    }
    // The first login (in provider order) whose provider has a mapping decides.
    let mapped = logins.iter().find_map(|l| {
        let with_client = l.audience.map(|a| format!("{}:{a}", l.provider));
        with_client
            .and_then(|k| pool.role_mappings.get(&k))
            .or_else(|| pool.role_mappings.get(l.provider))
            .map(|m| (l, m))
    });
    let default_auth = || {
        pool.roles
            .authenticated
            .clone()
            .ok_or_else(|| no_default("authenticated"))
    };
    let Some((login, mapping)) = mapped else {
        return refuse_custom(default_auth()?);
    };
    let chosen: Option<String> = match mapping.kind {
        RoleMappingKind::Token => {
            let roles: Vec<&str> = match login.claims.get("cognito:roles") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(s)) => vec![s.as_str()],
                _ => vec![],
            };
            let preferred = login
                .claims
                .get("cognito:preferred_role")
                .and_then(Value::as_str);
            match custom_role_arn {
                Some(c) if roles.contains(&c) || preferred == Some(c) => Some(c.to_string()),
                Some(c) => {
                    return Err(AppError::AccessDenied(format!(
                        "The role {c} is not among the roles of the token."
                    )))
                }
                None => preferred
                    .or(if roles.len() == 1 {
                        Some(roles[0])
                    } else {
                        None
                    })
                    .map(str::to_string),
            }
        }
        RoleMappingKind::Rules => mapping
            .rules
            .iter()
            .find(|r| rule_matches(r, login.claims))
            .map(|r| r.role_arn.clone()),
    };
    match chosen {
        Some(role) => refuse_custom(role),
        None => match mapping.ambiguous {
            AmbiguousRoleResolution::AuthenticatedRole => refuse_custom(default_auth()?),
            AmbiguousRoleResolution::Deny => Err(AppError::AccessDenied(
                "No role mapping matched the login and the pool denies ambiguous roles.".into(),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use signet_core::{PoolRoles, RoleMapping};

    const AUTH: &str = "arn:signet:iam:::role/auth";
    const GUEST: &str = "arn:signet:iam:::role/guest";

    fn pool(mapping: Option<RoleMapping>) -> IdentityPool {
        IdentityPool {
            id: "local:p".into(),
            name: "p".into(),
            allow_unauthenticated: true,
            allow_classic_flow: false,
            providers: vec![],
            developer_provider: None,
            roles: PoolRoles {
                authenticated: Some(AUTH.into()),
                unauthenticated: Some(GUEST.into()),
            },
            role_mappings: mapping
                .into_iter()
                .map(|m| ("idp.example".to_string(), m))
                .collect(),
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn rules(rules: &[(&str, MatchType, &str, &str)], amb: AmbiguousRoleResolution) -> RoleMapping {
        RoleMapping {
            kind: RoleMappingKind::Rules,
            ambiguous: amb,
            rules: rules
                .iter()
                .map(|(c, m, v, r)| MappingRule {
                    claim: c.to_string(),
                    match_type: *m,
                    value: v.to_string(),
                    role_arn: format!("arn:signet:iam:::role/{r}"),
                })
                .collect(),
        }
    }

    fn run(p: &IdentityPool, claims: Value, custom: Option<&str>) -> Result<String, AppError> {
        let claims = claims.as_object().unwrap().clone();
        let logins = [LoginClaims {
            provider: "idp.example",
            audience: Some("client-1"),
            claims: &claims,
        }];
        resolve(p, &logins, custom)
    }

    fn role(name: &str) -> Result<String, AppError> {
        Ok(format!("arn:signet:iam:::role/{name}"))
    }

    #[test]
    fn each_match_type_and_first_match_wins() {
        use MatchType::*;
        let m = rules(
            &[
                ("dept", Equals, "ops", "ops"),
                ("email", StartsWith, "admin@", "admins"),
                ("email", Contains, "@partner.", "partners"),
                ("tier", NotEqual, "free", "paid"),
            ],
            AmbiguousRoleResolution::AuthenticatedRole,
        );
        let p = pool(Some(m));
        let cases = [
            (json!({"dept": "ops", "email": "admin@x"}), role("ops")),
            (json!({"dept": ["dev", "ops"]}), role("ops")),
            (json!({"dept": "dev", "email": "admin@x"}), role("admins")),
            (json!({"email": "a@partner.example"}), role("partners")),
            (json!({"tier": "gold"}), role("paid")),
            // NotEqual needs the claim: absent claims match no rule → the default.
            (json!({"tier": "free"}), Ok(AUTH.to_string())),
            (json!({}), Ok(AUTH.to_string())),
        ];
        for (claims, want) in cases {
            assert_eq!(run(&p, claims.clone(), None), want, "claims {claims}");
        }
    }

    #[test]
    fn ambiguous_deny_refuses() {
        let p = pool(Some(rules(
            &[("dept", MatchType::Equals, "ops", "ops")],
            AmbiguousRoleResolution::Deny,
        )));
        assert!(matches!(
            run(&p, json!({"dept": "dev"}), None),
            Err(AppError::AccessDenied(_))
        ));
        assert_eq!(run(&p, json!({"dept": "ops"}), None), role("ops"));
    }

    #[test]
    fn token_mapping_prefers_and_honours_a_listed_custom_role() {
        let token = RoleMapping {
            kind: RoleMappingKind::Token,
            ambiguous: AmbiguousRoleResolution::AuthenticatedRole,
            rules: vec![],
        };
        let p = pool(Some(token.clone()));
        let roles = json!({
            "cognito:preferred_role": "arn:signet:iam:::role/a",
            "cognito:roles": ["arn:signet:iam:::role/a", "arn:signet:iam:::role/b"],
        });
        assert_eq!(run(&p, roles.clone(), None), role("a"));
        assert_eq!(
            run(&p, roles.clone(), Some("arn:signet:iam:::role/b")),
            role("b")
        );
        assert!(matches!(
            run(&p, roles, Some("arn:signet:iam:::role/c")),
            Err(AppError::AccessDenied(_))
        ));
        // No roles in the token: ambiguous → the default, or a refusal with Deny.
        assert_eq!(run(&p, json!({}), None), Ok(AUTH.to_string()));
        let deny = pool(Some(RoleMapping {
            ambiguous: AmbiguousRoleResolution::Deny,
            ..token
        }));
        assert!(matches!(
            run(&deny, json!({"cognito:roles": ["x", "y"]}), None),
            Err(AppError::AccessDenied(_))
        ));
    }

    #[test]
    fn guests_get_the_guest_role_and_cannot_ask_for_another() {
        let p = pool(None);
        assert_eq!(resolve(&p, &[], None), Ok(GUEST.to_string()));
        assert!(matches!(
            resolve(&p, &[], Some(AUTH)),
            Err(AppError::AccessDenied(_))
        ));
        let mut no_guest = pool(None);
        no_guest.roles.unauthenticated = None;
        assert!(matches!(
            resolve(&no_guest, &[], None),
            Err(AppError::InvalidIdentityPoolConfiguration(_))
        ));
    }

    #[test]
    fn without_a_mapping_the_default_role_and_no_other() {
        let p = pool(None);
        assert_eq!(run(&p, json!({}), None), Ok(AUTH.to_string()));
        assert_eq!(run(&p, json!({}), Some(AUTH)), Ok(AUTH.to_string()));
        assert!(matches!(
            run(&p, json!({}), Some(GUEST)),
            Err(AppError::AccessDenied(_))
        ));
    }

    #[test]
    fn a_mapping_keyed_by_provider_and_client_takes_precedence() {
        let mut p = pool(Some(rules(
            &[("x", MatchType::Equals, "1", "by-provider")],
            AmbiguousRoleResolution::AuthenticatedRole,
        )));
        p.role_mappings.insert(
            "idp.example:client-1".into(),
            rules(
                &[("x", MatchType::Equals, "1", "by-client")],
                AmbiguousRoleResolution::AuthenticatedRole,
            ),
        );
        assert_eq!(run(&p, json!({"x": "1"}), None), role("by-client"));
    }
}
